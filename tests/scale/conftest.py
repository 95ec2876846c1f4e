"""Several processes over one PostgreSQL database and one Redis: run when QATYSU_TEST_DATABASE_URL is a PostgreSQL
URL and Redis answers at QATYSU_TEST_REDIS_URL (default redis://127.0.0.1:6379/11), as in CI's second pass."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("QATYSU_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


def _redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _why_not() -> str | None:
    if not (PG_URL and PG_URL.startswith("postgresql")):
        return "several processes need PostgreSQL: set QATYSU_TEST_DATABASE_URL to a postgresql+asyncpg:// URL"
    if not _redis_answers(REDIS_URL):
        return f"several processes need Redis: nothing answers PING at {REDIS_URL} (QATYSU_TEST_REDIS_URL)"
    return None


WHY_NOT = _why_not()
needs_pg_and_redis = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")


class Processes:
    """`qatysu` subprocesses with their logs; stopped (and, if need be, killed) at the end of the test."""

    def __init__(self, tmp: Path) -> None:
        self.tmp, self.procs, self.logs = tmp, [], []

    async def start(self, env: dict[str, str], *args: str) -> tuple[asyncio.subprocess.Process, Path]:
        log = self.tmp / f"proc-{len(self.procs)}.log"
        full = {**os.environ, "PYTHONPATH": str(ROOT), "QATYSU_CONFIG": "", **env}
        with log.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", *args, cwd=str(self.tmp),
                                                        env=full, stdout=out, stderr=out)
        self.procs.append(proc)
        self.logs.append(log)
        return proc, log

    async def stop_all(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[Processes]:
    p = Processes(tmp_path)
    try:
        yield p
    finally:
        await p.stop_all()


async def wait_for(condition: Callable[[], Awaitable[bool] | bool], seconds: float, what: str) -> float:
    """Poll until ``condition`` holds; returns how long it took (printed by tests, never asserted on)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while True:
        got = condition()
        if not isinstance(got, bool):
            got = await got
        if got:
            return loop.time() - start
        if loop.time() - start > seconds:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.05)
