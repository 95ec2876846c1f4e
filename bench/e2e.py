"""(b) The journeys end to end: the bot as its own process (``qatysu run``) talking HTTP to the sandbox, with many
residents at once. The sandbox and the residents live in this process; the bot in another, as in production.

    python -m bench.e2e [--residents 100] [--pg-url URL] [--rate-limits]

A step's latency is from the resident's update entering the sandbox to the bot's answer that contains what
the journey expects (the bot first has to fetch the update with getUpdates). The sandbox's rate limits are off
unless --rate-limits: they would measure Telegram's 30 messages a second, not the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench import journeys as J
from bench.common import SAMPLE, FreshDatabase, latency
from bench.dispatch import run_journeys, summarize
from bot.i18n import I18n
from bot.services.territories import TerritoryService
from sandbox import Sandbox
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade

TOKEN = "1000000001:qatysu-bench"
ROOT = str(Path(__file__).resolve().parent.parent)
STEP_TIMEOUT = 60.0


class SandboxDriver:
    def __init__(self, sb: Sandbox, latencies: dict[str, list[float]]) -> None:
        self.sb, self.latencies = sb, latencies
        self.journey = "?"

    def _bot_messages(self, p: J.Person) -> list[Any]:
        chat = self.sb.world.chats.get(p.user_id)
        return [] if chat is None else [m for m in chat.messages.values() if m.from_bot and not m.service]

    def buttons(self, p: J.Person) -> list[J.Button]:
        return [b for m in reversed(self._bot_messages(p))
                for b in (b for row in (m.reply_markup or {}).get("inline_keyboard", []) for b in row)]

    async def _step(self, p: J.Person, act, expect: str) -> None:
        before = {m.message_id: m.content for m in self._bot_messages(p)}

        def answered() -> bool:
            return any(before.get(m.message_id) is not m.content
                       and J.answered(expect, m.content.get("text") or m.content.get("caption") or "",
                                      [b for row in (m.reply_markup or {}).get("inline_keyboard", []) for b in row])
                       for m in self._bot_messages(p))

        started = time.perf_counter()
        await act()
        try:
            await self.sb.wait_until(answered, STEP_TIMEOUT, f"{expect!r} for {p.user_id}")
        except TimeoutError:
            got = [(m.content.get("text") or "")[:60] for m in self._bot_messages(p)[-3:]]
            raise AssertionError(f"{self.journey}: no {expect!r} for {p.user_id}; last: {got}") from None
        self.latencies.setdefault(self.journey, []).append(time.perf_counter() - started)
        p.updates += 1

    async def command(self, p: J.Person, text: str, expect: str) -> None:
        await self._step(p, lambda: self.sb.send_text(p.user_id, text), expect)

    text = command

    async def contact(self, p: J.Person, expect: str) -> None:
        await self._step(p, lambda: self.sb.send_contact(p.user_id), expect)

    async def photo(self, p: J.Person, expect: str) -> None:
        await self._step(p, lambda: self.sb.send_photo(p.user_id), expect)

    async def press(self, p: J.Person, data: str, expect: str) -> None:
        on = next((m for m in reversed(self._bot_messages(p))
                   if any(b.get("callback_data") == data
                          for row in (m.reply_markup or {}).get("inline_keyboard", []) for b in row)), None)
        if on is None:
            raise AssertionError(f"{self.journey}: no button {data!r} for {p.user_id}")
        await self._step(p, lambda: self.sb.press_button(p.user_id, on.message_id, data=data), expect)


async def _prepare_database(url: str, include_voting: bool) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
        await TerritoryService(make_session_factory(engine)).import_csv(SAMPLE)
        if include_voting:
            from bench.voting import prepare_database

            await prepare_database(url)
    finally:
        await engine.dispose()


def _bot_env(sb: Sandbox, url: str, config: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QATYSU_CONFIG=str(config), QATYSU_TELEGRAM__TOKEN=TOKEN, QATYSU_TELEGRAM__API_BASE=sb.api_base,
               QATYSU_TELEGRAM__OPERATOR_CHAT_ID=str(sb.operator_chat_id), QATYSU_DATABASE__URL=url,
               QATYSU_PRIVACY__PHONE_HASH_KEY="bench-key", QATYSU_LIMITS__FLOOD_MESSAGES="1000000")
    return env


async def measure_one(url: str, residents: int, rate_limits: bool, include_voting: bool) -> dict[str, Any]:
    await _prepare_database(url, include_voting)
    sb = Sandbox(TOKEN, rate_limits=rate_limits)
    await sb.start()
    with tempfile.TemporaryDirectory(prefix="qatysu-e2e-") as tmp:
        config, log_path = Path(tmp) / "config.toml", Path(tmp) / "bot.log"
        config.write_text("")
        with log_path.open("w") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", env=_bot_env(sb, url, config), stdout=log, stderr=log,
                cwd=ROOT)
        try:
            try:
                await sb.wait_until(lambda: sb.commands(language_code="kk") or proc.returncode is not None, 60,
                                    "the bot to start")
            except TimeoutError:
                raise RuntimeError("the bot did not start: " + log_path.read_text()[-2000:]) from None
            if proc.returncode is not None:
                raise RuntimeError("the bot stopped: " + log_path.read_text()[-2000:])
            i18n = I18n("kk", "Asia/Almaty")
            people = []
            for i in range(residents):
                lang = "kk" if i % 3 else "ru"
                u = await sb.create_user(f"Тұрғын {i}", language_code=lang)
                p = J.Person(u["id"], lang, i18n(lang), first_name=u["first_name"])
                sb.world.users[u["id"]].phone = p.phone.lstrip("+")
                people.append(p)
            latencies: dict[str, list[float]] = {}
            try:
                seconds = await run_journeys(lambda p: SandboxDriver(sb, latencies), people, residents,
                                             include_voting)
            except AssertionError as exc:
                errors = [line for line in log_path.read_text().splitlines() if "ERROR" in line or "Error" in line]
                raise AssertionError(f"{exc}\nthe bot's log: {errors[-20:]}") from None
            rss = psutil.Process(proc.pid).memory_info().rss
            result = summarize(latencies, sum(p.updates for p in people), seconds)
            result["bot_rss_mb"] = round(rss / 2**20, 1)
            if include_voting:
                from bench.voting import votes

                result["votes_recorded"] = await votes(url)
            return {"database": "postgresql" if url.startswith("postgresql") else "sqlite", "residents": residents,
                    "rate_limits": rate_limits, **result}
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(proc.wait(), 20)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
            with contextlib.suppress(Exception):
                await sb.stop()


async def measure(residents: int = 100, pg_url: str | None = None, rate_limits: bool = False,
                  include_voting: bool | None = None) -> dict[str, Any]:
    if include_voting is None:
        include_voting = J.voting_available()
    runs = []
    for url in ([None, pg_url] if pg_url else [None]):
        async with FreshDatabase(url) as db:
            runs.append(await measure_one(db, residents, rate_limits, include_voting))
    return {"voting_included": include_voting, "runs": runs}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=100)
    ap.add_argument("--pg-url", help="also run on this PostgreSQL database (it is CLEARED)")
    ap.add_argument("--rate-limits", action="store_true", help="keep the sandbox's Telegram rate limits on")
    args = ap.parse_args(argv)
    print(json.dumps(asyncio.run(measure(args.residents, args.pg_url, args.rate_limits)), indent=1))


__all__ = ["measure", "latency"]

if __name__ == "__main__":
    main()
