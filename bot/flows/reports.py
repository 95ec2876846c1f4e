"""Akim's reports for residents: the reports of their place and above, newest first; one report with its
summary, the document, a question for the report meeting and a rating of 1–5 stars (changeable)."""

from __future__ import annotations

from babel.numbers import format_decimal

from bot.flows import menu
from bot.flows.base import Button, Ctx, clip, esc
from bot.flows.buttons import STARS, Int, Kind
from bot.flows.common import BACK, paging_row, period_name, question_text, tell_apart, wrong_input
from bot.flows.registry import DeepLink, FlowSpec, MenuEntry
from bot.i18n import N_
from bot.services.reports import QUESTION_MAX, ReportError, ReportNotFound
from storage.state import State

NAME = "reports"
PREFIX = "rp:"
LIST, VIEW, ASK = "list", "view", "ask"
PAGE = 5
PAGE_TO, OPEN, DOCUMENT, ASK_ABOUT = Kind("rp:pg", Int()), Kind("rp:o", Int()), Kind("rp:doc", Int()), \
    Kind("rp:q", Int())
RATE = Kind("rp:s", Int(), STARS)


async def enter(ctx: Ctx, report_id: int | None = None) -> None:
    ctx.state = State(NAME, LIST, {"page": 0})
    if report_id is not None:
        await _open(ctx, report_id)
    else:
        await prompt(ctx)


async def prompt(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    assert st is not None and ctx.resident is not None
    if st.step == LIST:
        page = max(0, int(st.data.get("page", 0)))
        items = await ctx.services.reports.list_for(ctx.resident.territory_kato, limit=PAGE + 1, offset=page * PAGE)
        if not items and page == 0:
            ctx.state = None
            ctx.show(tr._("No akim's reports have been published for your place yet."))
            await menu.show(ctx)
            return
        shown = items[:PAGE]
        labels = tell_apart([clip(f"{period_name(tr, r.period)} · {r.title(ctx.lang)}") for r in shown],
                            [tr.date(r.published_at) for r in shown])
        rows = [[Button(label, OPEN.pack(r.id))] for label, r in zip(labels, shown, strict=True)]
        paging = paging_row(PAGE_TO, page, len(items) > PAGE)
        if paging:
            rows.append(paging)
        rows.append([Button(tr._("« Main menu"), BACK)])
        ctx.show(tr._("Akim's reports for your place, newest first. Choose one:"), rows)
    elif st.step == VIEW:
        try:
            await _show(ctx, int(st.data["report"]))
        except ReportNotFound:
            _not_found(ctx)
            st.step = LIST
            await prompt(ctx)
    elif st.step == ASK:
        ctx.show(tr.ngettext("Write your question about this report in one message (up to {max} character). It "
                             "will be passed to the akim's report meeting.", "Write your question about this report "
                             "in one message (up to {max} characters). It will be passed to the akim's report "
                             "meeting.", QUESTION_MAX, max=QUESTION_MAX), [[Button(tr._("« Back"), BACK)]])


async def _show(ctx: Ctx, report_id: int) -> None:
    tr, svc = ctx.tr, ctx.services.reports
    r = await svc.get_for(report_id, ctx.resident.territory_kato)
    place = await ctx.services.territories.get(r.territory_kato)
    lines = [f"📊 <b>{esc(r.title(ctx.lang), 200)}</b>",
             tr._("Period: {period} · {place}", period=esc(period_name(tr, r.period), 40),
                  place=esc(place.name(ctx.lang)) if place else "—"),
             tr._("Published: {date}", date=tr.date(r.published_at)), "", esc(r.summary(ctx.lang), 3000)]
    rating = await svc.rating(r.id)
    mine = await svc.rating_of(r.id, ctx.resident.id)
    lines.append("")
    if rating.count:
        lines.append(tr.ngettext("Residents' rating: {mean} of 5 ({n} rating)",
                                 "Residents' rating: {mean} of 5 ({n} ratings)", rating.count,
                                 mean=format_decimal(rating.mean or 0, "0.0", locale=tr.lang)))
    if mine:
        lines.append(tr._("Your rating: {stars}", stars="⭐" * mine))
    else:
        lines.append(tr._("Rate the report with the stars below."))
    rows: list[list[Button]] = []
    if r.document_media_id:
        rows.append([Button(tr._("📎 The report document"), DOCUMENT.pack(r.id))])
    rows.append([Button(tr._("❓ Ask a question for the report meeting"), ASK_ABOUT.pack(r.id))])
    rows.append([Button(("• " if mine == n else "") + "⭐" * n, RATE.pack(r.id, str(n))) for n in range(1, 6)])
    rows.append([Button(tr._("« Reports"), BACK)])
    ctx.show("\n".join(lines).rstrip(), rows)


async def _open(ctx: Ctx, report_id: int, step: str = VIEW) -> None:
    """Show the report (or, with ``step=ASK``, ask the question about it) if it is one of the resident's place."""
    st = ctx.state
    try:
        r = await ctx.services.reports.get_for(report_id, ctx.resident.territory_kato)
    except ReportNotFound:
        _not_found(ctx)
        st.step = LIST
        await prompt(ctx)
        return
    st.step, st.data["report"] = step, r.id
    await prompt(ctx)


def _not_found(ctx: Ctx) -> None:
    ctx.show(ctx.tr._("This report is not among those of your place."))


async def handle(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    assert st is not None
    if ctx.resident is None:
        ctx.state = None
        return
    if st.step == ASK:
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
            ctx.state = None
            await menu.show(ctx)
    elif (page := PAGE_TO.value(data)) is not None:
        st.step, st.data["page"] = LIST, min(page, 1000)
        await prompt(ctx)
    elif (report_id := OPEN.value(data)) is not None:
        await _open(ctx, report_id)
    elif (report_id := DOCUMENT.value(data)) is not None:
        await _document(ctx, report_id)
    elif (report_id := ASK_ABOUT.value(data)) is not None:
        await _open(ctx, report_id, ASK)
    elif (rated := RATE.unpack(data)) is not None:
        await _rate(ctx, rated[0], int(rated[1]))
    else:
        wrong_input(ctx)
        await prompt(ctx)


async def _document(ctx: Ctx, report_id: int) -> None:
    tr = ctx.tr
    try:
        r = await ctx.services.reports.get_for(report_id, ctx.resident.territory_kato)
    except ReportNotFound:
        _not_found(ctx)
        ctx.state.step = LIST  # type: ignore[union-attr]
        await prompt(ctx)
        return
    document = await ctx.file_of(r.document_media_id)
    if not document:
        ctx.show(tr._("This report has no document."))
        await prompt(ctx)
        return
    ctx.show(f"📎 <b>{esc(r.title(ctx.lang), 200)}</b>", document=document,
             filename=r.document_name or "report")


async def _rate(ctx: Ctx, report_id: int, stars: int) -> None:
    st = ctx.state
    try:
        r = await ctx.services.reports.get_for(report_id, ctx.resident.territory_kato)
        await ctx.services.reports.rate(r.id, ctx.resident.id, stars)
    except ReportNotFound:
        _not_found(ctx)
        st.step = LIST
        await prompt(ctx)
        return
    st.step, st.data["report"] = VIEW, r.id
    await prompt(ctx)
    ctx.screens[-1].notice = ctx.tr._("Thank you for the rating!")


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
        r = await ctx.services.reports.get_for(int(st.data["report"]), ctx.resident.territory_kato)
        asked = await ctx.services.reports.ask(r.id, ctx.resident.id, text, ctx.lang)
    except ReportError:
        _not_found(ctx)
        st.step = LIST
        await prompt(ctx)
        return
    if asked.meeting is not None:
        ctx.show(tr._("Thank you! Your question will be passed to the report meeting on {when}.",
                      when=tr.datetime(asked.meeting.starts_at)))
    else:
        ctx.show(tr._("Thank you! Your question is saved and will be passed to the next report meeting as soon as "
                      "it is planned."))
    st.step = VIEW
    await prompt(ctx)


# a question being typed is a draft: other flows' buttons (but meetings') do not take the person away from it
FLOW = FlowSpec(name=NAME, handle=handle, prompt=prompt, buttons=(PREFIX,), drafts=frozenset({ASK}),
                menu=MenuEntry("reports", N_("📊 Akim's reports"), 40, enter),
                deep_links=(DeepLink("report", enter),))
