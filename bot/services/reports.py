"""Akim's reports (әкімнің есебі): published by an admin for a territory and a period; residents of that
territory and below read them, rate them 1–5 (one rating each, changeable) and ask questions for the next
report meeting. A question about a report is attached to the next akim's report meeting of the report's
territory if one is planned, else to the first one created later (bot/services/meetings.py ``create``).

Also the admins' view of collected questions (per meeting, per report) and their export rows: question text,
language, time (UTC) and the settlement of the resident who asked, never their name or phone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import spreadsheets
from bot.services.audit import audit
from bot.services.quarters import valid_period
from bot.services.territories import ancestors
from storage.db import dialect_insert
from storage.models import Meeting, Question, Report, ReportRating, Resident, Territory, utcnow

TITLE_MAX, SUMMARY_MAX, QUESTION_MAX, DOC_NAME_MAX = 200, 3000, 1000, 200


class ReportError(Exception):
    pass


class ReportNotFound(ReportError):
    """No such report, or not one of the resident's territory and above."""


@dataclass(frozen=True)
class Rating:
    mean: float | None
    count: int


@dataclass(frozen=True)
class Asked:
    question: Question
    meeting: Meeting | None


@dataclass(frozen=True)
class QuestionGroup:
    """Questions collected for one meeting, or for one report not yet attached to a meeting."""

    meeting: Meeting | None
    report: Report | None
    count: int


class ReportService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self.clock = clock

    async def publish(self, *, territory_kato: str, period: str, title_kk: str, title_ru: str, summary_kk: str,
                      summary_ru: str, document_media_id: int | None = None, document_name: str | None = None,
                      published_by: int | None = None) -> Report:
        if not valid_period(period):
            raise ReportError(f"bad period {period!r}")
        if not (title_kk.strip() and title_ru.strip() and summary_kk.strip() and summary_ru.strip()):
            raise ReportError("titles and summaries are required in both languages")
        async with self._sessions() as s, s.begin():
            if await s.get(Territory, territory_kato) is None:
                raise ReportError("unknown territory")
            r = Report(territory_kato=territory_kato, period=period.strip(), title_kk=title_kk.strip()[:TITLE_MAX],
                       title_ru=title_ru.strip()[:TITLE_MAX], summary_kk=summary_kk.strip()[:SUMMARY_MAX],
                       summary_ru=summary_ru.strip()[:SUMMARY_MAX], document_media_id=document_media_id,
                       document_name=(document_name or None) and document_name[:DOC_NAME_MAX],
                       published_by=published_by, published_at=self.clock())
            s.add(r)
            await s.flush()
            audit(s, "report.publish", actor=published_by, object_type="report", object_id=r.id,
                  territory=territory_kato, period=r.period)
        return r

    async def get(self, report_id: int) -> Report | None:
        async with self._sessions() as s:
            return await s.get(Report, report_id)

    async def list_for(self, territory_kato: str | None, *, limit: int = 5, offset: int = 0) -> list[Report]:
        """Reports of the resident's place and everything above it, newest first."""
        if territory_kato is None:
            return []
        async with self._sessions() as s:
            places = await ancestors(s, territory_kato)
            return list(await s.scalars(select(Report).where(Report.territory_kato.in_(places))
                                        .order_by(Report.published_at.desc(), Report.id.desc())
                                        .limit(limit).offset(offset)))

    async def get_for(self, report_id: int, territory_kato: str | None) -> Report:
        async with self._sessions() as s:
            r = await s.get(Report, report_id)
            if r is None or territory_kato is None or r.territory_kato not in await ancestors(s, territory_kato):
                raise ReportNotFound(report_id)
            return r

    async def rate(self, report_id: int, resident_id: int, stars: int) -> None:
        if not 1 <= stars <= 5:
            raise ReportError("stars must be 1..5")
        now = self.clock()
        async with self._sessions() as s, s.begin():
            if await s.get(Report, report_id) is None:
                raise ReportNotFound(report_id)
            insert = dialect_insert(s)
            stmt = insert(ReportRating).values(report_id=report_id, resident_id=resident_id, stars=stars,
                                               rated_at=now)
            await s.execute(stmt.on_conflict_do_update(index_elements=["report_id", "resident_id"],
                                                       set_={"stars": stars, "rated_at": now}))

    async def rating_of(self, report_id: int, resident_id: int) -> int | None:
        async with self._sessions() as s:
            return await s.scalar(select(ReportRating.stars).where(ReportRating.report_id == report_id,
                                                                   ReportRating.resident_id == resident_id))

    async def rating(self, report_id: int) -> Rating:
        async with self._sessions() as s:
            mean, count = (await s.execute(select(func.avg(ReportRating.stars), func.count())
                                           .where(ReportRating.report_id == report_id))).one()
        return Rating(float(mean) if mean is not None else None, int(count or 0))

    async def ask(self, report_id: int, resident_id: int, text: str, language: str) -> Asked:
        """A question about a report, for the next akim's report meeting of its territory (if planned)."""
        text = text.strip()[:QUESTION_MAX]
        if not text:
            raise ReportError("empty question")
        now = self.clock()
        async with self._sessions() as s, s.begin():
            r = await s.get(Report, report_id)
            if r is None:
                raise ReportNotFound(report_id)
            meeting = await s.scalar(
                select(Meeting).where(Meeting.kind == "akim_report", Meeting.territory_kato == r.territory_kato,
                                      Meeting.cancelled_at.is_(None), Meeting.starts_at > now)
                .order_by(Meeting.starts_at, Meeting.id).limit(1))
            q = Question(report_id=report_id, meeting_id=meeting.id if meeting else None, resident_id=resident_id,
                         text=text, language=language[:2], created_at=now)
            s.add(q)
        return Asked(q, meeting)

    # -- the admins' view -----------------------------------------------------------------------------------

    async def question_groups(self, limit: int = 20) -> list[QuestionGroup]:
        """Meetings with their question counts (those not ended first, soonest first; then the latest past
        ones), then reports whose questions wait for a meeting."""
        now = self.clock()
        async with self._sessions() as s:
            counts = (select(Question.meeting_id, func.count().label("n")).where(Question.meeting_id.is_not(None))
                      .group_by(Question.meeting_id).subquery())
            rows = (await s.execute(select(Meeting, func.coalesce(counts.c.n, 0))
                                    .outerjoin(counts, counts.c.meeting_id == Meeting.id)
                                    .where(Meeting.cancelled_at.is_(None))
                                    .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(200))).all()
            waiting = (await s.execute(select(Report, func.count(Question.id))
                                       .join(Question, Question.report_id == Report.id)
                                       .where(Question.meeting_id.is_(None))
                                       .group_by(Report.id).order_by(Report.published_at.desc(), Report.id.desc())
                                       .limit(limit))).all()
        ahead = sorted([(m, n) for m, n in rows if m.starts_at >= now], key=lambda mn: (mn[0].starts_at, mn[0].id))
        past = [(m, n) for m, n in rows if m.starts_at < now and n]
        groups = [QuestionGroup(m, None, int(n)) for m, n in ahead + past]
        groups = groups[:limit]
        groups += [QuestionGroup(None, r, int(n)) for r, n in waiting]
        return groups

    async def questions(self, *, meeting_id: int | None = None, report_id: int | None = None,
                        limit: int | None = None) -> list[dict[str, Any]]:
        """Rows for the admins and the export, oldest first: id, meeting_id, report_id, language, created_at
        (aware UTC), territory_kato, territory_name_kk, territory_name_ru (the asker's settlement), text."""
        if (meeting_id is None) == (report_id is None):
            raise ValueError("give a meeting or a report")
        q = (select(Question, Resident.territory_kato, Territory.name_kk, Territory.name_ru)
             .join(Resident, Resident.id == Question.resident_id)
             .outerjoin(Territory, Territory.kato == Resident.territory_kato)
             .order_by(Question.created_at, Question.id))
        q = q.where(Question.meeting_id == meeting_id) if meeting_id is not None else \
            q.where(Question.report_id == report_id)
        if limit is not None:
            q = q.limit(limit)
        async with self._sessions() as s:
            result = (await s.execute(q)).all()
        return [{"id": qu.id, "meeting_id": qu.meeting_id, "report_id": qu.report_id, "language": qu.language,
                 "created_at": qu.created_at.astimezone(UTC), "territory_kato": kato, "territory_name_kk": kk,
                 "territory_name_ru": ru, "text": qu.text} for qu, kato, kk, ru in result]


# -- export ----------------------------------------------------------------------------------------------------

QUESTION_COLUMNS = ("id", "meeting_id", "report_id", "language", "created_at", "territory_kato",
                    "territory_name_kk", "territory_name_ru", "text")


def _values(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [[row.get(c) for c in QUESTION_COLUMNS] for row in rows]


def write_questions_csv(rows: Sequence[dict[str, Any]], path: Path | str) -> int:
    """UTF-8 with a BOM, so that Excel reads Kazakh and Russian letters."""
    return spreadsheets.write_csv(path, QUESTION_COLUMNS, _values(rows))


def write_questions_xlsx(rows: Sequence[dict[str, Any]], path: Path | str) -> int:
    widths = {c: 24 for c in QUESTION_COLUMNS if c.startswith("territory_name")} | {"created_at": 20, "text": 80}
    return spreadsheets.write_xlsx(path, [("questions", QUESTION_COLUMNS, _values(rows))], widths=widths)
