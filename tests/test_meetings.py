"""Meetings: a secretary plans and cancels one; residents answer, take the calendar file, ask in advance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.app import App
from bot.flows.base import Event
from storage.models import Meeting, Question, ScheduledTask
from tests.conftest import ADMIN, SECRETARY
from tests.support.civic import DISTRICT, KARAOZEK_OKRUG, Clock, local, meeting, outbox, resident
from tests.support.telegram import Person, Telegram
from tests.test_registration import KK, RU, register

SECRETARY_WORDS = {
    "kk": {"new": "Жаңа кездесу", "kind": "Әкімнің есеп беру кездесуі", "oblast": "Ақмола", "district": "Ақкөл",
           "here": "Осы жер", "day": "Қай күні", "time": "Сағат нешеде", "where": "Қай жерде",
           "link": "Онлайн трансляцияның", "bad_link": "веб-сілтеме емес", "agenda_kk": "қазақша",
           "agenda_ru": "орысша", "check": "Хабарландыруды тексеріңіз", "create": "Құру және жариялау",
           "created": "Кездесу құрылды", "past": "өтіп кетті", "none": "Жоспарланған кездесу жоқ"},
    "ru": {"new": "Новая встреча", "kind": "Отчётная встреча акима", "oblast": "Акмолинская", "district": "Аккольский",
           "here": "Здесь", "day": "В какой день", "time": "Во сколько", "where": "Где?",
           "link": "онлайн-трансляцию", "bad_link": "не веб-ссылка", "agenda_kk": "на казахском",
           "agenda_ru": "на русском", "check": "Проверьте объявление", "create": "Создать и объявить",
           "created": "Встреча создана", "past": "уже прошёл", "none": "Встреч не назначено"},
}


@pytest.mark.parametrize("code", ["kk", "ru"])
async def test_secretary_plans_a_meeting_in_local_time(app: App, tg: Telegram, code: str) -> None:
    w = SECRETARY_WORDS[code]
    created: list[int] = []

    async def record(name: str, ref: int) -> None:
        created.append(ref)

    app.effects.register("meeting_created", record)
    sec = Person(SECRETARY, code)
    sent = await tg.text(sec, "/meeting")
    assert w["none"] in sent[-1].text
    await tg.click(sec, w["new"])
    await tg.click(sec, w["kind"])
    await tg.click(sec, w["oblast"])
    await tg.click(sec, w["district"])
    sent = await tg.click(sec, w["here"])
    assert w["day"] in sent[-1].text
    sent = await tg.text(sec, "01.01.2020")
    assert w["past"] in sent[0].text and w["day"] in sent[-1].text
    day = (datetime.now(UTC) + timedelta(days=20)).astimezone(app.i18n.tz).date()
    sent = await tg.text(sec, day.strftime("%d.%m.%Y"))
    assert w["time"] in sent[-1].text
    sent = await tg.text(sec, "25:00")
    assert w["time"] in sent[-1].text
    sent = await tg.text(sec, "10:00")
    assert w["where"] in sent[-1].text
    sent = await tg.text(sec, "Ақкөл, әкімдік <мәжіліс залы>")
    assert w["link"] in sent[-1].text
    sent = await tg.text(sec, "javascript:alert(1)")
    assert w["bad_link"] in sent[0].text
    sent = await tg.text(sec, "https://meet.example.kz/akkol")
    assert w["agenda_kk"] in sent[-1].text
    await tg.text(sec, "1. Әкімнің тоқсандық есебі")
    sent = await tg.text(sec, "1. Квартальный отчёт акима")
    preview = sent[-1].text
    assert w["check"] in preview
    assert "Әкімнің есеп беру кездесуі" in preview and "Отчётная встреча акима" in preview  # both languages
    assert "10:00" in preview and "&lt;мәжіліс залы&gt;" in preview
    assert 'href="https://meet.example.kz/akkol"' in preview
    sent = await tg.click(sec, w["create"])
    assert w["created"] in sent[-1].text
    async with app.sessions() as s:
        m = await s.scalar(select(Meeting))
        keys = set(await s.scalars(select(ScheduledTask.key).where(ScheduledTask.key.startswith("meeting:"))))
    assert m is not None and created == [m.id]
    assert m.territory_kato == DISTRICT and m.kind == "akim_report"
    assert m.starts_at == datetime(day.year, day.month, day.day, 5, 0, tzinfo=UTC)  # 10:00 in Almaty (UTC+5)
    assert keys == {f"meeting:{m.id}:before:7d", f"meeting:{m.id}:before:1d", f"meeting:{m.id}:before:1h"}
    assert f"/start meeting_{m.id}" in sent[-1].text


@pytest.mark.parametrize("words,code", [(KK, "kk"), (RU, "ru")])
async def test_resident_answers_changes_the_answer_and_gets_the_calendar_file(
        app: App, tg: Telegram, words, code) -> None:
    who = Person(701, code)
    await register(tg, who, words)
    starts = local(*(datetime.now(UTC) + timedelta(days=10)).astimezone(app.i18n.tz).timetuple()[:3], 10, 0)
    m = await meeting(app, starts, online_url="https://meet.example.kz/x")
    me = await app.services.residents.get(who.id)
    sent = await tg.click(who, "Кездесулер" if code == "kk" else "Встречи")
    assert ("алдағы кездесулер" if code == "kk" else "Предстоящие встречи") in sent[-1].text
    sent = await tg.click(who, "10:00")
    view = sent[-1].text
    assert ("Әкімнің есеп беру кездесуі" if code == "kk" else "Отчётная встреча акима") in view
    assert ("Әкімнің есебі" if code == "kk" else "Отчёт акима") in view  # the agenda in their language
    sent = await tg.click(who, "Келемін" if code == "kk" else "Приду")
    assert await app.services.meetings.answer_of(m.id, me.id) is True
    assert ("Сіздің жауабыңыз: ✅ Келемін" if code == "kk" else "Ваш ответ: ✅ Приду") in sent[-1].text
    sent = await tg.click(who, "Келмеймін" if code == "kk" else "Не приду")
    assert await app.services.meetings.answer_of(m.id, me.id) is False
    assert (await app.services.meetings.counts(m.id)).not_coming == 1
    before = len(tg.methods())
    await tg.click(who, "Күнтізбе" if code == "kk" else "календар")
    assert "sendDocument" in tg.methods()[before:]
    # the file itself, as the flow hands it to the transport
    screens = await app.conversations.handle(Event(kind="button", user_id=who.id, chat_id=who.id,
                                                   data=f"mt:ics:{m.id}"))
    screen = screens[0]
    assert screen.filename == f"meeting-{m.id}.ics" and isinstance(screen.document, bytes)
    cal = Calendar.from_ical(screen.document)
    event = next(iter(cal.walk("VEVENT")))
    assert str(event["UID"]) == f"meeting-{m.id}@qatysu"
    start = event.decoded("DTSTART")
    assert start == starts and start.utcoffset() == timedelta(0) and start.hour == 5
    assert event.decoded("DTEND") - start == timedelta(hours=2)
    again = await app.conversations.handle(Event(kind="button", user_id=who.id, chat_id=who.id,
                                                 data=f"mt:ics:{m.id}"))
    again_event = next(iter(Calendar.from_ical(again[0].document).walk("VEVENT")))
    assert str(again_event["UID"]) == str(event["UID"])  # stable: re-importing updates, not duplicates


@pytest.mark.parametrize("words,code", [(KK, "kk"), (RU, "ru")])
async def test_questions_are_taken_only_in_the_window_before_the_start(app: App, tg: Telegram, words,
                                                                       code: str) -> None:
    who = Person(702, code)
    await register(tg, who, words)
    starts = local(2027, 3, 15, 10)
    clock = Clock(app, local(2027, 1, 20, 12))  # 54 days before: intake opens 30 days before, on 13 February
    m = await meeting(app, starts)
    sent = await tg.text(who, f"/start meeting_{m.id}")
    assert ("2027 жылғы 13 ақпаннан бастап" if code == "kk" else "с 13 февраля 2027") in sent[-1].text
    sent = await tg.click(who, "Сұрақ қою" if code == "kk" else "Задать вопрос")
    assert ("2027 жылғы 13 ақпаннан бастап кездесу басталғанға дейін" if code == "kk"
            else "принимаются с 13 февраля 2027 до её начала") in sent[0].text
    clock.set(local(2027, 2, 13, 0, 5))
    sent = await tg.click(who, "Сұрақ қою" if code == "kk" else "Задать вопрос")
    assert ("бір хабарламамен" if code == "kk" else "одним сообщением") in sent[-1].text
    sent = await tg.send(who, photo=[{"file_id": "P1", "file_unique_id": "p1", "width": 1, "height": 1}])
    assert ("мәтінмен" if code == "kk" else "текстовым сообщением") in sent[0].text
    sent = await tg.text(who, "Жол қашан жөнделеді? <b>Көктал</b> көшесі")
    assert ("Сұрағыңыз жіберілді" if code == "kk" else "Ваш вопрос отправлен") in sent[0].text
    assert "&lt;b&gt;Көктал&lt;/b&gt;" in sent[0].text
    async with app.sessions() as s:
        q = await s.scalar(select(Question))
    assert q is not None and q.meeting_id == m.id and q.report_id is None and q.language == code
    clock.set(starts + timedelta(minutes=1))
    sent = await tg.click(who, "Сұрақ қою" if code == "kk" else "Задать вопрос")
    assert ("басталып кетті" if code == "kk" else "уже началась") in sent[0].text
    assert await app.services.meetings.question_count(m.id) == 1


async def test_answers_and_files_work_from_a_notice_in_the_middle_of_a_draft(app: App, tg: Telegram) -> None:
    who = Person(703, "kk")
    await register(tg, who, KK)
    m = await meeting(app, datetime.now(UTC) + timedelta(days=3))
    me = await app.services.residents.get(who.id)
    await tg.click(who, "Өтініш жазу")
    await tg.click(who, "Шағым")
    sent = await tg.press(who, f"mt:y:{m.id}")
    assert "Келетініңізді белгіледік" in sent[0].text
    assert "не туралы" in sent[-1].text  # the appeal's question again
    assert await app.services.meetings.answer_of(m.id, me.id) is True
    state = await app.conversations.store.get("telegram", who.id)
    assert state is not None and state.flow == "appeal" and state.step == "category"
    sent = await tg.press(who, f"mt:o:{m.id}")  # opening the meeting puts the draft aside
    assert "Әкімнің есеп беру кездесуі" in sent[-1].text
    await tg.click(who, "Артқа")
    sent = await tg.click(who, "Артқа")
    assert "тоқтаған жеріңізге" in sent[0].text and "не туралы" in sent[-1].text
    state = await app.conversations.store.get("telegram", who.id)
    assert state is not None and state.flow == "appeal" and state.data["kind"] == "complaint"


async def test_forged_and_foreign_meeting_buttons_are_refused(app: App, tg: Telegram) -> None:
    who = Person(704, "ru")
    await register(tg, who, RU)  # lives in Koktal, Azat okrug
    elsewhere = await meeting(app, datetime.now(UTC) + timedelta(days=5), kato=KARAOZEK_OKRUG)
    cancelled = await meeting(app, datetime.now(UTC) + timedelta(days=6))
    await app.services.meetings.cancel(cancelled.id)
    me = await app.services.residents.get(who.id)
    for data in (f"mt:y:{elsewhere.id}", "mt:y:999999", f"mt:q:{elsewhere.id}", f"mt:o:{elsewhere.id}"):
        sent = await tg.press(who, data)
        assert "не относится к вашему" in sent[0].text
    sent = await tg.press(who, f"mt:y:{cancelled.id}")
    assert "отменена" in sent[0].text
    for data in ("mt:y:abc", "mt:zz:1", "mt:y:" + "9" * 40, f"ms:cy:{elsewhere.id}"):
        sent = await tg.press(who, data)
        assert sent  # answered, never silent
    assert await app.services.meetings.answer_of(elsewhere.id, me.id) is None
    assert await app.services.meetings.answer_of(cancelled.id, me.id) is None
    assert (await app.services.meetings.get(elsewhere.id)).cancelled_at is None
    sent = await tg.text(who, "/meeting")
    assert "только для сотрудников акимата" in sent[0].text


@pytest.mark.parametrize("words,code", [(KK, "kk"), (RU, "ru")])
async def test_cancelling_tells_those_who_would_come(app: App, tg: Telegram, words, code: str) -> None:
    coming, declined = Person(705, code), Person(706, "kk")
    await register(tg, coming, words)
    other = await resident(app, declined.id)
    m = await meeting(app, datetime.now(UTC) + timedelta(days=9))
    await app.services.meetings.answer(m.id, (await app.services.residents.get(coming.id)).id, True)
    await app.services.meetings.answer(m.id, other.id, False)
    admin = Person(ADMIN, "ru")
    await tg.text(admin, "/meeting")
    await tg.click(admin, "Отчётная встреча акима")
    sent = await tg.click(admin, "Отменить встречу")
    assert "1 житель, обещавший прийти" in sent[-1].text
    sent = await tg.click(admin, "Да, отменить")
    assert "Встреча отменена" in sent[0].text
    assert (await app.services.meetings.get(m.id)).cancelled_at is not None
    assert await app.services.tasks.pending(f"meeting:{m.id}:") == []
    rows = await outbox(app)
    assert [r.chat_id for r in rows] == [coming.id]
    await app.sender.run_once()
    text = tg.last(coming.id).text
    assert ("Кездесу болдырылмады" if code == "kk" else "Встреча отменена") in text
    await app.effects("meeting_cancelled", m.id)  # told once, whatever happens twice
    assert len(await outbox(app)) == 1
