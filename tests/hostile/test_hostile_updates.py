"""Hostile input: random sequences of updates from residents, aides, the secretary and the admin, in private
chats, the operator chat and groups the bot does not know, through the real dispatcher.

Whatever arrives: no handler fails (the error handler is never reached, nothing logs an error), every private
message and every button press gets an answer, Telegram would accept everything the bot sends (the recording
session's checks), and the database stays consistent (tests/support/consistency.py).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.app import App
from bot.delivery.ratelimit import RateLimiter
from bot.services.budget import BudgetService
from storage.models import utcnow
from tests.conftest import OPERATOR_CHAT
from tests.hostile.updates import HOSTILE, PEOPLE, STICKER, UNKNOWN_GROUP, Act, acts, chat_of
from tests.support.consistency import problems
from tests.support.telegram import Call, Telegram
from tests.test_appeals_flow import file_appeal
from tests.test_registration import KK, RU, register

SEND_METHODS = {"sendMessage", "sendPhoto", "sendDocument", "sendLocation", "editMessageText"}
# answers Telegram gives in normal operation, which the bot handles: not a sign of a bad message
ORDINARY_REFUSALS = ("message is not modified", "message to edit not found")


class Watch(logging.Handler):
    """Collects errors logged anywhere in the bot or aiogram while the suite runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def _seed(app: App, tg: Telegram) -> None:
    """Two registered residents, an appeal with its operator topic, and a People's Budget campaign in its voting
    phase: so forged and real buttons reach deep screens."""
    a, b = PEOPLE[0], PEOPLE[1]
    await register(tg, a, KK)
    await register(tg, b, RU, share_phone=False)
    await file_appeal(tg, a, KK, "Шағым", "Көктал ауылындағы Абай көшесінде үш күннен бері шам жанбайды.")
    await tg.click(a, "Жіберу")
    now = utcnow()
    budget = BudgetService(app.sessions, clock=lambda: now - timedelta(days=5))
    c = await budget.create_campaign(
        "110000000", "Сынақ", "Тест", 10_000_000, proposals_from=now - timedelta(days=30),
        proposals_until=now - timedelta(days=20), review_until=now - timedelta(days=2),
        voting_from=now - timedelta(days=1), voting_until=now + timedelta(days=20), results_at=now + timedelta(days=25))
    await budget.import_projects(c.id, [{"title": "Ойын алаңы", "cost_tenge": 3_000_000},
                                        {"title": "Шамдар", "cost_tenge": 1_000_000}], actor=1)


def _update(tg: Telegram, act: Act) -> tuple[dict[str, Any] | None, int, bool]:
    """The update for an act, the chat it is in, and whether it is a button press."""
    who = PEOPLE[act.who]
    topics = sorted(tg.session.topics.get(OPERATOR_CHAT, {}))
    chat_id, thread = chat_of(act, who, topics)
    if act.kind == "press_prefix":  # the newest button whose data starts with the payload
        found = [(m, b["callback_data"]) for m in reversed(tg.chat(chat_id)) for b in m.buttons
                 if (b.get("callback_data") or "").startswith(act.payload)]
        if not found:
            return None, chat_id, True
        act = Act("press_forged", act.who, act.where, found[0][1], act.pick)
        on = found[0][0]
        message = {"message_id": on.message_id, "date": int(time.time()), "text": on.text,
                   "chat": {"id": chat_id, "type": "private"}}
        return {"callback_query": {"id": str(time.monotonic_ns()), "from": who.as_user(), "chat_instance": "ci",
                                   "data": act.payload, "message": message}}, chat_id, True
    if act.kind in ("press_real", "press_forged"):
        msgs = [m for m in tg.chat(chat_id) if act.kind == "press_forged" or m.buttons]
        if act.kind == "press_real":
            if act.pick % 5:  # mostly the screen in front of the person: the newest message with buttons
                msgs = msgs[-1:]
            buttons = [(m, b["callback_data"]) for m in msgs for b in m.buttons if b.get("callback_data")]
            if not buttons:
                return None, chat_id, True
            on, data = buttons[act.pick % len(buttons)]
        else:
            on, data = (msgs[act.pick % len(msgs)] if msgs else None), act.payload
        message = {"message_id": on.message_id if on else 1, "date": int(time.time()), "text": on.text if on else "…",
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}}
        if on is not None and on.thread is not None:
            message["message_thread_id"], message["is_topic_message"] = on.thread, True
        return {"callback_query": {"id": str(time.monotonic_ns()), "from": who.as_user(), "chat_instance": "ci",
                                   "data": data, "message": message}}, chat_id, True
    content: dict[str, Any]
    if act.kind == "aide":  # in a real topic (the newest, mostly), a command or a plain reply
        cmd, arg = act.payload
        thread = topics[-1 if act.pick % 3 else act.pick % len(topics)] if topics else None
        text = f"{cmd} {arg}".strip() or "…"
        content = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(cmd.encode("utf-16-le")) // 2}]
    elif act.kind == "text":
        content = {"text": act.payload}
    elif act.kind == "command":
        cmd, arg = act.payload
        text = f"/{cmd} {arg}".strip() if arg.strip() else f"/{cmd}"
        content = {"text": text, "entities": [{"type": "bot_command", "offset": 0,
                                               "length": len(text.split(" ", 1)[0].encode("utf-16-le")) // 2}]}
    elif act.kind == "contact":
        phone, owner = act.payload
        contact: dict[str, Any] = {"phone_number": phone, "first_name": who.first_name}
        if owner != "none":
            contact["user_id"] = who.id if owner == "own" else 123456789
        content = {"contact": contact}
    elif act.kind == "location":
        content = {"location": {"latitude": act.payload[0], "longitude": act.payload[1]}}
    elif act.kind == "photo":
        content = {"photo": [{"file_id": f"ph{act.pick}", "file_unique_id": f"u{act.pick}", "width": 90,
                              "height": 90}]}
        if act.payload:
            content["caption"] = act.payload
    elif act.kind == "document":
        caption, name = act.payload
        content = {"document": {"file_id": f"doc{act.pick}", "file_unique_id": f"d{act.pick}", "file_name": name}}
        if caption:
            content["caption"] = caption
    elif act.kind == "sticker":
        content = {"sticker": STICKER}
    else:  # edited
        msg = tg._message(who, text=act.payload)
        msg["edit_date"] = int(time.time())
        return {"edited_message": msg}, chat_id, False
    if thread is not None:
        content["message_thread_id"], content["is_topic_message"] = thread, True
        content["reply_to_message"] = {"message_id": thread, "date": int(time.time()),
                                       "chat": {"id": chat_id, "type": "supergroup"}}
    return {"message": tg._message(who, chat_id if chat_id != who.id else None, **content)}, chat_id, False


def _expand(act: Act) -> list[Act]:
    if act.kind != "vote":
        return [act]
    return [Act("command", act.who, "private", ("start", "vote_1"), act.pick),
            Act("press_prefix", act.who, "private", "bd:v:", act.pick),
            Act("press_prefix", act.who, "private", "bd:y:", act.pick)]


def _answered(calls: list[Call], chat_id: int, button: bool) -> bool:
    if button:
        return any(c.method == "answerCallbackQuery" for c in calls)
    return any(c.method in SEND_METHODS and int(c.params.get("chat_id", 0)) == chat_id for c in calls)


@HOSTILE
@given(script=st.lists(acts(), min_size=10, max_size=40))
async def test_random_updates_never_break_the_bot(app: App, tg: Telegram, script: list[Act]) -> None:
    if not getattr(app, "_hostile_seeded", False):
        await _seed(app, tg)
        app._hostile_seeded = True  # type: ignore[attr-defined]
    refusals: list[str] = []
    original_bad = tg.session._bad

    def bad(method, text):  # noqa: ANN001 - RecordingSession._bad
        refusals.append(text)
        return original_bad(method, text)

    tg.session._bad = bad  # type: ignore[method-assign]
    watch = Watch()
    loggers = [logging.getLogger(n) for n in ("qatysu", "aiogram")]
    for lg in loggers:
        lg.addHandler(watch)
    try:
        steps = [step for act in script for step in _expand(act)]
        for act in steps:
            update, chat_id, button = _update(tg, act)
            if update is None:
                continue
            before = len(tg.session.calls)
            await tg.feed(update)
            calls = tg.session.calls[before:]
            assert not watch.records, f"{act}: the bot failed: {[r.getMessage() for r in watch.records]}"
            telegram_refused = [r for r in refusals if not r.startswith(ORDINARY_REFUSALS)]
            assert not telegram_refused, f"{act}: Telegram would refuse what the bot sent: {telegram_refused}"
            if chat_id > 0 or (button and chat_id == OPERATOR_CHAT):
                assert _answered(calls, chat_id, button), f"{act}: no answer"
            if chat_id == UNKNOWN_GROUP:
                assert not [c for c in calls if c.method in SEND_METHODS], f"{act}: the bot spoke in a stranger's group"
        # what the bot queued to send on its own (notices to residents after aides' commands) goes out too, and
        # must pass Telegram's checks like the rest
        app.sender.deliveries["telegram"].limiter = RateLimiter(10_000, 10_000, 10_000)
        while await app.sender.run_once():
            pass
        assert not watch.records, f"the outbox sender failed: {[r.getMessage() for r in watch.records]}"
        telegram_refused = [r for r in refusals if not r.startswith(ORDINARY_REFUSALS)]
        assert not telegram_refused, f"Telegram would refuse what the outbox sent: {telegram_refused}"
        assert await problems(app.sessions) == []
    finally:
        tg.session._bad = original_bad  # type: ignore[method-assign]
        for lg in loggers:
            lg.removeHandler(watch)
