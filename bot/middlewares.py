"""One update at a time per chat: a second message waits while the first is handled."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import CallbackQuery, TelegramObject, Update

from bot.flows.base import Services
from bot.i18n import I18n, pick_language
from bot.locks import KeyedLocks


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
        self._locks = KeyedLocks()

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        key = chat_key(event) if isinstance(event, Update) else None
        if key is None:
            return await handler(event, data)
        async with self._locks.hold(key):
            return await handler(event, data)



class Throttle(BaseMiddleware):
    """Messages and presses arriving faster than ``limit`` per ``window`` seconds from one person are
    dropped; the first dropped message gets one short warning."""

    def __init__(self, warn: Callable[[Update | TelegramObject], Awaitable[None]], limit: int = 8,
                 window: float = 4.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._warn, self._limit, self._window, self._clock = warn, limit, window, clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        user = getattr(event, "from_user", None)
        chat = getattr(event, "chat", None) or getattr(getattr(event, "message", None), "chat", None)
        if user is None or chat is None or chat.type != "private":
            return await handler(event, data)
        now = self._clock()
        seen = self._seen.setdefault(user.id, deque())
        while seen and seen[0] <= now - self._window:
            seen.popleft()
        if len(seen) >= self._limit:
            if user.id not in self._warned:
                self._warned.add(user.id)
                await self._warn(event)
            return None
        self._warned.discard(user.id)
        seen.append(now)
        if len(self._seen) > 100_000:
            self._seen = {u: q for u, q in self._seen.items() if q and q[-1] > now - self._window}
        return await handler(event, data)


async def warn_too_fast(bot: Bot, i18n: I18n, services: Services, event: TelegramObject) -> None:
    user = event.from_user  # type: ignore[attr-defined]
    resident = await services.residents.get(user.id)
    tr = i18n(pick_language(resident.language if resident else None, user.language_code, i18n.default))
    text = tr._("You are sending messages too fast. Please wait a few seconds and try again.")
    if isinstance(event, CallbackQuery):
        await event.answer(text)
    else:
        await bot.send_message(user.id, text)
