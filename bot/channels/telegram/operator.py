"""The operator chat (a supergroup, with forum topics when it has them): aides' messages and card buttons."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, Message

from bot.channels.telegram import render
from bot.channels.telegram.filters import chat_is, press_in
from bot.desk.operator import OperatorDesk, OperatorMessage


def make_router(operator_chat_id: int | None) -> Router:
    router = Router(name="operator")
    if operator_chat_id is None:
        return router
    router.message.register(on_message, chat_is(chat_id=operator_chat_id))
    router.callback_query.register(on_button, press_in(chat_id=operator_chat_id))
    return router


def to_operator_message(m: Message) -> OperatorMessage:
    media_kind = file_id = None
    if m.photo:
        media_kind, file_id = "photo", m.photo[-1].file_id
    elif m.document:
        media_kind, file_id = "document", m.document.file_id
    reply = m.reply_to_message
    # in a forum every message "replies" to the topic's first message; only a real reply names the card
    reply_to = reply.message_id if reply is not None and not m.is_topic_message else None
    if reply is not None and m.is_topic_message and reply.message_id != m.message_thread_id:
        reply_to = reply.message_id
    return OperatorMessage(user_id=m.from_user.id if m.from_user else 0, message_id=m.message_id,
                           thread_id=m.message_thread_id if m.is_topic_message else None, reply_to_id=reply_to,
                           # PostgreSQL text cannot hold NUL characters
                           text=(m.text or m.caption or "").replace("\x00", "")[:4096], media_kind=media_kind,
                           file_id=file_id,
                           is_bot=bool(m.from_user and m.from_user.is_bot))


async def on_message(message: Message, bot: Bot, operator_desk: OperatorDesk) -> None:
    said = await operator_desk.on_message(to_operator_message(message))
    for text in said:
        await bot.send_message(message.chat.id, text,
                               message_thread_id=message.message_thread_id if message.is_topic_message else None,
                               reply_to_message_id=None if message.is_topic_message else message.message_id)


async def on_button(callback: CallbackQuery, bot: Bot, operator_desk: OperatorDesk) -> None:
    notice, screens = await operator_desk.on_button(callback.from_user.id, callback.data or "")
    await render.answer_press(callback, notice)
    m = callback.message
    if m is None:
        return
    thread = m.message_thread_id if getattr(m, "is_topic_message", False) else None
    for screen in screens:
        await bot.send_message(m.chat.id, screen.text, message_thread_id=thread, reply_markup=render.markup(screen))
