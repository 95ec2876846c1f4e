"""(a) Updates through the real dispatcher built by bot/app.py, with an in-memory Telegram (bench.session), beside
a bare aiogram Dispatcher with one echo handler measured in the same run.

    python -m bench.dispatch [--residents 200] [--concurrency 20] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message, Update

from bench import journeys as J
from bench.common import SAMPLE, FreshDatabase, bench_settings, latency, plain
from bench.counts import DbCounts
from bench.session import LeanSession
from bot.app import App, build_app
from bot.channels.telegram.costs import settle

PYTHON_GC = gc.get_threshold()  # Python's own thresholds, before settle() raises them for the bot


async def arrive() -> None:
    """An update arrives as an event of its own (a webhook request, an update of a polling batch, each in its own
    task): it is handled on a later turn of the event loop, after what is ready before it. Its latency counts
    from before that wait."""
    await asyncio.sleep(0)


class DirectDriver:
    """Feeds updates to ``app.dp`` and times each ``feed_update``."""

    def __init__(self, app: App, session: LeanSession, latencies: dict[str, list[float]],
                 ids: itertools.count, answers: list[float] | None = None) -> None:
        self.app, self.session, self.latencies = app, session, latencies
        self.answers = answers if answers is not None else []  # from the update to the resident's first reply
        self.journey = "?"
        self._ids = self._msg_ids = ids

    def buttons(self, p: J.Person) -> list[J.Button]:
        return [b for m in reversed(self.session.recent(p.user_id)) for b in m.buttons()]

    def _user(self, p: J.Person) -> dict[str, Any]:
        return {"id": p.user_id, "is_bot": False, "first_name": p.first_name, "language_code": p.lang}

    def _message(self, p: J.Person, **content: Any) -> dict[str, Any]:
        return {"message": {"message_id": next(self._msg_ids), "date": int(time.time()),
                            "chat": {"id": p.user_id, "type": "private", "first_name": p.first_name},
                            "from": self._user(p), **content}}

    async def _feed(self, p: J.Person, update: dict[str, Any], expect: str) -> None:
        before = {m.message_id: m.text for m in self.session.recent(p.user_id)}
        upd = Update.model_validate({"update_id": next(self._ids), **update}, context={"bot": self.app.bot})
        self.session.replied.pop(p.user_id, None)
        started = time.perf_counter()
        await arrive()
        await self.app.dp.feed_update(self.app.bot, upd)
        self.latencies.setdefault(self.journey, []).append(time.perf_counter() - started)
        self.answers.append(self.session.replied.pop(p.user_id, time.perf_counter()) - started)
        p.updates += 1
        changed = [m for m in self.session.recent(p.user_id) if before.get(m.message_id) != m.text]
        if not any(J.answered(expect, plain(m.text), m.buttons()) for m in changed):
            raise AssertionError(f"{self.journey}: expected {expect!r} for user {p.user_id}, got "
                                 f"{[m.text[:80] for m in changed]}")

    async def command(self, p: J.Person, text: str, expect: str) -> None:
        ent = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        await self._feed(p, self._message(p, text=text, entities=ent), expect)

    async def text(self, p: J.Person, text: str, expect: str) -> None:
        await self._feed(p, self._message(p, text=text), expect)

    async def contact(self, p: J.Person, expect: str) -> None:
        c = {"phone_number": p.phone, "first_name": p.first_name, "user_id": p.user_id}
        await self._feed(p, self._message(p, contact=c), expect)

    async def photo(self, p: J.Person, expect: str) -> None:
        ph = [{"file_id": f"ph-{p.user_id}", "file_unique_id": f"u{p.user_id}", "width": 90, "height": 90}]
        await self._feed(p, self._message(p, photo=ph), expect)

    async def press(self, p: J.Person, data: str, expect: str) -> None:
        on = next((m for m in reversed(self.session.recent(p.user_id))
                   if any(b.get("callback_data") == data for b in m.buttons())), None)
        if on is None:
            raise AssertionError(f"{self.journey}: no button {data!r} for user {p.user_id}")
        cb = {"id": str(next(self._ids)), "from": self._user(p), "chat_instance": "ci", "data": data,
              "message": {"message_id": on.message_id, "date": int(time.time()),
                          "chat": {"id": p.user_id, "type": "private"}, "text": on.text}}
        await self._feed(p, {"callback_query": cb}, expect)


async def run_journeys(driver_for, people: list[J.Person], concurrency: int, include_voting: bool,
                       settled: Callable[[], Awaitable[None]] | None = None) -> float:
    """Every person runs every journey; ``concurrency`` people at once. Returns the wall time, until ``settled``
    (what the updates caused for others has run) when given."""
    gate = asyncio.Semaphore(concurrency)

    async def one(p: J.Person) -> None:
        async with gate:
            d = driver_for(p)
            for name, journey in J.journeys(include_voting):
                d.journey = name
                await journey(d, p)

    started = time.perf_counter()
    await asyncio.gather(*(one(p) for p in people))
    if settled is not None:
        await settled()
    return time.perf_counter() - started


class EffectLag:
    """How long after its update an effect has run (bot/effects.py): for a new appeal, until its operator topic,
    card and photo are posted."""

    def __init__(self, app: App, prefix: str = "appeal_created") -> None:
        self.queued: dict[tuple[str, int], float] = {}
        self.lags: list[float] = []
        after = app.effects.after

        def stamped(effects: Any) -> None:
            effects = list(effects)
            self.queued.update((e, time.perf_counter()) for e in effects)
            after(effects)

        async def ran(name: str, ref: int) -> None:  # registered after the desk: runs once it is done
            if (at := self.queued.pop((name, ref), None)) is not None:
                self.lags.append(time.perf_counter() - at)

        app.effects.after = stamped  # type: ignore[method-assign]
        app.effects.register(prefix, ran)


def summarize(latencies: dict[str, list[float]], updates: int, seconds: float) -> dict[str, Any]:
    every = [x for v in latencies.values() for x in v]
    return {"updates": updates, "seconds": round(seconds, 2), "updates_per_s": round(updates / seconds, 1),
            **latency(every), "journeys": {k: {"updates": len(v), **latency(v)} for k, v in latencies.items()}}


async def measure_app(url: str, residents: int, concurrency: int, include_voting: bool) -> dict[str, Any]:
    session = LeanSession()
    app = await build_app(bench_settings(url), session=session)
    try:
        await app.services.territories.import_csv(SAMPLE)
        if include_voting:
            from bench.voting import prepare_database

            await prepare_database(url)
        settle()  # as `qatysu run` does once it has started (bot/runner.py)
        latencies: dict[str, list[float]] = {}
        answers: list[float] = []
        ids = itertools.count(1)
        people = [J.person(app.i18n, 10_000_000 + i) for i in range(residents)]
        # one driver per person: it knows which journey the person is on
        lag = EffectLag(app)
        cpu = time.process_time()
        with DbCounts(app.engine, getattr(app.sessions, "unit_engine", app.engine)) as counts:
            seconds = await run_journeys(lambda p: DirectDriver(app, session, latencies, ids, answers), people,
                                         concurrency, include_voting, app.effects.settled)
        cpu = time.process_time() - cpu  # this process's CPU (the bot and the driver; not PostgreSQL's server)
        updates = sum(p.updates for p in people)
        out = {"database": app.engine.dialect.name, "residents": residents, "concurrency": concurrency,
               **summarize(latencies, updates, seconds), "answered": latency(answers),
               "cpu_ms_per_update": round(cpu / updates * 1000, 3), **counts.per(updates),
               "operator_topic": latency(lag.lags)}
        # one resident alone: the latency without waiting behind others
        alone: dict[str, list[float]] = {}
        alone_answers: list[float] = []
        extra = [J.person(app.i18n, 11_000_000 + i) for i in range(max(3, residents // 30))]
        await run_journeys(lambda p: DirectDriver(app, session, alone, ids, alone_answers), extra, 1, include_voting)
        out["alone"] = latency([x for v in alone.values() for x in v])
        out["alone_answered"] = latency(alone_answers)
        if include_voting:
            from bench.voting import votes

            out["votes_recorded"] = await votes(url)
        return out
    finally:
        await app.close()


async def measure_bare(updates: int, concurrency: int) -> dict[str, Any]:
    """A bare aiogram Dispatcher with one echo handler, fed text messages the same way, with Python's own
    collector thresholds (a bare bot does not tune them; the bot's run before it raised them)."""
    tuned = gc.get_threshold()
    gc.set_threshold(*PYTHON_GC)
    try:
        return await _measure_bare(updates, concurrency)
    finally:
        gc.set_threshold(*tuned)


async def _measure_bare(updates: int, concurrency: int) -> dict[str, Any]:
    session = LeanSession()
    bot = Bot("123456:BENCH-TOKEN", session=session)
    dp = Dispatcher()
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    dp.include_router(router)
    ids = itertools.count(1)
    latencies: list[float] = []
    per_chat = max(1, updates // concurrency)

    async def chat(user_id: int) -> None:
        for _ in range(per_chat):
            n = next(ids)
            upd = Update.model_validate({"update_id": n, "message": {
                "message_id": n, "date": int(time.time()), "text": f"сәлем {n}",
                "chat": {"id": user_id, "type": "private", "first_name": "Echo"},
                "from": {"id": user_id, "is_bot": False, "first_name": "Echo", "language_code": "kk"}}},
                context={"bot": bot})
            started = time.perf_counter()
            await arrive()
            await dp.feed_update(bot, upd)
            latencies.append(time.perf_counter() - started)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(chat(20_000_000 + i) for i in range(concurrency)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    await bot.session.close()
    return {"updates": len(latencies), "seconds": round(seconds, 2),
            "updates_per_s": round(len(latencies) / seconds, 1), **latency(latencies),
            "cpu_ms_per_update": round(cpu / len(latencies) * 1000, 3)}


async def measure(residents: int = 200, concurrency: int = 20, pg_url: str | None = None,
                  include_voting: bool | None = None) -> dict[str, Any]:
    """SQLite (and PostgreSQL when ``pg_url``), then the bare dispatcher with as many updates as the SQLite run."""
    if include_voting is None:
        include_voting = J.voting_available()
    out: dict[str, Any] = {"voting_included": include_voting, "runs": []}
    for url in ([None, pg_url] if pg_url else [None]):
        async with FreshDatabase(url) as db:
            out["runs"].append(await measure_app(db, residents, concurrency, include_voting))
    bare = await measure_bare(out["runs"][0]["updates"], concurrency)
    out["bare"] = bare
    for run in out["runs"]:
        run["ratio_to_bare"] = round(run["updates_per_s"] / bare["updates_per_s"], 4)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.dispatch", description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--pg-url", help="also run on this PostgreSQL database (it is CLEARED)")
    args = ap.parse_args(argv)
    print(json.dumps(asyncio.run(measure(args.residents, args.concurrency, args.pg_url)), indent=1))


if __name__ == "__main__":
    main()
