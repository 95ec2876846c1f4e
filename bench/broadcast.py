"""How close a broadcast gets to the configured sending rate, through the sandbox over HTTP.

    python -m bench.broadcast --recipients 10000 [--rate 300] [--url URL]

Starts the sandbox (a strict local Bot API with Telegram-like flood limits, raised to ``--rate`` messages a
second overall) and ``N`` sandbox users who have pressed Start; builds the app against it with
``[delivery] overall_per_second = --rate`` on a fresh database (a temporary SQLite file by default; with
``--url`` a PostgreSQL database that is CLEARED first: its ``public`` schema is dropped), registers the users
as residents of one district (half read Kazakh, half Russian), then creates, starts and expands one broadcast
to all of them and runs the real outbox sender (aiogram's HTTP client, the rate limiter, retry_after) until
every row is settled. Prints one line of JSON: the achieved rate and its share of the configured limit, the
429 answers, duplicates and losses. Not a test: numbers only. ``measure()`` is the same for a bench runner.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import clear_postgres
from bot.app import build_app
from bot.config import Settings
from bot.sandbox_mode import SAMPLE, TOKEN
from bot.services.broadcasts import Audience
from sandbox import Sandbox
from storage.models import Account, OutboxMessage, Resident, utcnow

DISTRICT = "113200000"  # Akkol district in bot/data/territories_sample.csv
VILLAGES = ("113239000", "113241100", "113241200", "113220400")  # places under it
TEXT_KK = "📢 <b>Хабарландыру</b>\n\nЕртең сағат 10:00-де әкімдікте тұрғындармен кездесу өтеді."
TEXT_RU = "📢 <b>Объявление</b>\n\nЗавтра в 10:00 в акимате пройдёт встреча с жителями."


async def crowd(sb: Sandbox, n: int, first_id: int = 710_000_001) -> list[int]:
    """``n`` sandbox users who have pressed Start, with consecutive ids."""
    ids = []
    for i in range(n):
        user = await sb.create_user(f"Тұрғын {i + 1}", language_code="kk" if i % 2 == 0 else "ru",
                                    user_id=first_id + i, started=True)
        ids.append(user["id"])
    return ids


def language_of(user_id: int, ids_start: int = 710_000_001) -> str:
    return "kk" if (user_id - ids_start) % 2 == 0 else "ru"


async def seed_residents(sessions: async_sessionmaker[AsyncSession], user_ids: Sequence[int],
                         places: Sequence[str] = VILLAGES, chunk: int = 5000) -> None:
    """Registered residents, one per sandbox user, spread over ``places``, alternately kk and ru (bulk)."""
    now = utcnow()

    def rows(ids: Iterable[int]) -> list[dict[str, Any]]:
        return [dict(language=language_of(uid),
                     territory_kato=places[k % len(places)], consent_version="bench", consent_at=now,
                     notifications=True, reachable=True, registered_at=now, created_at=now, is_demo=True)
                for k, uid in enumerate(ids)]

    for start in range(0, len(user_ids), chunk):
        async with sessions() as s, s.begin():
            some = user_ids[start:start + chunk]
            made = await s.scalars(insert(Resident).returning(Resident.id, sort_by_parameter_order=True), rows(some))
            await s.execute(insert(Account), [dict(channel="telegram", account_id=uid, chat_id=uid, resident_id=rid,
                                                   created_at=now) for uid, rid in zip(some, made, strict=True)])


def bot_messages_per_chat(sb: Sandbox, user_ids: Iterable[int]) -> Counter[int]:
    """How many messages the bot left in each of these private chats."""
    world = sb.world
    return Counter({uid: sum(1 for m in world.chats[uid].messages.values() if m.from_bot) for uid in user_ids})


class Count429:
    """Counts the sandbox's 429 answers (wraps its rate limiter's check)."""

    def __init__(self, sb: Sandbox) -> None:
        self.n = 0
        limiter = sb.limiter
        check = limiter.check

        def counted(chat_id: int, *, private: bool) -> None:
            try:
                check(chat_id, private=private)
            except Exception:
                self.n += 1
                raise

        limiter.check = counted  # type: ignore[method-assign]


async def measure(recipients: int, database_url: str | None = None, *, rate: float = 300) -> dict:
    """One broadcast to ``recipients`` sandbox users at ``rate`` messages a second; returns the numbers."""
    tmp = None
    if database_url is None:
        tmp = tempfile.TemporaryDirectory(prefix="qatysu-bench-")
        database_url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}"
    elif database_url.startswith("postgresql"):
        await clear_postgres(database_url)
    sb = Sandbox(TOKEN, rate_overall_per_s=rate)
    await sb.start()
    app = None
    try:
        secretary = (await sb.create_user("Хатшы", role="secretary", started=True))["id"]
        started = time.perf_counter()
        ids = await crowd(sb, recipients)
        settings = Settings(telegram={"token": TOKEN, "api_base": sb.api_base, "operator_chat_id": sb.operator_chat_id},
                            database={"url": database_url}, roles={"secretaries": [secretary]},
                            privacy={"phone_hash_key": "bench"}, delivery={"overall_per_second": rate})
        app = await build_app(settings)
        await app.services.territories.import_csv(SAMPLE, demo=True)
        await seed_residents(app.sessions, ids)
        seeded = time.perf_counter() - started
        svc = app.services.broadcasts
        b = await svc.create(secretary, Audience(DISTRICT), text_kk=TEXT_KK, text_ru=TEXT_RU)
        await svc.start(b.id, secretary)
        started = time.perf_counter()
        await svc.expand(b.id)
        expanded = time.perf_counter() - started
        rejected = Count429(sb)
        stop = asyncio.Event()
        wall0 = utcnow()
        started = time.perf_counter()
        sender = asyncio.create_task(app.sender.run_forever(stop))
        unsettled = select(func.count(OutboxMessage.id)).where(
            OutboxMessage.broadcast_id == b.id, OutboxMessage.state.in_(("pending", "claimed", "sending")))
        while True:
            await asyncio.sleep(0.5)
            async with app.sessions() as s:
                if not await s.scalar(unsettled):
                    break
            if sender.done():
                sender.result()  # raises what stopped it
        wall = time.perf_counter() - started
        stop.set()
        await sender
        async with app.sessions() as s:
            last = await s.scalar(select(func.max(OutboxMessage.sent_at)).where(OutboxMessage.broadcast_id == b.id))
        seconds = (last - wall0).total_seconds() if last else wall
        per_chat = bot_messages_per_chat(sb, ids)
        p = await svc.finish_if_done(b.id)
        achieved = p.sent / seconds if seconds > 0 else 0.0
        return {"recipients": recipients, "database": app.engine.dialect.name, "configured_per_second": rate,
                "achieved_per_second": round(achieved, 1), "share_of_limit": round(achieved / rate, 3),
                "send_seconds": round(seconds, 2), "expand_seconds": round(expanded, 2),
                "seed_seconds": round(seeded, 2), "sent": p.sent, "failed": p.failed, "blocked": p.blocked,
                "unknown": p.unknown, "status": p.status, "http_429": rejected.n,
                "duplicates": sum(1 for n in per_chat.values() if n > 1),
                "missing": sum(1 for n in per_chat.values() if n == 0)}
    finally:
        if app is not None:
            await app.close()
        await sb.stop()
        if tmp is not None:
            tmp.cleanup()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__.splitlines()[0])
    ap.add_argument("--recipients", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=300, help="the sandbox's and the sender's overall limit, per second")
    ap.add_argument("--url", help="a PostgreSQL URL (the database is cleared!); default: a temporary SQLite file")
    args = ap.parse_args(argv)
    if args.recipients < 1 or args.rate <= 0:
        ap.error("--recipients must be ≥ 1 and --rate > 0")
    print(json.dumps(asyncio.run(measure(args.recipients, args.url, rate=args.rate))))


if __name__ == "__main__":
    main()
