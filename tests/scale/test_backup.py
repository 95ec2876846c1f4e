"""deploy/backup.sh and deploy/restore.sh on this machine's PostgreSQL: a dump of a database with residents, appeals
and votes, restored into a new database, has the same rows; restore refuses a database that exists."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.delivery.notices import LEGACY  # a message as stored: the worker processes word it as it is
from bot.services.outbox import Outgoing
from storage.db import make_engine
from tests.conftest import PG_URL, make_app

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not (PG_URL and PG_URL.startswith("postgresql")),
                                reason="pg_dump and pg_restore need PostgreSQL: set QATYSU_TEST_DATABASE_URL to "
                                       "a postgresql+asyncpg:// URL")
TABLES = ("territory", "resident", "outbox", "scheduled_task", "alembic_version")


def _libpq(url: str, database: str | None = None) -> str:
    url = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return url if database is None else url.rsplit("/", 1)[0] + "/" + database


async def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*args, env={**os.environ, **(env or {})},
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    return proc.returncode, out.decode()


async def _counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return {t: await conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}
    finally:
        await engine.dispose()


async def _drop(name: str) -> None:
    engine = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def test_a_daily_dump_restores_into_a_new_database_with_every_row(settings: Settings, tmp_path: Path) -> None:
    app, _ = await make_app(settings)  # the schema, the territories
    try:  # a resident with a message queued for them
        await app.outbox.enqueue([Outgoing("backup:1", LEGACY, {"text": "Сәлем"}, chat_id=5502)])
    finally:
        await app.close()
    engine = make_engine(PG_URL)
    async with engine.begin() as conn:  # rows of our own, whatever the flow above reached
        rid = (await conn.execute(text("INSERT INTO resident (language, notifications, reachable, created_at, is_demo) "
                                       "VALUES ('ru', true, true, now(), false) RETURNING id"))).scalar_one()
        await conn.execute(text("INSERT INTO account (channel, account_id, chat_id, resident_id, created_at) "
                                "VALUES ('telegram', 5502, 5502, :rid, now())"), {"rid": rid})
    await engine.dispose()
    before = await _counts(PG_URL)
    assert before["territory"] > 0 and before["resident"] >= 1

    code, out = await _run("bash", str(ROOT / "deploy" / "backup.sh"),
                           env={"QATYSU_BACKUP_DB": _libpq(PG_URL), "QATYSU_BACKUP_DIR": str(tmp_path / "backups")})
    assert code == 0, out
    dump = Path(out.strip().splitlines()[-1])
    mode = dump.stat().st_mode  # noqa: ASYNC240 - one stat in a test
    assert dump.parent == tmp_path / "backups" and oct(mode)[-3:] == "600"  # personal data: the owner only

    name = PG_URL.rsplit("/", 1)[1] + "_restore"
    await _drop(name)
    try:
        code, out = await _run("bash", str(ROOT / "deploy" / "restore.sh"), str(dump), _libpq(PG_URL), name)
        assert code == 0, out
        assert await _counts(PG_URL.rsplit("/", 1)[0] + "/" + name) == before
        # never over a database that exists (a second restore, or the live one by mistake)
        code, out = await _run("bash", str(ROOT / "deploy" / "restore.sh"), str(dump), _libpq(PG_URL), name)
        assert code == 1 and "exists" in out
    finally:
        await _drop(name)
