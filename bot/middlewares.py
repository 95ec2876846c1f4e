"""One update at a time per chat (a second message waits while the first is handled), and the flood throttle."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, TelegramObject, Update

from bot.flows.base import Services
from bot.i18n import I18n, pick_language
from bot.locks import KeyedLocks

log = logging.getLogger("qatysu.flood")


def chat_key(update: Update) -> int | None:
    for ev in (update.message, update.edited_message):
        if ev is not None:
            return ev.chat.id
    cb = update.callback_query
    if cb is not None:
        return cb.message.chat.id if cb.message else cb.from_user.id
    return None


class ChatSerializer(BaseMiddleware):
    """Per-chat locks in this process. Several replicas use
    bot.channels.telegram.replicas.SharedChatSerializer (Redis) instead."""

    def __init__(self) -> None:
        self._locks = KeyedLocks()

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        key = chat_key(event) if isinstance(event, Update) else None
        if key is None:
            return await handler(event, data)
        async with self._locks.hold(key):
            return await handler(event, data)


class MemoryFlood:
    """The flood throttle's memory inside one process (bot.redis_locks.RedisFlood shares it between replicas)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, str] = {}  # person → the warning they got, repeated on their dropped presses
        self._albums: OrderedDict[tuple[int, str], bool] = OrderedDict()  # (person, album) → let through

    async def admit(self, user_id: int, limit: int, window: float) -> bool:
        now = self._clock()
        seen = self._seen.setdefault(user_id, deque())
        while seen and seen[0] <= now - window:
            seen.popleft()
        if len(seen) >= limit:
            return False
        self._warned.pop(user_id, None)
        seen.append(now)
        if len(self._seen) > 100_000:
            self._seen = {u: q for u, q in self._seen.items() if q and q[-1] > now - window}
            self._warned = {u: w for u, w in self._warned.items() if u in self._seen}
        return True

    async def warned(self, user_id: int) -> str | None:
        return self._warned.get(user_id)

    async def set_warned(self, user_id: int, text: str, window: float) -> None:
        self._warned[user_id] = text

    async def album(self, user_id: int, group: str, admitted: bool | None) -> bool | None:
        if admitted is None:
            return self._albums.get((user_id, group))
        self._albums[(user_id, group)] = admitted
        if len(self._albums) > 10_000:
            self._albums.popitem(last=False)
        return admitted


class Throttle(BaseMiddleware):
    """An update middleware: more than ``limit`` messages, edits and presses per ``window`` seconds from one person
    in a private chat are dropped. An album (one ``media_group_id``) counts as one message. The first dropped
    update gets a short warning; every dropped press still gets an answer, so no button keeps spinning.
    ``store`` keeps the counts: in this process, or in Redis for several replicas."""

    def __init__(self, warn: Callable[[Update], Awaitable[str]], limit: int = 8,
                 window: float = 4.0, clock: Callable[[], float] = time.monotonic, store: Any = None) -> None:
        self._warn, self._limit, self._window = warn, limit, window
        self._store = store if store is not None else MemoryFlood(clock)

    @property
    def _clock(self) -> Callable[[], float]:  # the in-process store's clock (tests move it)
        return self._store._clock

    @_clock.setter
    def _clock(self, clock: Callable[[], float]) -> None:
        self._store._clock = clock

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        msg, cb = event.message or event.edited_message, event.callback_query
        if msg is not None:
            user, chat = msg.from_user, msg.chat
        elif cb is not None:
            user, chat = cb.from_user, (cb.message.chat if cb.message else None)
        else:
            return await handler(event, data)
        if user is None or chat is None or chat.type != "private":
            return await handler(event, data)
        group = msg.media_group_id if msg is not None else None
        if group:  # the rest of an album goes the way its first part went
            went = await self._store.album(user.id, group, None)
            if went is not None:
                return await handler(event, data) if went else None
        admitted = await self._store.admit(user.id, self._limit, self._window)
        if group:
            admitted = await self._store.album(user.id, group, admitted)
        if admitted:
            return await handler(event, data)
        await self._refuse(user.id, event)
        return None

    async def _refuse(self, user_id: int, update: Update) -> None:
        try:
            warned = await self._store.warned(user_id)
            if warned is None:
                await self._store.set_warned(user_id, await self._warn(update), self._window)
            elif update.callback_query is not None:
                await update.callback_query.answer(warned)
        except TelegramAPIError as exc:  # e.g. a press too old to answer: nothing more to do
            log.warning("could not tell %s to slow down: %s", user_id, exc)


async def warn_too_fast(bot: Bot, i18n: I18n, services: Services, update: Update) -> str:
    """Tell the person to slow down (the press's answer, or a message); returns the text."""
    event = update.callback_query or update.message or update.edited_message
    user = event.from_user  # type: ignore[union-attr]
    resident = await services.residents.get(user.id)
    tr = i18n(pick_language(resident.language if resident else None, user.language_code, i18n.default))
    text = tr._("You are sending messages too fast. Please wait a few seconds and try again.")
    if isinstance(event, CallbackQuery):
        await event.answer(text)
    else:
        await bot.send_message(user.id, text)
    return text
