"""The admin's side of the People's Budget: /campaign (a wizard that creates a campaign and schedules its
phases) and /proposals (proposals waiting for review: accept, reject or return with a reason).

Buttons use the prefix ``ba:``: ``ba:w:…`` inside the wizard, ``ba:pl:<page>`` the list, ``ba:o:<id>`` one
proposal, ``ba:acc|rej|ret:<id>`` a decision (also on the notice the admins get through the outbox). Every
press is checked again: the sender must be an admin, the project must exist and still wait for review.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.flows.base import Button, Ctx, clip, esc
from bot.flows.budget_notice_texts import REVIEW, TIE_RULES, proposal_card, tie_rule_text
from bot.flows.buttons import Choice, Int, Kind, Token
from bot.flows.common import BACK, nav_row, paging_row, wrong_input
from bot.flows.registry import ALL_STEPS, Anywhere, Command, FlowSpec, Reach
from bot.i18n import N_
from bot.services.budget import (
    MIN_THRESHOLD,
    REVIEWABLE,
    Decision,
    InvalidCampaign,
    ProjectNotFound,
    ReviewClosed,
    TieRule,
    TransitionNotAllowed,
)
from bot.services.budget_io import parse_local_datetime
from bot.services.budget_notices import REVIEWED_EFFECT, schedule_phases
from bot.services.roles import Role
from storage.state import State

NAME = "budget_admin"
PREFIX = "ba:"

TITLE_KK, TITLE_RU, TERRITORY = "title_kk", "title_ru", "territory"
P_FROM, P_UNTIL, V_FROM, V_UNTIL, RESULTS = "proposals_from", "proposals_until", "voting_from", "voting_until", \
    "results_at"
BUDGET, VOTES, CHANGE, THRESHOLD, TIE, SUMMARY = "budget", "votes", "change", "threshold", "tie", "summary"
WIZARD = (TITLE_KK, TITLE_RU, TERRITORY, P_FROM, P_UNTIL, V_FROM, V_UNTIL, RESULTS, BUDGET, VOTES, CHANGE,
          THRESHOLD, TIE, SUMMARY)
TIMES = (P_FROM, P_UNTIL, V_FROM, V_UNTIL, RESULTS)
REASON = "reason"

TITLE_MAX, REASON_MIN, REASON_MAX = 200, 3, 1000
MAX_VOTES, MAX_THRESHOLD, MAX_BUDGET = 10, 100_000, 10**13
PAGE = 8
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
STATUSES = {"proposed": N_("waiting for review"), "resubmitted": N_("sent again, waiting for review"),
            "accepted": N_("accepted"), "rejected": N_("rejected"), "returned": N_("returned for changes")}
LAW = N_("The threshold cannot be below 10: under the Concept for the Development of Local Self-Government in "
         "the Republic of Kazakhstan until 2030, a project that fewer than ten residents voted for may not be "
         "implemented. Please type 10 or more.")


def status_name(ctx: Ctx, status: str) -> str:
    return ctx.tr._(STATUSES[status]) if status in STATUSES else esc(status)


# -- entry points ---------------------------------------------------------------------------------


async def command(ctx: Ctx) -> None:
    """/campaign or /proposals; staff.handle has checked that the sender is an admin."""
    if ctx.event.command == "campaign":
        ctx.state = State(NAME, TITLE_KK, {"lang": ctx.lang})
        ctx.show(ctx.tr._("<b>A new People's Budget campaign</b>\n\nI will ask for the titles, the territory, "
                          "the phase times, the budget and the voting rules, then show a summary to confirm. "
                          "/cancel stops."))
        await prompt(ctx)
    else:
        await show_list(ctx, 0)


async def handle(ctx: Ctx) -> None:
    ev, st = ctx.event, ctx.state
    if not await ctx.services.roles.has(ev.user_id, Role.ADMIN):
        if st is not None and st.flow == NAME:
            ctx.state = None
        ctx.show(ctx.tr._("Sorry, this is only for akimat administrators."))
        return
    if ev.kind == "button" and ev.data.startswith(PREFIX) and not ev.data.startswith("ba:w:"):
        await _review_button(ctx)
    elif st is None or st.flow != NAME:
        ctx.show(ctx.tr._("That button is from an earlier step. Send /campaign to create a campaign or "
                          "/proposals to see the proposals."))
    elif st.step == REASON:
        await _reason(ctx)
    else:
        await _wizard(ctx)


# -- the wizard -----------------------------------------------------------------------------------


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


async def _wizard(ctx: Ctx) -> None:
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


# -- review ---------------------------------------------------------------------------------------


async def show_list(ctx: Ctx, page: int) -> None:
    tr = ctx.tr
    waiting = await ctx.services.budget.awaiting_review()
    if not waiting:
        ctx.show(tr._("No proposals are waiting for review."))
        return
    pages = max(1, -(-len(waiting) // PAGE))
    page = min(max(page, 0), pages - 1)
    rows = [[Button(f"{clip(p.title, 48)} · {tr.tenge(p.cost_tenge)}", REVIEW.pack("o", p.id))]
            for p in waiting[page * PAGE:(page + 1) * PAGE]]
    if pages > 1:
        rows.append(paging_row(REVIEW, page, page < pages - 1, pages, "pl"))
    ctx.show(tr.ngettext("<b>{n} proposal is waiting for review.</b> Open it to decide:",
                         "<b>{n} proposals are waiting for review.</b> Open one to decide:", len(waiting)), rows)


async def _review_button(ctx: Ctx) -> None:
    parsed = REVIEW.unpack(ctx.event.data)
    if parsed is None:
        ctx.show(ctx.tr._("That button is from an earlier step. Send /campaign to create a campaign or "
                          "/proposals to see the proposals."))
        return
    action, ref = parsed
    if action == "pl":
        await show_list(ctx, ref)
        return
    budget = ctx.services.budget
    p = await budget.get_project(ref)
    c = await budget.get_campaign(p.campaign_id) if p is not None else None
    if p is None or c is None:
        ctx.show(ctx.tr._("This proposal was not found."))
        return
    if action == "o":
        place = await ctx.services.territories.get(p.territory_kato or c.territory_kato)
        text, rows = proposal_card(ctx.tr, p, c, place, None if p.status in REVIEWABLE else status_name(ctx, p.status))
        ctx.show(text, rows + [[Button(ctx.tr._("« All proposals"), REVIEW.pack("pl", 0))]],
                 photo=await ctx.file_of(p.photo_media_id))
        return
    if p.status not in REVIEWABLE:
        ctx.show(ctx.tr._("«{title}» has already been decided: {status}.", title=esc(p.title, 200),
                          status=status_name(ctx, p.status)))
        return
    if action == "acc":
        await _decide(ctx, p.id, Decision.ACCEPT, None)
        return
    previous = None
    st = ctx.state
    if st is not None and st.flow == NAME and st.step != REASON:
        previous = {"step": st.step, "data": st.data}
    elif st is not None and st.flow == NAME:
        previous = st.data.get("previous")
    decision = Decision.REJECT if action == "rej" else Decision.RETURN
    ctx.state = State(NAME, REASON, {"lang": ctx.lang, "project": p.id, "decision": decision.value,
                                     "previous": previous})
    _ask_reason(ctx, p.title, decision)


def _ask_reason(ctx: Ctx, title: str, decision: Decision) -> None:
    tr = ctx.tr
    if decision is Decision.REJECT:
        text = tr._("Why is «{title}» rejected? Type the reason in one message: the author will read it.",
                    title=esc(title, 200))
    else:
        text = tr._("What should the author change in «{title}»? Type it in one message: the author will read it.",
                    title=esc(title, 200))
    ctx.show(text, [nav_row(ctx, back=False)])


async def _reason(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    assert st is not None
    d = st.data
    p = await ctx.services.budget.get_project(int(d.get("project") or 0))
    if p is None:
        ctx.state = None
        ctx.show(tr._("This proposal was not found."))
        return
    decision = Decision(d.get("decision", Decision.REJECT.value))
    if ev.kind != "text":
        wrong_input(ctx)
        _ask_reason(ctx, p.title, decision)
        return
    reason = ev.text.strip()
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        ctx.show(tr.ngettext("Please write the reason in {min} to {max} character.",
                             "Please write the reason in {min} to {max} characters.", REASON_MAX, min=REASON_MIN,
                             max=REASON_MAX))
        _ask_reason(ctx, p.title, decision)
        return
    await _decide(ctx, p.id, decision, reason)


async def _decide(ctx: Ctx, project_id: int, decision: Decision, reason: str | None) -> None:
    tr, st = ctx.tr, ctx.state
    previous = st.data.get("previous") if st is not None and st.flow == NAME and st.step == REASON else None
    if st is not None and st.flow == NAME and st.step == REASON:
        ctx.state = State(NAME, previous["step"], previous["data"]) if previous else None
    try:
        p = await ctx.services.budget.review(project_id, decision, reason, ctx.event.user_id)
    except ProjectNotFound:
        ctx.show(tr._("This proposal was not found."))
        return
    except TransitionNotAllowed as exc:
        ctx.show(tr._("This proposal has already been decided: {status}.", status=status_name(ctx, exc.status)))
        return
    except ReviewClosed:
        ctx.show(tr._("The review of this campaign is over: voting has begun."))
        return
    title = esc(p.title, 200)
    if decision is Decision.ACCEPT:
        text = tr._("✅ Accepted: «{title}». It will be on the ballot.", title=title)
    elif decision is Decision.REJECT:
        text = tr._("⛔ Rejected: «{title}».", title=title)
    else:
        text = tr._("↩️ Returned for changes: «{title}».", title=title)
    if p.author_resident_id is not None:
        ctx.effects.append((REVIEWED_EFFECT, p.id))
        text += " " + tr._("The author will be told.")
    rest = len(await ctx.services.budget.awaiting_review())
    more = tr.ngettext("📥 {n} more waiting", "📥 {n} more waiting", rest)
    rows = [[Button(more, REVIEW.pack("pl", 0))]] if rest else []
    ctx.show(text, rows)
    if ctx.state is not None and ctx.state.flow == NAME:
        await prompt(ctx)


FLOW = FlowSpec(
    # no ``prompt``: a step put aside by a meeting button is not resumed (the review reason cannot be asked again)
    name=NAME, handle=handle, buttons=(PREFIX,), drafts=frozenset({ALL_STEPS}), staff=True,
    # review buttons on the notice of a new proposal: taken when no conversation is open (an admin need not be
    # registered as a resident); the sender's role is checked by handle
    anywhere=(Anywhere(PREFIX, handle, Reach.IDLE, registered=False),),
    commands=(Command("campaign", command, N_("New People's Budget campaign"), (Role.ADMIN,), (Role.ADMIN,), 120,
                      registered=False),
              Command("proposals", command, N_("Project proposals to review"), (Role.ADMIN,), (Role.ADMIN,), 121,
                      registered=False)))
