"""Leases between processes: PostgreSQL session advisory locks, each held on a connection of its own.

A lease is held as long as its connection lives. When the holder dies the operating system closes its socket and
PostgreSQL ends the session at once, which frees the lock; when its machine dies or the network between them
breaks, TCP keepalives (set on the lease's own session: silent for ``KEEPALIVE_IDLE`` s, then ``COUNT`` probes
``INTERVAL`` s apart) end it within ``KEEPALIVE_BOUND`` seconds. The holder checks its connection every
``CHECK_SECONDS`` (with a timeout of the same length) and steps down as soon as a check fails, which is before
the server can give the lock to anyone else. Another process asking every ``CHECK_SECONDS`` takes the lease over
within ``CHECK_SECONDS`` of its release: after a killed process within about ``CHECK_SECONDS``, after a lost
machine within ``KEEPALIVE_BOUND + CHECK_SECONDS``.

SQLite has one process: :class:`LocalLease` is always held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("qatysu")

NAMESPACE = 0x51415459  # "QATY": the first half of every key, so other applications' advisory locks keep apart
CHECK_SECONDS = 5.0
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 10, 5, 3
KEEPALIVE_BOUND = KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT


class LocalLease:
    """One process on SQLite: nobody to share with."""

    held = True

    def __init__(self, name: str) -> None:
        self.name = name

    async def try_acquire(self) -> bool:
        return True

    async def check(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class PgLease:
    def __init__(self, engine: AsyncEngine, name: str, *, check_seconds: float = CHECK_SECONDS) -> None:
        self.engine, self.name, self.check_seconds = engine, name, check_seconds
        self._conn: AsyncConnection | None = None
        self.held = False

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; True if this process holds it now."""
        if self.held:
            return True
        try:
            conn = await asyncio.wait_for(self.engine.connect(), self.check_seconds)
        except Exception:  # noqa: BLE001 - the database is away: try again later
            return False
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f"SET application_name = 'qatysu lease {self.name[:40]}'"))
            await conn.execute(text(f"SET tcp_keepalives_idle = {KEEPALIVE_IDLE}"))
            await conn.execute(text(f"SET tcp_keepalives_interval = {KEEPALIVE_INTERVAL}"))
            await conn.execute(text(f"SET tcp_keepalives_count = {KEEPALIVE_COUNT}"))
            got = await asyncio.wait_for(conn.scalar(text("SELECT pg_try_advisory_lock(:ns, hashtext(:name))"),
                                                     {"ns": NAMESPACE, "name": self.name}), self.check_seconds)
        except Exception:  # noqa: BLE001
            await _drop(conn)
            return False
        if not got:
            await conn.close()
            return False
        self._conn, self.held = conn, True
        return True

    async def check(self) -> bool:
        """Is the lease still ours? A connection that does not answer in time gives it up."""
        if not self.held or self._conn is None:
            return False
        try:
            await asyncio.wait_for(self._conn.scalar(text("SELECT 1")), self.check_seconds)
            return True
        except Exception:  # noqa: BLE001 - lost the connection: the server frees the lock with the session
            await self._lost()
            return False

    async def _lost(self) -> None:
        conn, self._conn, self.held = self._conn, None, False
        if conn is not None:
            await _drop(conn)

    async def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._conn.execute(
                    text("SELECT pg_advisory_unlock(:ns, hashtext(:name))"), {"ns": NAMESPACE, "name": self.name}),
                    self.check_seconds)
        await self._lost()


async def _drop(conn: AsyncConnection) -> None:
    with contextlib.suppress(Exception):
        await conn.invalidate()
    with contextlib.suppress(Exception):
        await conn.close()


def make_lease(engine: AsyncEngine, name: str) -> LocalLease | PgLease:
    return PgLease(engine, name) if engine.dialect.name == "postgresql" else LocalLease(name)


async def free_leases(engine: AsyncEngine, names: list[str]) -> list[str]:
    """Which of these leases nobody holds (their holders are gone). Asked on a connection that holds none."""
    if engine.dialect.name != "postgresql" or not names:
        return list(names)
    free = []
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for name in names:
            args = {"ns": NAMESPACE, "name": name}
            if await conn.scalar(text("SELECT pg_try_advisory_lock(:ns, hashtext(:name))"), args):
                await conn.execute(text("SELECT pg_advisory_unlock(:ns, hashtext(:name))"), args)
                free.append(name)
    return free
