"""One update at a time per chat: a second message waits while the first is handled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update


def chat_key(update: Update) -> int | None:
    for ev in (update.message, update.edited_message):
        if ev is not None:
            return ev.chat.id
    cb = update.callback_query
    if cb is not None:
        return cb.message.chat.id if cb.message else cb.from_user.id
    return None


class ChatSerializer(BaseMiddleware):
    """Per-chat locks in this process. Several replicas need a shared lock (Redis) instead."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        key = chat_key(event) if isinstance(event, Update) else None
        if key is None:
            return await handler(event, data)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                return await handler(event, data)
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    @property
    def active_chats(self) -> int:
        return len(self._locks)
