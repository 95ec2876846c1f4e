"""Broadcasts to thousands through the sandbox over HTTP, with its flood limits on (raised to RATE a second, and
the bot's [delivery] overall_per_second with them, so a test takes seconds): everyone gets exactly one message,
nothing is refused for good; and a bot killed with SIGKILL in the middle of a broadcast and started again sends
nobody a second copy and loses nobody but the rows that were in flight, which the report calls unknown."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.broadcast import DISTRICT, Count429, bot_messages_per_chat, crowd, language_of, seed_residents
from bot.app import build_app
from bot.config import Settings
from bot.sandbox_mode import SAMPLE, TOKEN
from bot.services.broadcasts import Audience
from sandbox import Sandbox
from storage.models import Broadcast, OutboxMessage
from tests.e2e.conftest import Live, running_bot

RATE = 300  # messages a second, in the sandbox and in the bot's config
CROWD = 2000
ROOT = Path(__file__).resolve().parents[2]
TEXT_KK = "Сенбі күні сағат 10:00-де ауылды абаттандыру сенбілігі өтеді. Барлығын шақырамыз!"
TEXT_RU = "В субботу в 10:00 пройдёт субботник по благоустройству села. Приглашаем всех!"


@pytest.fixture
async def loud(settings: Settings) -> AsyncIterator[Live]:
    """The bot (serve(), as `qatysu run` does) against a sandbox whose limits are raised to RATE."""
    sb = Sandbox(TOKEN, rate_overall_per_s=RATE)
    await sb.start()
    settings.delivery.overall_per_second = RATE
    try:
        async with running_bot(settings, sb) as bot:
            yield bot
    finally:
        await sb.stop()


async def outbox_states(sessions, broadcast_id: int) -> dict[str, int]:
    async with sessions() as s:
        return dict((await s.execute(select(OutboxMessage.state, func.count(OutboxMessage.id))
                                     .where(OutboxMessage.broadcast_id == broadcast_id)
                                     .group_by(OutboxMessage.state))).all())


async def test_a_broadcast_to_thousands_keeps_the_limits_and_reaches_everyone_once(loud: Live) -> None:
    sb, app, secretary = loud.sb, loud.app, loud.people.secretary
    ids = await crowd(sb, CROWD)
    await seed_residents(app.sessions, ids)
    rejected = Count429(sb)
    # the secretary's conversation, over HTTP
    await sb.send_text(secretary, "/broadcast")
    await loud.expect(secretary, "Тұрғындарға хабарландыру")
    await loud.press(secretary, "Аумақ тұрғындарына")
    await loud.expect(secretary, "Аумақты таңдаңыз")
    await sb.send_text(secretary, "Ақкөл")
    await loud.expect(secretary, "«Ақкөл»")
    await loud.press(secretary, "облысы › Ақкөл ауданы")
    await loud.expect(secretary, "Олардың қайсысына жіберілсін")
    await loud.press(secretary, "Барлығына")
    await loud.expect(secretary, "қазақ тілінде")
    await sb.send_text(secretary, TEXT_KK)
    await loud.expect(secretary, "орыс тілінде")
    await sb.send_text(secretary, TEXT_RU)
    await loud.expect(secretary, "фото немесе құжат")
    await loud.press(secretary, "Тіркемесіз жалғастыру")
    await loud.expect(secretary, "Хабарландыру жіберілсін бе?")
    await loud.press(secretary, "Жіберу")
    await loud.expect(secretary, "жіберіле бастады")
    # the progress message turns into the delivery report when everything is settled
    report = await loud.expect(secretary, "жеткізу есебі", timeout=40)
    assert "Ботты бұғаттағандар: 0" in report["html"] and "Жеткізілді:" in report["html"]
    async with app.sessions() as s:
        [b] = list(await s.scalars(select(Broadcast)))
    assert (b.status, b.total) == ("done", CROWD)
    assert await outbox_states(app.sessions, b.id) == {"sent": CROWD}  # none refused beyond what retry_after absorbs
    per_chat = bot_messages_per_chat(sb, ids)
    assert set(per_chat.values()) == {1}  # everyone got exactly one, nobody two
    for uid in ids[:50] + ids[-50:]:
        [msg] = sb.bot_messages(uid)
        assert (TEXT_KK if language_of(uid) == "kk" else TEXT_RU) in msg["html"]
    print(f"\n{CROWD} recipients at {RATE}/s: {rejected.n} answers 429 (all retried)")


async def _bot_process(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", cwd=str(log.parent),
                                                    env=env, stdout=out, stderr=out)


async def _wait(condition, seconds: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_killed_in_the_middle_of_a_broadcast_it_sends_nothing_twice(tmp_path: Path, database_url: str) -> None:
    sb = Sandbox(TOKEN, rate_overall_per_s=RATE)
    await sb.start()
    procs: list[asyncio.subprocess.Process] = []
    try:
        secretary = (await sb.create_user("Гүлнар", role="secretary", started=True))["id"]
        ids = await crowd(sb, CROWD)
        settings = Settings(telegram={"token": TOKEN, "api_base": sb.api_base,
                                      "operator_chat_id": sb.operator_chat_id},
                            database={"url": database_url}, roles={"secretaries": [secretary]},
                            privacy={"phone_hash_key": "test-key"}, delivery={"overall_per_second": RATE})
        app = await build_app(settings)  # only to prepare the database; the bot runs in its own process
        await app.services.territories.import_csv(SAMPLE, demo=True)
        await seed_residents(app.sessions, ids)
        svc = app.services.broadcasts
        b = await svc.create(secretary, Audience(DISTRICT), text_kk=TEXT_KK, text_ru=TEXT_RU,
                             progress_chat_id=secretary)
        await svc.start(b.id, secretary)
        await svc.expand(b.id)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "QATYSU_CONFIG": "", "QATYSU_TELEGRAM__TOKEN": TOKEN,
               "QATYSU_TELEGRAM__API_BASE": sb.api_base, "QATYSU_TELEGRAM__OPERATOR_CHAT_ID": str(sb.operator_chat_id),
               "QATYSU_DATABASE__URL": database_url, "QATYSU_DELIVERY__OVERALL_PER_SECOND": str(RATE),
               "QATYSU_ROLES__SECRETARIES": f"[{secretary}]", "QATYSU_PRIVACY__PHONE_HASH_KEY": "test-key"}
        log = tmp_path / "bot.log"

        def delivered() -> int:
            return sum(bot_messages_per_chat(sb, ids).values())

        procs.append(await _bot_process(env, log))

        async def a_third_is_out() -> bool:
            if procs[0].returncode is not None:
                raise AssertionError("the bot stopped by itself:\n" + log.read_text()[-3000:])
            return delivered() >= CROWD // 3

        await _wait(a_third_is_out, 90, "a third of the broadcast to go out")
        # no goodbye: the rows the sender had started stay "sending", those only claimed stay "claimed"
        procs[0].send_signal(signal.SIGKILL)
        await procs[0].wait()
        before = await outbox_states(app.sessions, b.id)
        in_flight = before.get("sending", 0)
        assert 0 < in_flight <= 100 and before.get("sent", 0) + in_flight < CROWD

        procs.append(await _bot_process(env, log))  # started again: recover_after_crash, then the rest

        async def finished() -> bool:
            async with app.sessions() as s:
                return await s.scalar(select(Broadcast.status).where(Broadcast.id == b.id)) == "done"

        await _wait(finished, 90, "the broadcast to finish after the restart")
        states = await outbox_states(app.sessions, b.id)
        assert states == {"sent": CROWD - in_flight, "unknown": in_flight}
        per_chat = bot_messages_per_chat(sb, ids)
        assert max(per_chat.values()) == 1  # nobody got it twice
        async with app.sessions() as s:
            unknown_chats = set(await s.scalars(select(OutboxMessage.chat_id).where(
                OutboxMessage.broadcast_id == b.id, OutboxMessage.state == "unknown")))
        missed = {uid for uid, n in per_chat.items() if n == 0}
        # lost only what was in flight: started rows, of which at most the sender's concurrency (8) in hand
        assert missed <= unknown_chats and len(missed) <= 8
        report = await sb.wait_until(lambda: next((m for m in reversed(sb.bot_messages(secretary))
                                                   if "жеткізу есебі" in m["html"]), None), 10, "the report")
        assert f"Белгісіз (жіберу кезінде бот қайта іске қосылды): {in_flight}" in report["html"]
        await app.close()
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 15)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        await sb.stop()


async def test_a_broadcast_with_a_photo_reaches_everyone_with_the_photo(live: Live) -> None:
    """The secretary's photo is kept as a media row with Telegram's file id; every copy goes out by that id (the
    sandbox refuses an id it never gave), the text as its caption."""
    sb, app, secretary = live.sb, live.app, live.people.secretary
    ids = await crowd(sb, 6)
    await seed_residents(app.sessions, ids)
    await sb.send_text(secretary, "/broadcast")
    await live.expect(secretary, "Тұрғындарға хабарландыру")
    await live.press(secretary, "Аумақ тұрғындарына")
    await live.expect(secretary, "Аумақты таңдаңыз")
    await sb.send_text(secretary, "Ақкөл")
    await live.expect(secretary, "«Ақкөл»")
    await live.press(secretary, "облысы › Ақкөл ауданы")
    await live.expect(secretary, "Олардың қайсысына жіберілсін")
    await live.press(secretary, "Барлығына")
    await live.expect(secretary, "қазақ тілінде")
    await sb.send_text(secretary, TEXT_KK)
    await live.expect(secretary, "орыс тілінде")
    await sb.send_text(secretary, TEXT_RU)
    await live.expect(secretary, "фото немесе құжат")
    poster = (await sb.send_photo(secretary))["photo"][-1]["file_id"]
    await live.expect(secretary, "Хабарландыру жіберілсін бе?")
    await live.press(secretary, "Жіберу")
    await live.expect(secretary, "жеткізу есебі", timeout=40)
    async with app.sessions() as s:
        [b] = list(await s.scalars(select(Broadcast)))
    assert b.media_kind == "photo" and await app.services.media.file_id(b.media_id, "telegram") == poster
    for uid in ids:
        [msg] = sb.bot_messages(uid)
        assert msg["photo"][-1]["file_id"] == poster
        assert msg["caption"].endswith(TEXT_KK if language_of(uid) == "kk" else TEXT_RU)
