"""Telegram's files for the media service (bot/services/media.py): downloaded by file id; Telegram gives an id
only for a file the bot sent, so an upload is the send itself (the caller sends the bytes)."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot

MAX_BYTES = 20 << 20  # the Bot API's download limit


class TelegramMediaStore:
    channel = "telegram"
    max_age: timedelta | None = None

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def download(self, file_id: str) -> bytes:
        buf = await self.bot.download(file_id)
        assert buf is not None
        data = buf.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise ValueError("file too large to carry over")
        return data

    async def upload(self, data: bytes, kind: str, mime: str | None) -> str | None:
        return None
