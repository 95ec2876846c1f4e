"""Screens → Telegram messages."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
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
CAPTION_LIMIT = 1024  # Telegram's limit for a photo caption


def markup(screen: Screen) -> Markup:
    if screen.remove_reply:
        return ReplyKeyboardRemove()
    if screen.reply:
        return ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text=b.text, request_contact=b.request_contact or None,
                                      request_location=b.request_location or None) for b in row]
                      for row in screen.reply],
            resize_keyboard=True, is_persistent=True)
    if screen.buttons:
        return InlineKeyboardMarkup(inline_keyboard=[
            [InlineKeyboardButton(text=b.text, callback_data=b.data, url=b.url) for b in row]
            for row in screen.buttons if row])
    return None


async def send(bot: Bot, chat_id: int, screens: list[Screen]) -> None:
    for screen in screens:
        if screen.photo is None and screen.document is None:
            await bot.send_message(chat_id, screen.text, reply_markup=markup(screen))
            continue
        if screen.photo is not None:
            photo = BufferedInputFile(screen.photo, "chart.png") if isinstance(screen.photo, bytes) else screen.photo
            method = bot.send_photo
            media: object = photo
        else:
            doc = screen.document
            media = BufferedInputFile(doc, screen.filename) if isinstance(doc, bytes) else doc
            method = bot.send_document
        if len(screen.text) <= CAPTION_LIMIT:  # the HTML source: never shorter than what Telegram counts
            await method(chat_id, media, caption=screen.text or None, reply_markup=markup(screen))
        else:
            await bot.send_message(chat_id, screen.text)
            await method(chat_id, media, reply_markup=markup(screen))


async def answer_callback(bot: Bot, cb: CallbackQuery, screens: list[Screen]) -> None:
    """Answer the press, replace the pressed message with the first screen when it can, send the rest."""
    notice = next((s.notice for s in screens if s.notice), None)
    await cb.answer(notice)
    if not screens:
        return
    first, rest = screens[0], screens[1:]
    m = markup(first)
    editable = (cb.message is not None and not first.keep_pressed and first.photo is None and first.document is None
                and (m is None or isinstance(m, InlineKeyboardMarkup)))
    if editable and cb.message is not None:
        try:
            await bot.edit_message_text(first.text, chat_id=cb.message.chat.id, message_id=cb.message.message_id,
                                        reply_markup=m)  # type: ignore[arg-type]
        except TelegramBadRequest as exc:
            if "not modified" not in str(exc):
                await send(bot, cb.message.chat.id, [first])
        await send(bot, cb.message.chat.id, rest)
    else:
        await send(bot, cb.from_user.id if cb.message is None else cb.message.chat.id, screens)
