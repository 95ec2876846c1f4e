"""Several processes behind one webhook: a chat's updates one at a time and in order across all of them, and an
update that Telegram delivers again (a replica died before answering, a timeout) handled once.

The order: Telegram sends a chat's next update only after the previous one was answered, and web.py answers
only after handling; that alone would keep a chat in order. It is not relied on: every update of a chat first
joins the chat's queue in Redis (a sorted set by update id), then takes the chat's lock, and goes on only when no
lower update of the chat is waiting. A redelivery racing its first delivery, or a load balancer that retries
elsewhere, therefore still yields one at a time, lowest id first.

Once: an update is marked done (and leaves its chat's queue) after its handling ends, under the chat's lock; a
done update is answered without being handled. A replica that dies mid-update marks nothing: the update comes
again and is handled from the start. What it had already sent before dying is sent again (at least once for an
update cut off in the middle; exactly once for every update handled to the end).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.channels.telegram.middlewares import chat_key
from bot.redis_locks import STALE_TURN, ChatOrder, DoneUpdates, RedisFlood, RedisLocks, connect, prefix_for

log = logging.getLogger("qatysu.replicas")
handled = logging.getLogger("qatysu.updates")  # one line per update handled to the end (the tests read them)


class SharedChatSerializer(BaseMiddleware):
    def __init__(self, locks: RedisLocks, order: ChatOrder, done: DoneUpdates, stale: float = STALE_TURN,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.locks, self.order, self.done, self.stale, self.clock = locks, order, done, stale, clock

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        uid = event.update_id
        chat = chat_key(event)
        if chat is None:  # not about a chat: only the redelivery question
            if await self.done.is_done(uid):
                log.info("update %s was handled already: not again", uid)
                return None
            async with self.locks.hold(f"update:{uid}"):
                if await self.done.is_done(uid):
                    return None
                return await self._handle(handler, event, data, None)
        # about five Redis round trips for an update: arrive (done already? else queue), take the lock reading
        # the done mark and the chat's lowest waiting update, then after handling mark it done and release
        if await self.done.arrive(chat, uid):
            log.info("update %s was handled already: not again", uid)
            return None
        peek = [self.done.key(uid), self.order.key(chat)]
        blocker, since = None, 0.0
        while True:
            async with self.locks.hold(f"chat:{chat}", peek) as (done, first):
                if int(done):
                    await self.order.skip(chat, uid)
                    log.info("update %s was handled already: not again", uid)
                    return None
                lowest = int(first) if first != "" else None
                if lowest is None or lowest >= uid:
                    return await self._handle(handler, event, data, chat)
                if lowest != blocker:
                    blocker, since = lowest, self.clock()
                elif self.clock() - since > self.stale:  # its replica died and nobody delivers it again
                    log.warning("update %s of chat %s waited for %s too long: going ahead", uid, chat, lowest)
                    await self.order.skip(chat, lowest)
                    continue
            await asyncio.sleep(0.02)  # the lower update takes the lock meanwhile

    async def _handle(self, handler, event: Update, data: dict[str, Any], chat: int | None) -> Any:
        started = time.time()
        try:
            result = await handler(event, data)
        except BaseException:
            # its delivery is over either way: the errors router answers it (200: never delivered again) or the
            # replica answers 500 and Telegram delivers it again, when it joins the queue anew. Left in the queue,
            # it would hold the chat's next update until its turn is skipped as stale.
            if chat is not None:
                try:
                    await asyncio.shield(self.order.skip(chat, event.update_id))
                except Exception:  # noqa: BLE001 - Redis away: the stale turn frees the chat later
                    log.exception("could not take the failed update %s out of its chat's queue", event.update_id)
            raise
        await self.done.mark_done(event.update_id, chat)
        handled.info("handled update=%s chat=%s start=%.6f end=%.6f", event.update_id, chat, started, time.time())
        return result


def shared(settings, desk, broadcast_desk) -> tuple[Any, RedisFlood, SharedChatSerializer]:
    """The Redis client, the flood throttle's shared store and the serializer; the appeal desk's and the
    broadcast desk's locks (an operator topic opened once, one progress message) move to Redis too."""
    redis = connect(settings.redis.url)
    prefix = prefix_for(settings.telegram.token.get_secret_value())
    locks = RedisLocks(redis, prefix + "lock:")
    order = ChatOrder(redis, prefix)
    desk._locks = RedisLocks(redis, prefix + "lock:appeal:")
    broadcast_desk._locks = RedisLocks(redis, prefix + "lock:broadcast:")
    return redis, RedisFlood(redis, prefix), SharedChatSerializer(locks, order, DoneUpdates(redis, prefix, order))
