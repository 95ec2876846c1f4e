"""What an update causes for others runs after the update: the person's chat is free meanwhile, an update's effects
keep their order, one that fails does not stop the rest, and closing the app runs what is under way."""

from __future__ import annotations

import asyncio

import pytest

from bot import effects as effects_module
from bot.app import App
from bot.config import Settings
from bot.effects import Effects
from tests.conftest import OPERATOR_CHAT, make_app
from tests.support.telegram import Person, Telegram
from tests.test_appeals_flow import TEXT_KK, appeal_of, file_appeal
from tests.test_registration import KK, register


async def test_a_new_appeals_topic_is_opened_after_the_update_while_the_chat_is_free(
        app: App, tg: Telegram, monkeypatch: pytest.MonkeyPatch) -> None:
    who = Person(2301, "kk")
    await register(tg, who, KK)
    await file_appeal(tg, who, KK, "Шағым", TEXT_KK)
    go, started = asyncio.Event(), asyncio.Event()

    async def slow(name: str, ref: int) -> None:  # runs before the desk's handler: holds the topic back
        started.set()
        await go.wait()

    app.effects._handlers.insert(0, ("appeal_created", slow))  # before the desk's own
    settled = app.effects.settled
    monkeypatch.setattr(app.effects, "settled", _nothing)  # the harness would wait for the effects
    sent = await asyncio.wait_for(tg.click(who, "Жіберу"), 5)
    assert "өтінішіңіз әкімдікке жіберілді" in sent[0].text  # the resident has the answer and the number
    await asyncio.wait_for(started.wait(), 5)
    assert not tg.session.topics.get(OPERATOR_CHAT)  # the topic is not there yet
    sent = await asyncio.wait_for(tg.text(who, "/menu"), 5)  # their next message is answered meanwhile
    assert "Басты мәзір" in sent[-1].text
    go.set()
    await settled()
    a = await appeal_of(app, who)
    [(thread, title)] = tg.session.topics[OPERATOR_CHAT].items()
    assert thread == a.topic_id and title.startswith(a.number)


async def _nothing() -> None:
    return None


async def test_an_updates_effects_run_in_order_past_a_failure_and_beside_anothers() -> None:
    effects, seen = Effects(), []
    gate = asyncio.Event()

    async def record(name: str, ref: int) -> None:
        if ref == 1:
            await gate.wait()  # the first update's effects are held up
        if ref == 2:
            raise RuntimeError("the operator chat is down")
        seen.append(ref)

    effects.register("x_", record)
    effects.after([("x_a", 1), ("x_b", 2), ("x_c", 3)])
    effects.after([("x_d", 4)])
    assert seen == []  # not run inside the update
    await asyncio.sleep(0.01)
    assert seen == [4]  # another update's effect does not wait for them
    gate.set()
    await effects.settled()
    assert seen == [4, 1, 3]  # in order, past the one that failed


async def test_closing_the_app_runs_what_is_under_way(settings: Settings) -> None:
    app, _ = await make_app(settings)
    seen: list[int] = []

    async def record(name: str, ref: int) -> None:
        await asyncio.sleep(0.01)
        seen.append(ref)

    app.effects.register("x_", record)
    app.effects.after([("x_a", 1), ("x_b", 2)])
    await app.close()
    assert seen == [1, 2]


async def test_a_stop_does_not_wait_for_ever_for_an_effect_that_hangs(monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(effects_module, "CLOSE_WAIT_S", 0.05)
    effects, never = Effects(), asyncio.Event()

    async def hangs(name: str, ref: int) -> None:  # Telegram unreachable: a call waiting on and on
        await never.wait()

    effects.register("x_", hangs)
    effects.after([("x_a", 1)])
    await asyncio.wait_for(effects.close(), 2)
    assert "1 effects still running at shutdown" in caplog.text
    never.set()  # let the hung one end with the test
    await effects.settled()
