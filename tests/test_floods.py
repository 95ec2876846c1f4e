"""Floods and odd input through the real dispatcher: edits and albums against the flood throttle, every press
answered (dropped ones too), and a press accepted only from the person its message was sent to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.channels.telegram.middlewares import Throttle
from bot.flows.base import Event
from bot.throttle import Flood
from storage.models import Appeal, Vote
from tests.conftest import make_app
from tests.support.telegram import Person, Sent, Telegram
from tests.test_appeals_flow import TEXT_KK, TEXT_RU, file_appeal
from tests.test_budget_flow import ballot_of, campaign, move_to
from tests.test_registration import KK, RU, register

TOO_FAST = {"kk": "тым жиі", "ru": "слишком часто"}


class Clock:
    """The throttle's clock: moves a minute on every reading while a test sets things up (nothing is a flood),
    stands still during a burst (everything arrives at once)."""

    def __init__(self) -> None:
        self.now, self.step = 0.0, 60.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    def burst(self) -> None:
        """From now on everything arrives at the same moment, a minute after the set-up."""
        self.now, self.step = self.now + 60, 0.0


@pytest.fixture
async def flood(settings) -> AsyncIterator[tuple[App, Telegram, Clock]]:
    settings.limits.flood_messages, settings.limits.flood_seconds = 8, 4
    app, session = await make_app(settings)
    clock = Clock()
    for throttle in {m for m in [*app.dp.update.outer_middleware, *app.dp.message.outer_middleware,
                                 *app.dp.callback_query.outer_middleware] if isinstance(m, Throttle)}:
        throttle._clock = clock
    yield app, Telegram(app, session), clock
    await app.close()


def _is_warning(text: str) -> bool:
    return any(w in text for w in TOO_FAST.values())


async def test_fifty_edits_are_throttled_like_messages(flood) -> None:
    app, tg, clock = flood
    who = Person(4101, "ru")
    await register(tg, who, RU)
    clock.burst()
    replies = [await tg.edited(who, f"исправленный текст {i}") for i in range(50)]
    warnings = [r for r in replies if r and _is_warning(r[0].text)]
    answered = [r for r in replies if r and not _is_warning(r[0].text)]
    assert len(warnings) == 1 and "слишком часто" in warnings[0][0].text
    assert len(answered) == 8
    assert sum(1 for r in replies if not r) == 41


async def test_an_album_of_ten_photos_counts_as_one_message(flood) -> None:
    app, tg, clock = flood
    who = Person(4102, "kk")
    await register(tg, who, KK)
    await tg.click(who, "Өтініш жазу")
    await tg.click(who, "Шағым")
    await tg.click(who, "Электр")
    await tg.click(who, "Иә, осында")
    await tg.text(who, TEXT_KK)
    clock.burst()
    album: list[list] = []
    for i in range(10):
        album.append(await tg.send(who, media_group_id="album-1",
                                   photo=[{"file_id": f"ph-{i}", "file_unique_id": f"u{i}", "width": 90,
                                           "height": 90}]))
    assert all(r and not _is_warning(r[-1].text) for r in album)
    state = await app.conversations.store.get("telegram", who.id)
    assert len(state.data["files"]) == 5  # an appeal takes five; the album was read, not dropped
    # a second album right after is still one message, and the next messages count on from there
    for i in range(10):
        assert not any(_is_warning(s.text) for s in await tg.send(
            who, media_group_id="album-2", photo=[{"file_id": f"ph2-{i}", "file_unique_id": f"v{i}", "width": 90,
                                                   "height": 90}]))
    replies = [await tg.text(who, f"тағы {i}") for i in range(7)]
    assert [bool(r) and _is_warning(r[0].text) for r in replies] == [False] * 6 + [True]


def _answers(tg: Telegram, since: int) -> list[dict[str, Any]]:
    return [c.params for c in tg.session.calls[since:] if c.method == "answerCallbackQuery"]


async def test_twenty_rapid_presses_of_a_vote_button_all_get_an_answer(flood) -> None:
    app, tg, clock = flood
    who = Person(4103, "kk")
    await register(tg, who, KK)
    c = await campaign(app, "proposals")
    [project] = await ballot_of(app, c, "Балалар алаңы")
    await move_to(app, c.id, "voting")
    await tg.text(who, f"/start vote_{c.id}")
    on = tg.last(who.id)
    before = len(tg.session.calls)
    clock.burst()
    await asyncio.gather(*(tg.press(who, f"bd:y:{project}", on) for _ in range(20)))
    answers = _answers(tg, before)
    assert len({a["callback_query_id"] for a in answers}) == 20  # every press, none twice
    dropped = [a for a in answers if _is_warning(a.get("text") or "")]
    assert len(dropped) == 12 and all("тым жиі" in a["text"] for a in dropped)
    async with app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Vote)) == 1


async def test_a_press_on_another_persons_message_touches_nothing_of_theirs(flood) -> None:
    app, tg, _ = flood
    victim, presser = Person(4104, "kk"), Person(4105, "ru")
    await register(tg, victim, KK)
    await register(tg, presser, RU, share_phone=False)
    preview = (await file_appeal(tg, victim, KK, "Шағым", TEXT_KK))[-1]
    assert "Өтінішіңізді тексеріңіз" in preview.text
    draft = await app.conversations.store.get("telegram", victim.id)
    before = len(tg.session.calls)
    # the victim's "Send" button, pressed by someone else (a forged client, or a press relayed from another chat)
    sent = await tg.press(presser, preview.data_of("Жіберу"), preview)
    assert sent == []
    [answer] = _answers(tg, before)
    assert "отправлена не вам" in answer["text"] and answer.get("show_alert")
    async with app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Appeal)) == 0
    assert await app.conversations.store.get("telegram", victim.id) == draft
    assert await app.conversations.store.get("telegram", presser.id) is None
    # the presser's own chat goes on as before, and the victim still sends their own appeal
    await file_appeal(tg, presser, RU, "Предложение", TEXT_RU)
    await tg.click(victim, "Жіберу")
    async with app.sessions() as s:
        owners = list(await s.scalars(select(Appeal.resident_id)))
    assert owners == [(await app.services.residents.get(victim.id)).id]


async def test_a_press_in_a_strangers_group_is_answered_and_nothing_else(flood) -> None:
    app, tg, _ = flood
    stray = Sent(-1009999999999, 77, "…", None)  # a message in a group the bot is not in (a forged press)
    before = len(tg.session.calls)
    sent = await tg.press(Person(4106, "kk"), "m:appeal", stray)
    assert sent == []
    assert [c.method for c in tg.session.calls[before:]] == ["answerCallbackQuery"]


async def test_the_throttle_judges_channel_neutral_events_of_any_channel() -> None:
    """What a WhatsApp adapter will call: the same counts, albums and warnings, kept apart per channel."""
    flood = Flood(limit=3, window=60, clock=lambda: 100.0)
    wa = Event(kind="text", user_id=77012345678, chat_id=77012345678, channel="whatsapp")
    first = [await flood.judge(wa) for _ in range(4)]
    assert [v.admitted for v in first] == [True, True, True, False] and first[3].warn
    await flood.warned(wa, "slow down")
    press = Event(kind="button", user_id=wa.user_id, chat_id=wa.chat_id, data="m:appeal", channel="whatsapp")
    again = [await flood.judge(wa), await flood.judge(press)]
    assert [(v.admitted, v.warn, v.repeat) for v in again] == [(False, False, None), (False, False, "slow down")]
    # the same number on Telegram is another person; an album goes the way its first part went
    tg = Event(kind="photo", user_id=wa.user_id, chat_id=wa.user_id, channel="telegram")
    assert all([(await flood.judge(tg, album="a1")).admitted for _ in range(10)])
    assert [(await flood.judge(tg)).admitted for _ in range(3)] == [True, True, False]
