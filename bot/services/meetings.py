"""Meetings: akim's report meetings, maslikhat sessions, local community gatherings and meetings.

The rules, no wording: a meeting is held for a territory and concerns everyone in it and below it; residents of
that territory and below see it, answer "I'll come / I won't" (the latest answer counts), send questions in
advance from the local day ``questions_open_days`` before the start until the start, and get reminders at the configured
offsets before it (``ScheduledTask`` rows keyed ``meeting:<id>:before:<offset>``; offsets already past at
creation are not scheduled). Cancelling a meeting cancels its reminders; moving it reschedules them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import offset_seconds
from bot.services.audit import audit
from bot.services.residents import Recipient, ResidentService
from bot.services.tasks import TaskService
from bot.services.territories import ancestors
from storage.db import dialect_insert
from storage.models import Meeting, Question, Report, Rsvp, ScheduledTask, Territory, utcnow

KINDS = ("akim_report", "maslikhat_session", "community_gathering", "community_meeting")
REMINDER_KIND = "meeting_reminder"
QUESTION_MAX = 1000  # characters of one question
PLACE_MAX, URL_MAX, AGENDA_MAX = 300, 500, 3000
LOOKBACK = timedelta(days=1)  # a meeting still running is "upcoming": none lasts longer than this


class MeetingError(Exception):
    """The meeting cannot take this action now."""


class MeetingNotFound(MeetingError):
    """No such meeting, or not one the resident may see."""


class MeetingClosed(MeetingError):
    """The meeting is cancelled or has started: no answers or questions any more."""


class QuestionsNotOpen(MeetingError):
    def __init__(self, opens_at: datetime) -> None:
        super().__init__(f"questions open at {opens_at.isoformat()}")
        self.opens_at = opens_at


def valid_url(url: str) -> bool:
    """An http(s) link with a host, no spaces, of a sane length."""
    if not url or len(url) > URL_MAX or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "." in (parts.hostname or "")


def reminder_key(meeting_id: int, offset: str) -> str:
    return f"meeting:{meeting_id}:before:{offset}"


def offset_of(key: str) -> str | None:
    """The offset of a reminder task key ``meeting:<id>:before:<offset>``."""
    parts = key.split(":")
    return parts[3] if len(parts) == 4 and parts[0] == "meeting" and parts[2] == "before" else None


@dataclass(frozen=True)
class RsvpCounts:
    coming: int
    not_coming: int


@dataclass(frozen=True)
class Cancelled:
    meeting: Meeting
    coming_resident_ids: list[int]


class MeetingService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], tasks: TaskService, residents: ResidentService,
                 *, reminder_offsets: Sequence[str] = ("7d", "1d", "1h"), questions_open_days: int = 30,
                 tz: str = "Asia/Almaty", clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions, self.tasks, self.residents = sessions, tasks, residents
        self.offsets = {o: timedelta(seconds=offset_seconds(o)) for o in reminder_offsets}
        self.questions_open_days = questions_open_days
        self.tz = ZoneInfo(tz)
        self.clock = clock

    # -- staff ---------------------------------------------------------------------------------------------

    async def create(self, *, kind: str, territory_kato: str, starts_at: datetime, agenda_kk: str, agenda_ru: str,
                     place: str | None = None, online_url: str | None = None, duration_minutes: int = 120,
                     created_by: int | None = None) -> Meeting:
        """Create a meeting and schedule its reminders. An akim's report meeting also takes the questions
        residents asked about the territory's reports while no such meeting was planned."""
        now = self.clock()
        if kind not in KINDS:
            raise ValueError(f"unknown meeting kind {kind!r}")
        if starts_at.tzinfo is None or starts_at <= now:
            raise MeetingError("a meeting must start in the future")
        if online_url and not valid_url(online_url):
            raise MeetingError("the online link must be an http(s) address")
        if not (agenda_kk or agenda_ru):
            raise MeetingError("the agenda is empty")
        async with self._sessions() as s, s.begin():
            if await s.get(Territory, territory_kato) is None:
                raise MeetingError("unknown territory")
            m = Meeting(kind=kind, territory_kato=territory_kato, starts_at=starts_at.astimezone(UTC),
                        duration_minutes=duration_minutes, place=(place or None) and place[:PLACE_MAX],
                        online_url=online_url or None, agenda_kk=agenda_kk[:AGENDA_MAX],
                        agenda_ru=agenda_ru[:AGENDA_MAX], created_by=created_by, created_at=now)
            s.add(m)
            await s.flush()
            for offset, delta in self.offsets.items():
                if m.starts_at - delta > now:
                    await self.tasks.schedule(reminder_key(m.id, offset), REMINDER_KIND, m.starts_at - delta,
                                              ref_id=m.id, session=s)
            if kind == "akim_report":
                reports = select(Report.id).where(Report.territory_kato == territory_kato)
                await s.execute(update(Question).where(Question.meeting_id.is_(None),
                                                       Question.report_id.in_(reports)).values(meeting_id=m.id))
            audit(s, "meeting.create", actor=created_by, object_type="meeting", object_id=m.id, kind=kind,
                  territory=territory_kato, starts_at=m.starts_at.isoformat())
        return m

    async def cancel(self, meeting_id: int, by: int | None = None) -> Cancelled:
        """Cancel a meeting that has not started; its reminders are cancelled. Returns who said they'd come."""
        now = self.clock()
        async with self._sessions() as s, s.begin():
            m = await _upcoming(s, meeting_id, now)
            m.cancelled_at = now
            coming = list(await s.scalars(select(Rsvp.resident_id).where(Rsvp.meeting_id == meeting_id,
                                                                         Rsvp.coming.is_(True))
                                          .order_by(Rsvp.resident_id)))
            audit(s, "meeting.cancel", actor=by, object_type="meeting", object_id=meeting_id)
        await self.tasks.cancel(f"meeting:{meeting_id}:")
        return Cancelled(m, coming)

    async def move(self, meeting_id: int, starts_at: datetime, by: int | None = None) -> Meeting:
        """Move a meeting to another time: reminders not sent yet move with it, offsets now ahead are added,
        offsets now past are cancelled. A reminder already sent is not sent again."""
        now = self.clock()
        if starts_at.tzinfo is None or starts_at <= now:
            raise MeetingError("a meeting must start in the future")
        async with self._sessions() as s, s.begin():
            m = await _upcoming(s, meeting_id, now)
            old, m.starts_at = m.starts_at, starts_at.astimezone(UTC)
            audit(s, "meeting.move", actor=by, object_type="meeting", object_id=meeting_id,
                  starts_at_before=old.isoformat(), starts_at=m.starts_at.isoformat())
            for offset, delta in self.offsets.items():
                key, due = reminder_key(meeting_id, offset), m.starts_at - delta
                if due > now:
                    if not await self.tasks.schedule(key, REMINDER_KIND, due, ref_id=meeting_id, session=s):
                        await s.execute(update(ScheduledTask).where(ScheduledTask.key == key,
                                                                    ScheduledTask.done_at.is_(None))
                                        .values(due_at=due))
                else:
                    await s.execute(update(ScheduledTask).where(ScheduledTask.key == key,
                                                                ScheduledTask.done_at.is_(None))
                                    .values(done_at=now, outcome="cancelled"))
        return m

    async def staff_list(self, limit: int = 20) -> list[Meeting]:
        """Meetings not cancelled that have not ended yet, soonest first (for the staff's /meeting)."""
        now = self.clock()
        async with self._sessions() as s:
            rows = await s.scalars(select(Meeting).where(Meeting.cancelled_at.is_(None),
                                                         Meeting.starts_at > now - LOOKBACK)
                                   .order_by(Meeting.starts_at, Meeting.id).limit(limit * 2))
            return [m for m in rows if _end(m) > now][:limit]

    # -- residents -----------------------------------------------------------------------------------------

    async def get(self, meeting_id: int) -> Meeting | None:
        async with self._sessions() as s:
            return await s.get(Meeting, meeting_id)

    async def get_for(self, meeting_id: int, territory_kato: str | None) -> Meeting:
        """The meeting if a resident of ``territory_kato`` may see it (it is held for their place or above)."""
        async with self._sessions() as s:
            m = await s.get(Meeting, meeting_id)
            if m is None or territory_kato is None or m.territory_kato not in await ancestors(s, territory_kato):
                raise MeetingNotFound(meeting_id)
            return m

    async def upcoming(self, territory_kato: str | None, *, limit: int = 50) -> list[Meeting]:
        """Meetings for the resident's place and above that have not ended and are not cancelled, soonest
        first."""
        if territory_kato is None:
            return []
        now = self.clock()
        async with self._sessions() as s:
            places = await ancestors(s, territory_kato)
            rows = await s.scalars(select(Meeting).where(Meeting.territory_kato.in_(places),
                                                         Meeting.cancelled_at.is_(None),
                                                         Meeting.starts_at > now - LOOKBACK)
                                   .order_by(Meeting.starts_at, Meeting.id).limit(limit * 2))
            return [m for m in rows if _end(m) > now][:limit]

    async def answer(self, meeting_id: int, resident_id: int, coming: bool) -> None:
        """Record "I'll come" / "I won't"; a later answer replaces the earlier one."""
        now = self.clock()
        async with self._sessions() as s, s.begin():
            await _upcoming(s, meeting_id, now)  # neither cancelled nor started
            insert = dialect_insert(s)
            stmt = insert(Rsvp).values(meeting_id=meeting_id, resident_id=resident_id, coming=coming,
                                       answered_at=now)
            await s.execute(stmt.on_conflict_do_update(index_elements=["meeting_id", "resident_id"],
                                                       set_={"coming": coming, "answered_at": now}))

    async def answer_of(self, meeting_id: int, resident_id: int) -> bool | None:
        async with self._sessions() as s:
            return await s.scalar(select(Rsvp.coming).where(Rsvp.meeting_id == meeting_id,
                                                            Rsvp.resident_id == resident_id))

    async def coming(self, meeting_id: int) -> list[int]:
        """Residents who said they would come."""
        async with self._sessions() as s:
            return list(await s.scalars(select(Rsvp.resident_id).where(Rsvp.meeting_id == meeting_id,
                                                                       Rsvp.coming.is_(True))
                                        .order_by(Rsvp.resident_id)))

    async def counts(self, meeting_id: int) -> RsvpCounts:
        async with self._sessions() as s:
            rows = dict((await s.execute(select(Rsvp.coming, func.count()).where(Rsvp.meeting_id == meeting_id)
                                         .group_by(Rsvp.coming))).all())
        return RsvpCounts(rows.get(True, 0), rows.get(False, 0))

    def questions_open_at(self, meeting: Meeting) -> datetime:
        """The start of the local day ``questions_open_days`` before the meeting's day."""
        day = meeting.starts_at.astimezone(self.tz).date() - timedelta(days=self.questions_open_days)
        return datetime.combine(day, time(0, 0), self.tz).astimezone(UTC)

    def check_questions_open(self, meeting: Meeting) -> None:
        """Raise unless questions for ``meeting`` are taken now."""
        now = self.clock()
        if meeting.cancelled_at is not None or meeting.starts_at <= now:
            raise MeetingClosed(meeting.id)
        if now < self.questions_open_at(meeting):
            raise QuestionsNotOpen(self.questions_open_at(meeting))

    async def ask(self, meeting_id: int, resident_id: int, text: str, language: str) -> Question:
        text = text.strip()[:QUESTION_MAX]
        if not text:
            raise MeetingError("empty question")
        async with self._sessions() as s, s.begin():
            m = await s.get(Meeting, meeting_id)
            if m is None:
                raise MeetingNotFound(meeting_id)
            self.check_questions_open(m)
            q = Question(meeting_id=meeting_id, resident_id=resident_id, text=text, language=language[:2],
                         created_at=self.clock())
            s.add(q)
        return q

    async def question_count(self, meeting_id: int) -> int:
        async with self._sessions() as s:
            return await s.scalar(select(func.count()).select_from(Question)
                                  .where(Question.meeting_id == meeting_id)) or 0

    async def next_report_meeting(self, territory_kato: str, s: AsyncSession | None = None) -> Meeting | None:
        """The next akim's report meeting of exactly this territory that has not started and is not cancelled."""
        q = (select(Meeting).where(Meeting.kind == "akim_report", Meeting.territory_kato == territory_kato,
                                   Meeting.cancelled_at.is_(None), Meeting.starts_at > self.clock())
             .order_by(Meeting.starts_at, Meeting.id).limit(1))
        if s is not None:
            return await s.scalar(q)
        async with self._sessions() as s2:
            return await s2.scalar(q)

    # -- reminders -----------------------------------------------------------------------------------------

    async def reminder_audience(self, meeting: Meeting) -> list[Recipient]:
        """Residents of the meeting's territory and below who allow notifications, except those who said
        "I won't come"."""
        async with self._sessions() as s:
            declined = set(await s.scalars(select(Rsvp.resident_id).where(Rsvp.meeting_id == meeting.id,
                                                                          Rsvp.coming.is_(False))))
        return [r for r in await self.residents.audience(meeting.territory_kato, notifications_only=True)
                if r.resident_id not in declined]

    def reminder_state(self, meeting: Meeting | None, offset: str, now: datetime) -> str | None:
        """Why a reminder at ``offset`` should not go now ("skipped" reasons), or None to send it.

        After downtime several reminders of one meeting may fall due at once: only the latest of them (the
        closest to the start) is sent, so nobody hears "in 7 days" and "tomorrow" in the same minute."""
        if meeting is None or meeting.cancelled_at is not None:
            return "skipped"
        if meeting.starts_at <= now:
            return "skipped"
        delta = self.offsets.get(offset)
        if delta is None:
            return "skipped"
        if any(other < delta and meeting.starts_at - other <= now for other in self.offsets.values()):
            return "skipped"  # a later reminder is due too: that one goes
        return None

    # -- the quarterly reminder ----------------------------------------------------------------------------

    async def without_report_meeting(self, start: datetime, end: datetime,
                                     levels: Sequence[str]) -> list[Territory]:
        """Territories of ``levels`` with no akim's report meeting (not cancelled) starting in [start, end)."""
        async with self._sessions() as s:
            held = select(Meeting.territory_kato).where(Meeting.kind == "akim_report",
                                                        Meeting.cancelled_at.is_(None),
                                                        Meeting.starts_at >= start, Meeting.starts_at < end)
            rows = await s.scalars(select(Territory).where(Territory.level.in_(list(levels)),
                                                           Territory.kato.not_in(held))
                                   .order_by(Territory.kato))
            return list(rows)


def _end(m: Meeting) -> datetime:
    return m.starts_at + timedelta(minutes=m.duration_minutes or 0)


async def _upcoming(s: AsyncSession, meeting_id: int, now: datetime) -> Meeting:
    """The meeting, if it is neither cancelled nor started: what cancel, move and an answer need."""
    m = await s.get(Meeting, meeting_id)
    if m is None:
        raise MeetingNotFound(meeting_id)
    if m.cancelled_at is not None or m.starts_at <= now:
        raise MeetingClosed(meeting_id)
    return m
