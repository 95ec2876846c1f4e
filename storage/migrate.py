"""Programmatic Alembic: ``qatysu db upgrade`` and the tests use these.

Every start checks the schema. Alembic itself takes a fifth of a second to import, so a database already at
``HEAD`` (one SELECT of ``alembic_version``) is left alone without it; only an upgrade imports Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = (0x51415459, 1)  # a PostgreSQL advisory lock key: (namespace "QATY", migrations)
HEAD = "0015"  # the newest migration's revision (tests/test_storage.py checks it is Alembic's head)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


async def at_head(engine: AsyncEngine) -> bool:
    """Whether the database is at ``HEAD`` (False for a new database, which has no ``alembic_version``)."""
    try:
        async with engine.connect() as conn:
            return set((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars()) == {HEAD}
    except Exception:  # noqa: BLE001 - no table yet: not at head; anything else shows again in the upgrade
        return False


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` to ``revision``."""
    if revision in ("head", HEAD) and await at_head(engine):
        return

    def _do(connection) -> None:
        from alembic import command

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
    from alembic import command

    command.revision(alembic_config(url), message=message, autogenerate=autogenerate)
