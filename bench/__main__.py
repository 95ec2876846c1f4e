"""Every benchmark in one command: prints a Markdown table and writes the numbers as JSON.

    python -m bench [--quick] [--only dispatch,e2e,tally,broadcast,startup] [--pg-url URL | --no-pg]
                    [--json bench/results.json] [sizes: --residents N --concurrency N --e2e-residents N
                    --tally-votes N --tally-projects N --broadcast-recipients N --broadcast-large N
                    --startup-residents N]

dispatch   resident journeys (registration, an appeal, browsing menus; voting once bot/flows/budget*.py exists)
           through the real dispatcher with an in-memory Telegram, beside a bare aiogram echo dispatcher
e2e        the same journeys through the sandbox over HTTP, the bot in its own process, many residents at once
tally      bench/tally.py: the People's Budget tally on a large campaign
broadcast  bench/broadcast.py measure(): a broadcast through the outbox and the sandbox, at two sizes
           (--broadcast-recipients and --broadcast-large; 0 leaves one out)
startup    a new process: imports, build_app and the first answer with many residents in the database; RSS
replicas   (only with --only replicas) the journeys through 1, 2 and 3 `qatysu web` replicas behind a round-robin
           forwarder, PostgreSQL and Redis (--redis-url, default database 10 of the local Redis)

The PostgreSQL database (default the test_h5 one) is CLEARED by every benchmark that uses it.
Benchmarks print numbers; they are not tests and assert nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import psutil

from bench.common import DEFAULT_PG

ALL = ("dispatch", "e2e", "tally", "broadcast", "startup")
EXTRA = ("replicas",)  # only with --only: needs PostgreSQL and Redis
FULL = dict(residents=300, concurrency=20, e2e_residents=100, tally_votes=1_000_000, tally_projects=1000,
            broadcast_recipients=10_000, broadcast_large=100_000, startup_residents=100_000)
QUICK = dict(residents=30, concurrency=10, e2e_residents=10, tally_votes=20_000, tally_projects=100,
             broadcast_recipients=500, broadcast_large=0, startup_residents=10_000)


def machine(pg_url: str | None) -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    info = {"cpus": os.cpu_count(), "cpu_model": model, "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "postgresql": None}
    if pg_url:
        info["postgresql"] = asyncio.run(_pg_version(pg_url))
    return info


async def _pg_version(url: str) -> str | None:
    from sqlalchemy import text

    from bench.common import ensure_database
    from storage.db import make_engine

    engine = make_engine(url)
    try:
        await ensure_database(url)
        async with engine.connect() as conn:
            return (await conn.scalar(text("SHOW server_version"))) or None
    except Exception:  # noqa: BLE001 - no server: the PostgreSQL runs are left out
        return None
    finally:
        await engine.dispose()


def _urls(pg_url: str | None) -> list[str | None]:
    return [None, pg_url] if pg_url else [None]


async def run_dispatch(a: argparse.Namespace, pg: str | None) -> dict[str, Any]:
    from bench import dispatch

    return await dispatch.measure(a.residents, a.concurrency, pg)


async def run_e2e(a: argparse.Namespace, pg: str | None) -> dict[str, Any]:
    from bench import e2e

    return await e2e.measure(a.e2e_residents, pg)


async def run_tally(a: argparse.Namespace, pg: str | None) -> dict[str, Any]:
    from bench import tally

    return {"runs": [await tally.run(a.tally_votes, a.tally_projects, url, seed=1) for url in _urls(pg)]}


async def run_broadcast(a: argparse.Namespace, pg: str | None) -> dict[str, Any]:
    try:
        module = importlib.import_module("bench.broadcast")
    except ModuleNotFoundError:
        return {"missing": "bench/broadcast.py does not exist yet"}
    measure = getattr(module, "measure", None)
    if measure is None:
        return {"missing": "bench/broadcast.py has no measure()"}
    runs = []
    for size in (n for n in (a.broadcast_recipients, a.broadcast_large) if n > 0):  # 0 leaves a size out
        for url in _urls(pg):
            runs.append({"database": "postgresql" if url else "sqlite",
                         **await measure(size, database_url=url)})  # it clears PostgreSQL itself
    return {"runs": runs}


async def run_startup(a: argparse.Namespace, pg: str | None) -> dict[str, Any]:
    from bench import startup

    return await startup.measure(a.startup_residents, pg)


async def run_replicas(a: argparse.Namespace, pg: str | None) -> dict[str, Any]:
    from bench import replicas

    return await replicas.measure(a.replica_residents, pg, a.redis_url)


RUNNERS = {"replicas": run_replicas, "dispatch": run_dispatch, "e2e": run_e2e, "tally": run_tally,
           "broadcast": run_broadcast,
           "startup": run_startup}


def _ms(r: dict[str, Any]) -> str:
    return f"{r['p50_ms']:g} / {r['p99_ms']:g}"


def rows(results: dict[str, Any]) -> list[list[str]]:
    out: list[list[str]] = []
    for name, res in results.items():
        if "error" in res:
            out.append([name, "", "", "failed", res["error"].splitlines()[-1][:100]])
            continue
        if "missing" in res:
            out.append([name, "", "", "missing", res["missing"]])
            continue
        if name == "replicas":
            for r in res.get("runs", []):
                out.append([f"replicas ×{r['replicas']}", r["database"], f"{r['residents']} residents, all at once",
                            f"{r['updates_per_s']:g} updates/s, {_ms(r)}",
                            f"{r['updates']} updates; per replica {r['per_replica']}; handled twice "
                            f"{r['handled_twice']}, missing {r.get('missing', '?')}; CPU s (replicas "
                            f"{r['cpu_seconds']['replicas']}, sandbox+drivers "
                            f"{r['cpu_seconds']['sandbox_forwarder_and_drivers']}, PostgreSQL "
                            f"{r['cpu_seconds']['postgresql_backends']}), {r['cpu_seconds']['cores_busy']} cores busy"
                            if "cpu_seconds" in r else f"{r['updates']} updates"])
            continue
        if name in ("dispatch", "e2e"):
            for r in res["runs"]:
                size = f"{r['residents']} residents" + (f", {r['concurrency']} at once" if "concurrency" in r
                                                        else ", all at once")
                note = f"{r['updates']} updates; median / p99 ms " + ("of handling an update" if name == "dispatch"
                                                                    else "from the update to the expected answer")
                if "answered" in r:
                    note += f" (to the resident's reply: {_ms(r['answered'])})"
                if "ratio_to_bare" in r:
                    note += f"; {r['ratio_to_bare']:.3f} × bare echo throughput"
                if "cpu_ms_per_update" in r:
                    note += f"; {r['cpu_ms_per_update']:g} ms of CPU an update"
                if "sessions_per_update" in r:
                    note += (f"; per update {r['sessions_per_update']:g} sessions, {r['statements_per_update']:g} "
                             f"statements, {r['commits_per_update']:g} commits, {r['rollbacks_per_update']:g} "
                             "rollbacks")
                if "alone" in r:
                    note += f"; one resident alone {_ms(r['alone'])} ms"
                    if "alone_answered" in r:
                        note += f" (to the reply: {_ms(r['alone_answered'])})"
                if "operator_topic" in r:
                    note += (f"; a new appeal's operator topic, card and photo posted {_ms(r['operator_topic'])} ms "
                             "after its update")
                if "bot_rss_mb" in r:
                    note += f"; bot RSS {r['bot_rss_mb']} MB"
                out.append([name, r["database"], size, f"{r['updates_per_s']:g} updates/s, {_ms(r)}", note])
                for j, jr in r["journeys"].items():
                    out.append([f"  {j}", r["database"], "", f"{_ms(jr)}", f"{jr['updates']} updates"])
            if "bare" in res:
                b = res["bare"]
                out.append(["  bare aiogram echo", "—", f"{b['updates']} updates",
                            f"{b['updates_per_s']:g} updates/s, {_ms(b)}",
                            f"one handler: message.answer(text); {b.get('cpu_ms_per_update')} ms of CPU an update"])
            if not res.get("voting_included"):
                out.append(["  voting", "", "", "not measured", "bot/flows/budget*.py does not exist yet"])
        elif name == "tally":
            for r in res["runs"]:
                out.append([name, r["database"], f"{r['votes']:,} votes, {r['projects']:,} projects",
                            f"{r['tally_seconds']:g} s", f"bulk insert {r['insert_seconds']:g} s (not timed part)"])
        elif name == "broadcast":
            for r in res["runs"]:
                if "achieved_per_second" in r:
                    result = (f"{r['achieved_per_second']:g} messages/s ({r['share_of_limit']:.0%} of the "
                              f"{r['configured_per_second']:g}/s limit)")
                    note = (f"sent {r.get('sent')}, duplicates {r.get('duplicates')}, missing {r.get('missing')}, "
                            f"429 answers {r.get('http_429')}, expand {r.get('expand_seconds')} s; sandbox over HTTP")
                else:  # another shape: show what it returned
                    result, note = "see JSON", ", ".join(f"{k}={v}" for k, v in r.items())[:160]
                out.append([name, str(r.get("database", "")), f"{r.get('recipients', '?'):,} recipients", result,
                            note])
        elif name == "startup":
            for r in res["runs"]:
                out.append([name, r["database"], f"{r['residents']:,} residents",
                            f"ready in {r['ready_s']:g} s, RSS {r['rss_mb']:g} MB",
                            f"imports {r['import_s']:g} s (aiogram alone {r['aiogram_import_s']:g} s), build_app "
                            f"{r['build_app_s']:g} s, first answer {r['first_update_ms']:g} ms"])
    return out


def table(results: dict[str, Any]) -> str:
    head = ["benchmark", "database", "size", "result", "notes"]
    body = rows(results)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in body]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("--quick", action="store_true", help="small sizes: a run of a minute or two")
    ap.add_argument("--only", default=",".join(ALL), help=f"comma-separated, of {', '.join(ALL)}")
    ap.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL database to use (it is CLEARED)")
    ap.add_argument("--no-pg", action="store_true", help="SQLite only")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/10", help="replicas: the Redis to use")
    ap.add_argument("--replica-residents", type=int, default=30, help="replicas: residents at once")
    ap.add_argument("--json", type=Path, default=Path(__file__).resolve().parent / "results.json")
    for key, value in FULL.items():
        ap.add_argument("--" + key.replace("_", "-"), type=int, default=None,
                        help=f"default {value:,} ({QUICK[key]:,} with --quick)")
    args = ap.parse_args(argv)
    for key in FULL:
        if getattr(args, key) is None:
            setattr(args, key, (QUICK if args.quick else FULL)[key])
    chosen = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(chosen) - set(ALL) - set(EXTRA)
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    info = machine(None if args.no_pg else args.pg_url)
    pg = None if args.no_pg or info["postgresql"] is None else args.pg_url
    if not args.no_pg and pg is None:
        print(f"PostgreSQL at {args.pg_url} is not reachable: SQLite only", file=sys.stderr)
    results: dict[str, Any] = {}
    for name in chosen:
        print(f"running {name} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            results[name] = asyncio.run(RUNNERS[name](args, pg))
        except Exception:  # noqa: BLE001 - one failed benchmark must not hide the others' numbers
            results[name] = {"error": traceback.format_exc()}
            print(results[name]["error"], file=sys.stderr)
        results[name]["wall_s"] = round(time.perf_counter() - started, 1)
    sizes = {k: getattr(args, k) for k in FULL}
    doc = {"machine": info, "quick": args.quick, "sizes": sizes, "results": results,
           "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"Machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['ram_gib']} GiB RAM; Python {info['python']}, "
          f"SQLite {info['sqlite']}, PostgreSQL {info['postgresql'] or '—'}\n")
    print(table(results))
    print(f"\nJSON: {args.json}")
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
