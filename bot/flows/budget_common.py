"""What the People's Budget screens share: names of phases, rules and statuses, the "bd:" button kinds,
the checks every screen makes (the campaign exists and is the resident's), and the refusals in plain words."""

from __future__ import annotations

from bot.flows import phone
from bot.flows.base import Button, Ctx, esc
from bot.flows.buttons import Int, Kind
from bot.i18n import N_
from bot.services.budget import Phase, ProjectStatus, TieRule
from storage.models import BudgetCampaign

NAME = "budget"
PREFIX = "bd:"
# steps: browsing (every button carries its own ids), typing a receipt code, sharing the phone to vote,
# and the proposal draft
MENU, RECEIPT, PHONE = "menu", "receipt", "phone"
TITLE, DESCRIPTION, COST, PLACE, PHOTO, PREVIEW = "p_title", "p_desc", "p_cost", "p_place", "p_photo", "p_preview"
DRAFT_STEPS = (TITLE, DESCRIPTION, COST, PLACE, PHOTO, PREVIEW)
LIST = Kind("bd:l").pack()
RECEIPT_ASK = Kind("bd:rc").pack()
# the buttons carry the ids they act on, so they work from any screen and from notices
CAMPAIGN, RESULTS, PROPOSE, MY_PROPOSALS, EDIT = (Kind("bd:c", Int()), Kind("bd:res", Int()), Kind("bd:p", Int()),
                                                  Kind("bd:mp", Int()), Kind("bd:e", Int()))
BALLOT = Kind("bd:b", Int(), Int())  # campaign, index of the project shown
VOTE_ASK, VOTE_YES, MY_VOTES = Kind("bd:v", Int()), Kind("bd:y", Int()), Kind("bd:mv", Int())
VOTE_MOVE = Kind("bd:yc", Int(), Int())  # from project, to project
CHANGE_VOTE = Kind("bd:cv", Int(), Int())  # campaign, project whose vote moves

PHASES = {
    Phase.DRAFT: N_("coming soon"),
    Phase.PROPOSALS: N_("collecting proposals"),
    Phase.REVIEW: N_("proposals under review"),
    Phase.VOTING: N_("voting is open"),
    Phase.CLOSED: N_("voting is over, votes are being counted"),
    Phase.RESULTS: N_("results are published"),
}
TIE_RULES = {
    TieRule.EARLIER_SUBMISSION: N_("If projects have the same number of votes, the one proposed earlier goes first."),
    TieRule.LOWER_COST: N_("If projects have the same number of votes, the cheaper one goes first "
                           "(then the one proposed earlier)."),
    TieRule.LOT_BY_DIGEST: N_("If projects have the same number of votes, a public lot decides: an order computed "
                              "from the published digest of the results, which anyone can check."),
}
STATUSES = {
    ProjectStatus.PROPOSED: N_("⏳ sent, awaiting review"),
    ProjectStatus.RESUBMITTED: N_("⏳ sent again, awaiting review"),
    ProjectStatus.ACCEPTED: N_("✅ accepted for the vote"),
    ProjectStatus.REJECTED: N_("❌ rejected"),
    ProjectStatus.RETURNED: N_("✏️ returned for changes"),
}


def phase(ctx: Ctx, c: BudgetCampaign) -> Phase:
    return ctx.services.budget.phase(c, ctx.services.budget.now())


def phase_name(ctx: Ctx, ph: Phase) -> str:
    return ctx.tr._(PHASES[ph])


def status_name(ctx: Ctx, status: str) -> str:
    try:
        return ctx.tr._(STATUSES[ProjectStatus(status)])
    except ValueError:
        return status


def title_of(ctx: Ctx, c: BudgetCampaign) -> str:
    return esc(c.title(ctx.lang), 200)


def campaign_button(ctx: Ctx, campaign_id: int) -> Button:
    return Button(ctx.tr._("« Back to the campaign"), CAMPAIGN.pack(campaign_id))


def list_button(ctx: Ctx) -> Button:
    return Button(ctx.tr._("« People's Budget"), LIST)


async def territory_name(ctx: Ctx, kato: str | None) -> str:
    t = await ctx.services.territories.get(kato) if kato else None
    return esc(t.name(ctx.lang), 200) if t else "—"


async def _include_demo(ctx: Ctx) -> bool | None:
    """Whether the sandbox's demo campaigns count for the resident; None when they have no settlement (then no
    campaign is theirs)."""
    r = ctx.resident
    if r is None or not r.territory_kato:
        return None
    place = await ctx.services.territories.get(r.territory_kato)
    return bool(place and place.is_demo)


async def my_campaigns(ctx: Ctx) -> list[BudgetCampaign]:
    """The campaigns of the resident's territory and above, and those open for voting where their settlement on
    record when voting opened lies, newest first (demo ones only in the sandbox)."""
    demo = await _include_demo(ctx)
    return [] if demo is None else await ctx.services.budget.campaigns_for_resident(ctx.resident.id,
                                                                                    include_demo=demo)


async def _mine(ctx: Ctx, campaign_id: int) -> BudgetCampaign | None:
    """The campaign when it is among :func:`my_campaigns`."""
    demo = await _include_demo(ctx)
    return None if demo is None else await ctx.services.budget.campaign_for_resident(ctx.resident.id, campaign_id,
                                                                                     include_demo=demo)


async def load_campaign(ctx: Ctx, campaign_id: int, *, mine: bool = True) -> BudgetCampaign | None:
    """The campaign, or None after telling the resident why not (unknown; not of their area when ``mine``)."""
    c = await ctx.services.budget.get_campaign(campaign_id)
    if c is None:
        ctx.show(ctx.tr._("There is no such People's Budget campaign. It may have been removed."))
        return None
    if mine and await _mine(ctx, c.id) is None:
        ctx.show(ctx.tr._("This campaign is for the residents of {place}, and your settlement is not part of it. "
                          "If you have moved, change your settlement in ⚙️ Settings.",
                          place=await territory_name(ctx, c.territory_kato)))
        return None
    return c


def voting_closed_text(ctx: Ctx, c: BudgetCampaign, ph: Phase) -> str:
    tr = ctx.tr
    if ph in (Phase.DRAFT, Phase.PROPOSALS, Phase.REVIEW):
        return tr._("Voting has not opened yet. It opens on {date}.", date=tr.datetime(c.voting_from))
    if ph is Phase.CLOSED:
        return tr._("Voting is over. The results will be published by {date}.", date=tr.date(c.results_at))
    return tr._("Voting is over and the results are published.")


def proposals_closed_text(ctx: Ctx, c: BudgetCampaign, ph: Phase) -> str:
    tr = ctx.tr
    if ph is Phase.DRAFT:
        return tr._("Proposals are not accepted yet. They open on {date}.", date=tr.datetime(c.proposals_from))
    return tr._("Proposals were accepted until {date}; new ones are no longer taken.",
                date=tr.datetime(c.proposals_until))


async def explain_not_eligible(ctx: Ctx, reason: str, c: BudgetCampaign) -> None:
    """Why the resident may not vote, and what to do. For a missing phone: ask for it right here."""
    tr, buttons = ctx.tr, [[list_button(ctx)]]
    if reason == "no_phone":
        ctx.state.step, ctx.state.data["campaign"] = PHONE, c.id  # type: ignore[union-attr]
        ctx.show(tr._("Voting needs your phone number confirmed by the messenger, so that each person votes only once. "
                      "Press «📱 Share my number» below."), request=phone.request(ctx, skip=False))
    elif reason == "territory":
        ctx.show(tr._("This campaign is for the residents of {place}, and your settlement is not part of it. "
                      "If you have moved, change your settlement in ⚙️ Settings.",
                      place=await territory_name(ctx, c.territory_kato)), buttons)
    elif reason == "moved":
        kato = await ctx.services.budget.voting_territory(ctx.resident.id, c.id)
        ctx.show(tr._("For this vote, the settlement on record when voting opened counts: {place}. You changed "
                      "your settlement after voting opened ({date}), so you cannot vote in this campaign.",
                      place=await territory_name(ctx, kato), date=tr.datetime(c.voting_from)), buttons)
    elif reason == "elsewhere":
        other = await ctx.services.budget.voted_elsewhere(ctx.resident.id, c.id)
        ctx.show(tr._("A vote from this phone number has already been counted in «{title}», whose voting runs at "
                      "the same time. One phone number votes in only one of the campaigns of a district that run "
                      "at the same time.", title=title_of(ctx, other) if other else "—"), buttons)
    else:  # not_found, not_registered, no_consent
        ctx.show(tr._("Only registered residents can vote. Please finish registration: send /start."), buttons)


async def rule_lines(ctx: Ctx, c: BudgetCampaign) -> list[str]:
    """Who votes, for the campaign card: the settlement on record when voting opens; one phone, one campaign at a
    time within the district."""
    tr = ctx.tr
    lines = [tr._("Residents vote whose settlement on record when voting opens lies in this territory; a "
                  "settlement changed later does not count for this vote.")]
    district = await ctx.services.budget.district_of_campaign(c.id)
    if district is not None:
        lines.append(tr._("If voting in several campaigns of one district ({district}) runs at the same time, "
                          "one phone number votes in only one of them.",
                          district=await territory_name(ctx, district)))
    return lines



async def moved_during_voting(ctx: Ctx) -> list[str]:
    """After a change of settlement: for each campaign whose voting is open, where the settlement on record when
    voting opened is another one, say plainly that that one counts for this vote."""
    r, tr, budget = ctx.resident, ctx.tr, ctx.services.budget
    if r is None:
        return []
    lines = []
    for c in await my_campaigns(ctx):
        if phase(ctx, c) is Phase.VOTING:
            kato = await budget.voting_territory(r.id, c.id)
            if kato and kato != r.territory_kato:
                lines.append(tr._("Voting in «{title}» had already opened: for this vote, the settlement on record "
                                  "when voting opened counts ({place}).", title=title_of(ctx, c),
                                  place=await territory_name(ctx, kato)))
    return lines
