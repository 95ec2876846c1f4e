"""Shared pieces: settings for a benchmark app, fresh databases, statistics."""

from __future__ import annotations

import html
import re
import statistics
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.config import Settings
from storage.db import make_engine

OPERATOR_CHAT = -1001000000001
SAMPLE = Path(__file__).resolve().parent.parent / "bot" / "data" / "territories_sample.csv"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test_h5"


def bench_settings(url: str, **extra: Any) -> Settings:
    data: dict[str, Any] = dict(
        telegram={"token": "123456:BENCH-TOKEN", "api_base": "http://127.0.0.1:9", "operator_chat_id": OPERATOR_CHAT},
        database={"url": url},
        privacy={"phone_hash_key": "bench-key"},
        limits={"flood_messages": 1_000_000},  # a benchmark clicks faster than people
    )
    data.update(extra)
    return Settings(**data)


async def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist (a fresh machine has only ``test``)."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    # CREATE DATABASE cannot run in a transaction: an AUTOCOMMIT connection to the server's own database
    engine = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            exists = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        await engine.dispose()


async def clear_postgres(url: str) -> None:
    await ensure_database(url)
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


class FreshDatabase:
    """``async with FreshDatabase(pg_url or None) as url``: a temporary SQLite file, or the PostgreSQL database
    emptied (its public schema dropped) before use."""

    def __init__(self, pg_url: str | None) -> None:
        self.pg_url = pg_url
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    async def __aenter__(self) -> str:
        if self.pg_url:
            await clear_postgres(self.pg_url)
            return self.pg_url
        self._tmp = tempfile.TemporaryDirectory(prefix="qatysu-bench-")
        return f"sqlite+aiosqlite:///{Path(self._tmp.name) / 'bench.db'}"

    async def __aexit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[max(0, min(998, round(q * 1000) - 1))]


def latency(values: list[float]) -> dict[str, float]:
    """Milliseconds: median and 99th percentile."""
    return {"p50_ms": round(percentile(values, 0.5) * 1000, 2), "p99_ms": round(percentile(values, 0.99) * 1000, 2)}


def plain(text_: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text_))
