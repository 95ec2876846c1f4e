"""What a conversation step caused that other parts must act on (a new appeal for the operator chat, a
proposal for the admins, a broadcast to start). Flows append ``(name, id)`` to ``ctx.effects``; once the state is
saved and the person has the reply, the engine hands them to :meth:`Effects.after`. A feature registers a handler
for its name prefix (``appeal_``, ``budget_``, ``meeting_``, ``broadcast_``).

The effects run after the update, not inside it: the person's chat is free for their next message while the
operator topic of their appeal is being opened. An update's effects run in order, in a task of their own; effects of
different updates run side by side, as they did inside their updates, and what must not happen twice at once is
locked where it is done (an appeal's topic is opened under the appeal's lock, in Redis with several replicas, so a
message added to it is relayed after it). They live in memory: after a crash the operator chat catches up from
the database (``Desk.catch_up``), as it did when they ran inside the update; a process that stops runs what is
under way first, for at most ``CLOSE_WAIT_S`` (:meth:`close`, called by ``App.close``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

Handler = Callable[[str, int], Awaitable[None]]
log = logging.getLogger("qatysu.effects")
CLOSE_WAIT_S = 10.0  # a stop waits this long for effects under way (an unreachable Telegram can take minutes)


class Effects:
    def __init__(self) -> None:
        self._handlers: list[tuple[str, Handler]] = []
        self._running: set[asyncio.Task[None]] = set()

    def register(self, prefix: str, handler: Handler) -> None:
        self._handlers.append((prefix, handler))

    async def __call__(self, name: str, ref: int) -> None:
        """Run one effect now."""
        handled = False
        for prefix, handler in self._handlers:
            if name.startswith(prefix):
                await handler(name, ref)
                handled = True
        if not handled:
            log.warning("nobody handles effect %s", name)

    def after(self, effects: Iterable[tuple[str, int]]) -> None:
        """Run an update's effects, in order, in a task of their own."""
        effects = list(effects)
        if effects:
            task = asyncio.get_running_loop().create_task(self._run(effects), name="effects")
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, effects: list[tuple[str, int]]) -> None:
        for name, ref in effects:
            try:
                await self(name, ref)
            except Exception:  # noqa: BLE001 - the operator chat catches up from the database later
                log.exception("effect %s %s failed", name, ref)

    async def settled(self) -> None:
        """Back when every effect under way has run (and those they started)."""
        while self._running:
            await asyncio.wait(set(self._running))

    async def close(self) -> None:
        """A stop waits for the effects under way, at most ``CLOSE_WAIT_S``; what is left then is caught up from
        the database at the next start."""
        try:
            async with asyncio.timeout(CLOSE_WAIT_S):
                await self.settled()
        except TimeoutError:
            log.warning("%d effects still running at shutdown: left to the next start", len(self._running))
