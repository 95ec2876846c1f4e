"""Engine and session factory; SQLite gets WAL, a busy timeout and foreign keys (its units of work: storage/uow.py)."""

from __future__ import annotations

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only

from storage.uow import Sessions


def make_engine(url: str, **kwargs: object) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=FULL")  # a commit the bot acted on survives a power cut too
            cur.close()

        return engine
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "checkout")
    def _alive(_dbapi_conn, _record, proxy):  # noqa: ANN001, ANN202
        """``pool_pre_ping`` in one round trip: a connection the server or the network has dropped is replaced
        before use. SQLAlchemy's own ping for asyncpg is a transaction (BEGIN, a query, ROLLBACK): three round
        trips on every checkout, which is every update's unit. This is one query, not prepared, outside a
        transaction."""
        raw = proxy.driver_connection  # asyncpg's connection
        try:
            if raw.is_closed():
                raise ConnectionError("closed")
            await_only(raw.execute("SELECT 1"))  # the simple protocol: not prepared
        except Exception as e:  # noqa: BLE001 - any failure: the pool tries a new connection
            raise exc.DisconnectionError(f"connection dropped: {e!r}") from e

    return engine


def make_session_factory(engine: AsyncEngine) -> Sessions:
    """Sessions that join the current unit of work (storage/uow.py); outside one, a fresh session each."""
    return Sessions(async_sessionmaker(engine, expire_on_commit=False))


def dialect_insert(session: AsyncSession):  # noqa: ANN201 - the dialect's Insert construct
    """The INSERT construct of the session's database, for ``on_conflict_do_nothing / do_update`` (both dialects
    name them alike)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
