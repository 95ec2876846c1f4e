"""What a conversation step caused that other parts must act on (a new appeal for the operator chat, a
proposal for the admins, a broadcast to start). Flows append ``(name, id)`` to ``ctx.effects``; once the state is
saved and the person has the reply, the engine hands them to :meth:`Effects.after`. A feature registers a handler
for its name prefix (``appeal_``, ``budget_``, ``meeting_``, ``broadcast_``).

The effects run after the update is done, not inside it: the person's chat is free for their next message while
the operator topic of their appeal is being opened, and a burst of new appeals does not hold up other people's
answers. One runner takes them one at a time in the order they came (an appeal's topic is opened before a message
added to it is relayed), and lets the updates waiting on the event loop go first before each. They live in
memory: after a crash the operator chat catches up from the database (``Desk.catch_up``), as it did when they ran
inside the update; a process that stops runs what is queued first (:meth:`settled`, called by ``App.close``)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable

Handler = Callable[[str, int], Awaitable[None]]
log = logging.getLogger("qatysu.effects")


class Effects:
    def __init__(self) -> None:
        self._handlers: list[tuple[str, Handler]] = []
        self._queue: deque[tuple[str, int]] = deque()
        self._runner: asyncio.Task[None] | None = None

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
        """Queue an update's effects for the runner."""
        self._queue.extend(effects)
        if self._queue and (self._runner is None or self._runner.done()):
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="effects")

    async def _run(self) -> None:
        while self._queue:
            await asyncio.sleep(0)  # the updates already waiting go first
            name, ref = self._queue.popleft()
            try:
                await self(name, ref)
            except Exception:  # noqa: BLE001 - the operator chat catches up from the database later
                log.exception("effect %s %s failed", name, ref)

    async def settled(self) -> None:
        """Back when every queued effect has run."""
        while self._runner is not None and not self._runner.done():
            await asyncio.wait({self._runner})
