"""Screens → Telegram messages: what a screen means, in Telegram's shapes (see ``markup``)."""

from __future__ import annotations

import functools
import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import EditMessageText, SendDocument, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.flows.base import Screen

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
log = logging.getLogger("qatysu.render")
CAPTION_LIMIT = 1024  # Telegram's limit for a photo caption


def markup(screen: Screen) -> Markup:
    """A request becomes a reply keyboard (the press that shares, then the answers' rows); a choice becomes an
    inline keyboard, row for row."""
    if screen.request_over:
        return ReplyKeyboardRemove()
    if (r := screen.request) is not None:
        press = KeyboardButton(text=r.label, request_contact=r.kind == "phone" or None,
                               request_location=r.kind == "location" or None)
        return ReplyKeyboardMarkup(
            keyboard=[[press], *([KeyboardButton(text=t) for t in row] for row in r.answers if row)],
            resize_keyboard=True, is_persistent=True)
    if screen.buttons:
        return _inline(tuple(tuple((b.text, b.data, b.url) for b in row) for row in screen.buttons if row))
    return None


@functools.lru_cache(maxsize=1024)
def _inline(rows: tuple[tuple[tuple[str, str | None, str | None], ...], ...]) -> InlineKeyboardMarkup:
    """An inline keyboard, kept by its contents: the menus and lists many people see are built and validated once,
    not on every send (37 µs for the main menu's six buttons). A keyboard is never changed once built, so a kept
    one is never stale."""
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=text, callback_data=data, url=url) for text, data, url in row] for row in rows])


# The same calls for a reply whose answer the bot does not read: Telegram's answer is kept as plain JSON instead of
# being validated into a Message with its chat, sender and keyboard (about half of the cost of an edit's call).
UNREAD = dict[str, Any] | bool


class _SendMessage(SendMessage):
    __returning__ = UNREAD


class _SendPhoto(SendPhoto):
    __returning__ = UNREAD


class _SendDocument(SendDocument):
    __returning__ = UNREAD


class _EditMessageText(EditMessageText):
    __returning__ = UNREAD


def messages(chat_id: int, screen: Screen, *, read: bool = True) -> list[TelegramMethod]:
    """The Bot API calls that show one screen: a message, or a photo or document with the text as its caption
    (a text over Telegram's caption limit goes first as a message of its own). ``read=False``: the answers are
    not read (see ``UNREAD``)."""
    text_kind = SendMessage if read else _SendMessage
    if screen.photo is None and screen.document is None:
        return [text_kind(chat_id=chat_id, text=screen.text, reply_markup=markup(screen))]
    media: object
    if screen.photo is not None:
        media = BufferedInputFile(screen.photo, "chart.png") if isinstance(screen.photo, bytes) else screen.photo
        make, key = (SendPhoto if read else _SendPhoto), "photo"
    else:
        doc = screen.document
        media = BufferedInputFile(doc, screen.filename) if isinstance(doc, bytes) else doc
        make, key = (SendDocument if read else _SendDocument), "document"
    if len(screen.text) <= CAPTION_LIMIT:  # the HTML source: never shorter than what Telegram counts
        return [make(chat_id=chat_id, caption=screen.text or None, reply_markup=markup(screen), **{key: media})]
    return [text_kind(chat_id=chat_id, text=screen.text), make(chat_id=chat_id, reply_markup=markup(screen),
                                                               **{key: media})]


async def send(bot: Bot, chat_id: int, screens: list[Screen]) -> None:
    """A reply: the screens in order, their answers not read."""
    for screen in screens:
        for method in messages(chat_id, screen, read=False):
            await bot(method)


async def answer_press(cb: CallbackQuery, text: str | None = None, *, show_alert: bool | None = None) -> bool:
    """Stop the button spinning (with ``text`` as its notice). Telegram takes the answer only within its window
    (about 15 s after the press): a press handled later (delivered again after a replica died, a long queue) is
    answered no more, and that must not cost the person the screens that follow. False when it was too late."""
    try:
        await cb.answer(text, show_alert=show_alert)
    except TelegramBadRequest as exc:
        if "query is too old" not in str(exc) and "query ID is invalid" not in str(exc):
            raise
        log.info("press %s answered too late for its notice: %s", cb.id, exc)
        return False
    return True


async def answer_callback(bot: Bot, cb: CallbackQuery, screens: list[Screen]) -> None:
    """Answer the press, replace the pressed message with the first screen when it can, send the rest. A notice
    whose press can no longer be answered goes as a message of its own."""
    notice = next((s.notice for s in screens if s.notice), None)
    if not await answer_press(cb, notice) and notice:
        await bot.send_message(cb.from_user.id if cb.message is None else cb.message.chat.id, notice, parse_mode=None)
    if not screens:
        return
    first, rest = screens[0], screens[1:]
    m = markup(first)
    editable = (cb.message is not None and not first.keep_pressed and first.photo is None and first.document is None
                and (m is None or isinstance(m, InlineKeyboardMarkup)))
    if editable and cb.message is not None:
        try:
            await bot(_EditMessageText(text=first.text, chat_id=cb.message.chat.id,
                                       message_id=cb.message.message_id, reply_markup=m))
        except TelegramBadRequest as exc:
            if "not modified" not in str(exc):
                await send(bot, cb.message.chat.id, [first])
        await send(bot, cb.message.chat.id, rest)
    else:
        await send(bot, cb.from_user.id if cb.message is None else cb.message.chat.id, screens)
