"""The dispatcher as built by bot/app.py: one update at a time per chat, and the error handler."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.app import App
from bot.flows.engine import Conversations
from tests.conftest import make_app
from tests.support.telegram import Person, Telegram


async def test_updates_of_one_chat_are_handled_one_at_a_time(app: App, tg: Telegram,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    active: dict[int, int] = {}
    overlaps: list[int] = []
    concurrent_chats: set[int] = set()
    original = Conversations.handle

    async def slow_handle(self, event, deliver=None):
        active[event.chat_id] = active.get(event.chat_id, 0) + 1
        if active[event.chat_id] > 1:
            overlaps.append(event.chat_id)
        if sum(1 for v in active.values() if v) > 1:
            concurrent_chats.add(event.chat_id)
        await asyncio.sleep(0.01)
        try:
            return await original(self, event, deliver)
        finally:
            active[event.chat_id] -= 1

    monkeypatch.setattr(Conversations, "handle", slow_handle)
    a, b = Person(1101, "kk"), Person(1102, "ru")
    await asyncio.gather(*(tg.text(p, "/start") for _ in range(6) for p in (a, b)))
    assert overlaps == []
    assert concurrent_chats, "different chats still run side by side"


async def test_a_failure_is_logged_and_the_person_is_told(app: App, tg: Telegram, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    async def broken(self, event, deliver=None):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(Conversations, "handle", broken)
    with caplog.at_level(logging.ERROR, logger="qatysu.errors"):
        sent = await tg.text(Person(1103, "ru"), "/start")
    assert "что-то пошло не так" in sent[0].text
    record = next(r for r in caplog.records if r.name == "qatysu.errors")
    assert "user 1103" in record.getMessage() and "database on fire" in record.getMessage()
    assert "TEST-TOKEN" not in caplog.text

    sent = await tg.text(Person(1104, "kk"), "/start")
    assert "бір қате шықты" in sent[0].text


async def test_group_messages_are_not_answered_as_private(tg: Telegram) -> None:
    sent = await tg.text(Person(1105, "kk"), "сәлем", chat_id=-1009999999999)  # some other group
    assert sent == []


async def test_a_flood_of_messages_is_throttled_with_one_warning(settings) -> None:
    settings.limits.flood_messages = 8
    app, session = await make_app(settings)
    tg = Telegram(app, session)
    who = Person(1106, "ru")
    replies = [await tg.text(who, f"сообщение {i}") for i in range(14)]
    await app.close()
    warnings = [r for r in replies if r and "слишком часто" in r[0].text]
    answered = [r for r in replies if r and "слишком часто" not in r[0].text]
    silent = [r for r in replies if not r]
    assert len(warnings) == 1 and len(answered) == 8 and len(silent) == 5
