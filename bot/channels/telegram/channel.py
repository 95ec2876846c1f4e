"""Telegram behind the channel port (bot/channels/base.py): aiogram updates in, Bot API calls out."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Message, Update

from bot.channels.base import TELEGRAM, Capabilities
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
