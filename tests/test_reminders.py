"""Reminders before meetings and the quarterly reminder to admins: scheduled-task rows, local time zones,
the Kazakhstan working-day calendar, catching up after downtime without duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import App
from bot.reminders import ensure_quarterly
from bot.services import quarters
from bot.services.outbox import Priority
from bot.services.roles import Role
from storage.models import ScheduledTask
from tests.conftest import ADMIN
from tests.support.civic import AZAT_OKRUG, DISTRICT, KARAOZEK, Clock, local, meeting, outbox, resident
from tests.support.notices import worded
from tests.support.telegram import Telegram

STARTS = local(2027, 3, 15, 10)  # Monday 15 March 2027, 10:00 in Almaty


async def _tasks(app: App, prefix: str) -> dict[str, ScheduledTask]:
    async with app.sessions() as s:
        rows = await s.scalars(select(ScheduledTask).where(ScheduledTask.key.startswith(prefix)))
        return {t.key: t for t in rows}


async def test_reminders_are_scheduled_from_the_local_meeting_time(app: App) -> None:
    Clock(app, local(2027, 2, 1, 9))
    m = await meeting(app, STARTS)
    assert m.starts_at == datetime(2027, 3, 15, 5, 0, tzinfo=UTC)  # Asia/Almaty is UTC+5
    tasks = await _tasks(app, f"meeting:{m.id}:")
    assert {k: t.due_at for k, t in tasks.items()} == {
        f"meeting:{m.id}:before:7d": datetime(2027, 3, 8, 5, 0, tzinfo=UTC),
        f"meeting:{m.id}:before:1d": datetime(2027, 3, 14, 5, 0, tzinfo=UTC),
        f"meeting:{m.id}:before:1h": datetime(2027, 3, 15, 4, 0, tzinfo=UTC),
    }
    soon = await meeting(app, local(2027, 2, 3, 10))  # in two days: the 7-day reminder is already past
    assert set(await _tasks(app, f"meeting:{soon.id}:")) == {f"meeting:{soon.id}:before:1d",
                                                             f"meeting:{soon.id}:before:1h"}


async def test_a_reminder_reaches_the_territory_except_who_declined_or_muted(app: App, tg: Telegram) -> None:
    clock = Clock(app, local(2027, 2, 1, 9))
    kk = await resident(app, 901, lang="kk")
    ru = await resident(app, 902, lang="ru")
    declined = await resident(app, 903)
    await resident(app, 904, notifications=False)  # turned notifications off
    await resident(app, 905, kato=KARAOZEK)  # another okrug
    m = await meeting(app, STARTS, kato=AZAT_OKRUG, online_url="https://meet.example.kz/azat")
    await app.services.meetings.answer(m.id, declined.id, False)
    await app.services.meetings.answer(m.id, ru.id, True)
    clock.set(local(2027, 3, 8, 10))  # the 7-day mark, 10:00 local
    assert await app.services.tasks.run_due() == 1
    rows = await outbox(app)
    assert sorted((r.chat_id, r.key, r.priority) for r in rows) == [
        (901, f"meeting:{m.id}:7d:{kk.id}", Priority.REMINDER), (902, f"meeting:{m.id}:7d:{ru.id}", Priority.REMINDER)]
    await app.sender.run_once()
    kk_text, ru_text = tg.last(901).text, tg.last(902).text
    assert "кездесуге 7 күн қалды" in kk_text and "15 наурыз 2027, 10:00" in kk_text
    assert "до встречи 7 дней" in ru_text and "15 марта 2027, 10:00" in ru_text
    assert [b["callback_data"] for b in tg.last(901).buttons] == [
        f"mt:y:{m.id}", f"mt:n:{m.id}", f"mt:ics:{m.id}", f"mt:q:{m.id}"]
    assert (await app.services.tasks.get(f"meeting:{m.id}:before:7d")).outcome == "sent"
    # the same reminder handled again (a manual re-run) sends nothing twice
    await app.services.tasks.schedule("again", "meeting_reminder", clock.now, ref_id=m.id)
    async with app.sessions() as s, s.begin():
        row = await s.scalar(select(ScheduledTask).where(ScheduledTask.key == f"meeting:{m.id}:before:7d"))
        row.done_at = None
    await app.services.tasks.run_due()
    assert len(await outbox(app)) == 2


async def test_catch_up_after_downtime_sends_once_and_never_for_a_past_meeting(app: App) -> None:
    clock = Clock(app, local(2027, 2, 1, 9))
    person = await resident(app, 911, lang="ru")
    m = await meeting(app, STARTS)
    past = await meeting(app, local(2027, 2, 20, 10))
    # the bot was down from 1 February to 2 hours before the first meeting: the second is long past
    clock.set(STARTS - timedelta(hours=2))
    await app.services.tasks.run_due()
    rows = await outbox(app)
    assert [r.key for r in rows] == [f"meeting:{m.id}:1d:{person.id}"]  # the latest due, not also "7 days"
    assert "до встречи 2 часа" in (await worded(app, rows[0]))["text"]  # true at the time it goes
    outcomes = {k: t.outcome for k, t in (await _tasks(app, "meeting:")).items()}
    assert outcomes[f"meeting:{m.id}:before:7d"] == "skipped"
    assert outcomes[f"meeting:{m.id}:before:1d"] == "sent"
    assert outcomes[f"meeting:{m.id}:before:1h"] is None  # not due yet
    assert {outcomes[f"meeting:{past.id}:before:{o}"] for o in ("7d", "1d", "1h")} == {"skipped"}
    await app.services.tasks.run_due()
    assert len(await outbox(app)) == 1
    clock.set(STARTS + timedelta(minutes=5))  # down again over the start: the 1-hour reminder is pointless now
    await app.services.tasks.run_due()
    assert len(await outbox(app)) == 1
    assert (await app.services.tasks.get(f"meeting:{m.id}:before:1h")).outcome == "skipped"


async def test_cancelled_or_moved_meetings_keep_their_reminders_right(app: App) -> None:
    clock = Clock(app, local(2027, 2, 1, 9))
    await resident(app, 921)
    gone = await meeting(app, STARTS)
    moved = await meeting(app, STARTS)
    await app.services.meetings.cancel(gone.id)
    assert {t.outcome for t in (await _tasks(app, f"meeting:{gone.id}:")).values()} == {"cancelled"}
    new_start = local(2027, 3, 22, 15)
    await app.services.meetings.move(moved.id, new_start)
    tasks = await _tasks(app, f"meeting:{moved.id}:")
    assert tasks[f"meeting:{moved.id}:before:1d"].due_at == new_start - timedelta(days=1)
    assert tasks[f"meeting:{moved.id}:before:7d"].due_at == datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
    clock.set(local(2027, 3, 15, 16))
    await app.services.tasks.run_due()
    assert [r.key for r in await outbox(app)] == [f"meeting:{moved.id}:7d:{(await app.services.residents.get(921)).id}"]
    # a meeting cancelled with a reminder row somehow left pending is skipped by the handler
    await app.services.tasks.schedule(f"meeting:{gone.id}:before:2h", "meeting_reminder", clock.now, ref_id=gone.id)
    await app.services.tasks.run_due()
    assert (await app.services.tasks.get(f"meeting:{gone.id}:before:2h")).outcome == "skipped"
    assert len(await outbox(app)) == 1


def test_the_first_working_day_of_a_quarter_follows_the_kazakh_calendar(app: App) -> None:
    calendar = app.services.appeals.calendar
    # 1-2 January 2027 are New Year (Friday, Saturday); Saturday's holiday moves to Monday 4 January
    assert quarters.first_working_day(calendar, 2027, 1).isoformat() == "2027-01-05"
    assert quarters.reminder_due(calendar, 2027, 1, app.settings.meetings.quarterly_reminder_time) == \
        datetime(2027, 1, 5, 5, 0, tzinfo=UTC)
    assert quarters.first_working_day(calendar, 2027, 2).isoformat() == "2027-04-01"  # a Thursday
    assert quarters.first_working_day(calendar, 2026, 4).isoformat() == "2026-10-01"
    assert quarters.bounds(2027, 1, calendar.tz) == (datetime(2026, 12, 31, 19, tzinfo=UTC),
                                                     datetime(2027, 3, 31, 19, tzinfo=UTC))


@pytest.mark.parametrize("code", ["kk", "ru"])
async def test_quarterly_reminder_lists_territories_without_a_report_meeting(app: App, tg: Telegram,
                                                                            code: str) -> None:
    clock = Clock(app, local(2026, 12, 20, 12))
    calendar = app.services.appeals.calendar
    await resident(app, 931, lang=code)  # an admin who is also a registered resident
    await app.services.roles.grant(931, Role.ADMIN)
    assert await ensure_quarterly(app.services, app.settings, calendar) == "quarterly:2027-Q1"
    assert await ensure_quarterly(app.services, app.settings, calendar) == "quarterly:2027-Q1"  # idempotent
    task = await app.services.tasks.get("quarterly:2027-Q1")
    assert task is not None and task.due_at == datetime(2027, 1, 5, 5, 0, tzinfo=UTC)
    await meeting(app, local(2027, 2, 10, 11), kato=AZAT_OKRUG)  # Azat okrug has its report meeting
    await meeting(app, local(2027, 2, 11, 11), kato="114050000", kind="maslikhat_session")  # not a report
    await meeting(app, local(2027, 4, 2, 11), kato=DISTRICT)  # next quarter
    clock.set(datetime(2027, 1, 4, 12, tzinfo=UTC))  # a holiday: not yet
    assert await app.services.tasks.run_due() == 0
    clock.set(local(2027, 1, 5, 10))
    assert await app.services.tasks.run_due() == 1
    rows = await outbox(app)
    assert sorted(r.chat_id for r in rows) == [931, ADMIN]
    text = (await worded(app, next(r for r in rows if r.chat_id == 931)))["text"]
    admin_text = (await worded(app, next(r for r in rows if r.chat_id == ADMIN)))["text"]
    if code == "kk":
        assert "2027 жылғы 1-тоқсан" in text and "3 аумақта" in text
        assert "Ақкөл ауданы" in text and "Қараөзек ауылдық округі" in text and "Ұрымқай ауылдық округі" in text
    else:
        assert "1-й квартал 2027 года" in text and "на 3 территориях" in text
        assert "Аккольский район" in text and "Караозекский сельский округ" in text
    assert "Азат" not in text and "Азат" not in admin_text  # it has a meeting
    assert "2027 жылғы 1-тоқсан" in admin_text  # an admin who never registered hears the default language
    assert "/meeting" in text
    assert (await app.services.tasks.get("quarterly:2027-Q2")).due_at == datetime(2027, 4, 1, 5, 0, tzinfo=UTC)
    await app.sender.run_once()
    assert "Ақкөл ауданы" in tg.last(ADMIN).text


async def test_quarterly_reminder_catches_up_once_and_skips_a_quarter_long_gone(app: App) -> None:
    clock = Clock(app, local(2026, 12, 20, 12))
    calendar = app.services.appeals.calendar
    await ensure_quarterly(app.services, app.settings, calendar)
    clock.set(local(2027, 1, 20, 8))  # down over the first working day: it goes late, once
    await app.services.tasks.run_due()
    await app.services.tasks.run_due()
    assert [r.key for r in await outbox(app)] == [f"quarterly:2027-Q1:{ADMIN}"]
    await ensure_quarterly(app.services, app.settings, calendar)
    assert [t.key for t in await app.services.tasks.pending("quarterly:")] == ["quarterly:2027-Q2"]
    # down for the whole of Q2 and into Q3: Q2's reminder is skipped, Q3's goes once
    clock.set(local(2027, 7, 10, 12))
    await app.services.tasks.run_due()
    assert (await app.services.tasks.get("quarterly:2027-Q2")).outcome == "skipped"
    await app.services.tasks.run_due()
    assert [r.key for r in await outbox(app)] == [f"quarterly:2027-Q1:{ADMIN}", f"quarterly:2027-Q3:{ADMIN}"]
    assert [t.key for t in await app.services.tasks.pending("quarterly:")] == ["quarterly:2027-Q4"]


async def test_the_scheduler_starts_the_quarterly_chain(app: App) -> None:
    from bot.scheduler import build_scheduler

    scheduler = build_scheduler(app)
    job = scheduler.get_job("quarterly_reminder_chain")
    assert job is not None
    await job.func(*job.args)
    pending = [t.key for t in await app.services.tasks.pending("quarterly:")]
    assert len(pending) == 1 and quarters.parse_label(pending[0].split(":", 1)[1]) is not None
