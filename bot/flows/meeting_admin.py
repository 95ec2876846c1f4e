"""Secretaries and admins: /meeting lists the upcoming meetings, creates one (kind → territory → local date and
time → place → online link → agenda kk → agenda ru → preview → create) and cancels one.

Creating appends the effect ("meeting_created", id): the announcement to residents is a broadcast built from
the meeting (bot/flows/meeting_texts.py); cancelling appends ("meeting_cancelled", id): those who said they
would come are told (bot/reminders.py).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from bot.flows import staff_pick, territory
from bot.flows.base import Button, Ctx, clip, esc
from bot.flows.buttons import Choice, Int, Kind
from bot.flows.common import BACK, CANCEL, nav_row, wrong_input
from bot.flows.meeting_texts import KINDS, kind_name, notice
from bot.flows.registry import ALL_STEPS, Command, FlowSpec
from bot.i18n import N_
from bot.services.meetings import AGENDA_MAX, PLACE_MAX, MeetingError, MeetingNotFound, valid_url
from bot.services.roles import Role
from storage.models import Meeting
from storage.state import State

NAME = "meeting_admin"
PREFIX = "ms:"
OPEN, CANCEL_MEETING, CANCEL_YES = Kind("ms:o", Int()), Kind("ms:c", Int()), Kind("ms:cy", Int())
KIND_BUTTON = Kind("ms:k", Choice(tuple(KINDS)))
NEW, NO_PLACE, NO_URL, CREATE = (Kind("ms:new").pack(), Kind("ms:noplace").pack(), Kind("ms:nourl").pack(),
                                 Kind("ms:ok").pack())
ROLES = (Role.SECRETARY,)  # and admins, who hold every role
HOME, VIEW, CONFIRM_CANCEL = "home", "view", "confirm_cancel"
KIND, TERRITORY, DAY, CLOCK, PLACE, ONLINE, AGENDA_KK, AGENDA_RU, PREVIEW = (
    "kind", "territory", "day", "clock", "place", "online", "agenda_kk", "agenda_ru", "preview")
PREVIOUS = {KIND: HOME, TERRITORY: KIND, DAY: TERRITORY, CLOCK: DAY, PLACE: CLOCK, ONLINE: PLACE,
            AGENDA_KK: ONLINE, AGENDA_RU: AGENDA_KK, PREVIEW: AGENDA_RU}
DATE_RE = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$")
ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
TIME_RE = re.compile(r"^(\d{1,2})[:.](\d{2})$")


async def command(ctx: Ctx) -> None:
    """/meeting; the role was checked by bot/flows/staff.py."""
    ctx.state = State(NAME, HOME, {})
    await prompt(ctx)


# the territory picker asks this instead of "Where do you live?" (bot/flows/territory.py)
ASK_PLACE = N_("For which territory is the meeting? Its residents and those of the places in it will be told. "
               "Open the list down to it and press «✅ Here», or type part of its name.")


def parse_day(text: str) -> date | None:
    text = text.strip()
    m = DATE_RE.match(text)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = ISO_DATE_RE.match(text)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return None


def parse_clock(text: str) -> time | None:
    m = TIME_RE.match(text.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return time(int(m.group(1)), int(m.group(2)))


def _draft(ctx: Ctx) -> Meeting:
    """The meeting being prepared, as an unsaved row, for the preview."""
    d = ctx.state.data  # type: ignore[union-attr]
    return Meeting(id=0, kind=d["kind"], territory_kato=d["territory"], starts_at=_starts_at(ctx),
                   duration_minutes=120, place=d.get("place"), online_url=d.get("url"), agenda_kk=d["agenda_kk"],
                   agenda_ru=d["agenda_ru"], cancelled_at=None, announced_at=None, created_at=None)


def _starts_at(ctx: Ctx) -> datetime:
    d = ctx.state.data  # type: ignore[union-attr]
    local = datetime.combine(date.fromisoformat(d["day"]), time.fromisoformat(d["clock"]), ctx.tr.tz)
    return local.astimezone(UTC)


async def prompt(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    assert st is not None
    d = st.data
    if st.step == HOME:
        meetings = await ctx.services.meetings.staff_list()
        rows = []
        for m in meetings:
            place = await ctx.services.territories.get(m.territory_kato)
            label = f"{tr.datetime(m.starts_at)} · {kind_name(tr, m.kind)} · {place.name(ctx.lang) if place else ''}"
            rows.append([Button(clip(label), OPEN.pack(m.id))])
        rows.append([Button(tr._("➕ New meeting"), NEW)])
        rows.append([Button(tr._("✖ Close"), CANCEL)])
        ctx.show(tr._("Upcoming meetings. Choose one to see the answers or to cancel it, or create a new one:")
                 if meetings else tr._("No meetings are planned. Create one:"), rows)
    elif st.step == VIEW:
        await _view(ctx)
    elif st.step == CONFIRM_CANCEL:
        counts = await ctx.services.meetings.counts(int(d["meeting"]))
        ctx.show(tr.ngettext("Cancel this meeting? {n} resident who said they would come will be told.",
                             "Cancel this meeting? {n} residents who said they would come will be told.",
                             counts.coming),
                 [[Button(tr._("Yes, cancel the meeting"), CANCEL_YES.pack(int(d["meeting"]))),
                   Button(tr._("No, keep it"), BACK)]])
    elif st.step == KIND:
        ctx.show(tr._("What kind of meeting is it?"),
                 [[Button(kind_name(tr, k), KIND_BUTTON.pack(k))] for k in KINDS] + [nav_row(ctx)])
    elif st.step == TERRITORY:
        st.data["ask"] = ASK_PLACE
        await staff_pick.limit_picker(ctx, Role.SECRETARY)
        await territory.show(ctx)
    elif st.step == DAY:
        ctx.show(tr._("On what day? Type the date as DD.MM.YYYY, e.g. {example}.",
                      example=tr.local(ctx.services.meetings.clock()).strftime("%d.%m.%Y")), [nav_row(ctx)])
    elif st.step == CLOCK:
        ctx.show(tr._("At what time (local time)? Type it as HH:MM, e.g. 10:00."), [nav_row(ctx)])
    elif st.step == PLACE:
        ctx.show(tr._("Where? Type the address and the room, e.g. «Akimat, assembly hall». If the meeting is only "
                      "online, press the button."), [[Button(tr._("🌐 Online only"), NO_PLACE)],
                                                      nav_row(ctx)])
    elif st.step == ONLINE:
        ctx.show(tr._("Send the link to the online broadcast or call (http:// or https://), or press «No online "
                      "link»."), [[Button(tr._("No online link"), NO_URL)], nav_row(ctx)])
    elif st.step == AGENDA_KK:
        ctx.show(tr.ngettext("Type the agenda in Kazakh (up to {max} character).",
                             "Type the agenda in Kazakh (up to {max} characters).", AGENDA_MAX, max=AGENDA_MAX),
                 [nav_row(ctx)])
    elif st.step == AGENDA_RU:
        ctx.show(tr.ngettext("Type the agenda in Russian (up to {max} character).",
                             "Type the agenda in Russian (up to {max} characters).", AGENDA_MAX, max=AGENDA_MAX),
                 [nav_row(ctx)])
    elif st.step == PREVIEW:
        place = await ctx.services.territories.get(d["territory"])
        draft = _draft(ctx)
        parts = [tr._("<b>Check the notice.</b> Residents will read it in their language:")]
        for lang in ("kk", "ru"):
            t = ctx.i18n(lang)
            parts.append(notice(t, draft, place.name(lang) if place else d["territory"], agenda_limit=1200))
        ctx.show("\n\n".join(parts), [[Button(tr._("✅ Create and announce"), CREATE)], nav_row(ctx)])


async def _view(ctx: Ctx) -> None:
    st, tr, svc = ctx.state, ctx.tr, ctx.services.meetings
    m = await svc.get(int(st.data["meeting"]))
    if m is None:
        ctx.show(tr._("This meeting was not found."))
        st.step, st.data = HOME, {}
        await prompt(ctx)
        return
    place = await ctx.services.territories.get(m.territory_kato)
    counts = await svc.counts(m.id)
    questions = await svc.question_count(m.id)
    lines = [notice(tr, m, place.name(ctx.lang) if place else m.territory_kato), "",
             tr._("Will come: {coming} · Won't come: {not_coming} · Questions: {questions}",
                  coming=counts.coming, not_coming=counts.not_coming, questions=questions),
             tr._("Link for posters: /start meeting_{id}", id=m.id)]
    rows = []
    if m.cancelled_at is None and m.starts_at > svc.clock():
        rows.append([Button(tr._("✖ Cancel the meeting"), CANCEL_MEETING.pack(m.id))])
    rows.append([Button(tr._("« Back"), BACK)])
    ctx.show("\n".join(lines), rows)


async def _mine(ctx: Ctx, kato: str) -> bool:
    """Whether the sender's territory covers ``kato``; if not, say so (a secretary limited to a territory)."""
    if await ctx.services.roles.covers(ctx.event.user_id, Role.SECRETARY, kato):
        return True
    ctx.show(ctx.tr._("You can plan and cancel meetings only in your territory."))
    return False


async def handle(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    assert st is not None
    if not await staff_pick.allowed(ctx, *ROLES):
        return
    if st.step == TERRITORY:
        await staff_pick.limit_picker(ctx, Role.SECRETARY)
        picked = await territory.handle(ctx)
        if picked == BACK:
            st.step = KIND
            await prompt(ctx)
        elif picked:
            st.data["territory"], st.step = picked, DAY
            await prompt(ctx)
        return
    if ev.kind == "button" and ev.data == BACK:
        if st.step in (VIEW, CONFIRM_CANCEL):
            st.step = HOME if st.step == VIEW else VIEW
        elif st.step in PREVIOUS:
            st.step = PREVIOUS[st.step]
            if st.step == TERRITORY:
                st.data["node"], st.data["page"] = None, 0
        else:
            await staff_pick.leave(ctx, tr._("Closed."))
            return
        await prompt(ctx)
        return
    step = {HOME: _home, VIEW: _home, CONFIRM_CANCEL: _confirm, KIND: _kind, DAY: _day, CLOCK: _clock,
            PLACE: _place, ONLINE: _online, AGENDA_KK: _agenda, AGENDA_RU: _agenda, PREVIEW: _preview}[st.step]
    await step(ctx)


async def _home(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    data = ev.data if ev.kind == "button" else ""
    if data == NEW:
        st.step, st.data = KIND, {}
    elif (meeting_id := OPEN.value(data)) is not None:
        st.step, st.data = VIEW, {"meeting": meeting_id}
    elif (meeting_id := CANCEL_MEETING.value(data)) is not None and st.step == VIEW \
            and meeting_id == st.data.get("meeting"):
        m = await ctx.services.meetings.get(meeting_id)
        if m is not None and m.cancelled_at is None:
            st.step = CONFIRM_CANCEL
    else:
        wrong_input(ctx)
    await prompt(ctx)


async def _confirm(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    meeting_id = CANCEL_YES.value(ev.data) if ev.kind == "button" else None
    if meeting_id is None or meeting_id != st.data.get("meeting"):
        wrong_input(ctx)
        await prompt(ctx)
        return
    m = await ctx.services.meetings.get(meeting_id)
    if m is not None and not await _mine(ctx, m.territory_kato):
        st.step, st.data = HOME, {}
        await prompt(ctx)
        return
    try:
        done = await ctx.services.meetings.cancel(meeting_id, by=ctx.event.user_id)
    except MeetingNotFound:
        ctx.show(tr._("This meeting was not found."))
    except MeetingError:
        ctx.show(tr._("This meeting is already cancelled or has started."))
    else:
        ctx.effects.append(("meeting_cancelled", meeting_id))
        ctx.show(tr.ngettext("The meeting is cancelled. {n} resident who said they would come will be told.",
                             "The meeting is cancelled. {n} residents who said they would come will be told.",
                             len(done.coming_resident_ids)))
    st.step, st.data = HOME, {}
    await prompt(ctx)


async def _kind(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    kind = KIND_BUTTON.value(ev.data) if ev.kind == "button" else None
    if kind is not None:
        st.data["kind"], st.step = kind, TERRITORY
        st.data["node"], st.data["page"] = None, 0
    else:
        wrong_input(ctx)
    await prompt(ctx)


def _typed(ctx: Ctx) -> str | None:
    """The text typed at this step, or None after a hint (the caller shows the question again)."""
    ev = ctx.event
    if ev.kind == "text" and ev.text.strip():
        return ev.text.strip()
    if ev.kind == "button":
        wrong_input(ctx)
    else:
        ctx.show(ctx.tr._("Please type it as a text message."))
    return None


async def _day(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    text = _typed(ctx)
    clock = None
    if text is not None and len(text.split()) == 2:  # "10.12.2026 15:00", as the /campaign wizard takes it
        text, clock = text.split()[0], parse_clock(text.split()[1])
    if text is not None:
        day = parse_day(text)
        today = tr.local(ctx.services.meetings.clock()).date()
        if day is None:
            ctx.show(tr._("I could not read the date. Please type it as DD.MM.YYYY, e.g. {example}.",
                          example=today.strftime("%d.%m.%Y")))
        elif day < today:
            ctx.show(tr._("That day has passed. Please type a date from today on."))
        elif (day - today).days > 366:
            ctx.show(tr._("That is more than a year ahead. Please check the year."))
        else:
            st.data["day"], st.step = day.isoformat(), CLOCK
            if clock is not None:  # the time came with the date: as if typed at the next step
                _set_clock(ctx, clock)
    await prompt(ctx)


async def _clock(ctx: Ctx) -> None:
    tr = ctx.tr
    text = _typed(ctx)
    if text is not None:
        at = parse_clock(text)
        if at is None:
            ctx.show(tr._("I could not read the time. Please type it as HH:MM, e.g. 10:00."))
        else:
            _set_clock(ctx, at)
    await prompt(ctx)


def _set_clock(ctx: Ctx, at: time) -> None:
    st = ctx.state
    st.data["clock"] = at.isoformat(timespec="minutes")
    if _starts_at(ctx) <= ctx.services.meetings.clock():
        ctx.show(ctx.tr._("That time has passed. Please type a later time, or go back and choose another day."))
        st.data.pop("clock")
    else:
        st.step = PLACE


async def _place(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    if ev.kind == "button" and ev.data == NO_PLACE:
        st.data["place"], st.step = None, ONLINE
    else:
        text = _typed(ctx)
        if text is not None and len(text) > PLACE_MAX:
            ctx.show(tr.ngettext("That is {n} character; the limit is {max}. Please shorten it.",
                                 "That is {n} characters; the limit is {max}. Please shorten it.", len(text),
                                 max=PLACE_MAX))
        elif text is not None:
            st.data["place"], st.step = text, ONLINE
    await prompt(ctx)


async def _online(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    if ev.kind == "button" and ev.data == NO_URL:
        if not st.data.get("place"):
            ctx.show(tr._("A meeting needs a place or an online link. Please send the link, or go back and type "
                          "the place."))
        else:
            st.data["url"], st.step = None, AGENDA_KK
    else:
        text = _typed(ctx)
        if text is not None and not valid_url(text):
            ctx.show(tr._("That is not a web link. Please send an address beginning with http:// or https://."))
        elif text is not None:
            st.data["url"], st.step = text, AGENDA_KK
    await prompt(ctx)


async def _agenda(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    text = _typed(ctx)
    if text is not None and len(text) > AGENDA_MAX:
        ctx.show(tr.ngettext("That is {n} character; the limit is {max}. Please shorten it.",
                             "That is {n} characters; the limit is {max}. Please shorten it.", len(text),
                             max=AGENDA_MAX))
    elif text is not None:
        st.data[st.step] = text
        st.step = AGENDA_RU if st.step == AGENDA_KK else PREVIEW
    await prompt(ctx)


async def _preview(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    if not (ev.kind == "button" and ev.data == CREATE):
        wrong_input(ctx)
        await prompt(ctx)
        return
    d = st.data
    if not await _mine(ctx, d["territory"]):
        st.step = TERRITORY
        await prompt(ctx)
        return
    try:
        m = await ctx.services.meetings.create(
            kind=d["kind"], territory_kato=d["territory"], starts_at=_starts_at(ctx), place=d.get("place"),
            online_url=d.get("url"), agenda_kk=d["agenda_kk"], agenda_ru=d["agenda_ru"], created_by=ev.user_id)
    except MeetingError:
        ctx.show(tr._("The meeting could not be created: its time may have passed. Please check the day and time."))
        st.step = DAY
        await prompt(ctx)
        return
    ctx.effects.append(("meeting_created", m.id))
    place = await ctx.services.territories.get(m.territory_kato)
    await staff_pick.leave(ctx, tr._("✅ The meeting is created: {kind}, {when}. The residents of {place} will get "
                                     "the notice and reminders. Link for posters: /start meeting_{id}",
                                     kind=kind_name(tr, m.kind), when=tr.datetime(m.starts_at),
                                     place=esc(place.name(ctx.lang)) if place else "—", id=m.id))


FLOW = FlowSpec(name=NAME, handle=handle, prompt=prompt, buttons=(PREFIX,), drafts=frozenset({ALL_STEPS}), staff=True,
                commands=(Command("meeting", command, N_("Meetings: plan or cancel"), ROLES, ROLES, 160,
                                  registered=False),))
