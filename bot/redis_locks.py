"""What several replicas share through Redis: locks by key with expiry and renewal, the order of a chat's
updates, which updates are done, and the flood throttle's counts. Every key starts with a prefix named after
the bot (``qatysu:<bot id>:``), so two bots can share one Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from bot.locks import KeyedLocks

log = logging.getLogger("qatysu.redis")

LOCK_TTL = 10.0  # a dead holder's lock frees itself after this long; a live holder renews it every third of it
DONE_TTL = 26 * 3600  # Telegram keeps an update at most 24 hours: a done mark outlives any redelivery
STALE_TURN = 15.0  # a lower update that stays waiting this long belongs to a dead replica: its turn is skipped

# delete the key only if it still holds our token; renew likewise
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
RENEW = ("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) "
         "else return 0 end")
# take a lock (KEYS[1]) and, in the same round trip, read what its holder needs: whether an update is done
# (KEYS[2]) and the lowest update waiting in its chat (KEYS[3]). ARGV: token, expiry in ms.
TAKE_AND_PEEK = """
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0} end
local first = redis.call('zrange', KEYS[3], 0, 0)
return {1, redis.call('exists', KEYS[2]), first[1] or ''}
"""
# an update arriving: 1 if it is done already, else it joins its chat's queue (KEYS: done, queue; ARGV: id, ttl)
ARRIVE = """
if redis.call('exists', KEYS[1]) == 1 then return 1 end
redis.call('zadd', KEYS[2], ARGV[1], ARGV[1])
redis.call('expire', KEYS[2], ARGV[2])
return 0
"""
# sliding window of one person: drop old stamps, refuse at the limit, else add a stamp (the server's clock)
ADMIT = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2])
redis.call('zremrangebyscore', KEYS[1], '-inf', now - window)
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('zadd', KEYS[1], now, now .. ':' .. ARGV[3])
redis.call('pexpire', KEYS[1], math.ceil(window / 1000))
redis.call('del', KEYS[2])
return 1
"""


def prefix_for(token: str) -> str:
    """``qatysu:<bot id>:``: the bot id is the token's part before the colon (not a secret)."""
    return f"qatysu:{token.split(':', 1)[0]}:"


def connect(url: str) -> Redis:
    return Redis.from_url(url, decode_responses=True, health_check_interval=30)


class RedisLocks:
    """``hold(key)``: one holder at a time across every process. In one process the waiters queue on a local
    lock first, so only one of them polls Redis."""

    def __init__(self, redis: Redis, prefix: str, ttl: float = LOCK_TTL) -> None:
        self.redis, self.prefix, self.ttl = redis, prefix, ttl
        self._local = KeyedLocks()
        self._take_and_peek = redis.register_script(TAKE_AND_PEEK)

    async def _take(self, name: str, token: str, peek: list[str] | None) -> tuple[bool, list | None]:
        if peek is None:
            return bool(await self.redis.set(name, token, nx=True, px=int(self.ttl * 1000))), None
        got = await self._take_and_peek(keys=[name, *peek], args=[token, int(self.ttl * 1000)])
        return bool(int(got[0])), list(got[1:])

    @asynccontextmanager
    async def hold(self, key: Hashable, peek: list[str] | None = None) -> AsyncIterator[list | None]:
        """Hold ``key``. With ``peek`` (a done mark's key and a chat queue's key) the block gets, read in the
        round trip that took the lock, ``[done (0 or 1), the lowest waiting update id or '']``."""
        async with self._local.hold(key):
            name, token = f"{self.prefix}{key}", uuid.uuid4().hex
            pause = 0.002
            while not (taken := await self._take(name, token, peek))[0]:
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.05)
            done = asyncio.Event()
            renewal = asyncio.create_task(self._renew(name, token, done), name=f"renew {name}")
            try:
                yield taken[1]
            finally:
                # The renewal is told to end, never cancelled: redis-py (8.x) can turn a cancellation that lands
                # inside a command into a ConnectionError, or absorb it; a renewal cancelled so went on renewing,
                # and its holder, awaiting it, held the chat's lock for ever (the live replica runs' stall).
                done.set()
                await asyncio.wait({renewal}, timeout=self.ttl / 3)
                if not renewal.done():
                    log.error("the renewal of %s did not end: left behind", name)
                await self.redis.eval(RELEASE, 1, name, token)

    async def _renew(self, name: str, token: str, done: asyncio.Event) -> None:
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), self.ttl / 3)
            if done.is_set():
                return
            try:
                if not await self.redis.eval(RENEW, 1, name, token, int(self.ttl * 1000)):
                    log.error("lost the lock %s while holding it (expired): another process may enter", name)
                    return
            except Exception:  # noqa: BLE001 - Redis away for a moment: try again at the next beat
                log.exception("could not renew the lock %s", name)


class ChatOrder:
    """Per chat, the updates that have arrived anywhere and are not done yet (a sorted set by update id): the
    holder of the chat's lock handles its update only when no lower one of the chat is waiting. An update joins it
    in :meth:`DoneUpdates.arrive` and the holder reads its lowest while taking the lock (``RedisLocks.hold``'s
    peek), each in the same round trip as another question."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix

    def key(self, chat: int) -> str:
        return f"{self.prefix}pending:{chat}"

    async def skip(self, chat: int, update_id: int) -> None:
        await self.redis.zrem(self.key(chat), str(update_id))


class DoneUpdates:
    """Update ids handled to the end: a redelivered one is answered without being handled again."""

    def __init__(self, redis: Redis, prefix: str, order: ChatOrder) -> None:
        self.redis, self.prefix, self.order = redis, prefix, order

    def key(self, update_id: int) -> str:
        return f"{self.prefix}done:{update_id}"

    async def is_done(self, update_id: int) -> bool:
        return bool(await self.redis.exists(self.key(update_id)))

    async def arrive(self, chat: int, update_id: int) -> bool:
        """One round trip: True if the update is done already, else it joins its chat's queue."""
        return bool(await self.redis.eval(ARRIVE, 2, self.key(update_id), self.order.key(chat), update_id,
                                          DONE_TTL))

    async def mark_done(self, update_id: int, chat: int | None) -> None:
        async with self.redis.pipeline(transaction=True) as p:  # done and out of the chat's queue together
            p.set(self.key(update_id), "1", ex=DONE_TTL)
            if chat is not None:
                p.zrem(self.order.key(chat), str(update_id))
            await p.execute()


class RedisFlood:
    """The flood throttle's memory shared by every replica: stamps per person, their warning, their albums."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix

    async def admit(self, user_id: int, limit: int, window: float) -> bool:
        keys = [f"{self.prefix}flood:{user_id}", f"{self.prefix}warned:{user_id}"]
        return bool(await self.redis.eval(ADMIT, 2, *keys, limit, int(window * 1_000_000), uuid.uuid4().hex[:8]))

    async def warned(self, user_id: int) -> str | None:
        return await self.redis.get(f"{self.prefix}warned:{user_id}")

    async def set_warned(self, user_id: int, text: str, window: float) -> None:
        await self.redis.set(f"{self.prefix}warned:{user_id}", text, ex=max(60, int(window * 10)))

    async def album(self, user_id: int, group: str, admitted: bool | None) -> bool | None:
        """How the album's first part went; ``admitted`` records it when this is the first part."""
        key = f"{self.prefix}album:{user_id}:{group}"
        if admitted is None:
            value = await self.redis.get(key)
            return None if value is None else value == "1"
        if await self.redis.set(key, "1" if admitted else "0", ex=3600, nx=True):
            return admitted
        return await self.redis.get(key) == "1"  # another replica took the first part meanwhile
