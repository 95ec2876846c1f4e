"""AppealService on a real database (SQLite, or PostgreSQL with QATYSU_TEST_DATABASE_URL), no Telegram.

Time comes from a fixed fake clock. Every expected date was worked out by hand on a calendar (the
weekdays and the holidays used are those checked in test_calendar.py): 2025-06-13 is a Friday,
2025-06-16 a Monday; 6 July 2025 (Capital Day) is a Sunday, so Monday 7 July is a day off; 1-2 January
and 7 January are days off; 16 December is Independence Day.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import App
from bot.services.appeals import (
    TRANSITIONS,
    Action,
    AnonymousNotAllowed,
    AppealNotFound,
    AppealService,
    AppealStatus,
    Attachment,
    ContactRequired,
    Direction,
    ExtensionNotLater,
    ExtensionTooLong,
    ForwardTooLate,
    InvalidAppeal,
    RatingNotAllowed,
    ResidentNotFound,
    TransitionNotAllowed,
    text_similarity,
)
from bot.services.calendar import WorkCalendar
from storage.models import Account, Appeal, AuditLog, Resident

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5 since 1 March 2024
AZAT, KARAOZEK = "114033100", "114043100"  # villages in two okrugs of one district (tests/data)
AZAT_OKRUG, DISTRICT = "114030000", "114000000"
OP1, OP2 = 700001, 700002
TEXT = "На улице Абая нет света уже неделю, фонари не горят, детям страшно ходить в школу."


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 6, 16, 5, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def at(self, *args: int) -> None:
        """Set the time, given in Kazakhstan local time."""
        self.now = datetime(*args, tzinfo=ALMATY).astimezone(UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(app: App, clock: Clock) -> AppealService:
    return AppealService(app.sessions, WorkCalendar(), clock=clock)


async def make_resident(app: App, uid: int, *, phone: str | None = "auto", name: str | None = "Айгүл") -> int:
    residents = app.services.residents
    await residents.consent(uid, uid, "kk", "v1")
    if phone is not None:
        await residents.verify_phone(uid, f"+7 701 {uid % 10_000_000:07d}" if phone == "auto" else phone, uid,
                                     name=name)
    r = await residents.get(uid)
    return r.id


@pytest.fixture
async def rid(app: App) -> int:
    return await make_resident(app, 501)


async def new(svc: AppealService, rid: int, *, kind: str = "complaint", category: str = "electricity_lighting",
              text: str = TEXT, territory: str | None = AZAT, **kw) -> Appeal:
    return await svc.create(rid, kind, category, territory, text, "ru", **kw)


# -- deadlines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "registered", "due"),
    [
        # Friday 10:00, working hours: registered that day; 15 working days: 16-20, 23-27 June, 30 June-4 July
        ((2025, 6, 13, 10, 0), date(2025, 6, 13), date(2025, 7, 4)),
        # Friday 19:00, after hours: Monday 16 June; 16 June + 15 working days skips Monday 7 July → 8 July
        ((2025, 6, 13, 19, 0), date(2025, 6, 16), date(2025, 7, 8)),
        # Saturday: the next working day
        ((2025, 6, 14, 11, 0), date(2025, 6, 16), date(2025, 7, 8)),
        # Tuesday 16 December 2025, Independence Day: Wednesday 17 December; then 18-19, 22-26, 29-31 Dec (10),
        # 1-2 Jan off, 5-6 Jan (12), 7 Jan off, 8-9 Jan (14), Monday 12 January (15)
        ((2025, 12, 16, 10, 0), date(2025, 12, 17), date(2026, 1, 12)),
        # Year end, after hours on 31 December: 1-2 Jan off, weekend → Monday 5 January 2026; then 6 (1),
        # 7 off, 8-9 (3), 12-16 (8), 19-23 (13), 26-27 (15)
        ((2025, 12, 31, 18, 30), date(2026, 1, 5), date(2026, 1, 27)),
    ],
)
async def test_registration_and_due_dates(svc: AppealService, clock: Clock, rid: int, received: tuple[int, ...],
                                          registered: date, due: date) -> None:
    clock.at(*received)
    a = await new(svc, rid)
    assert (a.registered_on, a.due_on) == (registered, due)
    assert a.status == AppealStatus.RECEIVED and a.received_at == clock.now
    got = await svc.get(a.id)
    assert (got.registered_on, got.due_on) == (registered, due)
    assert got.received_at == clock.now and got.received_at.tzinfo is not None  # aware on SQLite too


async def test_public_numbers_follow_the_local_year(svc: AppealService, clock: Clock, rid: int) -> None:
    clock.at(2025, 12, 31, 18, 30)
    first = await new(svc, rid, text="Первое обращение про свет")
    second = await new(svc, rid, text="Второе обращение про воду", category="water")
    # 20:00 UTC on 31 December is 01:00 on 1 January in Kazakhstan: a new year, a new sequence
    clock.now = datetime(2025, 12, 31, 20, 0, tzinfo=UTC)
    third = await new(svc, rid, text="Третье обращение про дорогу", category="roads")
    assert [first.number, second.number, third.number] == ["A-2025-000001", "A-2025-000002", "A-2026-000001"]
    assert await svc.get_by_number("a-2025-000002") is not None


async def test_fifty_concurrent_creates_get_unique_numbers(app: App, svc: AppealService, rid: int) -> None:
    others = [await make_resident(app, 600 + i) for i in range(4)]
    owners = [rid, *others]

    async def one(i: int) -> Appeal:
        return await new(svc, owners[i % len(owners)], kind="message", text=f"Сообщение номер {i} о проблеме")

    appeals = await asyncio.gather(*(one(i) for i in range(50)))
    numbers = [a.number for a in appeals]
    assert len(set(numbers)) == 50
    assert set(numbers) == {f"A-2025-{n:06d}" for n in range(1, 51)}
    after = await new(svc, rid, kind="message", text="Ещё одно, после всех")
    assert after.number == "A-2025-000051"


# -- creation rules -----------------------------------------------------------------------------


async def test_anonymity_and_contact_rules(app: App, svc: AppealService, rid: int) -> None:
    with pytest.raises(AnonymousNotAllowed):
        await new(svc, rid, kind="complaint", anonymous=True)
    with pytest.raises(AnonymousNotAllowed):
        await new(svc, rid, kind="request", anonymous=True)

    unverified = await make_resident(app, 502, phone=None)
    with pytest.raises(ContactRequired) as err:
        await new(svc, unverified, kind="request")
    assert err.value.missing == ("phone", "name")
    nameless = await make_resident(app, 503, name=None)
    with pytest.raises(ContactRequired) as err:
        await new(svc, nameless, kind="complaint")
    assert err.value.missing == ("name",)
    named_now = await new(svc, nameless, kind="complaint", contact_name="  Ерлан Сапаров ")
    assert named_now.contact_name == "Ерлан Сапаров" and not named_now.anonymous

    own_name = await new(svc, rid, kind="request", category="water", text="Нет воды в селе третий день")
    assert own_name.contact_name == "Айгүл"
    anon = await new(svc, unverified, kind="suggestion", anonymous=True, contact_name="ignored",
                     category="landscaping", text="Посадить деревья у школы")
    assert anon.anonymous and anon.contact_name is None
    plain = await new(svc, unverified, kind="message", category="waste", text="Мусор не вывозят")
    assert not plain.anonymous and plain.contact_name is None


async def test_bad_values_are_refused(app: App, svc: AppealService, rid: int) -> None:
    for kw, field in [({"kind": "petition"}, "kind"), ({"category": "weather"}, "category"),
                      ({"text": "   "}, "text"), ({"territory": "999999999"}, "territory_kato")]:
        with pytest.raises(InvalidAppeal) as err:
            await new(svc, rid, **kw)
        assert err.value.field == field
    with pytest.raises(InvalidAppeal):
        await svc.create(rid, "complaint", "roads", AZAT, "Яма на дороге", "en")
    with pytest.raises(InvalidAppeal):
        await new(svc, rid, attachments=[{"kind": "video", "media_id": 1}])
    with pytest.raises(ResidentNotFound):
        await new(svc, 987654, kind="message")
    await app.services.residents.delete_personal_data(501)
    with pytest.raises(ResidentNotFound):
        await new(svc, rid, kind="message")


async def test_attachments_and_location_are_in_messages(app: App, svc: AppealService, rid: int) -> None:
    photo, doc = (await app.services.media.adopt("telegram", "photo", "PHOTO1"),
                  await app.services.media.adopt("telegram", "document", "DOC1"))
    a = await new(svc, rid, attachments=[{"kind": "photo", "media_id": photo},
                                         Attachment("document", doc)], location=(51.95, 70.98))
    msgs = await svc.conversation(a.id, resident_id=rid)
    assert [(m.direction, m.media_kind, await app.services.media.file_id(m.media_id, "telegram")) for m in msgs] == [
        ("in", "photo", "PHOTO1"), ("in", "document", "DOC1"), ("in", None, None)]
    assert (msgs[2].latitude, msgs[2].longitude) == (51.95, 70.98)


# -- transitions ----------------------------------------------------------------------------------


async def drive_to(svc: AppealService, rid: int, status: AppealStatus, n: int) -> Appeal:
    """A new appeal brought to ``status`` by the ordinary path."""
    a = await new(svc, rid, text=f"Обращение {n}: {status}", category="other", kind="request")
    match status:
        case AppealStatus.REGISTERED:
            await svc.record_registration(a.id, f"ЖТ-{n}", date(2025, 6, 16), OP1)
        case AppealStatus.IN_PROGRESS:
            await svc.take(a.id, OP1)
        case AppealStatus.REJECTED:
            await svc.reject(a.id, "Не относится к компетенции", OP1)
        case AppealStatus.FORWARDED:
            await svc.forward(a.id, "Департамент полиции", OP1)
        case AppealStatus.ANSWERED | AppealStatus.CLOSED:
            await svc.take(a.id, OP1)
            await svc.answer(a.id, "Свет восстановлен", OP1)
            if status is AppealStatus.CLOSED:
                await svc.close(a.id, OP1)
    got = await svc.get(a.id)
    assert got.status == status
    return got


async def perform(svc: AppealService, action: Action, a: Appeal, rid: int):
    match action:
        case Action.REGISTER:
            return await svc.record_registration(a.id, "ЖТ-2025-1", date(2025, 6, 16), OP2)
        case Action.REJECT:
            return await svc.reject(a.id, "Повторное без новых доводов", OP2)
        case Action.TAKE:
            return await svc.take(a.id, OP2)
        case Action.FORWARD:
            return await svc.forward(a.id, "Аудандық білім бөлімі", OP2)
        case Action.EXTEND:
            return await svc.extend(a.id, a.due_on + timedelta(days=10), "Нужна проверка на месте", OP2)
        case Action.ANSWER:
            return await svc.answer(a.id, "Ответ акимата", OP2)
        case Action.CLOSE:
            return await svc.close(a.id, OP2)
        case Action.REOPEN:
            return await svc.reopen_by_resident(a.id, rid)
        case Action.RATE:
            return await svc.rate(a.id, rid, 5)
    raise AssertionError(action)


async def test_every_transition_allowed_or_refused_as_the_table_says(app: App, svc: AppealService,
                                                                     rid: int) -> None:
    n = 0
    for action in TRANSITIONS:
        for status in AppealStatus:
            n += 1
            a = await drive_to(svc, rid, status, n)
            expected = TRANSITIONS[action].get(status)
            if expected is None:
                with pytest.raises(TransitionNotAllowed) as err:
                    await perform(svc, action, a, rid)
                assert (err.value.action, err.value.status) == (action, status)
                assert (await svc.get(a.id)).status == status
                continue
            change = await perform(svc, action, a, rid)
            assert (change.action, change.old, change.new) == (action, status, expected), (action, status)
            assert change.changed == (status != expected)
            assert (await svc.get(a.id)).status == expected
            last = (await svc.events(a.id))[-1]
            assert (last.action, last.status_from, last.status_to) == (action, status, expected)
    # staff actions are audited with the actor; resident actions with the resident's own user id
    async with app.sessions() as s:
        actors = {(r.action, r.actor_user_id) for r in await s.scalars(select(AuditLog))}
    for action in (Action.REGISTER, Action.REJECT, Action.TAKE, Action.FORWARD, Action.EXTEND, Action.ANSWER,
                   Action.CLOSE):
        assert (f"appeal.{action}", OP2) in actors
    assert ("appeal.reopen", 501) in actors and ("appeal.rate", 501) in actors


async def test_the_full_path_and_its_fields(svc: AppealService, clock: Clock, rid: int) -> None:
    a = await new(svc, rid)
    reg = await svc.record_registration(a.id, " ЖТ-2025-00042 ", date(2025, 6, 16), OP1)
    assert (reg.new, reg.appeal.registration_number, reg.appeal.registration_date) == (
        AppealStatus.REGISTERED, "ЖТ-2025-00042", date(2025, 6, 16))
    took = await svc.take(a.id, OP1)
    assert took.new == AppealStatus.IN_PROGRESS and took.appeal.operator_user_id == OP1
    clock.at(2025, 6, 20, 15, 0)
    ans = await svc.answer(a.id, "Фонари заменены", OP1)
    assert ans.new == AppealStatus.ANSWERED and ans.appeal.answered_at == clock.now
    assert ans.message.direction == Direction.OUT and ans.message.author_user_id == OP1
    reopened = await svc.reopen_by_resident(a.id, rid)
    assert reopened.new == AppealStatus.IN_PROGRESS and reopened.appeal.reopened_count == 1
    assert reopened.appeal.answered_at is None and reopened.appeal.due_on == date(2025, 7, 8)
    await svc.answer(a.id, "Заменили ещё два фонаря", OP1)
    await svc.reopen_by_resident(a.id, rid)
    again = await svc.answer(a.id, "Всё работает, проверено", OP1)
    assert again.appeal.reopened_count == 2
    closed = await svc.close(a.id, OP1)
    assert closed.new == AppealStatus.CLOSED and closed.appeal.closed_at == clock.now
    assert [e.status_to for e in await svc.events(a.id)] == [
        "received", "registered", "in_progress", "answered", "in_progress", "answered", "in_progress",
        "answered", "closed"]
    with pytest.raises(TransitionNotAllowed):
        await svc.reopen_by_resident(a.id, rid)


async def test_reason_is_required(svc: AppealService, rid: int) -> None:
    a = await new(svc, rid)
    for call in (svc.reject(a.id, "  ", OP1), svc.extend(a.id, date(2025, 7, 20), "", OP1),
                 svc.forward(a.id, "", OP1), svc.answer(a.id, " ", OP1),
                 svc.record_registration(a.id, "", date(2025, 6, 16), OP1)):
        with pytest.raises(InvalidAppeal):
            await call


async def test_two_aides_at_once_one_wins(svc: AppealService, rid: int) -> None:
    a = await new(svc, rid)
    await svc.take(a.id, OP1)
    results = await asyncio.gather(svc.answer(a.id, "Ответ", OP1), svc.reject(a.id, "Отказ", OP2),
                                   return_exceptions=True)
    assert sum(isinstance(r, TransitionNotAllowed) for r in results) == 1
    assert (await svc.get(a.id)).status in (AppealStatus.ANSWERED, AppealStatus.REJECTED)
    assert len(await svc.events(a.id)) == 3


# -- forwarding and extension ------------------------------------------------------------------


async def test_forwarding_only_within_three_working_days(svc: AppealService, clock: Clock, rid: int) -> None:
    clock.at(2025, 6, 13, 19, 0)  # Friday after hours: registered Monday 16 June; forward until Thursday 19
    late, ok = await new(svc, rid), await new(svc, rid, category="water", text="Нет воды")
    clock.at(2025, 6, 19, 17, 59)
    change = await svc.forward(ok.id, "ТОО «Су арнасы»", OP1)
    assert change.new == AppealStatus.FORWARDED and change.appeal.forwarded_to == "ТОО «Су арнасы»"
    assert change.appeal.forwarded_at == clock.now
    clock.at(2025, 6, 20, 9, 0)
    with pytest.raises(ForwardTooLate) as err:
        await svc.forward(late.id, "ТОО «Су арнасы»", OP1)
    assert err.value.deadline == date(2025, 6, 19)
    assert (await svc.get(late.id)).status == AppealStatus.RECEIVED


async def test_extension_up_to_two_months_beyond_the_due_date(svc: AppealService, rid: int) -> None:
    a = await new(svc, rid)  # Monday 16 June 2025 10:00: due Tuesday 8 July; at most 8 September
    assert a.due_on == date(2025, 7, 8)
    first = await svc.extend(a.id, date(2025, 8, 1), "Нужна экспертиза", OP1)
    assert first.appeal.extended_until == date(2025, 8, 1) and first.new == AppealStatus.RECEIVED
    with pytest.raises(ExtensionNotLater) as not_later:
        await svc.extend(a.id, date(2025, 7, 31), "Раньше", OP1)
    assert not_later.value.current == date(2025, 8, 1)
    with pytest.raises(ExtensionTooLong) as too_long:
        await svc.extend(a.id, date(2025, 9, 9), "Ещё дольше", OP1)
    assert too_long.value.limit == date(2025, 9, 8)
    second = await svc.extend(a.id, date(2025, 9, 8), "Ждём ответ подрядчика", OP1)
    assert (second.appeal.extended_until, second.appeal.extension_reason) == (date(2025, 9, 8),
                                                                             "Ждём ответ подрядчика")
    assert second.appeal.due_on == date(2025, 7, 8)  # the original term is kept


# -- repeats ------------------------------------------------------------------------------------


def test_similarity_measure() -> None:
    assert text_similarity("Нет света на улице Абая", "На улице Абая света нет") == 1.0
    assert text_similarity("На улице Абая нет света уже неделю", "На ул. Абая уже неделю не горит свет") >= 0.6
    assert text_similarity("Ауылда су жоқ, үш күн болды", "Ауылда үш күннен бері су жоқ") >= 0.6
    assert text_similarity("На улице Абая нет света уже неделю", "Прошу отремонтировать дорогу к школе") < 0.6
    assert text_similarity("Ауылда су жоқ", "Мектепке баратын жол бұзылған") == 0.0


async def test_repeat_detection(app: App, svc: AppealService, clock: Clock, rid: int) -> None:
    first = await new(svc, rid)
    clock.at(2025, 6, 20, 10, 0)
    similar = "Фонари на улице Абая до сих пор не горят, света нет уже две недели. Детям страшно ходить в школу!"
    assert (await svc.find_repeat(rid, "electricity_lighting", similar)).id == first.id
    repeat = await new(svc, rid, text=similar)
    assert repeat.repeat_of_id == first.id
    other_category = await new(svc, rid, text=similar, category="transport")
    assert other_category.repeat_of_id is None
    different = await new(svc, rid, text="Прошу заменить опору освещения у дома 5 по улице Ленина")
    assert different.repeat_of_id is None
    neighbour = await make_resident(app, 504)
    assert (await new(svc, neighbour, text=TEXT)).repeat_of_id is None
    clock.at(2025, 7, 21, 10, 0)  # 31 days after the last one, 35 after the first
    assert (await new(svc, rid, text=TEXT)).repeat_of_id is None


# -- residents see only their own ---------------------------------------------------------------


async def test_resident_isolation(app: App, svc: AppealService, clock: Clock, rid: int) -> None:
    mine = await new(svc, rid)
    clock.at(2025, 6, 17, 10, 0)
    newer = await new(svc, rid, category="water", text="Нет воды")
    other = await make_resident(app, 505)
    theirs = await new(svc, other, category="roads", text="Яма на дороге")
    assert [a.id for a in await svc.list_for_resident(rid)] == [newer.id, mine.id]
    assert [a.id for a in await svc.list_for_resident(other)] == [theirs.id]
    assert (await svc.get_for_resident(mine.id, rid)).number == mine.number

    await svc.take(mine.id, OP1)
    await svc.answer(mine.id, "Ответ", OP1)
    for call in (svc.get_for_resident(mine.id, other), svc.conversation(mine.id, resident_id=other),
                 svc.reopen_by_resident(mine.id, other), svc.rate(mine.id, other, 5),
                 svc.add_message(mine.id, "in", text="чужое", resident_id=other),
                 svc.get_for_resident(999_999, rid)):
        with pytest.raises(AppealNotFound):
            await call
    assert (await svc.get(mine.id)).status == AppealStatus.ANSWERED


async def test_conversation_and_message_mapping(app: App, svc: AppealService, rid: int) -> None:
    a = await new(svc, rid)
    await svc.set_operator_thread(a.id, topic_id=77, card_message_id=1000)
    stored = await svc.get(a.id)
    assert (stored.topic_id, stored.card_message_id, stored.version) == (77, 1000, a.version + 1)
    with pytest.raises(AppealNotFound):
        await svc.set_operator_thread(999_999, topic_id=1, card_message_id=None)
    photo = await app.services.media.adopt("telegram", "photo", "F1")
    inbound = await svc.add_message(a.id, "in", text="Добавлю фото", media_kind="photo", media_id=photo,
                                    resident_id=rid, resident_chat_message_id=10, operator_chat_message_id=1001)
    note = await svc.add_message(a.id, Direction.NOTE, text="Позвонить в РЭС", author_user_id=OP1,
                                 operator_chat_message_id=1002)
    out = await svc.add_message(a.id, "out", text="Уточните номер дома", author_user_id=OP1,
                                operator_chat_message_id=1003)
    await svc.link_message(out.id, resident_chat_message_id=11)
    assert (await svc.find_by_topic(77)).id == a.id
    for mid in (1000, 1001, 1002, 1003):
        assert (await svc.find_by_operator_message(mid)).id == a.id
    assert await svc.find_by_operator_message(5) is None
    assert (await svc.find_by_resident_message(rid, 11)).id == a.id
    assert await svc.find_by_resident_message(rid + 1, 11) is None
    assert [m.id for m in await svc.conversation(a.id)] == [inbound.id, note.id, out.id]
    assert [m.id for m in await svc.conversation(a.id, resident_id=rid)] == [inbound.id, out.id]
    with pytest.raises(InvalidAppeal):
        await svc.add_message(a.id, "out", text="без автора")
    with pytest.raises(InvalidAppeal):
        await svc.add_message(a.id, "in", text="без жителя")
    blocked = await svc.note_blocked(a.id)
    assert blocked.blocked_noted_at is not None


# -- rating -------------------------------------------------------------------------------------


async def test_rating_rules(app: App, svc: AppealService, rid: int) -> None:
    a = await new(svc, rid)
    with pytest.raises(RatingNotAllowed):
        await svc.rate(a.id, rid, 5)
    await svc.take(a.id, OP1)
    with pytest.raises(RatingNotAllowed):
        await svc.rate(a.id, rid, 5)
    await svc.answer(a.id, "Ответ", OP1)
    for bad in (0, 6, True, 4.5):
        with pytest.raises(InvalidAppeal):
            await svc.rate(a.id, rid, bad)  # type: ignore[arg-type]
    assert (await svc.rate(a.id, rid, 4)).appeal.rating == 4
    await svc.close(a.id, OP1)
    assert (await svc.rate(a.id, rid, 5)).appeal.rating == 5  # changed their mind
    other = await make_resident(app, 506)
    with pytest.raises(AppealNotFound):
        await svc.rate(a.id, other, 1)

    refused = await new(svc, rid, category="water", text="Нет воды")
    await svc.reject(refused.id, "Анонимно", OP1)
    await svc.close(refused.id, OP1)
    with pytest.raises(RatingNotAllowed):  # closed, but never answered
        await svc.rate(refused.id, rid, 1)


# -- due report ---------------------------------------------------------------------------------


async def test_due_report(svc: AppealService, clock: Clock, rid: int) -> None:
    async def at(day: tuple[int, int, int], **kw) -> Appeal:
        clock.at(*day, 10, 0)
        return await new(svc, rid, text=f"Обращение от {day} {kw}", category="other", kind="message", **kw)

    y = await at((2025, 6, 13))  # due Fri 4 July, nobody took it
    x = await at((2025, 6, 16))  # due Tue 8 July
    t = await at((2025, 6, 17))  # due Wed 9 July (today)
    s = await at((2025, 6, 18))  # due Thu 10 July
    z = await at((2025, 6, 19))  # due Fri 11 July (two working days from Wednesday 9 July)
    v = await at((2025, 6, 20))  # due Mon 14 July: 3 working days away, not yet
    extended = await at((2025, 6, 13))
    answered = await at((2025, 6, 13))
    forwarded = await at((2025, 6, 13))
    assert [a.due_on for a in (y, x, t, s, z, v)] == [date(2025, 7, d) for d in (4, 8, 9, 10, 11, 14)]
    await svc.take(x.id, OP1)
    await svc.take(t.id, OP1)
    await svc.take(z.id, OP2)
    await svc.record_registration(s.id, "ЖТ-1", date(2025, 6, 18), OP2)
    await svc.extend(extended.id, date(2025, 7, 31), "Проверка", OP1)
    await svc.take(answered.id, OP1)
    await svc.answer(answered.id, "Готово", OP1)
    await svc.forward(forwarded.id, "Другой орган", OP1)

    clock.at(2025, 7, 9, 8, 0)
    report = await svc.due_report()
    assert report.today == date(2025, 7, 9)
    # Y: working days in (4 July, 9 July] = Tue 8 and Wed 9 (Mon 7 July is off) = 2; X: Wed 9 = 1
    assert [(i.appeal_id, i.due, i.working_days, i.operator_user_id) for i in report.overdue] == [
        (y.id, date(2025, 7, 4), 2, None), (x.id, date(2025, 7, 8), 1, OP1)]
    assert [(i.appeal_id, i.working_days, i.operator_user_id, i.status) for i in report.due_soon] == [
        (t.id, 0, OP1, "in_progress"), (s.id, 1, None, "registered"), (z.id, 2, OP2, "in_progress")]
    groups = report.by_operator()
    assert set(groups) == {None, OP1, OP2}
    assert ([i.appeal_id for i in groups[OP1].overdue], [i.appeal_id for i in groups[OP1].due_soon]) == (
        [x.id], [t.id])
    assert ([i.appeal_id for i in groups[None].overdue], [i.appeal_id for i in groups[None].due_soon]) == (
        [y.id], [s.id])
    assert (groups[OP2].overdue, [i.appeal_id for i in groups[OP2].due_soon]) == ([], [z.id])

    later = await svc.due_report(date(2025, 7, 31))  # the extension is due that day
    assert extended.id in [i.appeal_id for i in later.due_soon]


# -- statistics ---------------------------------------------------------------------------------


async def test_stats_on_a_hand_made_data_set(app: App, svc: AppealService, clock: Clock, rid: int) -> None:
    b = await make_resident(app, 507)
    clock.at(2025, 6, 16, 10, 0)  # Monday; due 8 July
    a1 = await new(svc, rid, category="roads", territory=AZAT, text="Яма на дороге у школы")
    a2 = await new(svc, b, category="water", territory=AZAT, text="Нет воды в колонке")
    a3 = await new(svc, rid, category="water", territory=KARAOZEK, text="Ржавая вода из крана")
    a4 = await new(svc, b, category="roads", territory=KARAOZEK, text="Не чистят снег на трассе")
    await svc.reject(a4.id, "Не относится к компетенции", OP1)
    clock.at(2025, 6, 17, 10, 0)
    await svc.take(a1.id, OP1)
    await svc.answer(a1.id, "Яму засыпали", OP1)  # 24 h, on time
    await svc.rate(a1.id, rid, 5)
    clock.at(2025, 6, 18, 10, 0)
    a5 = await new(svc, rid, category="housing", territory=KARAOZEK, text="Протекает крыша дома")
    a6 = await new(svc, b, category="housing", territory=AZAT, text="Сломан лифт в подъезде")
    await svc.take(a6.id, OP2)
    await svc.extend(a3.id, date(2025, 7, 31), "Лабораторный анализ", OP2)
    clock.at(2025, 7, 10, 10, 0)
    await svc.take(a2.id, OP2)
    await svc.answer(a2.id, "Колонку починили", OP2)  # 24 days = 576 h, late (due 8 July)
    await svc.rate(a2.id, b, 2)
    clock.at(2025, 7, 20, 10, 0)
    await svc.take(a3.id, OP2)
    await svc.answer(a3.id, "Трубы заменены", OP2)  # 34 days = 816 h, on time (extended to 31 July)
    await svc.close(a3.id, OP2)
    await svc.rate(a3.id, rid, 4)
    assert a5.status == "received"

    st = await svc.stats()
    assert st.total == 6
    assert st.by_status == {"answered": 2, "closed": 1, "rejected": 1, "received": 1, "in_progress": 1}
    assert st.by_category == {"roads": 2, "water": 2, "housing": 2}
    assert st.by_territory == {AZAT: 3, KARAOZEK: 3}
    assert st.answered == 3
    assert st.median_hours_to_answer == pytest.approx(576)  # median of 24, 576, 816
    assert st.answered_on_time_share == pytest.approx(2 / 3)
    assert st.rating_count == 3 and st.rating_mean == pytest.approx(11 / 3)
    assert st.rating_distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}

    okrug = await svc.stats(territory_kato=AZAT_OKRUG)  # Azat village only: a1, a2, a6
    assert okrug.total == 3 and okrug.by_territory == {AZAT: 3}
    assert okrug.by_status == {"answered": 2, "in_progress": 1}
    assert okrug.median_hours_to_answer == pytest.approx(300)  # (24 + 576) / 2
    assert okrug.answered_on_time_share == pytest.approx(0.5)
    assert okrug.rating_mean == pytest.approx(3.5)
    assert (await svc.stats(territory_kato=DISTRICT)).total == 6
    assert (await svc.stats(territory_kato=KARAOZEK)).by_category == {"water": 1, "roads": 1, "housing": 1}

    recent = await svc.stats(since=datetime(2025, 6, 17, tzinfo=ALMATY))  # a5 and a6
    assert (recent.total, recent.by_status) == (2, {"received": 1, "in_progress": 1})
    assert (recent.answered, recent.median_hours_to_answer, recent.answered_on_time_share) == (0, None, None)
    assert (recent.rating_count, recent.rating_mean) == (0, None)


async def test_resident_rows_are_never_deleted_under_an_appeal(app: App, svc: AppealService, rid: int) -> None:
    a = await new(svc, rid)
    await app.services.residents.delete_personal_data(501)
    async with app.sessions() as s:
        r = await s.get(Resident, rid)
        assert r is not None and r.phone is None
        # the appeal stays, owned by an empty row of its own: its name leads to nothing else of the person's
        owner = await s.get(Resident, (await svc.get(a.id)).resident_id)
        assert owner is not None and owner.id != rid and owner.deleted_at is not None
        assert (await s.scalars(select(Account).where(Account.resident_id.in_([rid, owner.id])))).all() == []
