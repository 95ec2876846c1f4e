"""Scheduled tasks as database rows: reminders, campaign phase notices, the quarterly reminder to admins.

A feature schedules a row (``schedule``: idempotent by key) and registers a handler for its ``kind``; the
scheduler job calls :meth:`TaskService.run_due` every minute. A due row is claimed by a guarded UPDATE
(``done_at IS NULL``) before its handler runs, so two runs or two replicas never act on one row. A handler
returns the outcome to record ("sent", "skipped", …); whatever it sends goes through the outbox under its own
unique keys, so even a handler re-run after a crash sends nothing twice. A run after downtime catches up with
every row that fell due meanwhile; the handler decides whether it is still worth doing (a reminder for a
meeting already past is "skipped").
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import dialect_insert
from storage.models import ScheduledTask, utcnow

Handler = Callable[[ScheduledTask, datetime], Awaitable[str | None]]
log = logging.getLogger("qatysu.tasks")


class TaskService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self.clock = clock
        self.handlers: dict[str, Handler] = {}

    def register(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    async def schedule(self, key: str, kind: str, due_at: datetime, ref_id: int | None = None,
                       session: AsyncSession | None = None) -> bool:
        """Add a task unless one with ``key`` exists. Returns whether it was new."""
        row = dict(key=key, kind=kind, ref_id=ref_id, due_at=due_at, created_at=self.clock())
        if session is not None:
            return await self._insert(session, row)
        async with self._sessions() as s, s.begin():
            return await self._insert(s, row)

    @staticmethod
    async def _insert(s: AsyncSession, row: dict) -> bool:
        insert = dialect_insert(s)
        result = await s.execute(insert(ScheduledTask).values(**row).on_conflict_do_nothing(index_elements=["key"]))
        return bool(result.rowcount)

    async def reschedule(self, key: str, due_at: datetime) -> None:
        """Move a task that has not run yet (a meeting moved to another day)."""
        async with self._sessions() as s, s.begin():
            await s.execute(update(ScheduledTask).where(ScheduledTask.key == key, ScheduledTask.done_at.is_(None))
                            .values(due_at=due_at))

    async def cancel(self, key_prefix: str) -> int:
        """Cancel every task not run yet whose key starts with ``key_prefix`` (e.g. ``meeting:5:``)."""
        async with self._sessions() as s, s.begin():
            result = await s.execute(
                update(ScheduledTask).where(ScheduledTask.key.startswith(key_prefix, autoescape=True),
                                            ScheduledTask.done_at.is_(None))
                .values(done_at=self.clock(), outcome="cancelled"))
            return result.rowcount or 0

    async def pending(self, key_prefix: str = "") -> list[ScheduledTask]:
        async with self._sessions() as s:
            q = select(ScheduledTask).where(ScheduledTask.done_at.is_(None))
            if key_prefix:
                q = q.where(ScheduledTask.key.startswith(key_prefix, autoescape=True))
            return list(await s.scalars(q.order_by(ScheduledTask.due_at, ScheduledTask.id)))

    async def get(self, key: str) -> ScheduledTask | None:
        async with self._sessions() as s:
            return await s.scalar(select(ScheduledTask).where(ScheduledTask.key == key))

    async def _claim(self, task_id: int, now: datetime) -> bool:
        async with self._sessions() as s, s.begin():
            result = await s.execute(update(ScheduledTask).where(ScheduledTask.id == task_id,
                                                                 ScheduledTask.done_at.is_(None))
                                     .values(done_at=now, outcome="running"))
            return result.rowcount == 1

    async def _finish(self, task_id: int, outcome: str) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(update(ScheduledTask).where(ScheduledTask.id == task_id).values(outcome=outcome[:32]))

    async def run_due(self, limit: int = 200) -> int:
        """Run every task due by now (oldest first). Returns how many ran."""
        now = self.clock()
        async with self._sessions() as s:
            due = list(await s.scalars(select(ScheduledTask).where(ScheduledTask.done_at.is_(None),
                                                                   ScheduledTask.due_at <= now)
                                       .order_by(ScheduledTask.due_at, ScheduledTask.id).limit(limit)))
        ran = 0
        for task in due:
            handler = self.handlers.get(task.kind)
            if handler is None:
                log.warning("no handler for scheduled task %s (%s)", task.key, task.kind)
                continue
            if not await self._claim(task.id, now):
                continue  # another run took it
            try:
                outcome = await handler(task, now) or "done"
            except Exception:  # noqa: BLE001 - recorded; the outbox keys make a manual re-run safe
                log.exception("scheduled task %s failed", task.key)
                outcome = "failed"
            await self._finish(task.id, outcome)
            ran += 1
        return ran
