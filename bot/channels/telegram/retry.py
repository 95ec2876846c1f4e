"""Replies to a person's own action wait out Telegram's 429 and go through; the outbox sender handles 429
itself (it must not sleep inside a send), so it switches this off for its own task."""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger("qatysu.delivery")
WAIT_ON_429: ContextVar[bool] = ContextVar("qatysu_wait_on_429", default=True)


class RetryAfter(BaseRequestMiddleware):
    def __init__(self, attempts: int = 3, longest_wait: float = 30) -> None:
        self.attempts, self.longest_wait = attempts, longest_wait

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        for attempt in range(self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if not WAIT_ON_429.get() or attempt == self.attempts or exc.retry_after > self.longest_wait:
                    raise
                log.info("%s: 429, waiting %s s", method.__api_method__, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")
