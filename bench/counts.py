"""Database work counted with SQLAlchemy events: sessions (transactions begun by a Session), statements, commits
and rollbacks, so a regression shows up as a count beside the times."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session


class DbCounts:
    """``with DbCounts(engine) as c: ...``, then ``c.per(updates)``."""

    def __init__(self, *engines: AsyncEngine | Engine) -> None:
        # the app's, and its units' (on SQLite a synchronous engine: storage/sqlite_inline.py)
        self.engines = {getattr(e, "sync_engine", e) for e in engines}
        self.pools = {e.pool for e in self.engines}
        self.n = {"sessions": 0, "statements": 0, "commits": 0, "rollbacks": 0}

    def _session(self, session: Session, transaction: Any, connection: Any) -> None:
        if connection.engine.pool in self.pools and transaction.parent is None:  # a session's own, not a savepoint
            self.n["sessions"] += 1

    def _statement(self, *_: Any) -> None:
        self.n["statements"] += 1

    def _commit(self, *_: Any) -> None:
        self.n["commits"] += 1

    def _rollback(self, *_: Any) -> None:
        self.n["rollbacks"] += 1

    def __enter__(self) -> DbCounts:
        event.listen(Session, "after_begin", self._session)
        for e in self.engines:
            event.listen(e, "before_cursor_execute", self._statement)
            event.listen(e, "commit", self._commit)
            event.listen(e, "rollback", self._rollback)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(Session, "after_begin", self._session)
        for e in self.engines:
            event.remove(e, "before_cursor_execute", self._statement)
            event.remove(e, "commit", self._commit)
            event.remove(e, "rollback", self._rollback)

    def per(self, updates: int) -> dict[str, float]:
        return {f"{k}_per_update": round(v / max(1, updates), 2) for k, v in self.n.items()}
