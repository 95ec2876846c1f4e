"""Telegram's flood limits as token buckets: overall per second, per private chat, per group per minute."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import too_many_requests


@dataclass
class Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float = field(default=-1.0)
    stamp: float = 0.0

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if now)."""
        if self.tokens < 0:
            self.tokens, self.stamp = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class RateLimiter:
    """A sending method is refused with 429 when any of its buckets is empty; nothing is taken then."""

    def __init__(
        self,
        *,
        overall_per_s: float,
        private_per_s: float,
        group_per_min: float,
        private_burst: float = 3,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.enabled = enabled
        self.overall_per_s = overall_per_s
        self.private_per_s = private_per_s
        self.group_per_min = group_per_min
        self.private_burst = private_burst
        self.clock = clock
        self._overall = Bucket(overall_per_s, max(1.0, overall_per_s))
        self._chats: dict[int, Bucket] = {}

    def _chat_bucket(self, chat_id: int, private: bool) -> Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if private:
                bucket = Bucket(self.private_per_s, max(1.0, self.private_burst))
            else:
                bucket = Bucket(self.group_per_min / 60.0, max(1.0, self.group_per_min))
            self._chats[chat_id] = bucket
        return bucket

    def check(self, chat_id: int, *, private: bool) -> None:
        if not self.enabled:
            return
        now = self.clock()
        buckets = [self._overall, self._chat_bucket(chat_id, private)]
        wait = max(b.wait_time(now) for b in buckets)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for b in buckets:
            b.take()

    def reset(self) -> None:
        self._overall = Bucket(self.overall_per_s, max(1.0, self.overall_per_s))
        self._chats.clear()
