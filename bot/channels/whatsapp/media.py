"""WhatsApp's media for the media service (bot/services/media.py): a media id's URL (valid 5 minutes) downloaded
with the token; bytes uploaded to the number's media store, where they stay 30 days."""

from __future__ import annotations

from datetime import timedelta

from pywa_async import WhatsApp

from bot.channels.whatsapp.send import MediaKind, upload

MAX_BYTES = 100 << 20  # the Cloud API's largest media (a document)
KIND: dict[str, MediaKind] = {"photo": "image", "document": "document", "voice": "audio"}


class WhatsAppMediaStore:
    channel = "whatsapp"
    max_age: timedelta | None = timedelta(days=29)  # Meta keeps an upload 30 days: a day to spare

    def __init__(self, wa: WhatsApp) -> None:
        self.wa = wa

    async def download(self, file_id: str) -> bytes:
        url = await self.wa.get_media_url(file_id)
        if url.file_size and url.file_size > MAX_BYTES:
            raise ValueError("media too large to carry over")
        return await self.wa.get_media_bytes(url.url)

    async def upload(self, data: bytes, kind: str, mime: str | None) -> str | None:
        ext = {"photo": "jpg", "voice": "ogg"}.get(kind, "pdf" if data[:4] == b"%PDF" else "txt")
        return await upload(self.wa, data, KIND.get(kind, "document"), f"file.{ext}", mime)
