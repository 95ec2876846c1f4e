"""Appeals as rows for a spreadsheet: one row per appeal with its lifecycle, CSV or XLSX.

No Telegram, no wording: column names are fixed English identifiers, values are stored codes (status
``answered``, category ``water``, kind ``complaint``).

* Timestamps (``received_at``, ``taken_at``, ``answered_at``, ``closed_at``) are in UTC: ISO 8601 with
  ``+00:00`` in CSV, Excel datetimes holding the UTC wall time in XLSX (Excel has no time zones). Add five
  hours for Kazakhstan time. Dates (``registered_on``, ``due_on``, …) are calendar days in Kazakhstan.
* Personal data (``resident_name``, ``phone``, ``text``) is in the rows only with ``with_personal_data``;
  the other columns are the same either way, in the same order, even with no rows at all. The name and
  phone of an anonymous appeal stay empty even then: anonymity is kept in every export. Whoever exports
  personal data must leave a trace in the audit log (the CLI does).
* ``answered_on_time``: the answer's date in Kazakhstan is on or before the effective term (the extension
  if any, else ``due_on``), as in :meth:`AppealService.stats`; empty when there is no answer in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.services import spreadsheets
from bot.services.appeals import Action, AppealStatus, effective_due
from storage.models import Appeal, AppealEvent, Resident, Territory

COLUMNS: tuple[str, ...] = (
    "number", "kind", "category", "territory_kato", "territory_name_kk", "territory_name_ru", "language",
    "status", "anonymous", "received_at", "registered_on", "registration_number", "registration_date",
    "due_on", "extended_until", "taken_at", "answered_at", "closed_at", "forwarded_to", "rejected",
    "reopened_count", "rating", "repeat_of", "answered_on_time",
)
PERSONAL_COLUMNS: tuple[str, ...] = ("resident_name", "phone", "text")
TIMESTAMP_COLUMNS = frozenset({"received_at", "taken_at", "answered_at", "closed_at"})
# people's free text: may start with = + - @ and be taken for a formula by a spreadsheet
KAZAKHSTAN = ZoneInfo("Asia/Almaty")


def columns(with_personal_data: bool) -> tuple[str, ...]:
    return COLUMNS + PERSONAL_COLUMNS if with_personal_data else COLUMNS


def since_moment(since: date | datetime | None, tz: tzinfo = KAZAKHSTAN) -> datetime | None:
    """A date means the start of that day in Kazakhstan; an aware datetime is taken as it is."""
    if since is None or isinstance(since, datetime):
        if since is not None and since.tzinfo is None:
            raise ValueError("since: give an aware datetime or a date")
        return since
    return datetime.combine(since, time(0), tz).astimezone(UTC)


async def export_rows(
    sessions: async_sessionmaker[AsyncSession],
    *,
    with_personal_data: bool,
    territory_kato: str | None = None,
    since: date | datetime | None = None,
    tz: tzinfo | str = KAZAKHSTAN,
) -> list[dict[str, Any]]:
    """One dict per appeal, oldest first, keys :func:`columns`. ``territory_kato`` takes the territory and
    everything below it; ``since`` keeps appeals received at or after it (a date: from its start in
    Kazakhstan). Timestamps are aware UTC datetimes, dates are dates, flags are bools."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    start = since_moment(since, tz)
    taken = (select(AppealEvent.appeal_id, func.min(AppealEvent.at).label("taken_at"))
             .where(AppealEvent.action == Action.TAKE.value).group_by(AppealEvent.appeal_id).subquery())
    earlier = aliased(Appeal)
    q = (select(Appeal, Territory.name_kk, Territory.name_ru, taken.c.taken_at, earlier.number, Resident.phone)
         .outerjoin(Territory, Territory.kato == Appeal.territory_kato)
         .outerjoin(taken, taken.c.appeal_id == Appeal.id)
         .outerjoin(earlier, earlier.id == Appeal.repeat_of_id)
         .outerjoin(Resident, Resident.id == Appeal.resident_id)
         .order_by(Appeal.received_at, Appeal.id))
    if start is not None:
        q = q.where(Appeal.received_at >= start)
    if territory_kato is not None:
        tree = select(Territory.kato).where(Territory.kato == territory_kato).cte("subtree", recursive=True)
        tree = tree.union_all(select(Territory.kato).where(Territory.parent_kato == tree.c.kato))
        q = q.where(Appeal.territory_kato.in_(select(tree.c.kato)))
    async with sessions() as s:
        result = (await s.execute(q)).all()

    rows = []
    for a, name_kk, name_ru, taken_at, repeat_of, phone in result:
        in_force = a.answered_at is not None and a.status in (AppealStatus.ANSWERED, AppealStatus.CLOSED)
        row: dict[str, Any] = {
            "number": a.number, "kind": a.kind, "category": a.category, "territory_kato": a.territory_kato,
            "territory_name_kk": name_kk, "territory_name_ru": name_ru, "language": a.language,
            "status": a.status, "anonymous": bool(a.anonymous), "received_at": _utc(a.received_at),
            "registered_on": a.registered_on, "registration_number": a.registration_number,
            "registration_date": a.registration_date, "due_on": a.due_on, "extended_until": a.extended_until,
            "taken_at": _utc(taken_at), "answered_at": _utc(a.answered_at), "closed_at": _utc(a.closed_at),
            "forwarded_to": a.forwarded_to,
            "rejected": a.status == AppealStatus.REJECTED or a.rejection_reason is not None,
            "reopened_count": a.reopened_count or 0, "rating": a.rating, "repeat_of": repeat_of,
            "answered_on_time": (a.answered_at.astimezone(tz).date() <= effective_due(a)) if in_force else None,
        }
        if with_personal_data:
            row["resident_name"] = None if a.anonymous else a.contact_name
            row["phone"] = None if a.anonymous else phone
            row["text"] = a.text
        rows.append(row)
    return rows


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite inside a subquery: no type decorator applied
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC) if value is not None else None


def _header(rows: Sequence[dict[str, Any]], with_personal_data: bool | None) -> tuple[str, ...]:
    if with_personal_data is None:
        with_personal_data = bool(rows) and PERSONAL_COLUMNS[0] in rows[0]
    return columns(with_personal_data)


# -- CSV and XLSX (bot/services/spreadsheets.py) ------------------------------------------------


def _values(rows: Sequence[dict[str, Any]], header: tuple[str, ...]) -> list[list[Any]]:
    return [[row.get(c) for c in header] for row in rows]


def write_csv(rows: Sequence[dict[str, Any]], path: Path | str, *, with_personal_data: bool | None = None) -> int:
    """Write the rows as CSV (UTF-8 with a BOM for Excel) and return how many were written. The columns are
    those of the rows (personal data included when the rows have it) unless ``with_personal_data`` says
    otherwise."""
    header = _header(rows, with_personal_data)
    return spreadsheets.write_csv(path, header, _values(rows, header))


WIDTHS = {"number": 15, "kind": 11, "category": 20, "territory_kato": 12, "territory_name_kk": 24,
          "territory_name_ru": 24, "status": 12, "registration_number": 18, "forwarded_to": 30,
          "repeat_of": 15, "resident_name": 24, "phone": 15, "text": 60}


def write_xlsx(rows: Sequence[dict[str, Any]], path: Path | str, *, with_personal_data: bool | None = None) -> int:
    """Write the rows as an Excel workbook (one sheet, a bold frozen header row, column widths, a filter)
    and return how many were written."""
    header = _header(rows, with_personal_data)
    widths = {c: WIDTHS.get(c, 20 if c in TIMESTAMP_COLUMNS else max(10, len(c) + 2)) for c in header}
    return spreadsheets.write_xlsx(path, [("appeals", header, _values(rows, header))], widths=widths,
                                   auto_filter=True)
