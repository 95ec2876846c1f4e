"""Telegram → channel-neutral events."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from bot.flows.base import Contact, Event

MAX_TEXT = 4096


def from_message(msg: Message) -> Event:
    user = msg.from_user
    base = dict(user_id=user.id if user else msg.chat.id, chat_id=msg.chat.id,
                language_code=user.language_code if user else None, first_name=(user.first_name if user else "")[:64])
    if msg.text is not None:
        text = msg.text[:MAX_TEXT]
        if text.startswith("/") and len(text) > 1:
            head, _, args = text[1:].partition(" ")
            command = head.split("@", 1)[0].lower()[:32]
            return Event(kind="command", text=text, command=command, args=args.strip()[:256], **base)
        return Event(kind="text", text=text, **base)
    caption = (msg.caption or "")[:MAX_TEXT]
    if msg.contact is not None:
        c = msg.contact
        return Event(kind="contact", contact=Contact(c.phone_number[:32], c.user_id, (c.first_name or "")[:64],
                                                     (c.last_name or "")[:64]), **base)
    if msg.location is not None:
        return Event(kind="location", location=(msg.location.latitude, msg.location.longitude), **base)
    if msg.photo:
        return Event(kind="photo", text=caption, file_id=msg.photo[-1].file_id, **base)
    if msg.voice is not None:
        return Event(kind="voice", text=caption, file_id=msg.voice.file_id, **base)
    if msg.document is not None:
        return Event(kind="document", text=caption, file_id=msg.document.file_id,
                     file_name=(msg.document.file_name or "")[:200], **base)
    return Event(kind="other", text=caption, **base)


def from_callback(cb: CallbackQuery) -> Event:
    chat_id = cb.message.chat.id if cb.message else cb.from_user.id
    return Event(kind="button", user_id=cb.from_user.id, chat_id=chat_id, data=(cb.data or "")[:64],
                 language_code=cb.from_user.language_code, first_name=(cb.from_user.first_name or "")[:64])
