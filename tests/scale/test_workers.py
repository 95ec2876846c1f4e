"""`qatysu worker` processes over one PostgreSQL database and one Redis, sending to the sandbox over HTTP.

- The scheduler's jobs run on the one worker holding the lease; killed with SIGKILL in the middle of sending a
  meeting reminder, its lease passes to the other worker, which sends what came due next; nobody gets a reminder
  twice (counted at the sandbox) and only the rows the killed sender had started are "unknown" (never resent);
  those it had claimed and not started are sent by the other. At most the sender's concurrency of them
  (the ones in hand at the kill) may not have arrived.
- Two workers sending one queue keep Telegram's overall limit together: the sandbox, whose limit is the same as
  each worker's, never answers 429 (each alone at that rate, the two together would go at twice it).
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, text

from bench.broadcast import DISTRICT, Count429, crowd, seed_residents
from bot.app import App, build_app
from bot.config import Settings
from bot.delivery.notices import LEGACY  # a message as stored: the worker processes word it as it is
from bot.delivery.shared_limit import key_prefix
from bot.sandbox_mode import SAMPLE, TOKEN
from bot.services.outbox import Outgoing, Priority
from sandbox import Sandbox
from storage.models import OutboxMessage, ScheduledTask, utcnow
from tests.scale.conftest import REDIS_URL, Processes, needs_pg_and_redis, wait_for

pytestmark = needs_pg_and_redis
RATE = 100  # messages a second: the sandbox's overall limit and each worker's


def _settings(sb: Sandbox, database_url: str, rate: float) -> Settings:
    return Settings(telegram={"token": TOKEN, "api_base": sb.api_base, "operator_chat_id": sb.operator_chat_id},
                    database={"url": database_url}, redis={"url": REDIS_URL},
                    privacy={"phone_hash_key": "test-key"}, delivery={"overall_per_second": rate})


def _env(sb: Sandbox, database_url: str, rate: float) -> dict[str, str]:
    return {"QATYSU_TELEGRAM__TOKEN": TOKEN, "QATYSU_TELEGRAM__API_BASE": sb.api_base,
            "QATYSU_TELEGRAM__OPERATOR_CHAT_ID": str(sb.operator_chat_id), "QATYSU_DATABASE__URL": database_url,
            "QATYSU_REDIS__URL": REDIS_URL, "QATYSU_DELIVERY__OVERALL_PER_SECOND": str(rate),
            "QATYSU_PRIVACY__PHONE_HASH_KEY": "test-key"}


async def _fresh_limits() -> None:
    """No reservation left in Redis by an earlier run of these tests."""
    r = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in r.scan_iter(match=key_prefix(TOKEN) + "*", count=1000)]
        if keys:
            await r.delete(*keys)
    finally:
        await r.aclose()


async def _meeting_due_now(app: App, place: str) -> int:
    """A meeting in two hours whose one-hour reminder is due now; returns its id."""
    m = await app.services.meetings.create(kind="community_meeting", territory_kato=DISTRICT,
                                           starts_at=utcnow() + timedelta(hours=2), agenda_kk="Есеп",
                                           agenda_ru="Отчёт", place=place)
    await app.services.tasks.reschedule(f"meeting:{m.id}:before:1h", utcnow() - timedelta(minutes=1))
    return m.id


def _got(sb: Sandbox, ids: list[int], place: str) -> Counter[int]:
    return Counter({uid: sum(1 for m in sb.world.chats[uid].messages.values()
                             if m.from_bot and place in str(m.content)) for uid in ids})


async def test_a_worker_killed_holding_the_lease_is_replaced_and_nothing_goes_twice(
        tmp_path: Path, database_url: str, processes: Processes) -> None:
    sb = Sandbox(TOKEN, rate_overall_per_s=RATE)
    await sb.start()
    app = None
    try:
        await _fresh_limits()
        ids = await crowd(sb, 300)
        app = await build_app(_settings(sb, database_url, RATE))  # prepares the database; workers do the rest
        await app.services.territories.import_csv(SAMPLE, demo=True)
        await seed_residents(app.sessions, ids)
        first = await _meeting_due_now(app, "Мәдениет үйі")
        env = _env(sb, database_url, RATE)
        a, a_log = await processes.start(env, "worker")
        await wait_for(lambda: "scheduler lease taken" in a_log.read_text(), 60, "worker A to take the lease")
        b, b_log = await processes.start(env, "worker")
        await wait_for(lambda: "worker" in b_log.read_text() and "started" in b_log.read_text(), 60,
                       "worker B to start")

        def delivered(place: str) -> int:
            return sum(_got(sb, ids, place).values())

        # A runs the reminder (B, waiting for the lease, runs no job); killed once a third has gone out
        await wait_for(lambda: delivered("Мәдениет үйі") >= 100, 60, "a third of the first reminder")
        a.send_signal(signal.SIGKILL)
        await a.wait()
        assert "scheduler lease taken" not in b_log.read_text(), "two workers ran the scheduler at once"
        second = await _meeting_due_now(app, "Мектеп залы")  # falls due after A is gone: B must send it
        took = await wait_for(lambda: "scheduler lease taken" in b_log.read_text(), 30, "B to take the lease over")
        print(f"\nlease taken over {took:.1f} s after the holder was killed")

        keys = (f"meeting:{first}:before:1h", f"meeting:{second}:before:1h")

        async def settled() -> bool:
            async with app.sessions() as s:
                busy = await s.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.state.in_(("pending", "claimed", "sending"))))
                undone = await s.scalar(select(func.count()).select_from(ScheduledTask)
                                        .where(ScheduledTask.key.in_(keys),
                                               (ScheduledTask.outcome == "running") | ScheduledTask.done_at.is_(None)))
                return busy == 0 and undone == 0

        await wait_for(settled, 60, "both reminders to be settled")
        first_got, second_got = _got(sb, ids, "Мәдениет үйі"), _got(sb, ids, "Мектеп залы")
        assert max(first_got.values()) == 1 and max(second_got.values()) == 1  # nobody got a reminder twice
        assert set(second_got.values()) == {1}  # the reminder that fell due after the kill reached everyone
        async with app.sessions() as s:
            rows = dict((await s.execute(select(OutboxMessage.chat_id, OutboxMessage.state)
                                         .where(OutboxMessage.key.like(f"meeting:{first}:%")))).all())
            tasks = dict((await s.execute(select(ScheduledTask.key, ScheduledTask.outcome))).all())
        states = Counter(rows.values())
        in_flight = states["unknown"]
        print(f"first reminder after the kill: {dict(states)}; residents without it: "
              f"{sum(1 for uid in ids if first_got[uid] == 0)}")
        # the first reminder: sent to everyone but the rows A had started and not yet recorded when killed,
        # which are never resent; the rows A had claimed and not started went back and were sent (by B)
        assert len(rows) == 300 and set(states) <= {"sent", "unknown"}
        assert all(first_got[uid] == 1 for uid, st in rows.items() if st == "sent")
        # a row "unknown" was started: most had arrived (their successes wait for their batch's commit); only
        # those a sender task had in hand at the kill may not have: at most the sender's concurrency (8)
        missed = [uid for uid in ids if first_got[uid] == 0]
        assert all(rows[uid] == "unknown" for uid in missed) and len(missed) <= 8
        # started and not yet recorded: at most the batch being finished and the rows of the next one begun
        assert in_flight <= 100 + 8
        assert tasks[f"meeting:{first}:before:1h"] == tasks[f"meeting:{second}:before:1h"] == "sent"
        assert b.returncode is None, b_log.read_text()[-3000:]
    finally:
        if app is not None:
            await app.close()
        await sb.stop()


async def test_two_workers_keep_the_overall_limit_together(
        tmp_path: Path, database_url: str, processes: Processes) -> None:
    sb = Sandbox(TOKEN, rate_overall_per_s=RATE)
    await sb.start()
    app = None
    try:
        await _fresh_limits()
        n = 400
        ids = await crowd(sb, n)
        app = await build_app(_settings(sb, database_url, RATE))
        env = _env(sb, database_url, RATE)
        logs = [(await processes.start(env, "worker"))[1] for _ in range(2)]
        for log in logs:
            await wait_for(lambda log=log: "started" in log.read_text(), 60, "the workers to start")
        await asyncio.sleep(1)  # each sender takes its own lease before it claims
        refused = Count429(sb)
        await app.outbox.enqueue(Outgoing(f"load:{uid}", LEGACY, {"text": f"Хабар {uid}"}, chat_id=uid,
                                          priority=Priority.BROADCAST)
                                 for uid in ids)

        async def all_sent() -> bool:
            async with app.sessions() as s:
                return await s.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.state == "sent")) == n

        took = await wait_for(all_sent, 60, "the queue to be sent")
        async with app.sessions() as s:
            senders = dict((await s.execute(select(OutboxMessage.claimed_by, func.count(OutboxMessage.id))
                                            .group_by(OutboxMessage.claimed_by))).all())
        print(f"\n{n} messages by two workers in {took:.1f} s ({n / took:.0f}/s, limit {RATE}/s), "
              f"per worker {sorted(senders.values())}, {refused.n} answers 429")
        assert len(senders) == 2, senders  # both workers sent
        assert refused.n == 0  # together they never went past the sandbox's overall limit
        assert all(sum(1 for m in sb.world.chats[uid].messages.values() if m.from_bot) == 1 for uid in ids)
    finally:
        if app is not None:
            await app.close()
        await sb.stop()


@pytest.mark.parametrize("n", [2])
async def test_two_upgrades_at_once_migrate_once(database_url: str, processes: Processes, n: int) -> None:
    """`qatysu db upgrade` started by several services at once on an empty database: one migrates, the others
    wait for its lock and find the schema current."""
    env = {"QATYSU_DATABASE__URL": database_url}
    started = [await processes.start(env, "db", "upgrade") for _ in range(n)]
    codes = [await proc.wait() for proc, _ in started]
    assert codes == [0] * n, [log.read_text()[-2000:] for _, log in started]
    app = await build_app(Settings(database={"url": database_url}, privacy={"phone_hash_key": "test-key"},
                                   telegram={"token": TOKEN}), migrate=False)
    try:
        async with app.engine.connect() as conn:
            versions = list(await conn.scalars(text("SELECT version_num FROM alembic_version")))
        assert len(versions) == 1
    finally:
        await app.close()
