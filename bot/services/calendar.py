"""Working-days calendar for appeal deadlines (Administrative Procedural Code of RK).

Pure domain code: no Telegram, no database. The rules it serves:

* an appeal is registered the day it is received, or the next working day if it arrives
  after working hours or on a day off (see :meth:`WorkCalendar.registration_date`);
* it must be answered within 15 working days of registration (:meth:`WorkCalendar.due_date`);
* forwarding to a competent body: within 3 working days (``due_date(registered_on, 3)``);
* an extension may bring the total to at most 2 months (:meth:`WorkCalendar.add_months`).

Where the days off come from
----------------------------
From the ``holidays`` package (``holidays.country_holidays("KZ")``, checked against 0.109):

* the national and state holidays of the Law "On holidays in RK", art. 5: New Year 1-2 Jan,
  8 March, Nauryz 21-23 March, 1 May, 7 May, 9 May, 6 July (Capital Day), 30 August
  (Constitution Day; the package moves it to 15 March from 2027 and has none in 2026),
  25 October (Republic Day), 16 December (Independence Day);
* their weekend transfers ("observed"): a state holiday falling on Saturday/Sunday makes the
  next working day a day off (e.g. 6 July 2025, a Sunday, makes Monday 7 July a day off);
* the religious days off of the Labour Code, art. 84 p. 5: 7 January (Orthodox Christmas) and
  the first day of Kurban ait. Both ARE non-working days in Kazakhstan, but, not being state
  holidays, they are NOT transferred when they fall on a weekend. The package models exactly
  this (they are in the holiday list, without "observed" days), so we take them as they are;
* the government's yearly transfers of days off, for the years the package knows (up to 2025
  in 0.109: e.g. 8 May 2024 off with Saturday 4 May 2024 worked; 3 January 2025 off with
  Sunday 5 January 2025 worked). The worked weekend days are read from the package's public
  ``weekend_workdays`` attribute via ``HolidayBase.is_working_day``.

From configuration (``extra_days_off`` / ``extra_working_days``):

* every transfer decreed by the government for years the package does not know yet (the
  decree for the next year appears in autumn; the package learns it only in a later release):
  the moved day off goes to ``extra_days_off``, the Saturday made working to ``extra_working_days``;
* corrections of the Kurban ait date: for future years the package only *estimates* it; the
  date set by the Spiritual Administration of Muslims may differ by a day. Put the real date in
  ``extra_days_off`` and the estimated one in ``extra_working_days``;
* any one-off day off (e.g. a day of national mourning).

Precedence: ``extra_working_days`` > ``extra_days_off`` > the package > the Saturday/Sunday
weekend. A date may not be in both configured sets.

Time zone: Kazakhstan moved to a single time zone UTC+5 on 1 March 2024; with the system tzdata
(2024a or later) ``Asia/Almaty`` is UTC+6 before that instant and UTC+5 after it.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

COUNTRY = "KZ"
_ONE_DAY = timedelta(days=1)


class WorkCalendar:
    """Working days of an akimat in Kazakhstan (five-day week, Saturday and Sunday off).

    Public holidays are loaded lazily from the ``holidays`` package, one year at a time as
    dates are asked about. See the module docstring for what comes from the package and what
    must come from configuration.
    """

    def __init__(
        self,
        tz: str = "Asia/Almaty",
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        work_start: time = time(9, 0),
        work_end: time = time(18, 0),
    ) -> None:
        self.tz = ZoneInfo(tz)
        self.extra_days_off = frozenset(_plain_date(d) for d in extra_days_off)
        self.extra_working_days = frozenset(_plain_date(d) for d in extra_working_days)
        both = self.extra_days_off & self.extra_working_days
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates configured both as day off and as working day: {listed}")
        if not work_start < work_end:
            raise ValueError("work_start must be earlier than work_end")
        self.work_start = work_start
        self.work_end = work_end
        self._years: set[int] = set()
        self._holidays: holidays.HolidayBase | None = None
        self._working: dict[date, bool] = {}  # each date asked about (a due date asks about some twenty) answered once

    # -- days ---------------------------------------------------------------------------------

    def _package(self, year: int) -> holidays.HolidayBase:
        """The package's KZ calendar, (re)built to cover ``year``."""
        if self._holidays is None or year not in self._years:
            self._years.add(year)
            self._holidays = holidays.country_holidays(COUNTRY, years=sorted(self._years))
        return self._holidays

    def is_working_day(self, d: date) -> bool:
        d = _plain_date(d)
        known = self._working.get(d)
        if known is None:
            known = self._working[d] = self._is_working_day(d)
        return known

    def _is_working_day(self, d: date) -> bool:
        if d in self.extra_working_days:
            return True
        if d in self.extra_days_off:
            return False
        # The package's own check: a weekend day is working only if a decree made it so
        # (``weekend_workdays``); any other day is working unless it is in the holiday list.
        return self._package(d.year).is_working_day(d)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        d = _plain_date(d) + _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def working_day_on_or_after(self, d: date) -> date:
        d = _plain_date(d)
        return d if self.is_working_day(d) else self.next_working_day(d)

    def add_working_days(self, start: date, n: int) -> date:
        """The date ``n`` working days after ``start`` (``start`` itself is not counted).

        ``n == 0`` returns ``start`` unchanged, even if it is a day off.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        d = _plain_date(start)
        for _ in range(n):
            d = self.next_working_day(d)
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in the interval (a, b]; negative (minus those in (b, a]) when b < a.

        * ``working_days_between(registered_on, due_date(registered_on, n)) == n``;
        * ``0 <= working_days_between(today, due) <= 2``: due within two working days;
        * ``working_days_between(due, today) > 0``: overdue by that many working days.
        """
        a, b = _plain_date(a), _plain_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        d = a + _ONE_DAY
        while d <= b:
            count += self.is_working_day(d)
            d += _ONE_DAY
        return count

    # -- appeals ------------------------------------------------------------------------------

    def registration_date(self, received_at: datetime) -> date:
        """The registration date of an appeal received at ``received_at`` (timezone-aware).

        ``received_at`` is converted to the calendar's time zone, then:

        * a working day, before ``work_end`` -> that day. This includes messages sent before
          ``work_start`` (e.g. 07:30): the office processes them that same working day;
        * a working day at or after ``work_end`` (``work_end`` itself is after hours) -> the
          next working day;
        * a day off (weekend, holiday, configured day off) -> the next working day.
        """
        if received_at.tzinfo is None or received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")
        local = received_at.astimezone(self.tz)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.work_end:
            return day
        return self.next_working_day(day)

    def due_date(self, registered_on: date, working_days: int = 15) -> date:
        """Last day of the term: ``working_days`` working days after the registration day.

        The term runs from the day after registration (the registration day is not counted),
        so an appeal registered on Monday 16 June 2025 is due on Tuesday 8 July 2025.
        Use ``working_days=3`` for the forwarding term.
        """
        return self.add_working_days(registered_on, working_days)

    @staticmethod
    def add_months(d: date, months: int) -> date:
        """``d`` plus ``months`` calendar months, clamped to the end of the target month
        (31 Dec + 2 months -> 28/29 Feb). ``months`` may be negative."""
        d = _plain_date(d)
        year, month0 = divmod(d.year * 12 + d.month - 1 + months, 12)
        day = min(d.day, _calendar.monthrange(year, month0 + 1)[1])
        return date(year, month0 + 1, day)


def _plain_date(d: date) -> date:
    """Refuse datetimes: their calendar date depends on the time zone; use registration_date
    or convert with ``.astimezone(calendar.tz).date()`` first."""
    if isinstance(d, datetime):
        raise TypeError("expected a date, got a datetime")
    if not isinstance(d, date):
        raise TypeError(f"expected a date, got {type(d).__name__}")
    return d
