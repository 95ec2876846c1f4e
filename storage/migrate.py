"""Programmatic Alembic: ``qatysu db upgrade`` and the tests use these."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = (0x51415459, 1)  # a PostgreSQL advisory lock key: (namespace "QATY", migrations)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` to ``revision``."""

    def _do(connection) -> None:
        cfg = alembic_config(str(engine.url))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # several processes may start at once (replicas, a worker, `qatysu db upgrade`): one migrates, the
            # others wait here and then find the schema current. Held until this transaction ends.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:ns, :key)"), {"ns": MIGRATION_LOCK[0],
                                                                                 "key": MIGRATION_LOCK[1]})
        await conn.run_sync(_do)


def revision(url: str, message: str, autogenerate: bool = True) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=autogenerate)
