"""The dispatcher's middlewares: one update at a time per chat (a second message waits while the first is
handled), and the flood throttle's Telegram shell (the decisions are bot/throttle.py's)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, TelegramObject, Update

from bot.channels.telegram import events
from bot.flows.base import Event, Services
from bot.i18n import I18n
from bot.locks import KeyedLocks
from bot.throttle import Flood, too_fast

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


class Throttle(BaseMiddleware):
    """An update middleware: asks the flood throttle (bot/throttle.py) about every message, edit and press of a
    person in a private chat; a dropped update is not handled, the first gets ``warn``'s message, a dropped press
    its answer. ``store`` keeps the counts: in this process, or in Redis for several replicas."""

    def __init__(self, warn: Callable[[Update], Awaitable[str]], limit: int = 8,
                 window: float = 4.0, clock: Callable[[], float] = time.monotonic, store: Any = None) -> None:
        self._warn = warn
        self.flood = Flood(limit, window, clock, store)

    @property
    def _clock(self) -> Callable[[], float]:  # the in-process store's clock (tests move it)
        return self.flood.store._clock

    @_clock.setter
    def _clock(self, clock: Callable[[], float]) -> None:
        self.flood.store._clock = clock

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
        # what the throttle reads of an arrival: who, from where, a press or not (no need to parse the rest)
        arrival = Event(kind="other" if msg is not None else "button", user_id=user.id, chat_id=chat.id)
        verdict = await self.flood.judge(arrival, msg.media_group_id if msg is not None else None)
        if verdict.admitted:
            return await handler(event, data)
        try:
            if verdict.warn:
                await self.flood.warned(arrival, await self._warn(event))
            elif verdict.repeat is not None and cb is not None:
                await cb.answer(verdict.repeat)
        except TelegramAPIError as exc:  # e.g. a press too old to answer: nothing more to do
            log.warning("could not tell %s to slow down: %s", user.id, exc)
        return None


async def warn_too_fast(bot: Bot, i18n: I18n, services: Services, update: Update) -> str:
    """Tell the person to slow down (the press's answer, or a message); returns the text."""
    cb = update.callback_query
    msg = update.message or update.edited_message
    arrival: Event = events.from_callback(cb) if cb is not None else events.from_message(msg)  # type: ignore[arg-type]
    text = await too_fast(i18n, services, arrival)
    if isinstance(cb, CallbackQuery):
        await cb.answer(text)
    else:
        await bot.send_message(arrival.user_id, text)
    return text
