"""SQLite inline on the event loop, for the units of work (storage/uow.py).

Through SQLAlchemy's asyncio layer every statement is a greenlet switch and several of aiosqlite's coroutines,
around SQLite's own work of a few microseconds; an update's statements cost several times what SQLite does for
them. A unit on SQLite therefore runs a plain Session on a synchronous connection of its own, on the event loop,
behind the face the services know (:class:`InlineSession`: AsyncSession's awaited methods). Units run one at a time
(storage/uow.py), and a unit takes the write lock when it begins (``BEGIN IMMEDIATE``), so nothing inside it ever
waits for a lock. Taking it is the one wait: while another connection of the process (the sender, the scheduler,
on aiosqlite's threads) writes, the unit yields to the event loop and tries again instead of blocking it.

A commit does not wait for the disk on the event loop: the units' connection commits without an fsync of its own
(``synchronous=NORMAL``), and a unit that wrote waits, after its commit and off the units' lock, for an fsync of the
write-ahead log in a thread (:class:`WalSync`). One fsync makes every commit before it durable, so the units that
commit while it runs share the next one, and the event loop goes on meanwhile. The unit's caller acts (answers,
sends) only after that, so as with ``synchronous=FULL`` what the bot acted on survives a power cut.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from typing import Any

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.util import immutabledict

LOCK_WAIT_S = 30.0  # as the busy timeout of the threaded connections
LOCK_RETRY_S = 0.002
_BUFFERED = immutabledict({"prebuffer_rows": True})  # as AsyncSession reads its rows: all of them at once


def unit_engine(main: AsyncEngine) -> Engine:
    """A synchronous engine (the standard library's sqlite3) on ``main``'s file with one connection, disposed with
    ``main``."""
    # a unit always ends its transaction (commit, or the rollback of closing): no reset on return
    engine = create_engine(main.url.set(drivername="sqlite"), pool_size=1, max_overflow=0,
                           pool_reset_on_return=None)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:  # pragma: no cover - trivial
        dbapi_conn.isolation_level = None  # transactions begin as the unit says, not as the driver guesses
        for pragma in ("journal_mode=WAL", "foreign_keys=ON",
                       "busy_timeout=0",  # never block the event loop: the unit waits for the lock by yielding
                       "synchronous=NORMAL"):  # the log is synced by WalSync before the unit's caller acts
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:  # pragma: no cover - a unit has taken the lock already
        raw: sqlite3.Connection = conn.connection.driver_connection
        if not raw.in_transaction:  # a second transaction in one unit (after a commit): the lock again, or fail
            raw.execute("BEGIN IMMEDIATE")

    @event.listens_for(main.sync_engine, "engine_disposed")
    def _dispose(_engine: Any) -> None:  # pragma: no cover - trivial
        engine.dispose()

    return engine


async def write_lock(raw: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``; while another connection writes, yield to the event loop and try again."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as e:
            if ("locked" not in str(e) and "busy" not in str(e)) or time.monotonic() > deadline:
                raise exc.OperationalError("BEGIN IMMEDIATE", (), e) from e
        await asyncio.sleep(LOCK_RETRY_S)


class WalSync:
    """Makes the units' commits durable with one fsync of the write-ahead log for all that came before it (see the
    module's doc). ``note()`` after a commit that wrote gives a ticket; ``durable(ticket)`` returns once an fsync
    that began after that commit has ended."""

    def __init__(self, database: str) -> None:
        self.path = f"{database}-wal"
        self._noted = 0  # commits noted
        self._synced = 0  # of them, made durable
        self._sync: asyncio.Task[None] | None = None

    def note(self) -> int:
        self._noted += 1
        return self._noted

    async def durable(self, ticket: int) -> None:
        while self._synced < ticket:
            if self._sync is None:  # the next fsync covers every commit noted so far
                self._sync = asyncio.get_running_loop().create_task(self._run(self._noted))
            await asyncio.shield(self._sync)  # a waiter cancelled does not stop the others' fsync

    async def _run(self, upto: int) -> None:
        try:
            await asyncio.to_thread(_fsync, self.path)
            self._synced = max(self._synced, upto)
        finally:
            self._sync = None


def _fsync(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # no log left: its commits are in the database file, synced by the checkpoint
        return
    try:
        os.fsync(fd)  # the file's data, whoever wrote it
    finally:
        os.close(fd)


class _Nested:
    """A savepoint as ``async with``, as AsyncSession's ``begin_nested()``."""

    __slots__ = ("_tx",)

    def __init__(self, tx: SessionTransaction) -> None:
        self._tx = tx

    async def __aenter__(self) -> SessionTransaction:
        return self._tx

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        self._tx.__exit__(type_, value, traceback)


class InlineSession:
    """AsyncSession's face over a synchronous Session: the same awaited calls, run at once on the event loop. Only
    what the services call inside a unit (the unit commits and closes the Session itself; ``JoinedSession`` turns
    a service's ``begin``, ``commit`` and ``close`` into a savepoint, a flush and nothing)."""

    __slots__ = ("sync_session",)

    def __init__(self, session: Session) -> None:
        self.sync_session = session

    @property
    def bind(self) -> Engine:
        return self.sync_session.bind.engine  # the session's is the unit's connection

    async def execute(self, statement: Any, params: Any = None, *, execution_options: Any = None,
                      **kw: Any) -> Any:
        options = _BUFFERED if not execution_options else immutabledict(execution_options).union(_BUFFERED)
        return self.sync_session.execute(statement, params, execution_options=options, **kw)

    async def scalar(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        return self.sync_session.scalar(statement, params, **kw)

    async def scalars(self, statement: Any, params: Any = None, *, execution_options: Any = None,
                      **kw: Any) -> Any:
        options = _BUFFERED if not execution_options else immutabledict(execution_options).union(_BUFFERED)
        return self.sync_session.scalars(statement, params, execution_options=options, **kw)

    async def get(self, entity: Any, ident: Any, **kw: Any) -> Any:
        return self.sync_session.get(entity, ident, **kw)

    def add(self, instance: Any) -> None:
        self.sync_session.add(instance)

    def add_all(self, instances: Any) -> None:
        self.sync_session.add_all(instances)

    async def delete(self, instance: Any) -> None:
        self.sync_session.delete(instance)

    async def flush(self, objects: Any = None) -> None:
        self.sync_session.flush(objects)

    def begin_nested(self) -> _Nested:
        return _Nested(self.sync_session.begin_nested())
