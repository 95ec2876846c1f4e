"""Admins: publish an akim's report (/report) and read the questions residents sent (/questions).

/report: territory → period → title kk → title ru → summary kk → summary ru → document → preview → publish.
/questions: meetings (and reports waiting for a meeting) with their question counts → the questions, with an
Excel file of them. The same rows come from ``qatysu export questions``.
"""

from __future__ import annotations

import io

from bot.flows import staff_pick, territory
from bot.flows.base import Button, Ctx, clip, esc
from bot.flows.buttons import Int, Kind, Token
from bot.flows.common import BACK, CANCEL, nav_row, period_name, wrong_input
from bot.flows.meeting_texts import kind_name
from bot.flows.registry import ALL_STEPS, Command, FlowSpec
from bot.i18n import N_
from bot.services import quarters
from bot.services.reports import DOC_NAME_MAX, SUMMARY_MAX, TITLE_MAX, ReportError, write_questions_xlsx
from bot.services.roles import Role
from storage.state import State

NAME = "report_admin"
PREFIX = "ra:"
PERIOD_BUTTON = Kind("ra:p", Token())  # "ra:p:2026-Q3"
NO_DOCUMENT, PUBLISH, EXCEL = Kind("ra:nodoc").pack(), Kind("ra:pub").pack(), Kind("ra:x").pack()
MEETING_QUESTIONS, REPORT_QUESTIONS = Kind("ra:qm", Int()), Kind("ra:qr", Int())
TERRITORY, PERIOD, TITLE_KK, TITLE_RU, SUMMARY_KK, SUMMARY_RU, DOCUMENT, PREVIEW = (
    "territory", "period", "title_kk", "title_ru", "summary_kk", "summary_ru", "document", "preview")
GROUPS, QUESTIONS = "groups", "questions"
PREVIOUS = {PERIOD: TERRITORY, TITLE_KK: PERIOD, TITLE_RU: TITLE_KK, SUMMARY_KK: TITLE_RU, SUMMARY_RU: SUMMARY_KK,
            DOCUMENT: SUMMARY_RU, PREVIEW: DOCUMENT}
TEXT_STEPS = {TITLE_KK: TITLE_MAX, TITLE_RU: TITLE_MAX, SUMMARY_KK: SUMMARY_MAX, SUMMARY_RU: SUMMARY_MAX}
SHOWN_QUESTIONS = 30


async def command(ctx: Ctx) -> None:
    """/report or /questions; the role was checked by bot/flows/staff.py."""
    if ctx.event.command == "questions":
        ctx.state = State(NAME, GROUPS, {})
    else:
        ctx.state = State(NAME, TERRITORY, {"node": None, "page": 0})
    await prompt(ctx)


# the territory picker asks this instead of "Where do you live?" (bot/flows/territory.py)
ASK_PLACE = N_("Which territory is the report for? Open the list down to it and press «✅ Here», "
               "or type part of its name.")


async def prompt(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    assert st is not None
    d = st.data
    if st.step == TERRITORY:
        st.data["ask"] = ASK_PLACE
        await territory.show(ctx)
    elif st.step == PERIOD:
        recent = quarters.recent(tr.local(ctx.services.reports.clock()).date())
        rows = [[Button(p, PERIOD_BUTTON.pack(p)) for p in recent[i:i + 2]] for i in range(0, len(recent), 2)]
        ctx.show(tr._("Which period does the report cover? Choose a quarter or type it, e.g. 2026-Q3, or a year, "
                      "e.g. 2026."), rows + [nav_row(ctx)])
    elif st.step in TEXT_STEPS:
        limit = TEXT_STEPS[st.step]
        questions = {
            TITLE_KK: tr.ngettext("Type the title of the report in Kazakh (up to {max} character).",
                                  "Type the title of the report in Kazakh (up to {max} characters).", limit, max=limit),
            TITLE_RU: tr.ngettext("Type the title of the report in Russian (up to {max} character).",
                                  "Type the title of the report in Russian (up to {max} characters).", limit,
                                  max=limit),
            SUMMARY_KK: tr.ngettext("Type a short summary of the report in Kazakh (up to {max} character): what was "
                                    "done, the main figures.", "Type a short summary of the report in Kazakh (up to "
                                    "{max} characters): what was done, the main figures.", limit, max=limit),
            SUMMARY_RU: tr.ngettext("Type the same summary in Russian (up to {max} character).",
                                    "Type the same summary in Russian (up to {max} characters).", limit, max=limit),
        }
        ctx.show(questions[st.step], [nav_row(ctx)])
    elif st.step == DOCUMENT:
        ctx.show(tr._("Send the report itself as a file (PDF, DOCX…), or press «Without a document»."),
                 [[Button(tr._("Without a document"), NO_DOCUMENT)], nav_row(ctx)])
    elif st.step == PREVIEW:
        place = await ctx.services.territories.get(d["territory"])
        text = tr._("<b>Check the report before publishing</b>\n\nTerritory: {place}\nPeriod: {period}\n"
                    "Document: {document}",
                    place=esc(place.name(ctx.lang)) if place else "—", period=esc(period_name(tr, d["period"]), 40),
                    document=esc(d.get("doc_name") or ("📎" if d.get("doc") else "—"), DOC_NAME_MAX))
        text += (f"\n\n<b>Қазақша: {esc(d['title_kk'], TITLE_MAX)}</b>\n{esc(d['summary_kk'], 1200)}"
                 f"\n\n<b>Русский: {esc(d['title_ru'], TITLE_MAX)}</b>\n{esc(d['summary_ru'], 1200)}")
        ctx.show(text, [[Button(tr._("📢 Publish"), PUBLISH)], nav_row(ctx)])
    elif st.step == GROUPS:
        await _groups(ctx)
    elif st.step == QUESTIONS:
        await _questions(ctx)


async def handle(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    assert st is not None
    if not await staff_pick.allowed(ctx, Role.ADMIN):
        return
    if st.step in (GROUPS, QUESTIONS):
        await _handle_questions(ctx)
        return
    if st.step == TERRITORY:
        picked = await territory.handle(ctx)
        if picked == BACK:
            await staff_pick.leave(ctx, tr._("Cancelled."))
        elif picked:
            st.data["territory"], st.step = picked, PERIOD
            await prompt(ctx)
        return
    if ev.kind == "button" and ev.data == BACK and st.step in PREVIOUS:
        st.step = PREVIOUS[st.step]
        if st.step == TERRITORY:
            st.data["node"], st.data["page"] = None, 0
        await prompt(ctx)
        return
    if st.step == PERIOD:
        value = PERIOD_BUTTON.value(ev.data) if ev.kind == "button" else (
            ev.text.strip().upper() if ev.kind == "text" else None)
        if value is None:
            wrong_input(ctx)
        elif not quarters.valid_period(value):
            ctx.show(tr._("Please write the period as a quarter, e.g. 2026-Q3, or as a year, e.g. 2026."))
        else:
            st.data["period"], st.step = value, TITLE_KK
        await prompt(ctx)
    elif st.step in TEXT_STEPS:
        await _text(ctx)
    elif st.step == DOCUMENT:
        if ev.kind == "document" and ev.file_id:
            st.data["doc"], st.data["doc_name"] = ev.file_id[:255], (ev.file_name or "")[:DOC_NAME_MAX] or None
            st.step = PREVIEW
        elif ev.kind == "button" and ev.data == NO_DOCUMENT:
            st.data["doc"] = st.data["doc_name"] = None
            st.step = PREVIEW
        elif ev.kind == "photo":
            ctx.show(tr._("Please send the report as a file (📎 → File), not as a photo."))
        else:
            wrong_input(ctx)
        await prompt(ctx)
    elif st.step == PREVIEW:
        if ev.kind == "button" and ev.data == PUBLISH:
            await _publish(ctx)
        else:
            wrong_input(ctx)
            await prompt(ctx)


async def _text(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    if ev.kind != "text" or not ev.text.strip():
        wrong_input(ctx) if ev.kind == "button" else ctx.show(tr._("Please type it as a text message."))
        await prompt(ctx)
        return
    text, limit = ev.text.strip(), TEXT_STEPS[st.step]
    if len(text) > limit:
        ctx.show(tr.ngettext("That is {n} character; the limit is {max}. Please shorten it.",
                             "That is {n} characters; the limit is {max}. Please shorten it.", len(text), max=limit))
        await prompt(ctx)
        return
    st.data[st.step] = text
    st.step = {TITLE_KK: TITLE_RU, TITLE_RU: SUMMARY_KK, SUMMARY_KK: SUMMARY_RU, SUMMARY_RU: DOCUMENT}[st.step]
    await prompt(ctx)


async def _publish(ctx: Ctx) -> None:
    d, tr = ctx.state.data, ctx.tr  # type: ignore[union-attr]
    try:
        report = await ctx.services.reports.publish(
            territory_kato=d["territory"], period=d["period"], title_kk=d["title_kk"], title_ru=d["title_ru"],
            summary_kk=d["summary_kk"], summary_ru=d["summary_ru"],
            document_media_id=await ctx.adopt("document", d.get("doc")),
            document_name=d.get("doc_name"), published_by=ctx.event.user_id)
    except ReportError:
        ctx.show(tr._("The report could not be published: please check it and try again."))
        await prompt(ctx)
        return
    place = await ctx.services.territories.get(report.territory_kato)
    await staff_pick.leave(ctx, tr._("✅ The report is published. Residents of {place} and of the places in it see it "
                                     "under «📊 Akim's reports». Link for posters: /start report_{id}",
                                     place=esc(place.name(ctx.lang)) if place else "—", id=report.id))


# -- /questions ------------------------------------------------------------------------------------------------


async def _groups(ctx: Ctx) -> None:
    tr = ctx.tr
    groups = await ctx.services.reports.question_groups()
    if not groups:
        await staff_pick.leave(ctx, tr._("No meetings or questions yet."))
        return
    rows = []
    for g in groups:
        if g.meeting is not None:
            place = await ctx.services.territories.get(g.meeting.territory_kato)
            label = (f"{tr.date(g.meeting.starts_at)} · {kind_name(tr, g.meeting.kind)} · "
                     f"{place.name(ctx.lang) if place else ''}")
            rows.append([Button(f"{clip(label, 56)}: {g.count}", MEETING_QUESTIONS.pack(g.meeting.id))])
        elif g.report is not None:
            label = f"📊 {period_name(tr, g.report.period)} · {g.report.title(ctx.lang)}"
            rows.append([Button(f"{clip(label, 56)}: {g.count}", REPORT_QUESTIONS.pack(g.report.id))])
    rows.append([Button(tr._("✖ Close"), CANCEL)])
    ctx.show(tr._("Questions from residents. Meetings (soonest first) with the number of questions, then reports "
                  "whose questions wait for a report meeting:"), rows)


async def _questions(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    meeting_id, report_id = st.data.get("meeting"), st.data.get("report")
    if meeting_id is not None:
        m = await ctx.services.meetings.get(int(meeting_id))
        if m is None:
            return await _missing(ctx)
        place = await ctx.services.territories.get(m.territory_kato)
        title = tr._("Questions for: {kind}, {when}, {place}", kind=kind_name(tr, m.kind),
                     when=tr.datetime(m.starts_at), place=esc(place.name(ctx.lang)) if place else "—")
        rows = await ctx.services.reports.questions(meeting_id=m.id)
        cli = f"qatysu export questions --meeting {m.id} --format xlsx"
    else:
        r = await ctx.services.reports.get(int(report_id))
        if r is None:
            return await _missing(ctx)
        title = tr._("Questions about the report: {period}, {title}", period=esc(period_name(tr, r.period), 40),
                     title=esc(r.title(ctx.lang), TITLE_MAX))
        rows = await ctx.services.reports.questions(report_id=r.id)
        cli = f"qatysu export questions --report {r.id} --format xlsx"
    lines = [f"<b>{title}</b>", tr.ngettext("{n} question", "{n} questions", len(rows)) + ":", ""]
    shown = 0
    for q in list(reversed(rows))[:SHOWN_QUESTIONS]:  # newest first
        place = esc((q["territory_name_ru"] if ctx.lang == "ru" else q["territory_name_kk"]) or "—", 100)
        entry = f"• <i>{tr.datetime(q['created_at'])}, {place}, {q['language']}</i>\n{esc(q['text'], 400)}"
        if len("\n".join(lines)) + len(entry) > 3500:
            break
        lines.append(entry)
        shown += 1
    if shown < len(rows):
        lines.append(tr._("Showing the latest {shown}. All of them are in the Excel file.", shown=shown))
    lines += ["", tr._("From the command line: {command}", command=f"<code>{cli}</code>")]
    buttons = [[Button(tr._("⬇️ Excel file"), EXCEL)]] if rows else []
    ctx.show("\n".join(lines), buttons + [[Button(tr._("« Back"), BACK)]])


async def _missing(ctx: Ctx) -> None:
    ctx.show(ctx.tr._("Not found: it may have been removed."))
    ctx.state.step = GROUPS  # type: ignore[union-attr]
    ctx.state.data = {}  # type: ignore[union-attr]
    await _groups(ctx)


async def _handle_questions(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    if ev.kind != "button":
        wrong_input(ctx)
        await prompt(ctx)
        return
    if ev.data == BACK:
        st.step, st.data = GROUPS, {}
        await prompt(ctx)
    elif (meeting_id := MEETING_QUESTIONS.value(ev.data)) is not None:
        st.step, st.data = QUESTIONS, {"meeting": meeting_id}
        await prompt(ctx)
    elif (report_id := REPORT_QUESTIONS.value(ev.data)) is not None:
        st.step, st.data = QUESTIONS, {"report": report_id}
        await prompt(ctx)
    elif ev.data == EXCEL and st.step == QUESTIONS:
        meeting_id, report_id = st.data.get("meeting"), st.data.get("report")
        rows = await ctx.services.reports.questions(meeting_id=meeting_id, report_id=report_id)
        buf = io.BytesIO()
        write_questions_xlsx(rows, buf)
        name = (f"questions-meeting-{meeting_id}.xlsx" if meeting_id is not None
                else f"questions-report-{report_id}.xlsx")
        ctx.show(ctx.tr.ngettext("{n} question", "{n} questions", len(rows)), document=buf.getvalue(), filename=name)
    else:
        wrong_input(ctx)
        await prompt(ctx)


FLOW = FlowSpec(
    name=NAME, handle=handle, prompt=prompt, buttons=(PREFIX,), drafts=frozenset({ALL_STEPS}), staff=True,
    commands=(Command("report", command, N_("Publish an akim's report"), (Role.ADMIN,), (Role.ADMIN,), 130,
                      registered=False),
              Command("questions", command, N_("Residents' questions for meetings"), (Role.ADMIN,), (Role.ADMIN,),
                      131, registered=False)))
