"""Telegram's sending limits: overall per second, per private chat per second, per group per minute.

Each send reserves the earliest slot that keeps all three limits, then waits for it; reservations are
made under a lock so concurrent senders never share a slot. Time the overall limit went unused (a sender late for
its slot, a pause between batches) is credited up to ``credit_s``: the next sends may catch up by that much, as
Telegram's (and the sandbox's) buckets allow a burst of about a second.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    def __init__(self, overall_per_s: float = 30, private_per_s: float = 1, group_per_min: float = 20,
                 clock: Callable[[], float] = time.monotonic, credit_s: float = 0.2) -> None:
        self._overall_gap = 1 / overall_per_s
        self._credit = credit_s
        self._private_gap = 1 / private_per_s
        self._group_limit = max(1, int(group_per_min))
        self._clock = clock
        self._next_overall = -math.inf  # no send yet: not 0, the clock may be small
        self._next_chat: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}
        self._lock = asyncio.Lock()

    def _reserve(self, chat_id: int) -> float:
        now = self._clock()
        virtual = max(now - self._credit, self._next_overall)  # its place in the overall schedule: unused time
        slot = earliest = max(now, virtual)                    # is credited, up to credit_s; never sent in the past
        if chat_id > 0:
            slot = max(slot, self._next_chat.get(chat_id, -math.inf))
        else:
            window = self._group_sends.setdefault(chat_id, deque())
            while window and window[0] <= slot - 60:
                window.popleft()
            if len(window) >= self._group_limit:
                slot = max(slot, window[-self._group_limit] + 60)
            window.append(slot)
        self._next_overall = (virtual if slot == earliest else slot) + self._overall_gap
        if chat_id > 0:
            self._next_chat[chat_id] = slot + self._private_gap
            if len(self._next_chat) > 50_000:  # forget chats whose slot has long passed
                self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        return slot

    async def wait(self, chat_id: int) -> None:
        async with self._lock:
            slot = self._reserve(chat_id)
        delay = slot - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)

    async def pause(self, seconds: float) -> None:
        """After a 429 with retry_after: nobody sends until then."""
        self._next_overall = max(self._next_overall, self._clock() + seconds)
