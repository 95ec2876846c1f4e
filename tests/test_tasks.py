"""Scheduled tasks as rows: idempotent scheduling, each due row run once even by concurrent runs, catch-up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.app import App
from bot.services.tasks import TaskService
from storage.models import ScheduledTask

T0 = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)


def service(app: App, now: list[datetime]) -> tuple[TaskService, list[str]]:
    tasks = TaskService(app.sessions, clock=lambda: now[0])
    ran: list[str] = []

    async def handler(task: ScheduledTask, at: datetime) -> str:
        await asyncio.sleep(0)
        ran.append(task.key)
        return "sent"

    tasks.register("ping", handler)
    return tasks, ran


async def test_a_key_is_scheduled_once_and_runs_once_when_due(app: App) -> None:
    now = [T0]
    tasks, ran = service(app, now)
    assert await tasks.schedule("ping:1", "ping", T0 + timedelta(hours=1), ref_id=1)
    assert not await tasks.schedule("ping:1", "ping", T0 + timedelta(hours=2), ref_id=1)
    assert await tasks.run_due() == 0 and ran == []
    now[0] = T0 + timedelta(hours=1)
    assert await tasks.run_due() == 1 and ran == ["ping:1"]
    assert await tasks.run_due() == 0 and ran == ["ping:1"]
    row = await tasks.get("ping:1")
    assert row is not None and row.outcome == "sent" and row.done_at == now[0]


async def test_concurrent_runs_never_take_one_row_twice(app: App) -> None:
    now = [T0]
    tasks, ran = service(app, now)
    for i in range(20):
        await tasks.schedule(f"ping:{i}", "ping", T0 - timedelta(minutes=i))
    await asyncio.gather(*(tasks.run_due() for _ in range(5)))
    assert sorted(ran) == sorted(f"ping:{i}" for i in range(20))


async def test_downtime_catches_up_oldest_first_and_cancelled_rows_never_run(app: App) -> None:
    now = [T0]
    tasks, ran = service(app, now)
    await tasks.schedule("meeting:7:before:1d", "ping", T0 + timedelta(days=1))
    await tasks.schedule("meeting:7:before:1h", "ping", T0 + timedelta(days=2))
    await tasks.schedule("meeting:8:before:1d", "ping", T0 + timedelta(hours=3))
    assert await tasks.cancel("meeting:7:") == 2
    now[0] = T0 + timedelta(days=5)  # the bot was down for days
    await tasks.run_due()
    assert ran == ["meeting:8:before:1d"]
    assert {t.key for t in await tasks.pending()} == set()


async def test_a_failing_handler_is_recorded_and_not_retried_in_a_loop(app: App) -> None:
    now = [T0]
    tasks = TaskService(app.sessions, clock=lambda: now[0])
    calls = []

    async def broken(task: ScheduledTask, at: datetime) -> str:
        calls.append(task.key)
        raise RuntimeError("boom")

    tasks.register("broken", broken)
    await tasks.schedule("broken:1", "broken", T0)
    await tasks.run_due()
    await tasks.run_due()
    row = await tasks.get("broken:1")
    assert calls == ["broken:1"] and row is not None and row.outcome == "failed"
