"""The admin's side of the People's Budget: /campaign (a wizard that creates a campaign and schedules its
phases: bot/flows/budget_wizard.py) and /proposals (proposals waiting for review: accept, reject or return
with a reason).

Buttons use the prefix ``ba:``: ``ba:w:…`` inside the wizard, ``ba:pl:<page>`` the list, ``ba:o:<id>`` one
proposal, ``ba:acc|rej|ret:<id>`` a decision (also on the notice the admins get through the outbox). Every
press is checked again: the sender must be an admin, the project must exist and still wait for review.
"""

from __future__ import annotations

from bot.flows.base import Button, Ctx, clip, esc
from bot.flows.budget_notice_texts import REVIEW, proposal_card
from bot.flows.budget_wizard import TITLE_KK, prompt, wizard
from bot.flows.common import nav_row, paging_row, wrong_input
from bot.flows.registry import ALL_STEPS, Anywhere, Command, FlowSpec, Reach
from bot.i18n import N_
from bot.services.budget import (
    REVIEWABLE,
    Decision,
    ProjectNotFound,
    ReviewClosed,
    TransitionNotAllowed,
)
from bot.services.budget_notices import REVIEWED_EFFECT
from bot.services.roles import Role
from storage.state import State

NAME = "budget_admin"
PREFIX = "ba:"
REASON = "reason"  # the step asking why a proposal is rejected or returned
REASON_MIN, REASON_MAX = 3, 1000
PAGE = 8
STATUSES = {"proposed": N_("waiting for review"), "resubmitted": N_("sent again, waiting for review"),
            "accepted": N_("accepted"), "rejected": N_("rejected"), "returned": N_("returned for changes")}


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
        await wizard(ctx)


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
