"""Meetings for residents: the upcoming ones of their place and above, one meeting with "I'll come / I won't",
a calendar file, and a question sent in advance.

The "mt:" buttons also sit on notices, reminders and announcements, so they work from anywhere
(:func:`from_anywhere`, declared in FLOW below): an answer or a calendar file is given without leaving
the step the person is in; opening a meeting or asking a question puts that step aside and comes back to it.
"""

from __future__ import annotations

from bot.flows import menu
from bot.flows.base import Button, Ctx, esc
from bot.flows.common import BACK, paging_row, question_text, wrong_input
from bot.flows.meeting_texts import (
    CALENDAR,
    COME,
    NOT_COME,
    OPEN,
    PAGE_TO,
    PREFIX,
    QUESTION,
    as_buttons,
    buttons,
    ics,
    kind_name,
    notice,
)
from bot.flows.registry import Anywhere, DeepLink, FlowSpec, MenuEntry, Reach
from bot.i18n import N_, Translator
from bot.services.meetings import QUESTION_MAX, MeetingClosed, MeetingError, MeetingNotFound, QuestionsNotOpen
from storage.models import Meeting
from storage.state import State

NAME = "meetings"
LIST, VIEW, ASK = "list", "view", "ask"
PAGE = 5
QUICK = {"y": COME, "n": NOT_COME, "ics": CALENDAR}  # answered without leaving the step one is in


async def enter(ctx: Ctx, meeting_id: int | None = None) -> None:
    ctx.state = State(NAME, LIST, {"page": 0})
    if meeting_id is not None:
        await _open(ctx, meeting_id)
    else:
        await prompt(ctx)


def _quick_press(data: str) -> tuple[str, int] | None:
    """("y" | "n" | "ics", meeting id) of an answer or calendar button, else None."""
    return next(((a, m) for a, kind in QUICK.items() if (m := kind.value(data)) is not None), None)


async def from_anywhere(ctx: Ctx) -> None:
    """An "mt:" button pressed by a registered resident, whatever step they are in."""
    st, data = ctx.state, ctx.event.data
    if st is None or st.flow == NAME:
        if st is None:
            ctx.state = State(NAME, LIST, {"page": 0})
        await handle(ctx)
        return
    other = ctx.flows.get(st.flow)
    quick = _quick_press(data)
    if quick is not None:  # answer without leaving the step, then show that step again
        await _quick(ctx, *quick)
        if other is not None and other.prompt is not None:
            ctx.show(ctx.tr._("Now, back to where you were:"))
            await other.prompt(ctx)
        return
    resume = {"flow": st.flow, "step": st.step, "data": st.data}
    ctx.state = State(NAME, LIST, {"page": 0, "resume": resume})
    await handle(ctx)


async def _leave(ctx: Ctx) -> None:
    """Back from the list: to the step put aside, else to the main menu."""
    resume = ctx.state.data.get("resume") if ctx.state else None
    if resume:
        ctx.state = State(resume["flow"], resume["step"], resume.get("data") or {})
        flow = ctx.flows.get(resume["flow"])
        if flow is not None and flow.prompt is not None:
            ctx.show(ctx.tr._("Now, back to where you were:"))
            await flow.prompt(ctx)
            return
    ctx.state = None
    await menu.show(ctx)


async def prompt(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    assert st is not None and ctx.resident is not None
    if st.step == LIST:
        page = max(0, int(st.data.get("page", 0)))
        items = await ctx.services.meetings.upcoming(ctx.resident.territory_kato, limit=(page + 1) * PAGE + 1)
        shown = items[page * PAGE:(page + 1) * PAGE]
        if not shown and page == 0:
            ctx.show(tr._("No meetings are planned for your place yet. We will let you know when one is "
                          "announced."))
            await _leave(ctx)
            return
        rows = [[Button(f"{tr.datetime(m.starts_at)} · {kind_name(tr, m.kind)}", OPEN.pack(m.id))]
                for m in shown]
        paging = paging_row(PAGE_TO, page, len(items) > (page + 1) * PAGE)
        if paging:
            rows.append(paging)
        rows.append([Button(tr._("« Back"), BACK)])
        ctx.show(tr._("Upcoming meetings for your place, soonest first. Choose one:"), rows)
    elif st.step == VIEW:
        try:
            await _show(ctx, int(st.data["meeting"]))
        except MeetingNotFound:  # moved to another place meanwhile
            _not_found(ctx)
            st.step = LIST
            await prompt(ctx)
    elif st.step == ASK:
        ctx.show(tr.ngettext("Write your question for the meeting in one message (up to {max} character). "
                             "It will be passed to the speakers before the meeting.",
                             "Write your question for the meeting in one message (up to {max} characters). "
                             "It will be passed to the speakers before the meeting.", QUESTION_MAX, max=QUESTION_MAX),
                 [[Button(tr._("« Back"), BACK)]])


async def _territory_name(ctx: Ctx, kato: str) -> str:
    t = await ctx.services.territories.get(kato)
    return t.name(ctx.lang) if t else kato


async def _show(ctx: Ctx, meeting_id: int) -> None:
    tr, svc = ctx.tr, ctx.services.meetings
    m = await svc.get_for(meeting_id, ctx.resident.territory_kato)
    lines = [notice(tr, m, await _territory_name(ctx, m.territory_kato)), ""]
    answer = await svc.answer_of(m.id, ctx.resident.id)
    now = svc.clock()
    open_ = m.cancelled_at is None and m.starts_at > now
    if answer is True:
        lines.append(tr._("Your answer: ✅ I'll come."))
    elif answer is False:
        lines.append(tr._("Your answer: 🚫 I won't come."))
    if open_:
        opens = svc.questions_open_at(m)
        if now < opens:
            lines.append(tr._("Questions for this meeting are taken from {date}.", date=tr.date(opens)))
        else:
            lines.append(tr._("You can send a question for this meeting until it starts."))
    elif m.cancelled_at is None:
        lines.append(tr._("This meeting has already started."))
    if open_:
        rows = as_buttons(_marked(tr, m.id, answer))
    elif m.cancelled_at is None:
        rows = [[Button(tr._("📅 Calendar file"), CALENDAR.pack(m.id))]]
    else:
        rows = []
    rows.append([Button(tr._("« Back"), BACK)])
    ctx.show("\n".join(lines).rstrip(), rows)


def _marked(tr: Translator, meeting_id: int, answer: bool | None) -> list[list[dict]]:
    rows = buttons(tr, meeting_id)
    if answer is not None:  # a tick on the answer given
        chosen = rows[0][0 if answer else 1]
        chosen["text"] = "• " + chosen["text"] + " •"
    return rows


async def _open(ctx: Ctx, meeting_id: int) -> None:
    st = ctx.state
    try:
        m = await ctx.services.meetings.get_for(meeting_id, ctx.resident.territory_kato)
    except MeetingNotFound:
        _not_found(ctx)
        st.step = LIST
        await prompt(ctx)
        return
    st.step, st.data["meeting"] = VIEW, m.id
    await prompt(ctx)


def _not_found(ctx: Ctx) -> None:
    ctx.show(ctx.tr._("This meeting is not among those of your place."))


async def _quick(ctx: Ctx, action: str, meeting_id: int, say: bool = True) -> bool:
    """RSVP or the calendar file. Returns whether it was done (a refusal was shown otherwise). Without ``say``
    an answer is acknowledged only by a pop-up (the meeting is shown next, with the answer on it)."""
    tr, svc = ctx.tr, ctx.services.meetings
    try:
        m = await svc.get_for(meeting_id, ctx.resident.territory_kato)
        if action == "ics":
            ctx.show(tr._("📅 Open the file to add the meeting to your calendar."),
                     document=ics(tr, m, await _territory_name(ctx, m.territory_kato)),
                     filename=f"meeting-{m.id}.ics")
            return True
        await svc.answer(m.id, ctx.resident.id, action == "y")
    except MeetingNotFound:
        _not_found(ctx)
        return False
    except MeetingClosed:
        _closed(ctx, m)
        return False
    if not say:
        return True
    if action == "y":
        ctx.show(tr._("Thank you! We have noted that you will come: {kind}, {when}.", kind=kind_name(tr, m.kind),
                      when=tr.datetime(m.starts_at)), notice=tr._("Noted"))
    else:
        ctx.show(tr._("Noted: you will not come. You can change your answer until the meeting starts."),
                 notice=tr._("Noted"))
    return True


def _closed(ctx: Ctx, m: Meeting) -> None:
    if m.cancelled_at is not None:
        ctx.show(ctx.tr._("This meeting is cancelled."))
    else:
        ctx.show(ctx.tr._("This meeting has already started, so answers and questions are no longer taken."))


async def handle(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    assert st is not None
    if ctx.resident is None:
        ctx.state = None
        return
    if st.step == ASK and not (ev.kind == "button" and ev.data.startswith(PREFIX)):
        await _ask(ctx)
        return
    if ev.kind != "button":
        wrong_input(ctx)
        await prompt(ctx)
        return
    data = ev.data
    if data == BACK:
        if st.step == VIEW:
            st.step = LIST
            await prompt(ctx)
        else:
            await _leave(ctx)
    elif (page := PAGE_TO.value(data)) is not None:
        st.step, st.data["page"] = LIST, min(page, 1000)
        await prompt(ctx)
    elif (meeting_id := OPEN.value(data)) is not None:
        await _open(ctx, meeting_id)
    elif (quick := _quick_press(data)) is not None and quick[0] in ("y", "n"):
        action, meeting_id = quick
        if await _quick(ctx, action, meeting_id, say=False):
            await _open(ctx, meeting_id)
            ctx.screens[-1].notice = tr._("Noted")
        else:
            await prompt(ctx)
    elif (meeting_id := CALENDAR.value(data)) is not None:
        await _quick(ctx, "ics", meeting_id)
    elif (meeting_id := QUESTION.value(data)) is not None:
        await _start_question(ctx, meeting_id)
    else:
        wrong_input(ctx)
        await prompt(ctx)


async def _start_question(ctx: Ctx, meeting_id: int) -> None:
    st, tr, svc = ctx.state, ctx.tr, ctx.services.meetings
    try:
        m = await svc.get_for(meeting_id, ctx.resident.territory_kato)
        svc.check_questions_open(m)
    except MeetingNotFound:
        _not_found(ctx)
        st.step = LIST
        await prompt(ctx)
        return
    except QuestionsNotOpen as exc:
        ctx.show(tr._("Questions for this meeting are taken from {date} until it starts. Please come back then.",
                      date=tr.date(exc.opens_at)))
        st.step, st.data["meeting"] = VIEW, m.id
        await prompt(ctx)
        return
    except MeetingClosed:
        _closed(ctx, m)
        st.step, st.data["meeting"] = VIEW, m.id
        await prompt(ctx)
        return
    st.step, st.data["meeting"] = ASK, m.id
    await prompt(ctx)


async def _ask(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    if ev.kind == "button" and ev.data == BACK:
        st.step = VIEW
        await prompt(ctx)
        return
    text = question_text(ctx, QUESTION_MAX)
    if text is None:
        await prompt(ctx)
        return
    try:
        await ctx.services.meetings.ask(int(st.data["meeting"]), ctx.resident.id, text, ctx.lang)
    except QuestionsNotOpen as exc:
        ctx.show(tr._("Questions for this meeting are taken from {date} until it starts. Please come back then.",
                      date=tr.date(exc.opens_at)))
    except MeetingError:
        ctx.show(tr._("This meeting has already started, so answers and questions are no longer taken."))
    else:
        ctx.show(tr._("Thank you! Your question has been sent:\n\n<i>{text}</i>", text=esc(text, QUESTION_MAX)))
    st.step = VIEW
    await prompt(ctx)


# "mt:" buttons sit on notices, reminders and announcements: they work over any step, drafts too (a draft is put
# aside and resumed); a question being typed is a draft for other flows' buttons
FLOW = FlowSpec(name=NAME, handle=handle, prompt=prompt, buttons=(PREFIX,),
                anywhere=(Anywhere(PREFIX, from_anywhere, Reach.ALWAYS),), drafts=frozenset({ASK}),
                menu=MenuEntry("meetings", N_("📅 Meetings"), 50, enter),
                deep_links=(DeepLink("meeting", enter),))
