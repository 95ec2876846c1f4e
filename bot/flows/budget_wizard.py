"""The /campaign wizard of the People's Budget admin (bot/flows/budget_admin.py): titles, territory, phase times,
budget and voting rules, one step at a time, then a summary to confirm; creating the campaign schedules its
phases. Its buttons are ``ba:w:…``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.flows.base import Button, Ctx, clip, esc
from bot.flows.budget_notice_texts import TIE_RULES, tie_rule_text
from bot.flows.buttons import Choice, Int, Kind, Token
from bot.flows.common import BACK, nav_row, wrong_input
from bot.i18n import N_
from bot.services.budget import MIN_THRESHOLD, InvalidCampaign, TieRule
from bot.services.budget_io import parse_local_datetime
from bot.services.budget_notices import schedule_phases

TITLE_KK, TITLE_RU, TERRITORY = "title_kk", "title_ru", "territory"
P_FROM, P_UNTIL, V_FROM, V_UNTIL, RESULTS = "proposals_from", "proposals_until", "voting_from", "voting_until", \
    "results_at"
BUDGET, VOTES, CHANGE, THRESHOLD, TIE, SUMMARY = "budget", "votes", "change", "threshold", "tie", "summary"
WIZARD = (TITLE_KK, TITLE_RU, TERRITORY, P_FROM, P_UNTIL, V_FROM, V_UNTIL, RESULTS, BUDGET, VOTES, CHANGE,
          THRESHOLD, TIE, SUMMARY)
TIMES = (P_FROM, P_UNTIL, V_FROM, V_UNTIL, RESULTS)

TITLE_MAX = 200
MAX_VOTES, MAX_THRESHOLD, MAX_BUDGET = 10, 100_000, 10**13
EXAMPLE_HOUR = 9
# the wizard's buttons ("ba:w:…"); the review buttons are REVIEW (bot/flows/budget_notice_texts.py)
W_VOTES, W_THRESHOLD = Kind("ba:w:v", Int(MAX_VOTES)), Kind("ba:w:th", Int(MAX_THRESHOLD))
W_CHANGE, W_TIE = Kind("ba:w:c", Choice(("0", "1"))), Kind("ba:w:tie", Choice(tuple(TIE_RULES)))
W_TERRITORY, W_CREATE = Kind("ba:w:t", Token()), Kind("ba:w:ok").pack()

TIME_QUESTIONS = {
    P_FROM: N_("When do residents start sending project proposals?"),
    P_UNTIL: N_("When does the sending of proposals end? Then you review them until voting opens."),
    V_FROM: N_("When does voting open?"),
    V_UNTIL: N_("When does voting end?"),
    RESULTS: N_("When are the results published? At that time the bot counts the votes, publishes the results "
                "and tells the residents."),
}
LAW = N_("The threshold cannot be below 10: under the Concept for the Development of Local Self-Government in "
         "the Republic of Kazakhstan until 2030, a project that fewer than ten residents voted for may not be "
         "implemented. Please type 10 or more.")


def _tz(ctx: Ctx) -> str:
    return ctx.settings.locale.timezone


def _when(data: dict[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    return datetime.fromisoformat(value) if value else None


def _example(ctx: Ctx, key: str) -> str:
    data = ctx.state.data if ctx.state else {}
    earlier = [t for t in (_when(data, k) for k in TIMES[:TIMES.index(key)]) if t is not None]
    base = (earlier[-1] if earlier else datetime.now(UTC)).astimezone(ctx.tr.tz)
    days = {P_FROM: 1, P_UNTIL: 14, V_FROM: 7, V_UNTIL: 14, RESULTS: 1}[key]
    when = (base + timedelta(days=days)).replace(hour=EXAMPLE_HOUR, minute=0, second=0, microsecond=0)
    return when.strftime("%d.%m.%Y %H:%M")


async def prompt(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    assert st is not None
    step = st.step
    if step == SUMMARY:
        await _summary(ctx)
        return
    n = WIZARD.index(step) + 1
    head = "<i>" + tr._("Step {n} of {total}", n=n, total=len(WIZARD) - 1) + "</i>\n"
    nav = [nav_row(ctx, back=step != TITLE_KK)]
    if step == TITLE_KK:
        ctx.show(head + tr.ngettext("Type the title of the campaign in Kazakh (up to {max} character).",
                                    "Type the title of the campaign in Kazakh (up to {max} characters).", TITLE_MAX,
                                    max=TITLE_MAX), nav)
    elif step == TITLE_RU:
        ctx.show(head + tr._("Now the same title in Russian."), nav)
    elif step == TERRITORY:
        ctx.show(head + tr._("Which territory is the campaign for? Its residents and those of every settlement "
                             "within it take part. Type part of its name or its KATO code."), nav)
    elif step in TIMES:
        ctx.show(head + tr._(TIME_QUESTIONS[step]) + "\n" + tr._(
            "Type the date and time like {example} (local time, {tz}).", example=_example(ctx, step),
            tz=_tz(ctx)), nav)
    elif step == BUDGET:
        ctx.show(head + tr._("What is the campaign budget in tenge? Type a number, for example 50 000 000."), nav)
    elif step == VOTES:
        ctx.show(head + tr._("How many projects may each resident vote for? Astana allows one, Almaty up to "
                             "three. Press a button or type a number from 1 to {max}.", max=MAX_VOTES),
                 [[Button(tr._("1 (usual)"), W_VOTES.pack(1)), Button("2", W_VOTES.pack(2)),
                   Button("3", W_VOTES.pack(3))],
                  *nav])
    elif step == CHANGE:
        ctx.show(head + tr._("May a resident move a vote to another project while voting is open?"),
                 [[Button(tr._("No, a vote is final (usual)"), W_CHANGE.pack("0"))],
                  [Button(tr._("Yes, a vote may be moved"), W_CHANGE.pack("1"))], *nav])
    elif step == THRESHOLD:
        ctx.show(head + tr._("The threshold: a project that fewer residents voted for may not be implemented. "
                             "The law sets at least 10; a territory may set more (Aktobe and Kokshetau use 50). "
                             "Press 10 or type a bigger number."),
                 [[Button(tr._("10 (the minimum)"), W_THRESHOLD.pack(10))], *nav])
    elif step == TIE:
        lines = [tr._("When projects have the same number of votes and not all fit the budget, which one wins? "
                      "The rule is published before voting opens.")]
        lines += [f"• {tie_rule_text(tr, rule)}" for rule in TIE_RULES]
        ctx.show(head + "\n".join(lines),
                 [[Button(tr._(TIE_RULES[rule][0]), W_TIE.pack(rule))] for rule in TIE_RULES] + nav)


def _summary_text(ctx: Ctx, place: str) -> str:
    tr, d = ctx.tr, ctx.state.data  # type: ignore[union-attr]

    def at(key: str) -> str:
        when = _when(d, key)
        return tr.datetime(when) if when else "—"

    return tr._(
        "<b>Check the campaign</b>\n\n"
        "Title (Kazakh): {title_kk}\nTitle (Russian): {title_ru}\nTerritory: {place}\n"
        "Proposals: {p_from} – {p_until}\nReview: until {v_from}\nVoting: {v_from} – {v_until}\n"
        "Results: {results}\nBudget: {budget}\nVotes per resident: {votes}\nMoving a vote: {change}\n"
        "Threshold: {threshold}\nTie rule: {tie}",
        title_kk=esc(d.get(TITLE_KK), TITLE_MAX), title_ru=esc(d.get(TITLE_RU), TITLE_MAX), place=place,
        p_from=at(P_FROM), p_until=at(P_UNTIL), v_from=at(V_FROM), v_until=at(V_UNTIL), results=at(RESULTS),
        budget=tr.tenge(int(d.get(BUDGET) or 0)), votes=d.get(VOTES), change=tr._("allowed") if d.get(CHANGE)
        else tr._("not allowed"), threshold=d.get(THRESHOLD), tie=tie_rule_text(tr, str(d.get(TIE))))


async def _place_label(ctx: Ctx, kato: str | None) -> str:
    if not kato:
        return "—"
    path = await ctx.services.territories.path(kato)
    return esc(" › ".join(t.name(ctx.lang) for t in path[-3:]), 300) if path else esc(kato)


async def _summary(ctx: Ctx) -> None:
    text = _summary_text(ctx, await _place_label(ctx, ctx.state.data.get(TERRITORY)))  # type: ignore[union-attr]
    ctx.show(text, [[Button(ctx.tr._("✅ Create the campaign"), W_CREATE)], nav_row(ctx)])


def _missing(data: dict[str, Any], key: str) -> bool:
    return key != SUMMARY and data.get(key) is None


def _time_problem(ctx: Ctx, key: str, when: datetime) -> str | None:
    """Why ``when`` does not fit after the earlier phase times, or None."""
    tr, d = ctx.tr, ctx.state.data  # type: ignore[union-attr]
    rules = {P_UNTIL: (P_FROM, True, N_("Proposals must close after they open ({at}).")),
             V_FROM: (P_UNTIL, False, N_("Voting can open only when the sending of proposals has ended ({at}).")),
             V_UNTIL: (V_FROM, True, N_("Voting must end after it opens ({at}).")),
             RESULTS: (V_UNTIL, False, N_("Results can be published only when voting has ended ({at})."))}
    if key in rules:
        before_key, strict, message = rules[key]
        before = _when(d, before_key)
        if before is not None and (when <= before if strict else when < before):
            return tr._(message, at=tr.datetime(before))
    if key != P_FROM and when <= datetime.now(UTC):
        return tr._("That time has already passed. Please type a time in the future.")
    return None


async def _forward(ctx: Ctx) -> None:
    """Go to the first step after the current one that still needs an answer (all of them the first time;
    after going back, only those the change made wrong), then ask it."""
    st = ctx.state
    assert st is not None
    for key in WIZARD[WIZARD.index(st.step) + 1:]:
        if _missing(st.data, key):
            st.step = key
            break
        if key in TIMES and _time_problem(ctx, key, _when(st.data, key)) is not None:  # type: ignore[arg-type]
            st.data[key] = None
            st.step = key
            break
    else:
        st.step = SUMMARY
    await prompt(ctx)


def _number(text: str) -> int | None:
    digits = "".join(ch for ch in text if not ch.isspace() and ch not in "\u00a0\u202f,.'’₸")
    for word in ("тенге", "теңге", "тг", "kzt"):
        digits = digits.lower().removesuffix(word)
    return int(digits) if digits.isdigit() and len(digits) <= 16 else None


async def wizard(ctx: Ctx) -> None:
    """An answer to the current step of the wizard."""
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    assert st is not None
    step, d = st.step, st.data
    if ev.kind == "button" and ev.data == BACK:
        if step != TITLE_KK:
            st.step = WIZARD[WIZARD.index(step) - 1]
        await prompt(ctx)
        return
    text = " ".join(ev.text.split()) if ev.kind == "text" else None
    data = ev.data if ev.kind == "button" else ""
    if step in (TITLE_KK, TITLE_RU) and text is not None:
        if len(text) < 3 or len(text) > TITLE_MAX:
            ctx.show(tr.ngettext("The title should be from 3 to {max} character.",
                                 "The title should be from 3 to {max} characters.", TITLE_MAX, max=TITLE_MAX))
            await prompt(ctx)
            return
        d[step] = text
    elif step == TERRITORY and (text is not None or W_TERRITORY.matches(data)):
        kato = W_TERRITORY.value(data) if data else (text if text and text.isdigit() and len(text) == 9 else None)
        if kato is None:
            await _search_territory(ctx, text or "")
            return
        if await ctx.services.territories.get(kato) is None:
            ctx.show(tr._("There is no territory with the KATO code {kato}.", kato=esc(kato, 20)))
            await prompt(ctx)
            return
        d[TERRITORY] = kato
    elif step in TIMES and text is not None:
        when = parse_local_datetime(text, _tz(ctx))
        if when is None:
            ctx.show(tr._("I could not read this date. Please type it like {example}.",
                          example=_example(ctx, step)))
            await prompt(ctx)
            return
        problem = _time_problem(ctx, step, when)
        if problem is not None:
            ctx.show(problem)
            await prompt(ctx)
            return
        d[step] = when.isoformat()
    elif step == BUDGET and text is not None:
        amount = _number(text)
        if amount is None or not 0 < amount <= MAX_BUDGET:
            ctx.show(tr._("Please type the budget as a whole number of tenge, for example 50 000 000."))
            await prompt(ctx)
            return
        d[BUDGET] = amount
    elif step == VOTES and (text is not None or W_VOTES.matches(data)):
        n = W_VOTES.value(data) if data else _number(text or "")
        if n is None or not 1 <= n <= MAX_VOTES:
            ctx.show(tr._("Please type a number from 1 to {max}.", max=MAX_VOTES))
            await prompt(ctx)
            return
        d[VOTES] = n
    elif step == CHANGE and W_CHANGE.matches(data):
        d[CHANGE] = W_CHANGE.value(data) == "1"
    elif step == THRESHOLD and (text is not None or W_THRESHOLD.matches(data)):
        n = W_THRESHOLD.value(data) if data else _number(text or "")
        if n is None or n > MAX_THRESHOLD:
            ctx.show(tr._("Please type a whole number from 10 to {max}.", max=tr.number(MAX_THRESHOLD)))
            await prompt(ctx)
            return
        if n < MIN_THRESHOLD:
            ctx.show(tr._(LAW))
            await prompt(ctx)
            return
        d[THRESHOLD] = n
    elif step == TIE and W_TIE.matches(data):
        d[TIE] = W_TIE.value(data)
    elif step == SUMMARY and data == W_CREATE:
        await _create(ctx)
        return
    else:
        wrong_input(ctx)
        await prompt(ctx)
        return
    await _forward(ctx)


async def _search_territory(ctx: Ctx, query: str) -> None:
    tr = ctx.tr
    limit = ctx.settings.limits.search_query_max
    if len(query) < 2:
        ctx.show(tr._("Please type at least two letters of the name."))
        await prompt(ctx)
        return
    found = await ctx.services.territories.search(query[:limit])
    if not found:
        ctx.show(tr._("Nothing found for «{query}». Check the spelling or type the KATO code.",
                      query=esc(query, limit)))
        await prompt(ctx)
        return
    rows = [[Button(clip(" › ".join(t.name(ctx.lang) for t in (await ctx.services.territories.path(f.kato))[-2:])),
                    W_TERRITORY.pack(f.kato))] for f in found]
    ctx.show(tr.ngettext("Found {n} place for «{query}». Choose the campaign's territory:",
                         "Found {n} places for «{query}». Choose the campaign's territory:",
                         len(found), query=esc(query, limit)), rows + [nav_row(ctx)])


async def _create(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    assert st is not None
    d = st.data
    budget = ctx.services.budget
    times = {k: _when(d, k) for k in TIMES}
    if any(_missing(d, k) for k in WIZARD) or any(t is None for t in times.values()):
        st.step = TITLE_KK
        await _forward(ctx)
        return
    try:
        c = await budget.create_campaign(
            d[TERRITORY], d[TITLE_KK], d[TITLE_RU], int(d[BUDGET]), proposals_from=times[P_FROM],
            proposals_until=times[P_UNTIL], review_until=times[V_FROM], voting_from=times[V_FROM],
            voting_until=times[V_UNTIL], results_at=times[RESULTS], votes_per_resident=int(d[VOTES]),
            vote_change_allowed=bool(d[CHANGE]), threshold=int(d[THRESHOLD]), tie_rule=TieRule(d[TIE]),
            created_by=ctx.event.user_id)  # type: ignore[arg-type]
    except InvalidCampaign as exc:
        field = {"title": TITLE_KK, "territory_kato": TERRITORY, "phases": P_FROM, "budget_tenge": BUDGET,
                 "votes_per_resident": VOTES, "threshold": THRESHOLD, "tie_rule": TIE}.get(exc.field, TITLE_KK)
        ctx.show(tr._("This value does not fit; please give it again."))
        st.step = field
        await prompt(ctx)
        return
    await schedule_phases(ctx.services.tasks, c)
    place = await _place_label(ctx, c.territory_kato)
    ctx.state = None
    ctx.show(tr._("✅ Campaign №{id} «{title}» is created.\n\nThe residents of {place} will hear when proposals "
                  "open ({at}); their proposals will come to you for review (/proposals). Ready projects of the "
                  "akimat can be added from a file: <code>qatysu import projects FILE.csv --campaign {id}</code>",
                  id=c.id, title=esc(c.title(ctx.lang), TITLE_MAX), place=place, at=tr.datetime(c.proposals_from)))
