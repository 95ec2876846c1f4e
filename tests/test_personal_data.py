"""'Delete my data' deletes what it says: one resident goes through everything, deletes their data, and then
every text, number and JSON value of every table is searched for their Telegram id, phone, phone hash and name.
'My data' shows what is linked to the resident before that."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.app import App
from storage.models import Appeal, Base, OutboxMessage, Resident, Vote
from tests.conftest import OPERATOR_CHAT
from tests.support.budget_helpers import campaign, now_utc, use_clock
from tests.support.notices import text
from tests.support.telegram import Person, Telegram
from tests.test_appeals_flow import AIDE, filed
from tests.test_registration import KK, RU, register

NAME = "Зарина Ерекшеова"
PHONE_FORMS = ("+77011234567", "77011234567", "87011234567", "7011234567", "+7 701 123 45 67", "701 123 45 67")
KOKTAL = "114033200"


async def walk_through_everything(app: App, tg: Telegram, who: Person) -> dict[str, Any]:
    """Appeal with a photo and an aide's reply, a proposal, a vote, a report question, an RSVP and a meeting
    question, and a message still waiting in the outbox. Returns what identifies the person and the ids made."""
    appeal = await filed(app, tg, who)  # registration with the phone, then a complaint with a photo
    sent = await tg.text(AIDE, "Сәлеметсіз бе! Электриктер ертең барады.", chat_id=OPERATOR_CHAT,
                         thread=appeal.topic_id)
    assert any(m.chat_id == who.id for m in sent)
    r = await app.services.residents.get(who.id)
    assert r is not None and r.name == NAME and r.phone == "+77011234567" and r.phone_hash
    start = now_utc() - timedelta(days=16)
    clock = use_clock(app, start + timedelta(days=1))
    c = await campaign(app, start)
    budget = app.services.budget
    proposal = await budget.submit_proposal(r.id, c.id, "Көктал ауылына ойын алаңы", 3_000_000,
                                            description="Мектептің жанындағы бос жерге балалар алаңы керек.")
    clock.now = start + timedelta(days=11)
    await budget.review(proposal.id, "accept", None, actor=900001)
    clock.now = start + timedelta(days=16)
    receipt = await budget.cast_vote(r.id, c.id, proposal.id)
    report = await app.services.reports.publish(
        territory_kato="114000000", period="2026-Q3", title_kk="Есеп", title_ru="Отчёт", summary_kk="Жолдар.",
        summary_ru="Дороги.")
    await app.services.reports.ask(report.id, r.id, "Жол қашан жөнделеді?", "kk")
    meeting = await app.services.meetings.create(
        kind="akim_report", territory_kato="114000000", starts_at=datetime.now(UTC) + timedelta(days=10),
        place="Әкімдік", agenda_kk="Есеп", agenda_ru="Отчёт")
    await app.services.meetings.answer(meeting.id, r.id, True)
    await app.services.meetings.ask(meeting.id, r.id, "Су құбыры туралы айтасыз ба?", "kk")
    await app.outbox.enqueue([text("test:waiting", None, {"text": "Хабарлама күтуде"}, resident_id=r.id)])
    return {"resident": r, "appeal": appeal, "campaign": c, "receipt": receipt.code, "proposal": proposal.id}


def _values(value: Any) -> list[str]:
    if isinstance(value, dict | list):
        return [json.dumps(value, ensure_ascii=False, default=str)]
    return [] if value is None else [str(value)]


async def find_anywhere(app: App, needles: list[str], numbers: set[int]) -> list[str]:
    """Every (table.column = value) of the whole database that holds one of ``needles`` as text or one of
    ``numbers`` as a number. The tables come from the models' metadata: a new table is searched too."""
    found = []
    async with app.sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                for column, value in row.items():
                    if isinstance(value, int) and not isinstance(value, bool) and value in numbers:
                        found.append(f"{table.name}.{column} = {value}")
                    for text in _values(value):
                        found += [f"{table.name}.{column} ∋ {n!r}" for n in needles if n in text]
    return found


async def test_deleting_ones_data_leaves_no_trace_but_the_appeal_and_the_counted_vote(app: App, tg: Telegram) -> None:
    who = Person(5550123987, "kk", first_name=NAME)
    made = await walk_through_everything(app, tg, who)
    phone_hash = made["resident"].phone_hash
    needles = [str(who.id), *PHONE_FORMS, phone_hash]
    assert await find_anywhere(app, needles, {who.id}), "the search finds the person before the deletion"

    await tg.click(who, "Баптаулар")
    sent = await tg.click(who, "Деректерімді өшіру")
    assert "ресми құжат" in sent[-1].text and "5 жыл" in sent[-1].text
    sent = await tg.click(who, "Иә, өшіру")
    assert "Деректеріңіз өшірілді" in sent[-1].text

    assert await find_anywhere(app, needles, {who.id}) == []
    # the name is kept only where the README's table says: on the appeal, the akimat's official record
    assert await find_anywhere(app, [NAME, "Зарина"], set()) == ["appeal.contact_name ∋ 'Зарина Ерекшеова'",
                                                                  "appeal.contact_name ∋ 'Зарина'"]
    # and the photo's Telegram file id is gone with the rest of what the person sent from their chat
    assert await find_anywhere(app, ["photo-1"], set()) == []
    async with app.sessions() as s:
        appeal = await s.get(Appeal, made["appeal"].id)
        [vote] = (await s.scalars(select(Vote))).all()
        # the appeal (with the name) and the vote no longer share an owner: the name leads to no vote
        assert appeal.resident_id != vote.resident_id
        owners = {r.id: r for r in await s.scalars(select(Resident))}
        assert owners[appeal.resident_id].deleted_at and owners[vote.resident_id].deleted_at
        assert vote.receipt == made["receipt"] and vote.voter_token  # still counted, still stops a second vote
        waiting = await s.scalar(select(OutboxMessage).where(OutboxMessage.key == "test:waiting"))
        assert waiting.state == "cancelled" and waiting.chat_id is None and waiting.params == {}
    # the outbox sender never sends the cancelled message
    before = len(tg.session.calls)
    await app.sender.run_once()
    assert [c for c in tg.session.calls[before:] if c.params.get("chat_id") == who.id] == []
    assert (await app.services.budget.tally(made["campaign"].id)).rows[0].votes == 1


async def test_my_data_lists_appeals_votes_questions_rsvps_and_proposals(app: App, tg: Telegram) -> None:
    who = Person(5550123988, "kk", first_name=NAME)
    made = await walk_through_everything(app, tg, who)
    await tg.click(who, "Баптаулар")
    text = (await tg.click(who, "Менің деректерім"))[0].text
    for part in (made["appeal"].number, "Дауыстар:", "Азат бюджеті", "Көктал ауылына ойын алаңы", made["receipt"],
                 "Жол қашан жөнделеді?", "Су құбыры туралы", "Кездесулер:", "Келемін", "Жобалық ұсыныстар:",
                 "+77011234567", NAME):
        assert part in text, part
    await tg.click(who, "Тіл")
    await tg.click(who, "Русский")
    text = (await tg.click(who, "Мои данные"))[0].text
    for part in ("Обращения:", made["appeal"].number, "Голоса:", "Бюджет Азата", "квитанция", "Встречи:",
                 "Приду", "Проектные предложения:"):
        assert part in text, part


async def test_my_data_is_bounded_and_counts_the_rest(app: App, tg: Telegram) -> None:
    who = Person(5550123989, "ru", first_name="Асель")
    await register(tg, who, RU)
    r = await app.services.residents.get(who.id)
    report = await app.services.reports.publish(
        territory_kato="114000000", period="2026-Q3", title_kk="Есеп", title_ru="Отчёт", summary_kk="Жолдар.",
        summary_ru="Дороги.")
    for i in range(12):
        await app.services.reports.ask(report.id, r.id, f"Вопрос номер {i:02d} " + "о дорогах " * 30, "ru")
    await tg.click(who, "Настройки")
    text = (await tg.click(who, "Мои данные"))[0].text
    assert "Вопросы:</b> 12" in text and "…и ещё 7" in text
    assert "Вопрос номер 11" in text and "Вопрос номер 00" not in text  # the newest first
    assert len(text) < 4096
    assert r.territory_kato == KOKTAL and KK
