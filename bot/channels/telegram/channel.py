"""Telegram behind the channel port (bot/channels/base.py): aiogram updates in, Bot API calls out."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Message, Update

from bot.channels.base import TELEGRAM, Capabilities, NotShown
from bot.channels.telegram import events, render
from bot.flows.base import Event, Screen


class TelegramChannel:
    name = "telegram"
    capabilities: Capabilities = TELEGRAM

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def event(self, update: Any) -> Event | None:
        if isinstance(update, Update):
            update = update.message or update.edited_message or update.callback_query
        if isinstance(update, Message):
            return events.from_message(update)
        if isinstance(update, CallbackQuery):
            return events.from_callback(update)
        return None

    def render(self, chat_id: int, screen: Screen) -> list[TelegramMethod]:
        return render.messages(chat_id, screen)

    async def send(self, chat_id: int, screens: list[Screen]) -> None:
        await render.send(self.bot, chat_id, screens)

    async def answer(self, callback: CallbackQuery, screens: list[Screen]) -> None:
        """Answer a press: the first screen replaces the pressed message when it can (see render)."""
        await render.answer_callback(self.bot, callback, screens)

    # -- the Board (bot/channels/base.py): a message kept up to date ----------------------------------------------

    async def post(self, chat_id: int, screen: Screen) -> int:
        try:
            msg = await self.bot.send_message(chat_id, screen.text, reply_markup=render.markup(screen))
        except TelegramAPIError as exc:
            raise NotShown(str(exc)) from exc
        return msg.message_id

    async def edit(self, chat_id: int, message_id: int, screen: Screen) -> None:
        try:
            await self.bot.edit_message_text(screen.text, chat_id=chat_id, message_id=message_id,
                                             reply_markup=render.markup(screen))  # type: ignore[arg-type]
        except TelegramBadRequest as exc:
            if "not modified" not in str(exc):
                raise NotShown(str(exc), retry=False) from exc
        except TelegramAPIError as exc:
            raise NotShown(str(exc)) from exc
