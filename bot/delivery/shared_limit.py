"""Telegram's sending limits kept together by every process through Redis (``[redis] url`` set).

Each send reserves its slot in one Lua script (GCRA: a "theoretical arrival time" per key), so the reservation
is atomic across processes and machines and the clock is Redis's own (``TIME``), not each machine's:
- overall: one slot every 1/overall_per_second seconds; time left unused is credited up to 0.2 s;
- a private chat: one every 1/private_per_second seconds;
- a group: group_per_minute at once, then one every 60/group_per_minute seconds (a bucket of that size).
The script answers how long to wait for the reserved slot; the process sleeps that long and sends. Telegram's
limits are per bot, so the keys carry the bot's id. If Redis cannot be reached the process keeps the limits on
its own (the in-process limiter) and says so in the log: a 429 then is waited out, nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import math

from bot.delivery.ratelimit import RateLimiter

log = logging.getLogger("qatysu.delivery")

# KEYS: overall, chat. ARGV: overall gap, chat gap, chat tolerance (burst), overall credit, all in seconds.
# Time the overall limit went unused (a sender late for its slot, a pause between batches) is credited up to the
# credit, as the in-process limiter does (bot/delivery/ratelimit.py): the overall schedule may run that far behind
# the clock, so the next sends catch up.
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local o = tonumber(redis.call('GET', KEYS[1])) or 0
local c = tonumber(redis.call('GET', KEYS[2])) or 0
local o_gap, c_gap, c_tau, credit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local virtual = math.max(now - credit, o)
local earliest = math.max(now, virtual)
local slot = math.max(earliest, c - c_tau)
local o_next = slot + o_gap
if slot == earliest then o_next = virtual + o_gap end
local c_next = math.max(c, slot) + c_gap
redis.call('SET', KEYS[1], string.format('%.6f', o_next), 'PX', math.ceil((o_next - now + 60) * 1000))
redis.call('SET', KEYS[2], string.format('%.6f', c_next), 'PX', math.ceil((c_next - now + 60) * 1000))
return string.format('%.6f', slot - now)
"""

# KEYS: overall. ARGV: seconds nobody sends (Telegram's retry_after).
PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local o = tonumber(redis.call('GET', KEYS[1])) or 0
local until_ = math.max(o, now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%.6f', until_), 'PX', math.ceil((until_ - now + 60) * 1000))
return 1
"""


def key_prefix(token: str) -> str:
    """``qatysu:<bot id>:rate:``: Telegram counts per bot, so two bots on one Redis keep apart."""
    return f"qatysu:{token.split(':', 1)[0]}:rate:"


class SharedRateLimiter:
    """The same two calls as :class:`RateLimiter` (``wait``, ``pause``), kept in Redis for every process."""

    def __init__(self, redis, prefix: str, overall_per_s: float = 30, private_per_s: float = 1,
                 group_per_min: float = 20, credit_s: float = 0.2) -> None:
        self.redis, self.prefix = redis, prefix
        self._credit = credit_s
        self._overall_gap = 1 / overall_per_s
        self._private_gap = 1 / private_per_s
        self._group_gap = 60 / group_per_min
        self._group_tau = (max(1, int(group_per_min)) - 1) * self._group_gap
        self._reserve = redis.register_script(RESERVE)
        self._pause = redis.register_script(PAUSE)
        self._local = RateLimiter(overall_per_s, private_per_s, group_per_min)  # while Redis is away
        self._redis_down = False

    def _keys(self, chat_id: int) -> list[str]:
        return [f"{self.prefix}overall", f"{self.prefix}chat:{chat_id}"]

    async def wait(self, chat_id: int) -> None:
        gap, tau = (self._private_gap, 0.0) if chat_id > 0 else (self._group_gap, self._group_tau)
        try:
            args = [self._overall_gap, gap, tau, self._credit]
            delay = float(await self._reserve(keys=self._keys(chat_id), args=args))
        except Exception as exc:  # noqa: BLE001 - Redis away: keep this process's own limits
            self._down(exc)
            await self._local.wait(chat_id)
            return
        self._up()
        if delay > 0 and math.isfinite(delay):
            await asyncio.sleep(delay)

    async def pause(self, seconds: float) -> None:
        """After a 429 with retry_after: no process sends until then."""
        await self._local.pause(seconds)
        try:
            await self._pause(keys=self._keys(0)[:1], args=[float(seconds)])
        except Exception as exc:  # noqa: BLE001
            self._down(exc)

    def _down(self, exc: BaseException) -> None:
        if not self._redis_down:
            log.warning("Redis cannot be reached (%s): this process keeps Telegram's limits on its own",
                        type(exc).__name__)
            self._redis_down = True

    def _up(self) -> None:
        if self._redis_down:
            log.warning("Redis is back: the limits are shared again")
            self._redis_down = False

    async def close(self) -> None:
        await self.redis.aclose()


def make_limiter(settings, channel: str = "telegram") -> RateLimiter | SharedRateLimiter:
    """A channel's limiter: Redis-backed when ``[redis] url`` is set, else in-process. Telegram's limits are
    ``[delivery]``'s; WhatsApp's are the number's throughput (``[whatsapp] per_second``) and one message a second
    to one person (WhatsApp's pair rate is about that, with bursts)."""
    d = settings.delivery
    if channel == "whatsapp":
        wa = settings.whatsapp
        overall, private, prefix = wa.per_second, 1.0, f"qatysu:wa{wa.phone_number_id}:rate:"
    else:
        token = settings.telegram.token.get_secret_value() if settings.telegram.token else "0"
        overall, private, prefix = d.overall_per_second, d.private_per_second, key_prefix(token)
    if not settings.redis.url:
        return RateLimiter(overall, private, d.group_per_minute)
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis.url, socket_timeout=5, socket_connect_timeout=5)
    return SharedRateLimiter(client, prefix, overall, private, d.group_per_minute)
