"""Quarters of the year in local time: periods of akim's reports and the quarterly reminder to admins."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.services.calendar import WorkCalendar

PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4]))?$")  # "2026-Q3" or a whole year "2026"


def quarter_of(d: date) -> tuple[int, int]:
    return d.year, (d.month - 1) // 3 + 1


def first_day(year: int, q: int) -> date:
    return date(year, 3 * (q - 1) + 1, 1)


def next_quarter(year: int, q: int) -> tuple[int, int]:
    return (year + 1, 1) if q == 4 else (year, q + 1)


def previous_quarter(year: int, q: int) -> tuple[int, int]:
    return (year - 1, 4) if q == 1 else (year, q - 1)


def label(year: int, q: int) -> str:
    return f"{year}-Q{q}"


def parse_label(text: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"(\d{4})-Q([1-4])", text.strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def valid_period(text: str) -> bool:
    """A report period: a quarter "2026-Q3" or a year "2026", between 2000 and 2100."""
    m = PERIOD.match(text.strip())
    return bool(m) and 2000 <= int(m.group(1)) <= 2100


def bounds(year: int, q: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The quarter as [start, end) in UTC, its days counted in local time."""
    start = datetime.combine(first_day(year, q), time(0, 0), tz)
    ny, nq = next_quarter(year, q)
    end = datetime.combine(first_day(ny, nq), time(0, 0), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def first_working_day(calendar: WorkCalendar, year: int, q: int) -> date:
    return calendar.working_day_on_or_after(first_day(year, q))


def reminder_due(calendar: WorkCalendar, year: int, q: int, at: time) -> datetime:
    """The first working day of the quarter at ``at`` local time, in UTC."""
    return datetime.combine(first_working_day(calendar, year, q), at, calendar.tz).astimezone(UTC)


def recent(today: date, n: int = 4) -> list[str]:
    """The current quarter and the ``n - 1`` before it, newest first: choices for a report's period."""
    year, q = quarter_of(today)
    out = []
    for _ in range(n):
        out.append(label(year, q))
        year, q = previous_quarter(year, q)
    return out
