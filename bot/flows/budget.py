"""The resident's side of the People's Participatory Budget (Халық араласатын бюджет): the campaigns of their
area, a campaign's rules and dates, and the way to proposing (budget_propose), voting (budget_vote), checking a
receipt and the results (budget_results).

Buttons start with "bd:" and carry the ids they act on, so they work from any screen and from notices (the
engine routes them here unless another flow's draft is open); each is checked against the database again."""

from __future__ import annotations

from bot.flows import budget_propose as propose
from bot.flows import budget_results as results
from bot.flows import budget_vote as vote
from bot.flows import consent, menu, phone
from bot.flows.base import Button, Ctx, esc
from bot.flows.budget_common import (
    BALLOT,
    CAMPAIGN,
    CHANGE_VOTE,
    DRAFT_STEPS,
    EDIT,
    LIST,
    MENU,
    MY_PROPOSALS,
    MY_VOTES,
    NAME,
    PHONE,
    PREFIX,
    PROPOSE,
    RECEIPT,
    RECEIPT_ASK,
    RESULTS,
    TIE_RULES,
    VOTE_ASK,
    VOTE_MOVE,
    VOTE_YES,
    list_button,
    load_campaign,
    my_campaigns,
    phase,
    phase_name,
    rule_lines,
    territory_name,
    title_of,
)
from bot.flows.common import BACK, hint_stale_button, tell_apart, wrong_input
from bot.flows.registry import Anywhere, DeepLink, FlowSpec, MenuEntry
from bot.i18n import N_
from bot.services.budget import RECEIPT_LENGTH, BudgetError, Phase, TieRule, format_receipt, normalize_receipt
from storage.state import State

__all__ = ["MENU", "NAME", "PREFIX", "enter", "handle", "open_link", "show_campaign"]
MAX_CAMPAIGNS = 10
# what acts for the resident (vote, move a vote, propose, change a proposal): only with consent to the text in force
CONSENTED = ("bd:v:", "bd:y:", "bd:yc:", "bd:cv:", "bd:p:", "bd:e:")


async def enter(ctx: Ctx) -> None:
    ctx.state = State(NAME, MENU, {})
    await show_list(ctx)


async def open_link(ctx: Ctx, campaign_id: int) -> None:
    """``/start vote_<campaign>``: the ballot, or why not."""
    ctx.state = State(NAME, MENU, {})
    if await ctx.services.budget.get_campaign(campaign_id) is None:
        ctx.show(ctx.tr._("This voting link leads to no campaign. Here are the campaigns of your area."))
        await show_list(ctx)
        return
    await vote.open_ballot(ctx, campaign_id)


async def show_list(ctx: Ctx) -> None:
    tr = ctx.tr
    ctx.state.step, ctx.state.data = MENU, {}  # type: ignore[union-attr]
    campaigns = (await my_campaigns(ctx))[:MAX_CAMPAIGNS]
    labels = tell_apart([_cut(c.title(ctx.lang), 40) + " · " + phase_name(ctx, phase(ctx, c)) for c in campaigns],
                        [tr.date(c.proposals_from) for c in campaigns])
    rows = [[Button(label, CAMPAIGN.pack(c.id))] for label, c in zip(labels, campaigns, strict=True)]
    if campaigns:
        text = tr._("<b>🗳 People's Budget</b>\nResidents propose projects for their village and vote for them; "
                    "the akimat carries out the winners within the budget. Choose a campaign:")
    else:
        text = tr._("There are no People's Budget campaigns for your settlement yet. When the akimat opens one, "
                    "you will find it here.")
    rows += [[Button(tr._("🔎 Check a receipt"), RECEIPT_ASK)], [Button(tr._("« Main menu"), BACK)]]
    ctx.show(text, rows)


async def show_campaign(ctx: Ctx, campaign_id: int) -> None:
    tr = ctx.tr
    c = await load_campaign(ctx, campaign_id)
    if c is None:
        await show_list(ctx)
        return
    ctx.state.step, ctx.state.data = MENU, {"campaign": c.id}  # type: ignore[union-attr]
    ph = phase(ctx, c)
    n = int(c.votes_per_resident)
    lines = [f"<b>{title_of(ctx, c)}</b>", await territory_name(ctx, c.territory_kato), "",
             tr._("Now: <b>{phase}</b>", phase=phase_name(ctx, ph)),
             tr._("Proposals: {start} – {end}", start=tr.datetime(c.proposals_from),
                  end=tr.datetime(c.proposals_until)),
             tr._("Review of proposals: until {date}", date=tr.datetime(c.review_until)),
             tr._("Voting: {start} – {end}", start=tr.datetime(c.voting_from), end=tr.datetime(c.voting_until)),
             tr._("Results: by {date}", date=tr.date(c.results_at)), "",
             tr._("Budget: {budget}", budget=tr.tenge(c.budget_tenge)),
             tr.ngettext("Each resident has {n} vote.", "Each resident has {n} votes.", n)
             + (" " + tr._("At most one vote per project.") if n > 1 else ""),
             tr._("A vote may be changed while voting is open.") if c.vote_change_allowed
             else tr._("A vote cannot be changed once given."),
             tr.ngettext("A project needs at least {n} voter, or it cannot be carried out.",
                         "A project needs at least {n} voters, or it cannot be carried out.", int(c.threshold)),
             tr._(TIE_RULES.get(TieRule(c.tie_rule), TIE_RULES[TieRule.EARLIER_SUBMISSION])),
             *await rule_lines(ctx, c)]
    rows: list[list[Button]] = []
    if ph is Phase.PROPOSALS:
        rows.append([Button(tr._("💡 Propose a project"), PROPOSE.pack(c.id))])
    if ph is Phase.VOTING:
        rows.append([Button(tr._("🗳 Ballot"), BALLOT.pack(c.id, 0))])
    if ph is Phase.RESULTS:
        rows.append([Button(tr._("🏆 Results"), RESULTS.pack(c.id))])
    if ph is not Phase.DRAFT:
        rows.append([Button(tr._("📋 My proposals"), MY_PROPOSALS.pack(c.id))])
    if ph in (Phase.VOTING, Phase.CLOSED, Phase.RESULTS):
        rows.append([Button(tr._("🧾 My votes"), MY_VOTES.pack(c.id)), Button(tr._("🔎 Check a receipt"), RECEIPT_ASK)])
    rows.append([list_button(ctx)])
    ctx.show("\n".join(lines), rows)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


async def prompt(ctx: Ctx) -> None:
    st = ctx.state
    assert st is not None
    if st.step in DRAFT_STEPS:
        await propose.prompt(ctx)
    elif st.step == RECEIPT:
        _ask_receipt(ctx)
    elif st.step == PHONE:
        ctx.show(ctx.tr._("Please press «📱 Share my number» below, so the messenger confirms the number is yours."),
                 request=phone.request(ctx, skip=False))
    elif st.data.get("campaign") and st.data.get("on") == "ballot":
        await vote.open_ballot(ctx, int(st.data["campaign"]), int(st.data.get("index", 0)))
    elif st.data.get("campaign"):
        await show_campaign(ctx, int(st.data["campaign"]))
    else:
        await show_list(ctx)


async def handle(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    assert st is not None
    if ctx.resident is None:
        ctx.state = None
        return
    if st.step in DRAFT_STEPS:
        if ev.kind == "button" and ev.data == propose.SEND and consent.outdated(ctx):
            await consent.ask(ctx)  # the draft waits for the answer to the changed consent text
        elif ev.kind == "button" and ev.data.startswith(("bd:", "m:", "ma:")) and not propose.is_draft_button(ev.data):
            hint_stale_button(ctx)  # another screen's button in the middle of the draft: the draft stays
            await propose.prompt(ctx)
        else:
            await propose.handle(ctx)
        return
    if st.step == PHONE:
        await _phone(ctx)
        return
    if ev.kind == "button":
        if ev.data == BACK:
            ctx.state = None
            await menu.show(ctx)
        elif ev.data.startswith(menu.PREFIX):
            ctx.state = None
            await menu.handle(ctx)
        else:
            await _button(ctx)
        return
    if st.step == RECEIPT and ev.kind == "text":
        await _check_receipt(ctx)
        return
    wrong_input(ctx)
    await prompt(ctx)


async def _button(ctx: Ctx) -> None:
    data, st = ctx.event.data, ctx.state
    st.step = MENU
    if data.startswith(CONSENTED) and consent.outdated(ctx):  # the consent text changed: asked before acting
        await consent.ask(ctx)
        return
    try:
        if data == LIST:
            await show_list(ctx)
        elif data == RECEIPT_ASK:
            st.step = RECEIPT
            _ask_receipt(ctx)
        elif n := CAMPAIGN.unpack(data):
            await show_campaign(ctx, n[0])
        elif n := BALLOT.unpack(data):
            await vote.open_ballot(ctx, n[0], min(n[1], 100_000))
        elif n := VOTE_ASK.unpack(data):
            await vote.ask(ctx, n[0])
        elif n := VOTE_YES.unpack(data):
            await vote.cast(ctx, n[0])
        elif n := VOTE_MOVE.unpack(data):
            await vote.change(ctx, n[0], n[1])
        elif n := MY_VOTES.unpack(data):
            await vote.my_votes(ctx, n[0])
        elif n := CHANGE_VOTE.unpack(data):
            await vote.start_move(ctx, n[0], n[1])
        elif n := RESULTS.unpack(data):
            await results.show(ctx, n[0])
        elif n := PROPOSE.unpack(data):
            await propose.start(ctx, n[0])
        elif n := MY_PROPOSALS.unpack(data):
            await propose.my_proposals(ctx, n[0])
        elif n := EDIT.unpack(data):
            await propose.edit(ctx, n[0])
        else:
            ctx.show(ctx.tr._("This button is not valid any more."))
            await show_list(ctx)
    except BudgetError:  # e.g. the campaign was removed meanwhile
        ctx.show(ctx.tr._("This cannot be done now."))
        await show_list(ctx)


def _ask_receipt(ctx: Ctx) -> None:
    ctx.show(ctx.tr._("Type the receipt code, for example ABCD-EFGH-JKMN. Small or capital letters, dashes and "
                      "spaces do not matter."), [[list_button(ctx)]])


async def _check_receipt(ctx: Ctx) -> None:
    tr = ctx.tr
    code = normalize_receipt(ctx.event.text[:64])
    if len(code) != RECEIPT_LENGTH:
        ctx.show(tr.ngettext("A receipt code has {n} letter or digit, like ABCD-EFGH-JKMN. Please type it again.",
                             "A receipt code has {n} letters and digits, like ABCD-EFGH-JKMN. Please type it again.",
                             RECEIPT_LENGTH), [[list_button(ctx)]])
        return
    found = await ctx.services.budget.check_receipt(code)
    shown = esc(format_receipt(code), 20)
    if found is None:
        text = tr._("❌ No vote has the code <code>{code}</code>. Please check the letters. After a vote is changed, "
                    "its old code no longer counts.", code=shown)
    else:
        title = found.campaign_title_ru if ctx.lang == "ru" else found.campaign_title_kk
        text = tr._("✅ The code <code>{code}</code> is a counted vote.\nCampaign: {campaign}\nGiven: {date}\n"
                    "The receipt does not show the project: only the voter sees it, in «🧾 My votes».",
                    code=shown, campaign=esc(title, 200), date=tr.datetime(found.at))
    ctx.show(text + "\n\n" + tr._("You can type another code."), [[list_button(ctx)]])


async def _phone(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    campaign_id = int(st.data.get("campaign") or 0)
    if ev.kind == "contact" and ev.contact is not None:
        outcome = await phone.accept_contact(ctx, skip=False)
        if outcome == phone.VERIFIED:
            st.step = MENU
            ctx.show(tr._("Thank you, the number is saved."), request_over=True)
            await vote.open_ballot(ctx, campaign_id)
        elif outcome == phone.TAKEN:
            st.step = MENU
            ctx.show(tr._("Back to the People's Budget."), request_over=True)
            await show_list(ctx)
        return
    if phone.is_back(ctx):
        st.step = MENU
        ctx.show(tr._("Back to the People's Budget."), request_over=True)
        await show_campaign(ctx, campaign_id)
        return
    await prompt(ctx)


async def from_anywhere(ctx: Ctx) -> None:
    """A "bd:" button (also on phase notices and results) pressed outside another flow's draft."""
    if ctx.state is None or ctx.state.flow != NAME:
        ctx.state = State(NAME, MENU, {})
    await handle(ctx)


# the proposal draft and the request for the phone are not trampled by other flows' buttons ("ma:" on a notice)
FLOW = FlowSpec(name=NAME, handle=handle, prompt=prompt, buttons=(PREFIX,),
                anywhere=(Anywhere(PREFIX, from_anywhere),), drafts=frozenset((*DRAFT_STEPS, PHONE)),
                menu=MenuEntry("budget", N_("🗳 People's Budget"), 30, enter),
                deep_links=(DeepLink("vote", open_link),))
