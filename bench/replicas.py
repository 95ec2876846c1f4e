"""Resident journeys through 1, 2 and 3 ``qatysu web`` replicas (separate processes) behind a small round-robin
forwarder, fed by the sandbox's webhook delivery, on PostgreSQL with Redis. tests/e2e/test_replicas.py uses the
same pieces.

    python -m bench.replicas [--residents 150] [--pg-url URL] [--redis-url redis://127.0.0.1:6379/10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench import journeys as J
from bench.common import FreshDatabase
from bench.dispatch import summarize
from bench.e2e import ROOT, SandboxDriver, _prepare_database
from bot.i18n import I18n
from sandbox import Sandbox

SECRET = "replicas-secret_1"
DEFAULT_REDIS = "redis://127.0.0.1:6379/10"
RUN_REPLICA = ("import logging, sys; logging.getLogger('qatysu.updates').setLevel(logging.DEBUG); "
               "from bot.cli import main; sys.exit(main(['web']))")
HANDLED = re.compile(r"handled update=(\d+) chat=(-?\d+|None) start=([\d.]+) end=([\d.]+)")
ALREADY = re.compile(r"update (\d+) was handled already")  # its done mark seen: handled by some replica


class Forwarder:
    """A load balancer in miniature: each request to the next live replica; a replica that refuses connections is
    left out from then on. A failed request is answered 502 (Telegram delivers it again)."""

    def __init__(self) -> None:
        self.backends: list[str] = []
        self.down: set[str] = set()
        self.in_flight: dict[str, set[int]] = {}
        self._next = 0
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/telegram/webhook"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
        if self._session:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        live = [b for b in self.backends if b not in self.down]
        if not live:
            return web.Response(status=502)
        backend = live[self._next % len(live)]
        self._next += 1
        body = await request.read()
        uid = json.loads(body)["update_id"]
        self.in_flight.setdefault(backend, set()).add(uid)
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type",
                                                                           "x-telegram-bot-api-secret-token")}
        try:
            async with self._session.post(backend + request.path, data=body, headers=headers) as resp:
                return web.Response(status=resp.status, body=await resp.read(), content_type="application/json")
        except aiohttp.ClientConnectorError:  # nobody listens: the replica is gone
            self.down.add(backend)
            return web.Response(status=502)
        except (aiohttp.ClientError, TimeoutError):  # cut off or slow: 502, the replica stays in the rotation
            return web.Response(status=502)
        finally:
            self.in_flight[backend].discard(uid)


@dataclass
class Replica:
    proc: asyncio.subprocess.Process
    log: Path
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handled(self) -> list[tuple[int, int | None, float, float]]:
        return [(int(u), None if c == "None" else int(c), float(s), float(e))
                for u, c, s, e in HANDLED.findall(self.log.read_text())]

    def found_done(self) -> set[int]:
        """Updates delivered to this replica again that it found marked done (by whichever replica handled them)."""
        return {int(u) for u in ALREADY.findall(self.log.read_text())}


@dataclass
class Cluster:
    sb: Sandbox
    forwarder: Forwarder
    replicas: list[Replica] = field(default_factory=list)

    def handled(self) -> list[tuple[int, int | None, float, float]]:
        return [h for r in self.replicas for h in r.handled()]


def replica_env(sb: Sandbox, token: str, db_url: str, redis_url: str, hook_url: str, config: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QATYSU_CONFIG=str(config), QATYSU_TELEGRAM__TOKEN=token, QATYSU_TELEGRAM__API_BASE=sb.api_base,
               QATYSU_TELEGRAM__OPERATOR_CHAT_ID=str(sb.operator_chat_id), QATYSU_DATABASE__URL=db_url,
               QATYSU_PRIVACY__PHONE_HASH_KEY="bench-key", QATYSU_LIMITS__FLOOD_MESSAGES="1000000",
               QATYSU_TELEGRAM__MODE="webhook", QATYSU_TELEGRAM__WEBHOOK_URL=hook_url,
               QATYSU_TELEGRAM__WEBHOOK_SECRET=SECRET, QATYSU_TELEGRAM__WEBHOOK_PORT="0",
               QATYSU_REDIS__URL=redis_url)
    return env


async def start_replica(env: dict[str, str], log: Path) -> Replica:
    with log.open("w") as out:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", RUN_REPLICA, env=env, stdout=out,
                                                    stderr=out, cwd=ROOT)
    replica = Replica(proc, log)

    def text() -> str:
        return log.read_text()

    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError("a replica stopped: " + text()[-2000:])
            if not replica.port and (m := re.search(r"listening on [\d.]+:(\d+)", text())):
                replica.port = int(m.group(1))
            if replica.port and "webhook set" in text():
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(replica.url + "/readyz") as resp:
                        if resp.status == 200:
                            return replica
            await asyncio.sleep(0.1)
    raise RuntimeError("a replica did not start: " + text()[-2000:])


async def stop_replica(r: Replica) -> None:
    if r.proc.returncode is None:
        r.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(r.proc.wait(), 30)
        except TimeoutError:
            r.proc.kill()
            await r.proc.wait()


async def forget_keys(redis_url: str, token: str) -> None:
    from bot.redis_locks import connect, prefix_for

    r = connect(redis_url)
    try:
        keys = [k async for k in r.scan_iter(prefix_for(token) + "*", count=1000)]
        if keys:
            await r.delete(*keys)
    finally:
        await r.aclose()


@contextlib.asynccontextmanager
async def cluster(n: int, db_url: str, redis_url: str, tmp: Path, token: str | None = None):
    """The sandbox, the forwarder and ``n`` replicas on a migrated database with the sample territories."""
    token = token or f"{random.randint(10**9, 2 * 10**9)}:qatysu-replicas"
    await _prepare_database(db_url, False)
    sb = Sandbox(token, rate_limits=False)
    await sb.start()
    fw = Forwarder()
    c = Cluster(sb, fw)
    try:
        hook = await fw.start()
        config = tmp / "config.toml"
        config.write_text("")
        env = replica_env(sb, token, db_url, redis_url, hook, config)
        c.replicas = list(await asyncio.gather(*(start_replica(env, tmp / f"replica-{i}.log") for i in range(n))))
        fw.backends = [r.url for r in c.replicas]
        yield c
    finally:
        await asyncio.gather(*(stop_replica(r) for r in c.replicas))
        await fw.stop()
        with contextlib.suppress(Exception):
            await sb.stop()
        await forget_keys(redis_url, token)


async def residents(sb: Sandbox, count: int) -> list[J.Person]:
    i18n = I18n("kk", "Asia/Almaty")
    people = []
    for i in range(count):
        lang = "kk" if i % 3 else "ru"
        u = await sb.create_user(f"Тұрғын {i}", language_code=lang)
        p = J.Person(u["id"], lang, i18n(lang), first_name=u["first_name"])
        sb.world.users[u["id"]].phone = p.phone.lstrip("+")
        people.append(p)
    return people


async def journeys(c: Cluster, people: list[J.Person], steps=(("registration", J.registration),),
                   latencies: dict[str, list[float]] | None = None) -> float:
    latencies = {} if latencies is None else latencies

    async def one(p: J.Person) -> None:
        d = SandboxDriver(c.sb, latencies)
        for name, journey in steps:
            d.journey = name
            await journey(d, p)

    started = time.perf_counter()
    await asyncio.gather(*(one(p) for p in people))
    return time.perf_counter() - started


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (``/proc/<pid>/stat``), 0 when it is gone or unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


async def database_backends(db_url: str) -> list[int]:
    """The PostgreSQL server processes serving this database (the replicas' pools)."""
    import asyncpg

    dsn = db_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                "AND pid <> pg_backend_pid()")
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


async def redis_cpu(redis_url: str) -> float:
    from bot.redis_locks import connect

    r = connect(redis_url)
    try:
        info = await r.info("cpu")
    finally:
        await r.aclose()
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


async def one_run(n: int, residents_n: int, db: str, redis_url: str, tmp: Path) -> dict[str, Any]:
    steps = (("registration", J.registration),)  # the appeal journey (and browsing, which needs one) is stale
    async with cluster(n, db, redis_url, tmp) as c:
        people = await residents(c.sb, residents_n)
        latencies: dict[str, list[float]] = {}
        replicas0 = [cpu_seconds(r.proc.pid) for r in c.replicas]
        own0, redis0 = own_cpu(), await redis_cpu(redis_url)
        backends0 = {pid: cpu_seconds(pid) for pid in await database_backends(db)}
        seconds = await journeys(c, people, steps, latencies)
        replicas1 = [cpu_seconds(r.proc.pid) for r in c.replicas]
        own1, redis1 = own_cpu(), await redis_cpu(redis_url)
        backends1 = {pid: cpu_seconds(pid) for pid in await database_backends(db)}
        result = summarize(latencies, sum(p.updates for p in people), seconds)
        handled = c.handled()
        result["per_replica"] = [len(r.handled()) for r in c.replicas]
        result["handled_twice"] = len(handled) - len({h[0] for h in handled})
        result["missing"] = len({u["update_id"] for u in c.sb.webhook.delivered} - {h[0] for h in handled})
        # CPU seconds spent during the journeys, by process: how much of the 2 cores each part took
        cpu = {"replicas": [round(b - a, 1) for a, b in zip(replicas0, replicas1, strict=True)],
               "sandbox_forwarder_and_drivers": round(own1 - own0, 1),
               "postgresql_backends": round(sum(v - backends0.get(pid, 0.0) for pid, v in backends1.items()), 1),
               "redis_server": round(redis1 - redis0, 1)}
        cpu["total"] = round(sum(cpu["replicas"]) + sum(v for k, v in cpu.items() if k != "replicas"), 1)
        cpu["cores_busy"] = round(cpu["total"] / seconds, 2)
        result["cpu_seconds"] = cpu
        result["replica_ms_per_update"] = round(1000 * sum(cpu["replicas"]) / max(1, result["updates"]), 2)
    return {"database": "postgresql", "replicas": n, "residents": residents_n, **result}


async def measure(residents_n: int = 150, pg_url: str | None = None, redis_url: str = DEFAULT_REDIS,
                  sizes: tuple[int, ...] = (1, 2, 3)) -> dict[str, Any]:
    if not pg_url:
        return {"missing": "needs PostgreSQL (--pg-url)"}
    runs = []
    for n in sizes:
        async with FreshDatabase(pg_url) as db:
            with tempfile.TemporaryDirectory(prefix="qatysu-replicas-") as tmp:
                runs.append(await one_run(n, residents_n, db, redis_url, Path(tmp)))
    return {"cores": os.cpu_count(), "load_average_at_end": os.getloadavg(), "runs": runs}


def main(argv: list[str] | None = None) -> None:
    from bench.common import DEFAULT_PG

    ap = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=150)
    ap.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL database to use (it is CLEARED)")
    ap.add_argument("--redis-url", default=DEFAULT_REDIS)
    ap.add_argument("--replicas", default="1,2,3", help="the cluster sizes to run, comma-separated")
    args = ap.parse_args(argv)
    sizes = tuple(int(x) for x in args.replicas.split(","))
    print(json.dumps(asyncio.run(measure(args.residents, args.pg_url, args.redis_url, sizes)), indent=1))


if __name__ == "__main__":
    main()
