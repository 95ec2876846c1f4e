"""SQLite without a thread hop per call, for the units of work (storage/uow.py).

aiosqlite runs every call of a connection (cursor, execute, fetch, close …) in the connection's own thread and
wakes the event loop when it is done: about nine hops per statement, more than SQLite's own work. SQLite's work
for an update is a fraction of a millisecond, so the units run it inline on the event loop instead, through one
connection kept for them: units run one at a time (storage/uow.py), and a unit takes the write lock when it begins
(``BEGIN IMMEDIATE``), so nothing inside it ever waits for a lock. Taking the lock is the one wait: if another
connection of the process (the sender, the scheduler, still on aiosqlite's threads) is writing, the unit yields to
the event loop and tries again instead of blocking it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_only

LOCK_WAIT_S = 30.0  # as the busy timeout of the threaded connections


class _Now:
    """Stands in for aiosqlite's queue to its thread: runs the call at once (the isolation-level setter and stop()
    put calls on it directly)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Any]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting future, as aiosqlite's thread does
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    def __init__(self, connector: Any) -> None:
        super().__init__(connector, 64)
        self._tx = _Now()  # type: ignore[assignment]

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def __await__(self) -> Any:  # no thread to start
        return self._connect().__await__()


def unit_engine(main: AsyncEngine) -> AsyncEngine:
    """An engine on ``main``'s SQLite file with one inline connection, disposed with ``main``."""
    args, kwargs = main.dialect.create_connect_args(main.url)

    async def connect() -> InlineConnection:
        return await InlineConnection(lambda: sqlite3.connect(*args, **kwargs))

    # a unit always ends its transaction (commit, or the rollback of closing its session): no reset on return
    engine = create_async_engine(main.url, async_creator=connect, pool_size=1, max_overflow=0,
                                 pool_reset_on_return=None)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=0")  # never block the event loop: _begin waits by yielding instead
        cur.execute("PRAGMA synchronous=FULL")  # a commit the bot acted on survives a power cut too
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn):  # pragma: no cover - exercised by every unit of work on SQLite
        raw: sqlite3.Connection = conn.connection.driver_connection._conn
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
            await_only(asyncio.sleep(0.002))

    @event.listens_for(main.sync_engine, "engine_disposed")
    def _dispose(_engine):  # pragma: no cover - trivial
        engine.sync_engine.pool.dispose()

    return engine
