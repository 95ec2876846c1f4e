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
    """An update middleware: more than ``limit`` messages, edits and presses per ``window`` seconds from one person
    in a private chat are dropped. An album (one ``media_group_id``) counts as one message. The first dropped
    update gets a short warning; every dropped press still gets an answer, so no button keeps spinning."""

    def __init__(self, warn: Callable[[Update], Awaitable[str]], limit: int = 8,
                 window: float = 4.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._warn, self._limit, self._window, self._clock = warn, limit, window, clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, str] = {}  # person → the warning they got, repeated on their dropped presses
        self._albums: OrderedDict[tuple[int, str], bool] = OrderedDict()  # (person, album) → let through

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
        album = (user.id, msg.media_group_id) if msg is not None and msg.media_group_id else None
        if album is not None and album in self._albums:  # the rest of an album goes the way its first part went
            return await handler(event, data) if self._albums[album] else None
        admitted = self._admit(user.id)
        if album is not None:
            self._albums[album] = admitted
            if len(self._albums) > 10_000:
                self._albums.popitem(last=False)
        if admitted:
            return await handler(event, data)
        await self._refuse(user.id, event)
        return None

    def _admit(self, user_id: int) -> bool:
        now = self._clock()
        seen = self._seen.setdefault(user_id, deque())
        while seen and seen[0] <= now - self._window:
            seen.popleft()
        if len(seen) >= self._limit:
            return False
        self._warned.pop(user_id, None)
        seen.append(now)
        if len(self._seen) > 100_000:
            self._seen = {u: q for u, q in self._seen.items() if q and q[-1] > now - self._window}
            self._warned = {u: w for u, w in self._warned.items() if u in self._seen}
        return True

    async def _refuse(self, user_id: int, update: Update) -> None:
        try:
            if user_id not in self._warned:
                self._warned[user_id] = await self._warn(update)
            elif update.callback_query is not None:
                await update.callback_query.answer(self._warned[user_id])
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
