"""The flood throttle, channel-neutral: more than ``limit`` messages, edits and presses per ``window`` seconds from
one person are dropped; an album (parts sent together) counts as one message; the first dropped one gets a short
warning, every dropped press still gets that warning as its answer (no button keeps spinning).

A channel adapter asks :meth:`Flood.judge` about each arrival from a person in a private chat (a channel-neutral
``Event``) and does what the verdict says: Telegram's is bot/channels/telegram/middlewares.py. The counts live in
this process (:class:`MemoryFlood`) or in Redis for several replicas (bot.redis_locks.RedisFlood)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from bot.flows.base import Event, Services
from bot.i18n import I18n, pick_language


class MemoryFlood:
    """The flood throttle's memory inside one process (bot.redis_locks.RedisFlood shares it between replicas)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[Hashable, deque[float]] = {}
        self._warned: dict[Hashable, str] = {}  # person → the warning they got, repeated on their dropped presses
        self._albums: OrderedDict[tuple[Hashable, str], bool] = OrderedDict()  # (person, album) → let through

    async def admit(self, user_id: Hashable, limit: int, window: float) -> bool:
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

    async def warned(self, user_id: Hashable) -> str | None:
        return self._warned.get(user_id)

    async def set_warned(self, user_id: Hashable, text: str, window: float) -> None:
        self._warned[user_id] = text

    async def album(self, user_id: Hashable, group: str, admitted: bool | None) -> bool | None:
        if admitted is None:
            return self._albums.get((user_id, group))
        self._albums[(user_id, group)] = admitted
        if len(self._albums) > 10_000:
            self._albums.popitem(last=False)
        return admitted


@dataclass(frozen=True)
class Verdict:
    """What to do with one arrival: handle it (``admitted``), or drop it and, the first time, ``warn`` the person
    (then :meth:`Flood.warned` with the text); a press dropped later is answered with ``repeat``."""

    admitted: bool
    warn: bool = False
    repeat: str | None = None


ADMITTED = Verdict(True)


def person(event: Event) -> Hashable:
    """Whose counts an arrival joins: a Telegram id as it always was (the shared counts survive a deploy), another
    channel's ids under the channel's name (two channels' ids may coincide)."""
    return event.user_id if event.channel == "telegram" else f"{event.channel}:{event.user_id}"


class Flood:
    def __init__(self, limit: int = 8, window: float = 4.0, clock: Callable[[], float] = time.monotonic,
                 store: Any = None) -> None:
        self.limit, self.window = limit, window
        self.store = store if store is not None else MemoryFlood(clock)

    async def judge(self, event: Event, album: str | None = None) -> Verdict:
        """``album``: the group id of parts sent together (they go the way the first part went)."""
        who = person(event)
        if album:
            went = await self.store.album(who, album, None)
            if went is not None:
                return ADMITTED if went else Verdict(False)
        admitted = await self.store.admit(who, self.limit, self.window)
        if album:
            admitted = await self.store.album(who, album, admitted)
        if admitted:
            return ADMITTED
        warned = await self.store.warned(who)
        if warned is None:
            return Verdict(False, warn=True)
        return Verdict(False, repeat=warned if event.kind == "button" else None)

    async def warned(self, event: Event, text: str) -> None:
        """The person was told ``text``: their next dropped presses are answered with it, no new message."""
        await self.store.set_warned(person(event), text, self.window)


async def too_fast(i18n: I18n, services: Services, event: Event) -> str:
    """The warning, in the person's language."""
    resident = await services.residents.get(event.user_id, event.channel)
    tr = i18n(pick_language(resident.language if resident else None, event.language_code, i18n.default))
    return tr._("You are sending messages too fast. Please wait a few seconds and try again.")
