"""What a resident reads about a meeting: the notice text and its buttons, shared by the meetings flow, the
reminders and the secretary's announcement (a broadcast built from the meeting).

``notice`` returns HTML; whatever staff typed (place, link, agenda) is escaped here, as is the territory name.
``buttons`` returns rows in the outbox payload shape (``{"text": ..., "data": ...}``, see bot/delivery/sender.py);
the flows turn them into :class:`bot.flows.base.Button` with :func:`as_buttons`. Their data start with "mt:"
and are routed from anywhere by bot/flows/engine.py.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from html import escape
from typing import TYPE_CHECKING, Any

from bot.flows.base import Button, esc
from bot.flows.buttons import Int, Kind
from bot.i18n import N_

if TYPE_CHECKING:
    from bot.i18n import Translator
    from storage.models import Meeting

PREFIX = "mt:"
# "mt:<action>:<meeting id>": I'll come, I won't, the calendar file, a question; open one; a page of the list
COME, NOT_COME, CALENDAR, QUESTION = Kind("mt:y", Int()), Kind("mt:n", Int()), Kind("mt:ics", Int()), \
    Kind("mt:q", Int())
OPEN, PAGE_TO = Kind("mt:o", Int()), Kind("mt:pg", Int())
KINDS = {
    "akim_report": N_("Akim's report meeting"),
    "maslikhat_session": N_("Maslikhat session"),
    "community_gathering": N_("Local community gathering"),
    "community_meeting": N_("Local community meeting"),
}
AGENDA_LIMIT = 2000  # characters of the agenda shown in a notice (a caption or message stays within Telegram's)


def kind_name(tr: Translator, kind: str) -> str:
    return tr._(KINDS[kind]) if kind in KINDS else kind


def when(tr: Translator, meeting: Meeting) -> str:
    """Local date and time, e.g. "12 наурыз 2027, 10:00"."""
    return tr.datetime(meeting.starts_at)


def notice(tr: Translator, meeting: Meeting, territory_name: str, agenda_limit: int = AGENDA_LIMIT) -> str:
    """The notice of a meeting in ``tr``'s language: kind, territory, local date and time, place, online link,
    agenda. ``territory_name`` is plain text (escaped here)."""
    lines = [f"📅 <b>{escape(kind_name(tr, meeting.kind), quote=False)}</b>", f"📍 {esc(territory_name, 200)}",
             tr._("🕙 When: {when}", when=when(tr, meeting))]
    if meeting.place:
        lines.append(tr._("🏛 Place: {place}", place=esc(meeting.place, 300)))
    if meeting.online_url:
        url = escape(meeting.online_url[:500], quote=True)
        lines.append(tr._("🔗 Online: {link}", link=f'<a href="{url}">{esc(meeting.online_url, 120)}</a>'))
    if meeting.cancelled_at is not None:
        lines.append(tr._("❌ <b>Cancelled</b>"))
    agenda = meeting.agenda(tr.lang) or meeting.agenda("ru" if tr.lang == "kk" else "kk")
    if agenda:
        title = tr._("Agenda")
        lines += ["", f"<b>{title}</b>", esc(agenda, agenda_limit)]
    return "\n".join(lines)


def buttons(tr: Translator, meeting_id: int) -> list[list[dict[str, Any]]]:
    """I'll come / I won't / calendar file / ask a question, in the outbox payload shape."""
    return [
        [{"text": tr._("✅ I'll come"), "data": COME.pack(meeting_id)},
         {"text": tr._("🚫 I won't come"), "data": NOT_COME.pack(meeting_id)}],
        [{"text": tr._("📅 Calendar file"), "data": CALENDAR.pack(meeting_id)},
         {"text": tr._("❓ Ask a question"), "data": QUESTION.pack(meeting_id)}],
    ]


def as_buttons(rows: list[list[dict[str, Any]]]) -> list[list[Button]]:
    return [[Button(b["text"], b.get("data"), b.get("url")) for b in row] for row in rows]


def ics(tr: Translator, meeting: Meeting, territory_name: str) -> bytes:
    """An iCalendar file for the meeting: UID stable per meeting, times in UTC, texts in ``tr``'s language."""
    from icalendar import Calendar  # only when someone asks for the file: start-up does not need it
    from icalendar import Event as CalendarEvent

    cal = Calendar()
    cal.add("prodid", "-//Qatysu//meetings//KK-RU")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    ev = CalendarEvent()
    ev.add("uid", f"meeting-{meeting.id}@qatysu")
    ev.add("dtstamp", (meeting.announced_at or meeting.created_at).astimezone(UTC))
    start = meeting.starts_at.astimezone(UTC)
    ev.add("dtstart", start)
    ev.add("dtend", start + timedelta(minutes=meeting.duration_minutes or 120))
    ev.add("summary", f"{kind_name(tr, meeting.kind)}: {territory_name}")
    if meeting.place:
        ev.add("location", meeting.place)
    elif meeting.online_url:
        ev.add("location", meeting.online_url)
    if meeting.online_url:
        ev.add("url", meeting.online_url)
    description = meeting.agenda(tr.lang) or meeting.agenda("ru" if tr.lang == "kk" else "kk")
    if meeting.online_url:
        description = f"{description}\n\n{meeting.online_url}"
    ev.add("description", description)
    ev.add("status", "CANCELLED" if meeting.cancelled_at is not None else "CONFIRMED")
    cal.add_component(ev)
    return cal.to_ical()
