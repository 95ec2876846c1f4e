"""What a conversation step caused that other parts must act on (a new appeal for the operator chat, a
proposal for the admins, a broadcast to start). Flows append ``(name, id)`` to ``ctx.effects``; the engine
hands each to this router after the state is saved and the person has the reply. A feature registers a
handler for its name prefix (``appeal_``, ``budget_``, ``meeting_``, ``broadcast_``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

Handler = Callable[[str, int], Awaitable[None]]
log = logging.getLogger("qatysu.effects")


class Effects:
    def __init__(self) -> None:
        self._handlers: list[tuple[str, Handler]] = []

    def register(self, prefix: str, handler: Handler) -> None:
        self._handlers.append((prefix, handler))

    async def __call__(self, name: str, ref: int) -> None:
        handled = False
        for prefix, handler in self._handlers:
            if name.startswith(prefix):
                await handler(name, ref)
                handled = True
        if not handled:
            log.warning("nobody handles effect %s", name)
