"""The outbox sender killed at every send, and many writers at once on one database.

Killed sender: after the restart nothing is sent twice; what was in flight at the kill is reported "unknown"
(never resent, as documented), everything else is sent. Concurrent writers: registrations, votes, appeals,
outbox rows and conversation states written at the same time all land, with no "database is locked"."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.config import Settings
from bot.services.budget import BudgetService
from bot.services.outbox import SENT, UNKNOWN
from storage.models import Appeal, OutboxMessage, Vote, utcnow
from storage.state import State
from tests.conftest import DATA
from tests.faults.crash import die, run_until_killed, start
from tests.support.consistency import problems
from tests.support.notices import text

ROWS = 6


async def _rows(app: App, prefix: str) -> dict[str, OutboxMessage]:
    async with app.sessions() as s:
        return {r.key: r for r in await s.scalars(select(OutboxMessage).where(OutboxMessage.key.startswith(prefix)))}


@pytest.mark.parametrize("mode", ["before", "after"])
async def test_a_killed_sender_sends_nothing_twice(settings: Settings, mode: str) -> None:
    settings.delivery.overall_per_second = 1000  # the limiter is not under test here
    settings.delivery.private_per_second = 1000
    app, session, _ = await start(settings)
    try:
        for k in range(1, ROWS + 1):
            prefix = f"crash{k}:"
            items = [text(f"{prefix}{i}", 91_000 + 100 * k + i, {"text": f"Хабарландыру {k}.{i}"})
                     for i in range(ROWS)]
            assert await app.outbox.enqueue(items) == ROWS
            session.kill_at, session.mode = session.count + k, mode
            assert await run_until_killed(session, app.sender.run_once())
            await die(app)
            app, session, _ = await start(settings, old=session)
            recovered = await app.outbox.recover_after_crash()  # what the sender does first on start
            while await app.sender.run_once():
                pass
            assert await app.outbox.enqueue(items) == 0  # enqueuing again after the restart adds nothing
            rows = await _rows(app, prefix)
            delivered = Counter(int(c.params["chat_id"]) for c in session.calls
                                if c.method == "sendMessage" and isinstance(c.result, dict)
                                and str(c.params.get("text", "")).startswith(f"Хабарландыру {k}."))
            assert all(n == 1 for n in delivered.values()), f"sent twice: {delivered}"
            assert {r.state for r in rows.values()} <= {SENT, UNKNOWN}
            unknown = [r for r in rows.values() if r.state == UNKNOWN]
            assert len(unknown) == recovered >= 1  # the row being sent at the kill, at least
            for r in rows.values():
                assert (r.chat_id in delivered) == (r.state == SENT) or (mode == "after" and r.state == UNKNOWN)
        assert await problems(app.sessions) == []
    finally:
        await app.close()


async def test_many_writers_at_once(app: App) -> None:
    """Residents register, vote, file appeals, move through conversations and get notices, all at the same
    time: on SQLite every write waits its turn (WAL and a busy timeout, storage/db.py) instead of failing with
    "database is locked"; races for the same vote slot end on the database's constraints."""
    await app.services.territories.import_csv(DATA / "territories.csv")
    now = utcnow()
    budget = BudgetService(app.sessions, clock=lambda: now - timedelta(days=5))
    c = await budget.create_campaign(
        "110000000", "Сынақ", "Тест", 10_000_000, proposals_from=now - timedelta(days=30),
        proposals_until=now - timedelta(days=20), review_until=now - timedelta(days=2),
        voting_from=now - timedelta(days=1), voting_until=now + timedelta(days=20), results_at=now + timedelta(days=25),
        votes_per_resident=2)
    projects = await budget.import_projects(c.id, [{"title": f"Жоба {i}", "cost_tenge": 1_000_000}
                                                   for i in range(3)], actor=1)
    residents = app.services.residents
    n = 40

    async def person(i: int) -> None:
        uid = 95_000 + i
        await residents.consent(uid, uid, "kk", app.settings.privacy.consent_version)
        draft = State("registration", "territory", {"node": None, "page": i})
        await app.conversations.store.set("telegram", uid, draft)
        await residents.set_territory(uid, "114033200")
        await residents.verify_phone(uid, f"+7702{uid:07d}", uid, "Тұрғын")
        r = await residents.complete_registration(uid)
        # two votes at once: one person, two slots, raced against each other
        await asyncio.gather(app.services.budget.cast_vote(r.id, c.id, projects[0].id),
                             app.services.budget.cast_vote(r.id, c.id, projects[1 + i % 2].id))
        await app.services.appeals.create(resident_id=r.id, kind="complaint", category="roads",
                                          territory_kato="114033200", language="kk", contact_name="Тұрғын",
                                          text=f"Көктал ауылындағы жолда шұңқыр бар, өту қиын, №{i}.")
        await app.outbox.enqueue([text(f"writers:{uid}", None, {"text": "Сәлем"}, resident_id=r.id)])
        await app.conversations.store.clear("telegram", uid)

    await asyncio.gather(*(person(i) for i in range(n)))
    async with app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Vote)) == 2 * n
        assert await s.scalar(select(func.count()).select_from(Appeal)) == n
        numbers = list(await s.scalars(select(Appeal.number)))
        assert len(set(numbers)) == n  # public numbers are unique under concurrency
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)) == n
    assert await problems(app.sessions) == []
