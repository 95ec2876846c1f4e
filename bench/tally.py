"""Time the People's Budget tally on a large synthetic campaign.

    python -m bench.tally --votes 1000000 --projects 1000 [--url URL]

Builds a fresh database (a temporary SQLite file by default; with ``--url`` a PostgreSQL database that is
CLEARED first: its ``public`` schema is dropped), migrates it, bulk-inserts one territory, one campaign,
``--projects`` accepted projects and ``--votes`` residents each with one vote (skewed towards some projects),
then times ``BudgetService.tally`` and prints one line of JSON. Not a test: numbers only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bot.services.budget import BudgetService
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade

BATCH = 50_000
KATO = "999000000"
T0 = datetime(2025, 6, 1, tzinfo=UTC)


def _sqlite_ts(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def _clear_postgres(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def _rows(n_votes: int, n_projects: int, seed: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
    rng = random.Random(seed)
    at = T0 + timedelta(days=25)
    projects = [(i, 1, f"Project {i}", (rng.randint(1, 50)) * 100_000, KATO, "accepted",
                 T0 + timedelta(minutes=i), T0 + timedelta(minutes=i)) for i in range(1, n_projects + 1)]
    weights = [1 / k for k in range(1, n_projects + 1)]  # a few popular projects, a long tail
    choices = rng.choices(range(1, n_projects + 1), weights=weights, k=n_votes)
    residents = [(i, KATO, f"{i:064x}", at, "v1", at, at, at)  # accounts are not needed for a tally
                 for i in range(1, n_votes + 1)]
    votes = [(i, 1, choices[i - 1], i, f"{i:064x}", 1, f"R{i:011d}", at) for i in range(1, n_votes + 1)]
    return projects, residents, votes


PROJECT_COLS = ("id", "campaign_id", "title", "cost_tenge", "territory_kato", "status", "created_at", "submitted_at")
RESIDENT_COLS = ("id", "territory_kato", "phone_hash", "phone_verified_at", "consent_version", "consent_at",
                 "registered_at", "created_at")
RESIDENT_FIXED = {"notifications": True, "reachable": True, "is_demo": False}
VOTE_COLS = ("id", "campaign_id", "project_id", "resident_id", "voter_token", "slot", "receipt", "created_at")


async def _insert(engine, dialect: str, projects, residents, votes) -> None:
    campaign = {"id": 1, "title_kk": "Bench", "title_ru": "Bench", "territory_kato": KATO,
                "proposals_from": T0, "proposals_until": T0 + timedelta(days=10),
                "review_until": T0 + timedelta(days=20),
                "voting_from": T0 + timedelta(days=20), "voting_until": T0 + timedelta(days=30),
                "results_at": T0 + timedelta(days=35), "budget_tenge": 500_000_000, "votes_per_resident": 1,
                "vote_change_allowed": False, "threshold": 10, "tie_rule": "earlier_submission", "created_at": T0,
                "is_demo": True}
    fixed = tuple(RESIDENT_FIXED)
    residents = [r + tuple(RESIDENT_FIXED.values()) for r in residents]
    resident_cols = RESIDENT_COLS + fixed
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO territory (kato, parent_kato, level, name_kk, name_ru, search_key,"
                                " is_demo) VALUES (:k, NULL, 'oblast', 'Bench', 'Bench', 'bench', true)"), {"k": KATO})
        cols = ", ".join(campaign)
        if dialect == "sqlite":
            campaign = {k: _sqlite_ts(v) if isinstance(v, datetime) else v for k, v in campaign.items()}
        params = ", ".join(":" + k for k in campaign)
        await conn.execute(text(f"INSERT INTO budget_campaign ({cols}) VALUES ({params})"), campaign)
        if dialect == "postgresql":
            raw = (await conn.get_raw_connection()).driver_connection
            for table, cols, rows in (("budget_project", PROJECT_COLS, projects),
                                      ("resident", resident_cols, residents), ("vote", VOTE_COLS, votes)):
                for i in range(0, len(rows), BATCH * 4):
                    await raw.copy_records_to_table(table, records=rows[i:i + BATCH * 4], columns=list(cols))
        else:
            def conv(rows):
                return [tuple(_sqlite_ts(v) if isinstance(v, datetime) else v for v in r) for r in rows]

            for table, cols, rows in (("budget_project", PROJECT_COLS, projects),
                                      ("resident", resident_cols, residents), ("vote", VOTE_COLS, votes)):
                sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                for i in range(0, len(rows), BATCH):
                    await conn.exec_driver_sql(sql, conv(rows[i:i + BATCH]))
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))
    if dialect == "postgresql":  # copy used explicit ids: move the sequences past them
        async with engine.begin() as conn:
            for table in ("budget_campaign", "budget_project", "resident", "vote"):
                await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


async def run(n_votes: int, n_projects: int, url: str | None, seed: int) -> dict:
    tmp = None
    if url is None:
        tmp = tempfile.TemporaryDirectory(prefix="qatysu-bench-")
        url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}"
    elif url.startswith("postgresql"):
        await _clear_postgres(url)
    engine = make_engine(url)
    try:
        await upgrade(engine)
        dialect = engine.dialect.name
        projects, residents, votes = _rows(n_votes, n_projects, seed)
        started = time.perf_counter()
        await _insert(engine, dialect, projects, residents, votes)
        inserted = time.perf_counter() - started
        svc = BudgetService(make_session_factory(engine))
        started = time.perf_counter()
        result = await svc.tally(1)
        tallied = time.perf_counter() - started
        assert sum(r.votes for r in result.rows) == n_votes, "the tally lost votes"
        return {"votes": n_votes, "projects": n_projects, "database": dialect,
                "insert_seconds": round(inserted, 2), "tally_seconds": round(tallied, 3),
                "winners": len(result.winners), "digest": result.digest}
    finally:
        await engine.dispose()
        if tmp is not None:
            tmp.cleanup()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.tally", description=__doc__.splitlines()[0])
    ap.add_argument("--votes", type=int, default=1_000_000)
    ap.add_argument("--projects", type=int, default=1000)
    ap.add_argument("--url", help="a PostgreSQL URL (the database is cleared!); default: a temporary SQLite file")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if args.votes < 0 or args.projects < 1:
        ap.error("--votes must be ≥ 0 and --projects ≥ 1")
    print(json.dumps(asyncio.run(run(args.votes, args.projects, args.url, args.seed))))


if __name__ == "__main__":
    main()
