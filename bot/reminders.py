"""Messages the bot sends on its own about meetings, all through the outbox as notices (kind and parameters,
worded here in the reader's language when they are sent: ``register_notices``):

* reminders before a meeting (``ScheduledTask`` kind ``meeting_reminder``, key ``meeting:<id>:before:<offset>``),
  to the residents of its territory and below who allow notifications, except those who said "I won't come";
  outbox key ``meeting:<id>:<offset>:<resident_id>``, priority REMINDER. A reminder for a meeting that has
  started or was cancelled is "skipped"; after downtime only the latest of the reminders due at once goes;
* the notice that a meeting is cancelled, to those who said they would come (effect ``meeting_cancelled``),
  whether or not they turned notices off: they planned to come;
* the quarterly reminder to admins (kind ``quarterly_reports``, key ``quarterly:<year>-Q<n>``): on the first
  working day of each quarter at ``[meetings] quarterly_reminder_time`` local time, the list of districts,
  cities and rural okrugs (``REPORT_LEVELS``: the territories whose akim reports to residents; villages are
  served by their okrug's akim, the oblast is beyond a district bot) with no akim's report meeting planned in
  the quarter. Each run schedules the next quarter; the scheduler also calls :func:`ensure_quarterly`
  periodically, so the chain starts on a fresh install and survives anything. A run long after its quarter
  ended is skipped; a late run within the quarter still sends, once (outbox keys).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.flows import meeting_texts
from bot.flows.base import esc
from bot.flows.common import quarter_name
from bot.i18n import I18n, Translator
from bot.services import quarters
from bot.services.meetings import REMINDER_KIND, offset_of
from bot.services.outbox import Outgoing, Priority
from bot.services.roles import Role
from storage.models import ScheduledTask, Territory

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.delivery.notices import Notices, Reader
    from bot.effects import Effects
    from bot.flows.base import Services
    from bot.services.calendar import WorkCalendar

QUARTERLY_KIND = "quarterly_reports"
# notice kinds (outbox rows)
REMINDER_NOTICE, CANCELLED_NOTICE, QUARTERLY_NOTICE = "meeting_reminder", "meeting_cancelled", "quarterly_reports"
REPORT_LEVELS = ("city", "district", "okrug")
LIST_MAX = 60  # territories named in one quarterly message; the rest are counted
log = logging.getLogger("qatysu.reminders")


def quarterly_key(year: int, q: int) -> str:
    return f"quarterly:{quarters.label(year, q)}"


async def ensure_quarterly(services: Services, settings: Settings, calendar: WorkCalendar,
                           now: datetime | None = None) -> str:
    """Make sure the quarterly reminder is scheduled: this quarter's if its time has not come yet, else the
    next quarter's. Idempotent (the key). Returns the key."""
    now = now or services.tasks.clock()
    at = settings.meetings.quarterly_reminder_time
    year, q = quarters.quarter_of(now.astimezone(calendar.tz).date())
    if quarters.reminder_due(calendar, year, q, at) <= now:
        year, q = quarters.next_quarter(year, q)
    key = quarterly_key(year, q)
    await services.tasks.schedule(key, QUARTERLY_KIND, quarters.reminder_due(calendar, year, q, at))
    return key


class MeetingNotices:
    def __init__(self, services: Services, settings: Settings, i18n: I18n, calendar: WorkCalendar) -> None:
        self.services, self.settings, self.i18n, self.calendar = services, settings, i18n, calendar

    def register(self, effects: Effects, notices: Notices) -> None:
        self.services.tasks.register(REMINDER_KIND, self.meeting_reminder)
        self.services.tasks.register(QUARTERLY_KIND, self.quarterly)
        effects.register("meeting_cancelled", self.on_effect)
        notices.register(REMINDER_NOTICE, self.render_reminder)
        notices.register(CANCELLED_NOTICE, self.render_cancelled)
        notices.register(QUARTERLY_NOTICE, self.render_quarterly)

    async def _territory_name(self, tr: Translator, kato: str) -> str:
        t = await self.services.territories.get(kato)
        return t.name(tr.lang) if t else kato

    # -- the wording, when a notice is sent --------------------------------------------------------------------

    async def render_reminder(self, p: dict, reader: Reader) -> dict | None:
        meeting = await self.services.meetings.get(p["meeting_id"])
        if meeting is None or meeting.cancelled_at is not None:
            return None
        tr = self.i18n(reader.language)
        header = _in_time(tr, timedelta(seconds=p["left"]))  # the time left when it was due
        place = await self._territory_name(tr, meeting.territory_kato)
        return {"text": f"{header}\n\n" + meeting_texts.notice(tr, meeting, place),
                "buttons": meeting_texts.buttons(tr, meeting.id)}

    async def render_cancelled(self, p: dict, reader: Reader) -> dict | None:
        meeting = await self.services.meetings.get(p["meeting_id"])
        if meeting is None:
            return None
        tr = self.i18n(reader.language)
        place = await self._territory_name(tr, meeting.territory_kato)
        text = tr._("❌ <b>The meeting is cancelled.</b> You said you would come; we are sorry for the change.")
        return {"text": text + "\n\n" + meeting_texts.notice(tr, meeting, place)}

    async def render_quarterly(self, p: dict, reader: Reader) -> dict | None:
        missing = [t for t in [await self.services.territories.get(k) for k in p["katos"]] if t is not None]
        return {"text": self.quarterly_text(self.i18n(reader.language), p["year"], p["q"], missing,
                                            total=p.get("total"))}

    # -- reminders -----------------------------------------------------------------------------------------

    async def meeting_reminder(self, task: ScheduledTask, now: datetime) -> str:
        meetings = self.services.meetings
        meeting = await meetings.get(task.ref_id) if task.ref_id is not None else None
        offset = offset_of(task.key) or ""
        why_not = meetings.reminder_state(meeting, offset, now)
        if why_not is not None or meeting is None:
            return why_not or "skipped"
        recipients = await meetings.reminder_audience(meeting)
        left = max(0, int((meeting.starts_at - now).total_seconds()))
        await self.services.outbox.enqueue(
            Outgoing(f"meeting:{meeting.id}:{offset}:{r.resident_id}", REMINDER_NOTICE,
                     {"meeting_id": meeting.id, "left": left}, resident_id=r.resident_id, priority=Priority.REMINDER)
            for r in recipients)
        return "sent"

    async def on_effect(self, name: str, meeting_id: int) -> None:
        if name == "meeting_cancelled":
            await self.cancelled(meeting_id)

    async def cancelled(self, meeting_id: int, resident_ids: list[int] | None = None) -> int:
        """Tell those who said they would come that the meeting is cancelled."""
        meeting = await self.services.meetings.get(meeting_id)
        if meeting is None or meeting.cancelled_at is None:
            return 0
        if resident_ids is None:
            resident_ids = await self.services.meetings.coming(meeting_id)
        if not resident_ids:
            return 0
        recipients = await self.services.residents.audience(None, resident_ids=resident_ids,
                                                            notifications_only=False)
        return await self.services.outbox.enqueue(
            Outgoing(f"meeting:{meeting.id}:cancelled:{r.resident_id}", CANCELLED_NOTICE, {"meeting_id": meeting.id},
                     resident_id=r.resident_id, priority=Priority.NOTICE) for r in recipients)

    # -- the quarterly reminder ----------------------------------------------------------------------------

    async def quarterly(self, task: ScheduledTask, now: datetime) -> str:
        parsed = quarters.parse_label(task.key.split(":", 1)[-1])
        if parsed is None:
            return "skipped"
        year, q = parsed
        start, end = quarters.bounds(year, q, self.calendar.tz)
        # the chain goes on first, whatever happens below: the next quarter (or the current one after a long
        # stop, whose first working day may be past: it then runs at the next poll)
        ny, nq = quarters.next_quarter(year, q)
        current = quarters.quarter_of(now.astimezone(self.calendar.tz).date())
        if (ny, nq) < current:
            ny, nq = current
        at = self.settings.meetings.quarterly_reminder_time
        await self.services.tasks.schedule(quarterly_key(ny, nq), QUARTERLY_KIND,
                                           quarters.reminder_due(self.calendar, ny, nq, at))
        if now >= end:
            return "skipped"
        missing = await self.services.meetings.without_report_meeting(start, end, REPORT_LEVELS)
        if not missing:
            return "none_missing"
        admins = sorted({e.user_id for e in await self.services.roles.list() if e.role == Role.ADMIN})
        params = {"year": year, "q": q, "katos": [t.kato for t in missing[:LIST_MAX]], "total": len(missing)}
        await self.services.outbox.enqueue(Outgoing(f"{task.key}:{user_id}", QUARTERLY_NOTICE, params,
                                                    chat_id=user_id, priority=Priority.NOTICE) for user_id in admins)
        return "sent"

    @staticmethod
    def quarterly_text(tr: Translator, year: int, q: int, missing: list[Territory], total: int | None = None) -> str:
        """``missing``: the territories to name (at most LIST_MAX are); ``total``: how many there are in all."""
        total = len(missing) if total is None else total
        quarter = quarter_name(tr, year, q)
        lines = [tr._("📊 <b>Report meetings, {quarter}</b>", quarter=quarter),
                 tr.ngettext("No akim's report meeting is planned yet in {n} territory this quarter:",
                             "No akim's report meeting is planned yet in {n} territories this quarter:",
                             total)]
        shown = missing[:LIST_MAX]
        lines += [f"• {esc(t.name(tr.lang), 200)}" for t in shown]
        if total > len(shown):
            lines.append(tr.ngettext("…and {n} more", "…and {n} more", total - len(shown)))
        lines += ["", tr._("To plan one, send /meeting.")]
        return "\n".join(lines)


def _in_time(tr: Translator, left: timedelta) -> str:
    """"⏰ Reminder: in 7 days" from the time actually left (a reminder sent late after a stop stays true)."""
    seconds = max(left.total_seconds(), 60)
    if seconds >= 86400 - 1800:
        n = max(1, round(seconds / 86400))
        return tr.ngettext("⏰ Reminder: the meeting is in {n} day.", "⏰ Reminder: the meeting is in {n} days.", n)
    if seconds >= 3600 - 300:
        n = max(1, round(seconds / 3600))
        return tr.ngettext("⏰ Reminder: the meeting is in {n} hour.", "⏰ Reminder: the meeting is in {n} hours.", n)
    n = max(1, round(seconds / 60))
    return tr.ngettext("⏰ Reminder: the meeting is in {n} minute.", "⏰ Reminder: the meeting is in {n} minutes.", n)

