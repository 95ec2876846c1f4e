"""One unit of work per update: one session, one transaction, one commit.

The dispatcher layer (bot/flows/engine.py) opens a unit with ``sessions.unit()`` around the work of one update.
Inside it, every ``sessions()`` a service opens is that unit's session (a context variable holds it, so the
services keep their signatures), a service's ``s.begin()`` is a savepoint in the unit's transaction (its
exception still undoes only its own block) and nothing is committed before the unit ends. Outside a unit (the
scheduler, the sender, the CLI, another task) ``sessions()`` is a fresh session as before.

SQLite, one process: one unit runs at a time in the process (an asyncio lock), in a plain Session on one
connection of its own that runs SQLite inline on the event loop and takes the write lock when the unit begins
(storage/sqlite_inline.py), so updates never fight over the lock with sleep-and-retry and a unit that read before
writing is never refused its write. PostgreSQL keeps its pool and its AsyncSession and runs units side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storage import sqlite_inline


class _Unit:
    __slots__ = ("owner", "session", "task", "open")

    def __init__(self, owner: Sessions, session: AsyncSession | sqlite_inline.InlineSession) -> None:
        self.owner, self.session, self.task, self.open = owner, session, asyncio.current_task(), True


_current: ContextVar[_Unit | None] = ContextVar("qatysu_unit_of_work", default=None)


class JoinedSession:
    """The unit's session as a service sees it: ``begin()`` is a savepoint, ``commit()`` only flushes, ``close()``
    leaves it open; everything else is the session's own."""

    __slots__ = ("_s",)

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s, name)

    def begin(self) -> Any:
        return self._s.begin_nested()

    async def commit(self) -> None:
        await self._s.flush()

    async def close(self) -> None:
        return None


class _Joined:
    __slots__ = ("_proxy",)

    def __init__(self, session: AsyncSession) -> None:
        self._proxy = JoinedSession(session)

    async def __aenter__(self) -> JoinedSession:
        return self._proxy

    async def __aexit__(self, *exc: object) -> None:
        return None  # the unit closes its session


class Sessions:
    """A drop-in for ``async_sessionmaker`` that joins the current unit of work (see the module's doc)."""

    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self.maker = maker
        bind = maker.kw.get("bind")
        self.sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._bind, self._unit_bind = bind, None
        self._lock = asyncio.Lock() if self.sqlite else None
        self._unit_kw = {"expire_on_commit": maker.kw.get("expire_on_commit", True)}
        self._wal = sqlite_inline.WalSync(bind.url.database) if self.sqlite else None

    @classmethod
    def of(cls, sessions: async_sessionmaker[AsyncSession] | Sessions) -> Sessions:
        return sessions if isinstance(sessions, Sessions) else cls(sessions)

    @property
    def unit_engine(self) -> Any:
        """The engine units run on: SQLite's inline one, synchronous (made on first use), else the sessions' own."""
        if not self.sqlite:
            return self._bind
        if self._unit_bind is None:
            self._unit_bind = sqlite_inline.unit_engine(self._bind)
        return self._unit_bind

    def current(self) -> AsyncSession | None:
        """The session of the unit this task is in, if it is one of ours."""
        unit = _current.get()
        if unit is None or unit.owner is not self or not unit.open or unit.task is not asyncio.current_task():
            return None
        return unit.session

    def __call__(self, **kw: Any) -> Any:
        session = None if kw else self.current()
        return self.maker(**kw) if session is None else _Joined(session)

    def __getattr__(self, name: str) -> Any:  # kw, configure, class_ …: the maker's
        return getattr(self.maker, name)

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction for one statement that cannot half-fail: the unit's own session without a
        savepoint inside a unit, a fresh session committed at the end outside one."""
        session = self.current()
        if session is not None:
            yield session
            return
        async with self.maker() as s, s.begin():
            yield s

    def unit(self) -> Any:
        """One unit of work (``async with``): committed when the block ends, rolled back if it raises. Nested: joins
        the outer."""
        joined = self.current()
        if joined is not None:
            return contextlib.nullcontext(joined)
        if self._wal is not None and self._lock is not None:
            return _InlineUnit(self, self._lock, self._wal)
        return self._pooled_unit()

    @contextlib.asynccontextmanager
    async def _pooled_unit(self) -> AsyncIterator[AsyncSession]:
        session = self.maker()
        unit = _Unit(self, session)
        token = _current.set(unit)
        try:
            async with session:  # a close over the network, shielded from cancellation
                yield session
                await session.commit()
        finally:
            unit.open = False
            _current.reset(token)


class _InlineUnit:
    """A unit on SQLite, one at a time (``Sessions._lock``): a plain Session on the units' own connection, which
    holds the write lock from the start (storage/sqlite_inline.py). Its commit does not wait for the disk; a unit
    that wrote waits for the log's fsync after it has let the next unit in, and before its caller acts. One object
    per update, entered once: no generator frames around the update."""

    __slots__ = ("owner", "lock", "wal", "conn", "raw", "facade", "changes", "unit", "token")

    def __init__(self, owner: Sessions, lock: asyncio.Lock, wal: sqlite_inline.WalSync) -> None:
        self.owner, self.lock, self.wal = owner, lock, wal

    async def __aenter__(self) -> sqlite_inline.InlineSession:
        owner = self.owner
        await self.lock.acquire()
        try:
            self.conn = owner.unit_engine.connect()
            self.raw = self.conn.connection.driver_connection
            await sqlite_inline.write_lock(self.raw)
        except BaseException:
            if hasattr(self, "conn"):
                self.conn.close()
            self.lock.release()
            raise
        self.facade = sqlite_inline.InlineSession(Session(bind=self.conn, **owner._unit_kw))
        self.changes = self.raw.total_changes
        self.unit = _Unit(owner, self.facade)
        self.token = _current.set(self.unit)
        return self.facade

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.unit.open = False
        _current.reset(self.token)
        session, ticket = self.facade.sync_session, 0
        try:
            if exc_type is None:
                session.commit()
                if self.raw.total_changes != self.changes:
                    ticket = self.wal.note()
        finally:
            session.close()  # what is not committed is rolled back
            if self.raw.in_transaction:  # the session never began (nothing was run), or it failed half-way
                self.raw.rollback()
            self.conn.close()
            self.lock.release()
        if ticket:  # durable before the caller acts on it; the next unit need not wait for the disk
            await self.wal.durable(ticket)
