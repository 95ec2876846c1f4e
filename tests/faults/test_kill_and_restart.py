"""The bot killed at every Bot API call of registration, appeal filing and voting, then started again over the
same database: no draft is lost (the state was saved before the reply, so the person continues where they were),
an appeal is filed once and reaches the operator chat with its attachment, and nobody votes twice.

Each kill point is tried in both ways a process can die in the middle of a call: before the request reached
Telegram, and after (Telegram has the message, the bot never learnt it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.config import Settings
from bot.services.budget import BudgetService
from storage.models import Appeal, Vote, utcnow
from tests.conftest import DATA, OPERATOR_CHAT
from tests.faults.crash import KillingSession, die, run_until_killed, start
from tests.support.consistency import problems
from tests.support.telegram import Person, Sent, Telegram

Step = Callable[[Telegram, Person], Awaitable[list[Sent]]]
PHOTO = {"photo": [{"file_id": "photo-crash", "file_unique_id": "uc", "width": 90, "height": 90}]}
TEXT = "Көктал ауылындағы Абай көшесінде үш күннен бері көше шамдары жанбайды, кешке қараңғы."


class Press:
    """Press the newest button whose label contains ``label`` (or whose data starts with ``prefix``). Pressed
    again after a restart only if that very button is still on that message (Telegram may already show the
    next screen there)."""

    def __init__(self, label: str | None = None, prefix: str | None = None) -> None:
        self.label, self.prefix = label, prefix
        self.pressed: dict[int, tuple[Sent, str]] = {}

    def _matches(self, b: dict) -> bool:
        if self.prefix is not None:
            return (b.get("callback_data") or "").startswith(self.prefix)
        return self.label in b["text"]

    async def __call__(self, tg: Telegram, p: Person) -> list[Sent]:
        for sent in reversed(tg.chat(p.id)):
            for b in sent.buttons:
                if self._matches(b):
                    self.pressed[p.id] = (sent, b["callback_data"])
                    return await tg.press(p, b["callback_data"], sent)
        raise AssertionError(f"no button {self.label or self.prefix!r} in chat {p.id}")

    async def again(self, tg: Telegram, p: Person) -> list[Sent] | None:
        sent, data = self.pressed[p.id]
        now = tg.session.messages[(sent.chat_id, sent.message_id)]
        if not any(b.get("callback_data") == data for b in now.buttons):
            return None  # the answer reached Telegram: the person sees the next screen and goes on from there
        return await tg.press(p, data, now)


def click(label: str) -> Step:
    return Press(label=label)


def press_prefix(prefix: str) -> Step:
    return Press(prefix=prefix)


REGISTRATION: list[Step] = [
    lambda tg, p: tg.text(p, "/start"), click("Қазақша"), click("Келісемін"), click("Ақмола"), click("Ақкөл"),
    click("Азат ауылдық"), click("Көктал"), lambda tg, p: tg.contact(p, f"+7701{p.id:07d}", owner_id=p.id)]
APPEAL: list[Step] = [
    click("Өтініш жазу"), click("Шағым"), click("Электр"), click("Иә, осында"), lambda tg, p: tg.text(p, TEXT),
    lambda tg, p: tg.send(p, **PHOTO), click("Жалғастыру"), click("Жіберу")]
VOTING: list[Step] = [lambda tg, p: tg.text(p, "/start vote_1"), press_prefix("bd:v:"), press_prefix("bd:y:")]


async def _registered(tg: Telegram, p: Person) -> None:
    for step in REGISTRATION:
        await step(tg, p)


async def _campaign(app: App) -> None:
    now = utcnow()
    budget = BudgetService(app.sessions, clock=lambda: now - timedelta(days=5))
    c = await budget.create_campaign(
        "110000000", "Сынақ", "Тест", 10_000_000, proposals_from=now - timedelta(days=30),
        proposals_until=now - timedelta(days=20), review_until=now - timedelta(days=2),
        voting_from=now - timedelta(days=1), voting_until=now + timedelta(days=20), results_at=now + timedelta(days=25))
    await budget.import_projects(c.id, [{"title": "Ойын алаңы", "cost_tenge": 3_000_000}], actor=1)


async def _state(app: App, chat_id: int):
    return await app.conversations.store.get("telegram", chat_id)


async def _repeat(tg: Telegram, p: Person, step: Step) -> None:
    """The person saw no answer and does the same again, if it is still on the screen."""
    sent = await (step.again(tg, p) if isinstance(step, Press) else step(tg, p))
    assert sent is None or sent, "the repeated step got no answer"


async def kill_everywhere(settings: Settings, steps: list[Step], mode: str, first_id: int,
                          before: Callable[[Telegram, Person], Awaitable[None]] | None = None,
                          after_restart: Callable[[App], Awaitable[None]] | None = None) -> tuple[App, list[Person]]:
    """Run ``steps`` once cleanly (to learn the states and the number of calls), then once per call with the bot
    killed at that call and started again. Returns the last app and the people who went through a kill."""
    app, session, tg = await start(settings)
    await app.services.territories.import_csv(DATA / "territories.csv")
    if steps is VOTING:
        await _campaign(app)
    ref = Person(first_id, "kk")
    if before:
        await before(tg, ref)
    states, start_count = [], session.count
    for step in steps:
        await step(tg, ref)
        states.append(await _state(app, ref.id))
    total = session.count - start_count
    assert total >= len(steps)
    people = []
    for k in range(1, total + 1):
        p = Person(first_id + k, "kk")
        people.append(p)
        if before:
            await before(tg, p)
        session.kill_at, session.mode = session.count + k, mode
        killed_at = None
        for i, step in enumerate(steps):
            if await run_until_killed(session, step(tg, p)):
                killed_at = i
                break
        assert killed_at is not None, f"kill point {k} was not reached"
        await die(app)
        app, session, tg = await start(settings, old=session)
        if after_restart:
            await after_restart(app)
        # the state was written before the reply: the step the person took is not lost
        assert await _state(app, p.id) == states[killed_at], (k, session.killed_on)
        await _repeat(tg, p, steps[killed_at])
        for step in steps[killed_at + 1:]:
            await step(tg, p)
    return app, people


@pytest.mark.parametrize("mode", ["before", "after"])
async def test_registration_survives_a_kill_at_every_call(settings: Settings, mode: str) -> None:
    app, people = await kill_everywhere(settings, REGISTRATION, mode, 8100)
    try:
        for p in people:
            r = await app.services.residents.get(p.id)
            assert r is not None and r.registered_at is not None and r.phone == f"+7701{p.id:07d}", p.id
            assert await _state(app, p.id) is None
        assert await problems(app.sessions) == []
    finally:
        await app.close()


@pytest.mark.parametrize("mode", ["before", "after"])
async def test_an_appeal_survives_a_kill_at_every_call(settings: Settings, mode: str) -> None:
    async def catch_up(app: App) -> None:  # what `qatysu run` does first on start
        await app.desk.catch_up()

    app, people = await kill_everywhere(settings, APPEAL, mode, 8200, before=_registered, after_restart=catch_up)
    try:
        session: KillingSession = app.bot.session  # type: ignore[assignment]
        await app.desk.catch_up()
        for p in people:
            r = await app.services.residents.get(p.id)
            async with app.sessions() as s:
                appeals = list(await s.scalars(select(Appeal).where(Appeal.resident_id == r.id)))
            assert len(appeals) == 1, f"resident {p.id} has {len(appeals)} appeals"
            a = appeals[0]
            assert a.card_message_id is not None and a.topic_id is not None
            topics = [c for c in session.calls
                      if c.method == "createForumTopic" and c.params["name"].startswith(a.number)]
            cards = [c for c in session.calls if c.method == "sendMessage" and c.params.get("chat_id") == OPERATOR_CHAT
                     and c.params.get("text", "").startswith(f"<b>{a.number}</b>") and isinstance(c.result, dict)]
            photos = [c for c in session.calls if c.method == "sendPhoto" and c.params.get("chat_id") == OPERATOR_CHAT
                      and c.params.get("message_thread_id") == a.topic_id and isinstance(c.result, dict)]
            # nothing is lost; a call whose answer never came back may have been made twice, nothing else
            limit = 1 if mode == "before" else 2
            assert 1 <= len(topics) <= limit and 1 <= len(cards) <= limit, (p.id, len(topics), len(cards))
            # a resident who saw no answer to their photo sends it again: then the appeal has it twice
            files = [m for m in await app.services.appeals.conversation(a.id) if m.media_id]
            assert 1 <= len(files) <= 2
            assert len(files) <= len(photos) <= limit * len(files), \
                f"{a.number} has {len(files)} attachments; they reached the aides {len(photos)} times"
        assert await problems(app.sessions) == []
    finally:
        await app.close()


@pytest.mark.parametrize("mode", ["before", "after"])
async def test_a_vote_survives_a_kill_at_every_call_and_counts_once(settings: Settings, mode: str) -> None:
    app, people = await kill_everywhere(settings, VOTING, mode, 8300, before=_registered)
    try:
        for p in people:
            r = await app.services.residents.get(p.id)
            async with app.sessions() as s:
                n = await s.scalar(select(func.count()).select_from(Vote).where(Vote.resident_id == r.id))
            assert n == 1, f"resident {p.id} has {n} votes"
        assert await problems(app.sessions) == []
    finally:
        await app.close()
