"""(d) Start-up time and resident set size with many residents in the database.

    python -m bench.startup [--residents 100000] [--pg-url URL]

Fills a fresh database (migrated, the sample territories, ``--residents`` registered residents), then starts a
new Python process that imports the bot, builds the app (bot/app.py, migrations checked) and answers the first
update, a registered resident's /start, and reports each time and its RSS (psutil).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()  # before the bot's imports: the child measures them

BATCH = 20_000
ROOT = str(Path(__file__).resolve().parent.parent)
FIRST_USER = 30_000_000


async def fill(url: str, residents: int) -> float:
    from sqlalchemy import insert, text

    from bench.common import SAMPLE
    from bot.services.territories import TerritoryService
    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade
    from storage.models import Account, Resident

    engine = make_engine(url)
    started = time.perf_counter()
    try:
        await upgrade(engine)
        await TerritoryService(make_session_factory(engine)).import_csv(SAMPLE)
        async with engine.connect() as conn:
            katos = [r[0] for r in await conn.execute(text("SELECT kato FROM territory WHERE level = 'village'"))]
        at = datetime(2025, 6, 1, tzinfo=UTC)
        rows = [dict(language="kk" if i % 3 else "ru", territory_kato=katos[i % len(katos)],
                     phone_hash=f"{i:064x}", phone_verified_at=at, consent_version="v1", consent_at=at,
                     notifications=True, reachable=True, registered_at=at, created_at=at, is_demo=False)
                for i in range(residents)]
        for i in range(0, len(rows), BATCH):
            async with engine.begin() as conn:
                made = (await conn.execute(insert(Resident).returning(Resident.id, sort_by_parameter_order=True),
                                           rows[i:i + BATCH])).scalars().all()
                await conn.execute(insert(Account), [dict(channel="telegram", account_id=FIRST_USER + i + k,
                                                          chat_id=FIRST_USER + i + k, resident_id=rid, created_at=at)
                                                     for k, rid in enumerate(made)])
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return time.perf_counter() - started


async def child(url: str) -> dict[str, Any]:
    """Runs in a fresh interpreter: what a restart of the bot costs."""
    __import__("bot")  # first, as `qatysu` imports it: aiogram's types then build on first use
    import psutil
    from aiogram.types import Update

    from bench.common import bench_settings
    from bench.session import LeanSession
    from bot.app import build_app
    from bot.channels.telegram.costs import settle

    imported = time.perf_counter()
    session = LeanSession()
    app = await build_app(bench_settings(url), session=session)
    settle()  # as `qatysu run` does once it has started
    built = time.perf_counter()
    user = {"id": FIRST_USER + 1, "is_bot": False, "first_name": "Тұрғын", "language_code": "kk"}
    upd = Update.model_validate({"update_id": 1, "message": {
        "message_id": 1, "date": int(time.time()), "text": "/start", "from": user,
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        "chat": {"id": FIRST_USER + 1, "type": "private", "first_name": "Тұрғын"}}}, context={"bot": app.bot})
    await app.dp.feed_update(app.bot, upd)
    answered = time.perf_counter()
    assert session.recent(FIRST_USER + 1), "the first update got no answer"
    rss = psutil.Process().memory_info().rss
    await app.close()
    return {"import_s": round(imported - STARTED, 3), "build_app_s": round(built - imported, 3),
            "first_update_ms": round((answered - built) * 1000, 1), "ready_s": round(answered - STARTED, 3),
            "rss_mb": round(rss / 2**20, 1)}


async def measure_one(url: str, residents: int) -> dict[str, Any]:
    filled = await fill(url, residents)
    with tempfile.TemporaryDirectory(prefix="qatysu-startup-") as tmp:
        empty = Path(tmp) / "config.toml"  # no config file's settings: only the benchmark's own
        empty.write_text("")
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.startup", "--child", url,
                                                    stdout=asyncio.subprocess.PIPE, cwd=ROOT,
                                                    env={**os.environ, "QATYSU_CONFIG": str(empty)})
        out, _ = await proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"the start-up child failed ({proc.returncode})")
    result = json.loads(out.decode().strip().splitlines()[-1])
    return {"database": "postgresql" if url.startswith("postgresql") else "sqlite", "residents": residents,
            "fill_s": round(filled, 1), **result, "process_wall_s": round(wall, 3),
            "aiogram_import_s": await _aiogram_import()}


async def _aiogram_import() -> float:
    """How much of the import time is aiogram's own (its pydantic types), for comparison."""
    code = "import time; t = time.perf_counter(); import aiogram.types; print(time.perf_counter() - t)"
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return round(float(out.decode().strip()), 3)


async def measure(residents: int = 100_000, pg_url: str | None = None) -> dict[str, Any]:
    from bench.common import FreshDatabase

    runs = []
    for url in ([None, pg_url] if pg_url else [None]):
        async with FreshDatabase(url) as db:
            runs.append(await measure_one(db, residents))
    return {"runs": runs}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=100_000)
    ap.add_argument("--pg-url", help="also run on this PostgreSQL database (it is CLEARED)")
    ap.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(child(args.child))))
        return
    print(json.dumps(asyncio.run(measure(args.residents, args.pg_url)), indent=1))


if __name__ == "__main__":
    main()
