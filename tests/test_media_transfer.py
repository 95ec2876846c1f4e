"""Media across channels (bot/services/media.py): a file kept by one channel's id reaches another channel by
download and upload through each channel's store; the new id is cached and uploaded again once too old."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.app import App
from storage.models import MediaFile, utcnow


class FakeStore:
    def __init__(self, channel: str, files: dict[str, bytes], *, can_upload: bool, max_age=None) -> None:
        self.channel, self.files, self.can_upload, self.max_age = channel, files, can_upload, max_age
        self.downloads = self.uploads = 0

    async def download(self, file_id: str) -> bytes:
        self.downloads += 1
        return self.files[file_id]

    async def upload(self, data: bytes, kind: str, mime: str | None) -> str | None:
        if not self.can_upload:
            return None
        self.uploads += 1
        new = f"{self.channel}-{self.uploads}"
        self.files[new] = data
        return new


async def test_a_telegram_file_reaches_whatsapp_once_and_again_when_expired(app: App) -> None:
    media = app.services.media
    tg = FakeStore("telegram", {"TG1": b"%PDF report"}, can_upload=False)
    wa = FakeStore("whatsapp", {}, can_upload=True, max_age=timedelta(days=29))
    media.add_store(tg)
    media.add_store(wa)
    mid = await media.adopt("telegram", "document", "TG1")
    assert await media.for_channel(mid, "whatsapp") == "whatsapp-1"
    assert await media.for_channel(mid, "whatsapp") == "whatsapp-1"  # cached: no second transfer
    assert (tg.downloads, wa.uploads) == (1, 1) and wa.files["whatsapp-1"] == b"%PDF report"
    async with app.sessions() as s, s.begin():  # WhatsApp forgets uploads after 30 days
        await s.execute(update(MediaFile).where(MediaFile.channel == "whatsapp")
                        .values(created_at=utcnow() - timedelta(days=31)))
    assert await media.for_channel(mid, "whatsapp") == "whatsapp-2"
    assert await media.for_channel(mid, "telegram") == "TG1"  # Telegram's own id never expires


async def test_a_whatsapp_file_reaches_telegram_as_bytes(app: App) -> None:
    media = app.services.media
    media.add_store(FakeStore("telegram", {}, can_upload=False))
    media.add_store(FakeStore("whatsapp", {"555": b"OggS voice"}, can_upload=True, max_age=timedelta(days=29)))
    mid = await media.adopt("whatsapp", "voice", "555")
    assert await media.for_channel(mid, "telegram") == b"OggS voice"
    assert await media.for_channel(None, "telegram") is None
