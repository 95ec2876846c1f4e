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
        live_rows = await app.outbox.claim(3, "live-worker")
        gone_rows = await app.outbox.claim(3, "gone-worker")
        await app.outbox.started([r.id for r in live_rows[:2]] + [r.id for r in gone_rows[:2]])  # two each going
        assert await app.sender.recover() == 0  # both alive: nothing is taken for lost
        await gone.release()  # the second sender died
        assert await app.sender.recover() == 2  # the two it had started; the third, never tried, goes back
        async with app.sessions() as s:
            states = sorted((await s.execute(select(OutboxMessage.claimed_by, OutboxMessage.state))).all())
        assert states == ([("gone-worker", "pending")] + [("gone-worker", "unknown")] * 2
                          + [("live-worker", "claimed")] + [("live-worker", "sending")] * 2)
    finally:
        await live.release()
        await gone.release()
