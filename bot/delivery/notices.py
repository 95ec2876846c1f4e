"""The one registry of notice kinds: what each outbox row says, worded when it is sent.

An outbox row is a notice as data (kind, parameters, reader, channel). Each kind registers once a renderer:
an async function of the row's parameters and its :class:`Reader` (language and channel as they are when it
goes) that returns the message for that channel, worded through the catalogs by the flows' and the desk's
text modules, or None when there is nothing to say any more (the row is then cancelled). A kind may also
register what follows its delivery (``on_sent``) or its definite failure (``on_undelivered``: blocked,
refused, or failed for good), and whether a network failure is retried by itself (``retry``; an aide's reply is
not: the aide sees it failed and sends it again).

The message is a dict for the channel's adapter: ``text`` (HTML on Telegram), ``buttons`` (rows of
``{"text", "data"|"url"}``), ``photo`` or ``document`` (a file id) or ``document_path``/``filename``,
``thread_id``, and ``then``: a second message that follows the first (the rest of a long caption).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.services.outbox import Claimed

log = logging.getLogger("qatysu.notices")
LEGACY = "legacy"  # rows queued before notices were data (migration 0010): their params are the message


@dataclass(frozen=True)
class Reader:
    """Who reads a notice, as far as its wording goes (a renderer depends on nothing else: what it returns is
    shared by every reader of the same language and channel)."""

    language: str
    channel: str = "telegram"


Renderer = Callable[[dict[str, Any], Reader], Awaitable[dict[str, Any] | None]]
OnSent = Callable[["Claimed", int | None], Awaitable[None]]
OnUndelivered = Callable[["Claimed", str], Awaitable[None]]


@dataclass(frozen=True)
class NoticeKind:
    render: Renderer
    on_sent: OnSent | None = None
    on_undelivered: OnUndelivered | None = None
    retry: bool = True


class UnknownNotice(LookupError):
    pass


class Notices:
    def __init__(self, default_language: str = "kk") -> None:
        self.default_language = default_language
        self._kinds: dict[str, NoticeKind] = {}
        self._cache: dict[tuple[str, str, str, str], dict[str, Any] | None] = {}
        self.register(LEGACY, _as_it_is)

    def register(self, kind: str, render: Renderer, *, on_sent: OnSent | None = None,
                 on_undelivered: OnUndelivered | None = None, retry: bool = True) -> None:
        if kind in self._kinds and kind != LEGACY:
            raise ValueError(f"notice kind {kind!r} is registered twice")
        self._kinds[kind] = NoticeKind(render, on_sent, on_undelivered, retry)

    def kind(self, name: str) -> NoticeKind:
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownNotice(name) from None

    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    def reader(self, row: Claimed) -> Reader:
        return Reader(row.language or self.default_language, row.channel)

    async def render(self, row: Claimed) -> dict[str, Any] | None:
        """The row's message in its reader's language and channel. Within one batch (see :meth:`forget`) the
        same notice to readers of one language is worded once: a broadcast to thousands costs two renders."""
        reader = self.reader(row)
        cache_key = (row.kind, json.dumps(row.params, sort_keys=True, default=str), reader.language, reader.channel)
        if cache_key not in self._cache:
            if len(self._cache) > 1000:
                self._cache.clear()
            self._cache[cache_key] = await self.kind(row.kind).render(row.params, reader)
        return self._cache[cache_key]

    def forget(self) -> None:
        """Drop what was worded (the sender calls it before each batch, so a notice is never worded stale)."""
        self._cache.clear()


async def _as_it_is(params: dict[str, Any], reader: Reader) -> dict[str, Any] | None:
    return params or None
