"""One narrow-renderer ``Message`` (bot/channels/narrow.py) as one WhatsApp Cloud API message, through pywa.

The caller renders a screen with the narrow renderer (its bodies are already WhatsApp text: bot/channels/plain.py
turns the screens' HTML into *bold*, _italic_, ```code``` and "label (address)", and neutralises the marks a
person typed), then sends each message in order with ``send_message``; the returned wamid is what the status
webhooks name. A photo or document message takes its file as ``media``: bytes (uploaded first, see ``upload``)
or a WhatsApp media id already uploaded (digits).
"""

from __future__ import annotations

import mimetypes
from typing import Literal

from pywa_async import WhatsApp
from pywa_async.types import Button, Section, SectionList, SectionRow

from bot.channels.narrow import Message
from bot.channels.plain import plain

MediaKind = Literal["image", "document", "audio"]

# what the Cloud API takes as a document (its supported media table); a CSV goes as plain text
_DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/plain",
    ".pb": "text/plain",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def text(html: str) -> str:
    """The screens' HTML as WhatsApp text (what the narrow renderer does to every body)."""
    return plain(html)


def mime_type(data: bytes, kind: MediaKind, filename: str = "") -> str:
    """The MIME type the Cloud API is told for these bytes."""
    if kind == "image":
        return "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    if kind == "audio":
        return "audio/ogg" if data[:4] == b"OggS" else "audio/mpeg" if data[:3] == b"ID3" else "audio/mp4"
    ext = ("." + filename.rsplit(".", 1)[-1].lower()) if "." in filename else ""
    if ext in _DOCUMENT_TYPES:
        return _DOCUMENT_TYPES[ext]
    if data[:4] == b"%PDF":
        return "application/pdf"
    guessed = mimetypes.guess_type(filename)[0] or ""
    return guessed if guessed in _DOCUMENT_TYPES.values() else "text/plain"


async def upload(wa: WhatsApp, data: bytes, kind: MediaKind, filename: str = "file", mime: str | None = None) -> str:
    """Upload bytes to the number's media store; the media id (valid for 30 days) for sending. ``mime`` is used
    when it is one the Cloud API takes for a document."""
    if not (kind == "document" and mime in _DOCUMENT_TYPES.values()):
        mime = mime_type(data, kind, filename)
    media = await wa.upload_media(media=data, mime_type=mime, filename=filename, media_type=kind)
    return str(media.id)


async def send_message(wa: WhatsApp, to: str, message: Message, *, media: bytes | str | None = None,
                       filename: str = "file", reply_to: str | None = None) -> str:
    """Send ``message`` to the WhatsApp id ``to`` (the number's digits); the sent message's wamid.

    ``media`` is the file of a photo or document message: bytes, or a media id from ``upload``. Raises
    ``ValueError`` for a photo or document without it; pywa's ``WhatsAppError`` for what the Cloud API refuses.
    """
    body = message.body
    if message.kind == "text":
        sent = await wa.send_message(to, body, preview_url=False, reply_to_message_id=reply_to)
    elif message.kind == "buttons":
        sent = await wa.send_message(to, body, buttons=[Button(o.title, o.id) for o in message.options],
                                     reply_to_message_id=reply_to)
    elif message.kind == "list":
        rows = [SectionRow(o.title, o.id, o.description or None) for o in message.options]
        label = message.list_label or "…"
        sent = await wa.send_message(to, body, buttons=SectionList(label, [Section(label[:24], rows)]),
                                     reply_to_message_id=reply_to)
    elif message.kind == "location_request":
        sent = await wa.request_location(to, body, reply_to_message_id=reply_to)
    elif message.kind in ("photo", "document"):
        if media is None:
            raise ValueError(f"a {message.kind} message needs its media")
        kind: MediaKind = "image" if message.kind == "photo" else "document"
        media_id = await upload(wa, media, kind, filename) if isinstance(media, bytes) else media
        if kind == "image":
            sent = await wa.send_image(to, media_id, caption=body or None, reply_to_message_id=reply_to)
        else:
            sent = await wa.send_document(to, media_id, filename=filename, caption=body or None,
                                          reply_to_message_id=reply_to)
    else:  # pragma: no cover - the renderer's shapes are all above
        raise ValueError(f"unknown message kind {message.kind!r}")
    return str(sent.id)


async def send_voice(wa: WhatsApp, to: str, media: bytes | str, *, filename: str = "voice.ogg") -> str:
    """A voice note or audio file (bytes or a media id) as a WhatsApp audio message; its wamid."""
    media_id = await upload(wa, media, "audio", filename) if isinstance(media, bytes) else media
    return str((await wa.send_audio(to, media_id)).id)
