"""WorkCalendar: working days, holidays of Kazakhstan, registration and due dates.

Every expected date below was worked out by hand on a calendar; the weekdays the reasoning
relies on are double-checked with the ``calendar`` module in test_weekdays_used_in_reasoning.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.calendar import WorkCalendar

ALMATY = ZoneInfo("Asia/Almaty")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


def almaty(*args: int) -> datetime:
    return datetime(*args, tzinfo=ALMATY)


@pytest.mark.parametrize(
    ("d", "weekday"),
    [
        (date(2025, 6, 13), FRI),
        (date(2025, 6, 14), SAT),
        (date(2025, 6, 16), MON),
        (date(2025, 12, 15), MON),
        (date(2025, 12, 26), FRI),
        (date(2025, 12, 31), WED),
        (date(2026, 1, 5), MON),
        (date(2026, 1, 7), WED),
        (date(2026, 1, 21), WED),
        (date(2025, 3, 21), FRI),
        (date(2025, 3, 22), SAT),
        (date(2025, 7, 6), SUN),
        (date(2025, 7, 8), TUE),
        (date(2024, 1, 7), SUN),
        (date(2024, 6, 16), SUN),
        (date(2024, 5, 4), SAT),
        (date(2025, 1, 5), SUN),
        (date(2026, 5, 6), WED),
        (date(2026, 5, 9), SAT),
        (date(2026, 5, 16), SAT),
        (date(2023, 6, 12), MON),
    ],
)
def test_weekdays_used_in_reasoning(d: date, weekday: int) -> None:
    assert calendar.weekday(d.year, d.month, d.day) == weekday


# -- weekends and holidays ------------------------------------------------------------------


def test_weekend_is_off_weekdays_work(cal: WorkCalendar) -> None:
    assert cal.is_working_day(date(2025, 6, 13))  # Friday
    assert not cal.is_working_day(date(2025, 6, 14))  # Saturday
    assert not cal.is_working_day(date(2025, 6, 15))  # Sunday
    assert cal.is_working_day(date(2025, 6, 16))  # Monday


@pytest.mark.parametrize(
    "d",
    [
        date(2026, 1, 1),  # New Year, Thursday
        date(2026, 1, 2),  # New Year, Friday
        date(2024, 3, 8),  # International Women's Day, Friday
        date(2024, 3, 21),  # Nauryz, Thursday
        date(2024, 3, 22),  # Nauryz, Friday
        date(2023, 3, 23),  # Nauryz, Thursday
        date(2025, 5, 1),  # Unity Day, Thursday
        date(2025, 5, 7),  # Defender of the Fatherland Day, Wednesday
        date(2025, 5, 9),  # Victory Day, Friday
        date(2026, 7, 6),  # Capital Day, Monday
        date(2024, 8, 30),  # Constitution Day, Friday
        date(2024, 10, 25),  # Republic Day, Friday
        date(2025, 12, 16),  # Independence Day, Tuesday
    ],
)
def test_state_holidays_are_days_off(cal: WorkCalendar, d: date) -> None:
    assert calendar.weekday(d.year, d.month, d.day) < SAT  # off because of the holiday alone
    assert not cal.is_working_day(d)


@pytest.mark.parametrize(
    ("holiday", "day_off"),
    [
        (date(2025, 3, 8), date(2025, 3, 10)),  # Saturday -> Monday
        (date(2025, 3, 22), date(2025, 3, 24)),  # Nauryz 22-23 on Sat/Sun -> Mon 24, Tue 25
        (date(2025, 3, 23), date(2025, 3, 25)),
        (date(2025, 7, 6), date(2025, 7, 7)),  # Capital Day on Sunday -> Monday
        (date(2025, 8, 30), date(2025, 9, 1)),  # Constitution Day on Saturday -> Monday
        (date(2025, 10, 25), date(2025, 10, 27)),  # Republic Day on Saturday -> Monday
        (date(2026, 5, 9), date(2026, 5, 11)),  # Victory Day on Saturday -> Monday
    ],
)
def test_state_holiday_on_weekend_moves_day_off_to_next_working_day(
    cal: WorkCalendar, holiday: date, day_off: date
) -> None:
    assert not cal.is_working_day(holiday)
    assert not cal.is_working_day(day_off)


def test_independence_day_is_one_day_since_2022(cal: WorkCalendar) -> None:
    assert cal.is_working_day(date(2025, 12, 15))  # Monday, the eve
    assert not cal.is_working_day(date(2025, 12, 16))
    assert cal.is_working_day(date(2025, 12, 17))  # was a holiday until 2021


def test_religious_days_off_without_weekend_transfer(cal: WorkCalendar) -> None:
    # Labour Code art. 84 p. 5: 7 January and the first day of Kurban ait are days off,
    # but they are not state holidays, so no extra day when they fall on a weekend.
    assert not cal.is_working_day(date(2025, 1, 7))  # Orthodox Christmas, Tuesday
    assert not cal.is_working_day(date(2025, 6, 6))  # Kurban ait, Friday
    assert cal.is_working_day(date(2024, 1, 8))  # 7 Jan 2024 was a Sunday: Monday works
    assert cal.is_working_day(date(2024, 6, 17))  # Kurban ait 16 Jun 2024 was a Sunday


def test_transfers_known_to_the_package(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(date(2024, 5, 8))  # Wednesday off ...
    assert cal.is_working_day(date(2024, 5, 4))  # ... worked on Saturday 4 May 2024
    assert not cal.is_working_day(date(2025, 1, 3))  # Friday off ...
    assert cal.is_working_day(date(2025, 1, 5))  # ... worked on Sunday 5 January 2025


def test_years_load_lazily_also_for_worked_weekend_days() -> None:
    fresh = WorkCalendar()
    assert fresh.is_working_day(date(2025, 1, 5))  # first question ever: a worked Sunday
    assert not fresh.is_working_day(date(2030, 1, 1))
    assert fresh.is_working_day(date(2024, 5, 4))


# -- configured decree days -----------------------------------------------------------------

# Illustrative decree, not a real one: Friday 8 May 2026 off, Saturday 16 May 2026 worked.
DECREE = {"extra_days_off": [date(2026, 5, 8)], "extra_working_days": [date(2026, 5, 16)]}


def test_configured_day_off_and_working_saturday(cal: WorkCalendar) -> None:
    decreed = WorkCalendar(**DECREE)
    assert cal.is_working_day(date(2026, 5, 8))
    assert not decreed.is_working_day(date(2026, 5, 8))
    assert not cal.is_working_day(date(2026, 5, 16))
    assert decreed.is_working_day(date(2026, 5, 16))


def test_configured_days_shift_deadlines(cal: WorkCalendar) -> None:
    decreed = WorkCalendar(**DECREE)
    # From Wed 6 May 2026: 7 May holiday, 9 May Saturday holiday -> Monday 11 May off.
    # Default: Fri 8 (1), Tue 12 (2), Wed 13 (3), Thu 14 (4), Fri 15 (5).
    assert cal.add_working_days(date(2026, 5, 6), 3) == date(2026, 5, 13)
    assert cal.add_working_days(date(2026, 5, 6), 5) == date(2026, 5, 15)
    # Decree: 8 May off; Tue 12 (1), Wed 13 (2), Thu 14 (3), Fri 15 (4), Sat 16 (5).
    assert decreed.add_working_days(date(2026, 5, 6), 3) == date(2026, 5, 14)
    assert decreed.add_working_days(date(2026, 5, 6), 5) == date(2026, 5, 16)
    assert cal.next_working_day(date(2026, 5, 15)) == date(2026, 5, 18)
    assert decreed.next_working_day(date(2026, 5, 15)) == date(2026, 5, 16)


def test_configuration_can_correct_an_estimated_kurban_ait(cal: WorkCalendar) -> None:
    assert not cal.is_working_day(date(2026, 5, 27))  # the package's estimate
    corrected = WorkCalendar(extra_days_off=[date(2026, 5, 26)], extra_working_days=[date(2026, 5, 27)])
    assert not corrected.is_working_day(date(2026, 5, 26))
    assert corrected.is_working_day(date(2026, 5, 27))


def test_invalid_configuration() -> None:
    with pytest.raises(ValueError):
        WorkCalendar(extra_days_off=[date(2026, 5, 8)], extra_working_days=[date(2026, 5, 8)])
    with pytest.raises(ValueError):
        WorkCalendar(work_start=time(18, 0), work_end=time(9, 0))


# -- moving along the calendar --------------------------------------------------------------


def test_next_working_day_and_on_or_after(cal: WorkCalendar) -> None:
    assert cal.next_working_day(date(2025, 6, 16)) == date(2025, 6, 17)
    assert cal.next_working_day(date(2025, 6, 13)) == date(2025, 6, 16)  # Friday -> Monday
    assert cal.next_working_day(date(2025, 12, 31)) == date(2026, 1, 5)  # 1-2 Jan, weekend
    assert cal.working_day_on_or_after(date(2025, 6, 16)) == date(2025, 6, 16)
    assert cal.working_day_on_or_after(date(2025, 6, 14)) == date(2025, 6, 16)
    assert cal.working_day_on_or_after(date(2025, 3, 21)) == date(2025, 3, 26)  # Nauryz 21-25


def test_add_working_days_edges(cal: WorkCalendar) -> None:
    assert cal.add_working_days(date(2025, 6, 14), 0) == date(2025, 6, 14)  # even on a Saturday
    assert cal.add_working_days(date(2025, 6, 14), 1) == date(2025, 6, 16)
    with pytest.raises(ValueError):
        cal.add_working_days(date(2025, 6, 16), -1)
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2025, 6, 16, 10, 0, tzinfo=UTC))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("registered_on", "working_days", "due"),
    [
        # Dec 29 (1), 30 (2), 31 (3); 1-2 Jan holidays, 3-4 weekend; Jan 5 (4), 6 (5);
        # 7 Jan Christmas; 8 (6), 9 (7), 12-16 (8-12), 19 (13), 20 (14), 21 (15).
        (date(2025, 12, 26), 15, date(2026, 1, 21)),
        # Jun 17-20 (1-4), 23-27 (5-9), 30 (10), Jul 1-4 (11-14), Mon 7 Jul off, Tue 8 (15).
        (date(2025, 6, 16), 15, date(2025, 7, 8)),
        # Thu 20 Mar (1), Nauryz 21-25 Mar, 26-28 (2-4), 31 (5), Apr 1-4 (6-9), 7-11 (10-14), 14 (15).
        (date(2025, 3, 19), 15, date(2025, 4, 14)),
        (date(2025, 6, 16), 3, date(2025, 6, 19)),  # forwarding term
        (date(2025, 12, 31), 3, date(2026, 1, 8)),  # Jan 5 (1), 6 (2), 7 Christmas, 8 (3)
    ],
)
def test_due_date(cal: WorkCalendar, registered_on: date, working_days: int, due: date) -> None:
    assert cal.due_date(registered_on, working_days) == due
    assert cal.working_days_between(registered_on, due) == working_days


def test_due_date_defaults_to_15_working_days(cal: WorkCalendar) -> None:
    assert cal.due_date(date(2025, 12, 26)) == date(2026, 1, 21)


def test_working_days_between(cal: WorkCalendar) -> None:
    assert cal.working_days_between(date(2025, 6, 16), date(2025, 6, 16)) == 0
    assert cal.working_days_between(date(2025, 6, 13), date(2025, 6, 14)) == 0  # Fri -> Sat
    assert cal.working_days_between(date(2025, 6, 13), date(2025, 6, 16)) == 1  # Fri -> Mon
    assert cal.working_days_between(date(2025, 6, 16), date(2025, 7, 8)) == 15
    assert cal.working_days_between(date(2025, 7, 8), date(2025, 6, 16)) == -15
    # due Tue 8 Jul 2025: on Thu 10 Jul the answer is 2 working days overdue
    assert cal.working_days_between(date(2025, 7, 8), date(2025, 7, 10)) == 2


def test_working_days_between_inverts_add_working_days(cal: WorkCalendar) -> None:
    start = date(2025, 12, 20)
    for offset in range(0, 40, 3):
        s = start + timedelta(days=offset)
        for n in (0, 1, 3, 15):
            assert cal.working_days_between(s, cal.add_working_days(s, n)) == n


@pytest.mark.parametrize(
    ("d", "months", "expected"),
    [
        (date(2025, 11, 15), 2, date(2026, 1, 15)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 6, 16), 0, date(2025, 6, 16)),
    ],
)
def test_add_months(d: date, months: int, expected: date) -> None:
    assert WorkCalendar.add_months(d, months) == expected


# -- registration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received_at", "registered_on"),
    [
        (almaty(2025, 6, 16, 10, 0), date(2025, 6, 16)),  # Monday, office hours
        (almaty(2025, 6, 16, 7, 30), date(2025, 6, 16)),  # before opening: same working day
        (almaty(2025, 6, 16, 17, 59), date(2025, 6, 16)),
        (almaty(2025, 6, 16, 18, 0), date(2025, 6, 17)),  # closing time is after hours
        (almaty(2025, 6, 13, 19, 0), date(2025, 6, 16)),  # Friday evening -> Monday
        (almaty(2025, 6, 14, 12, 0), date(2025, 6, 16)),  # Saturday -> Monday
        (almaty(2025, 12, 15, 18, 30), date(2025, 12, 17)),  # eve of Independence Day
        (almaty(2025, 12, 31, 20, 0), date(2026, 1, 5)),  # New Year's eve -> after 1-4 Jan
        (almaty(2025, 3, 21, 10, 0), date(2025, 3, 26)),  # on Nauryz -> after 21-25 March
    ],
)
def test_registration_date(cal: WorkCalendar, received_at: datetime, registered_on: date) -> None:
    assert cal.registration_date(received_at) == registered_on


def test_registration_converts_utc_to_almaty(cal: WorkCalendar) -> None:
    received = datetime(2025, 6, 16, 20, 0, tzinfo=UTC)  # Monday 20:00 UTC
    local = received.astimezone(ALMATY)
    assert (local.date(), local.time()) == (date(2025, 6, 17), time(1, 0))  # Tuesday 01:00
    assert cal.registration_date(received) == date(2025, 6, 17)
    # Monday 12:30 UTC is 17:30 in Almaty: still office hours
    assert cal.registration_date(datetime(2025, 6, 16, 12, 30, tzinfo=UTC)) == date(2025, 6, 16)
    # 15:30 in Moscow (UTC+3) is 17:30 in Almaty
    moscow = datetime(2025, 6, 16, 15, 30, tzinfo=ZoneInfo("Europe/Moscow"))
    assert cal.registration_date(moscow) == date(2025, 6, 16)


def test_almaty_is_utc_plus_5_since_march_2024() -> None:
    # Needs system tzdata 2024a or later: Kazakhstan went to a single zone UTC+5 on 1 March 2024.
    assert ALMATY.utcoffset(datetime(2025, 6, 16, 12, 0)) == timedelta(hours=5)
    assert ALMATY.utcoffset(datetime(2024, 1, 15, 12, 0)) == timedelta(hours=6)
    cal = WorkCalendar()
    # Same 12:30 UTC: 17:30 local in 2025 (same day), but 18:30 local (+06) on Mon 12 Jun 2023.
    assert cal.registration_date(datetime(2023, 6, 12, 12, 30, tzinfo=UTC)) == date(2023, 6, 13)


def test_registration_requires_aware_datetime(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        cal.registration_date(datetime(2025, 6, 16, 10, 0))


def test_custom_hours_and_zone() -> None:
    utc_cal = WorkCalendar(tz="UTC", work_start=time(8, 0), work_end=time(17, 0))
    assert utc_cal.registration_date(datetime(2025, 6, 16, 16, 59, tzinfo=UTC)) == date(2025, 6, 16)
    assert utc_cal.registration_date(datetime(2025, 6, 16, 17, 0, tzinfo=UTC)) == date(2025, 6, 17)
