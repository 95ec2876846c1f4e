"""Private chats with residents and staff: every message and button goes to the conversations."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from bot.flows.engine import Conversations
from bot.handlers import events, render


def make_router() -> Router:
    router = Router(name="private")
    private = F.chat.type == ChatType.PRIVATE
    router.message.register(on_message, private)
    router.edited_message.register(on_edited, private)
    router.callback_query.register(on_button, F.message.chat.type == ChatType.PRIVATE)
    return router


async def on_message(message: Message, bot: Bot, conversations: Conversations) -> None:
    async def deliver(screens):
        await render.send(bot, message.chat.id, screens)

    await conversations.handle(events.from_message(message), deliver)


async def on_edited(message: Message, bot: Bot, conversations: Conversations) -> None:
    screens = await conversations.edited(events.from_message(message))
    await render.send(bot, message.chat.id, screens)


async def on_button(callback: CallbackQuery, bot: Bot, conversations: Conversations) -> None:
    async def deliver(screens):
        await render.answer_callback(bot, callback, screens)

    await conversations.handle(events.from_callback(callback), deliver)
