"""Leases on PostgreSQL (bot/lease.py): one holder at a time, free as soon as its connection is gone; a sender
starting beside a live one leaves the live one's rows alone and takes for lost only those of a sender that is gone."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.delivery.notices import LEGACY  # a message as stored: the worker processes word it as it is
from bot.lease import PgLease
from bot.services.outbox import Outgoing
from storage.models import OutboxMessage
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not (PG_URL and PG_URL.startswith("postgresql")),
                                reason="leases between processes are PostgreSQL advisory locks: set "
                                       "QATYSU_TEST_DATABASE_URL to a postgresql+asyncpg:// URL")


async def test_one_holder_at_a_time_and_the_lease_passes_when_its_holder_is_gone(app: App) -> None:
    first, second = PgLease(app.engine, "scheduler"), PgLease(app.engine, "scheduler")
    try:
        assert await first.try_acquire() and first.held
        assert not await second.try_acquire() and not second.held
        assert await first.check()
        await first._conn.invalidate()  # the holder's connection is gone, as when its process dies
        assert not await first.check() and not first.held  # it knows it lost the lease
        assert await second.try_acquire()
        assert not await first.try_acquire()
    finally:
        await first.release()
        await second.release()


async def test_a_starting_sender_leaves_a_live_senders_rows_alone(app: App) -> None:
    await app.outbox.enqueue([Outgoing(f"lease:{i}", LEGACY, {"text": "Сәлем"}, chat_id=700 + i) for i in range(6)])
    live = PgLease(app.engine, "sender:live-worker")
    gone = PgLease(app.engine, "sender:gone-worker")
    assert await live.try_acquire() and await gone.try_acquire()
    try:
        await app.outbox.claim(3, "live-worker")
        await app.outbox.claim(3, "gone-worker")
        assert await app.sender.recover() == 0  # both alive: nothing is taken for lost
        await gone.release()  # the second sender died
        assert await app.sender.recover() == 3
        async with app.sessions() as s:
            states = sorted((await s.execute(select(OutboxMessage.claimed_by, OutboxMessage.state))).all())
        assert states == [("gone-worker", "unknown")] * 3 + [("live-worker", "sending")] * 3
    finally:
        await live.release()
        await gone.release()
