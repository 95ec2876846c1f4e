"""Private chats with residents and staff: every message and button goes to the conversations."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.filters import chat_is, press_in
from bot.channels.telegram.render import answer_press
from bot.flows.base import Services
from bot.flows.engine import Conversations
from bot.i18n import I18n, pick_language

log = logging.getLogger("qatysu.private")


def make_router() -> Router:
    router = Router(name="private")
    private = chat_is(kind=ChatType.PRIVATE)
    router.message.register(on_message, private)
    router.edited_message.register(on_edited, private)
    router.callback_query.register(on_button, press_in(kind=ChatType.PRIVATE))
    router.callback_query.register(on_stray_button)  # no other router took it: still answered
    return router


def _foreign(user_id: int | None, chat_id: int) -> bool:
    """In a private chat the chat is the person: anything else is a forged update or another person's message."""
    return user_id != chat_id


async def on_message(message: Message, telegram: TelegramChannel, conversations: Conversations) -> None:
    if _foreign(message.from_user.id if message.from_user else None, message.chat.id):
        log.warning("message in private chat %s from someone else (%s) ignored", message.chat.id,
                    message.from_user.id if message.from_user else None)
        return

    async def deliver(screens):
        await telegram.send(message.chat.id, screens)

    await conversations.handle(telegram.event(message), deliver)


async def on_edited(message: Message, telegram: TelegramChannel, conversations: Conversations) -> None:
    if _foreign(message.from_user.id if message.from_user else None, message.chat.id):
        return
    screens = await conversations.edited(telegram.event(message))
    await telegram.send(message.chat.id, screens)


async def on_button(callback: CallbackQuery, telegram: TelegramChannel, conversations: Conversations, i18n: I18n,
                    services: Services) -> None:
    chat_id = callback.message.chat.id  # type: ignore[union-attr] - the filter saw the message
    if _foreign(callback.from_user.id, chat_id):
        # a press on (or with the data of) a message sent to someone else: nothing of theirs is touched
        log.warning("press by %s on a message in chat %s refused", callback.from_user.id, chat_id)
        resident = await services.residents.get(callback.from_user.id)
        tr = i18n(pick_language(resident.language if resident else None, callback.from_user.language_code,
                                i18n.default))
        await answer_press(callback, tr._("This button was sent to someone else, so it does nothing for you."),
                           show_alert=True)
        return

    async def deliver(screens):
        await telegram.answer(callback, screens)

    await conversations.handle(telegram.event(callback), deliver)


async def on_stray_button(callback: CallbackQuery) -> None:
    """A press in a chat the bot does not talk in (a stranger's group, a message without a chat): an empty answer
    stops the button spinning; nothing else happens."""
    await answer_press(callback)
