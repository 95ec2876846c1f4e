"""Outbox rows for tests of the outbox itself: a notice kind whose parameters are the message, registered on
the app a test builds (production kinds are worded by their modules; see bot/delivery/notices.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.app import App
from bot.delivery.notices import Reader
from bot.services.outbox import Outgoing, Priority
from storage.models import OutboxMessage

TEXT = "test_text"


async def _as_given(params: dict[str, Any], reader: Reader) -> dict[str, Any]:
    return params


def register(app: App) -> None:
    if TEXT not in app.sender.notices.kinds():
        app.sender.notices.register(TEXT, _as_given)


def text(key: str, chat_id: int | None, message: dict[str, Any], priority: int = Priority.NOTICE, *,
         resident_id: int | None = None, broadcast_id: int | None = None) -> Outgoing:
    """A row saying ``message`` to a resident (their chat is looked up when it goes) or to ``chat_id``."""
    return Outgoing(key, TEXT, message, resident_id=resident_id, chat_id=None if resident_id else chat_id,
                    priority=priority, broadcast_id=broadcast_id)


async def worded(app: App, row: OutboxMessage) -> dict[str, Any]:
    """What a stored row says to its reader, worded as the sender would word it now."""
    said = await app.sender.preview(row.id)
    assert said is not None, f"outbox row {row.key} has nothing to say"
    return said


async def address(app: App, row: OutboxMessage) -> int | None:
    """The chat a row goes to: its resident's, looked up now, or its own."""
    peeked = await app.outbox.peek(row.id)
    return peeked.chat_id if peeked is not None else None


async def rows(app: App) -> list[OutboxMessage]:
    async with app.sessions() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
