"""People's Budget voting: the ballot one project per screen, the confirmation, the receipt, "my votes" and
moving a vote where the campaign allows it. Every button carries its ids and is checked again here."""

from __future__ import annotations

from bot.flows.base import Button, Ctx, esc
from bot.flows.budget_common import (
    BALLOT,
    CHANGE_VOTE,
    MY_VOTES,
    RECEIPT_ASK,
    RESULTS,
    VOTE_ASK,
    VOTE_MOVE,
    VOTE_YES,
    campaign_button,
    explain_not_eligible,
    list_button,
    load_campaign,
    phase,
    voting_closed_text,
)
from bot.flows.common import paging_row
from bot.services.budget import (
    AlreadyVoted,
    BudgetError,
    NotEligible,
    NoVotesLeft,
    Phase,
    ProjectStatus,
    Receipt,
    VoteChangeNotAllowed,
    VoteNotFound,
    VotingClosed,
    format_receipt,
)
from storage.models import BudgetCampaign, BudgetProject

DESCRIPTION_WITH_PHOTO, DESCRIPTION = 700, 2500  # a photo caption holds 1024 characters


def _data(ctx: Ctx) -> dict:
    assert ctx.state is not None
    return ctx.state.data


def _index(ctx: Ctx, campaign_id: int) -> int:
    d = _data(ctx)
    return int(d.get("index", 0)) if d.get("campaign") == campaign_id else 0


def _move_from(ctx: Ctx, campaign_id: int) -> int | None:
    d = _data(ctx)
    return d.get("move_from") if d.get("campaign") == campaign_id else None


def _not_on_ballot(ctx: Ctx) -> None:
    ctx.show(ctx.tr._("This project is not on the ballot."), [[list_button(ctx)]])


async def _open_for_voting(ctx: Ctx, c: BudgetCampaign) -> bool:
    """Voting is open and the resident may vote; else say why and return False."""
    ph = phase(ctx, c)
    if ph is not Phase.VOTING:
        row = [campaign_button(ctx, c.id)]
        if ph is Phase.RESULTS:
            row.insert(0, Button(ctx.tr._("🏆 Results"), RESULTS.pack(c.id)))
        ctx.show(voting_closed_text(ctx, c, ph), [row])
        return False
    reason = await ctx.services.budget.eligibility(ctx.resident.id, c.id)
    if reason is not None:
        await explain_not_eligible(ctx, reason, c)
        return False
    return True


async def _project(ctx: Ctx, project_id: int) -> tuple[BudgetCampaign, BudgetProject] | None:
    """The project and its campaign, when the campaign is the resident's and the project is on its ballot."""
    p = await ctx.services.budget.get_project(project_id)
    if p is None:
        _not_on_ballot(ctx)
        return None
    c = await load_campaign(ctx, p.campaign_id)
    if c is None:
        return None
    if p.status != ProjectStatus.ACCEPTED.value:
        _not_on_ballot(ctx)
        return None
    return c, p


def _votes_left_line(ctx: Ctx, c: BudgetCampaign, left: int) -> str | None:
    if c.votes_per_resident <= 1:
        return None
    return ctx.tr._("Votes left: {left} of {total}.", left=left, total=c.votes_per_resident)


async def open_ballot(ctx: Ctx, campaign_id: int, index: int = 0) -> None:
    tr, budget = ctx.tr, ctx.services.budget
    c = await load_campaign(ctx, campaign_id)
    if c is None or not await _open_for_voting(ctx, c):
        return
    d = _data(ctx)
    if d.get("campaign") != c.id:
        d.pop("move_from", None)
    page = await budget.ballot(c.id, page=index, page_size=1)
    if page.total == 0:
        ctx.show(tr._("No projects are on the ballot yet."), [[campaign_button(ctx, c.id)]])
        return
    if not page.projects:  # past the end (the ballot changed since the button was drawn)
        index = page.total - 1
        page = await budget.ballot(c.id, page=index, page_size=1)
    p = page.projects[0]
    d["campaign"], d["index"], d["on"] = c.id, index, "ballot"  # wrong input here shows this project again
    standing = await budget.standing(ctx.resident.id, c.id)
    mine, left = {v.project_id for v in standing.mine}, standing.left
    move_from = _move_from(ctx, c.id)
    lines = [f"<b>{esc(p.title, 200)}</b>", tr._("Cost: {cost}", cost=tr.tenge(p.cost_tenge))]
    photo = await ctx.file_of(p.photo_media_id)
    if p.territory_kato and p.territory_kato != c.territory_kato:
        place = await ctx.services.territories.get(p.territory_kato)
        lines.append(tr._("Place: {place}", place=esc(place.name(ctx.lang), 200) if place else "—"))
    if p.description:
        lines += ["", esc(p.description, DESCRIPTION_WITH_PHOTO if photo else DESCRIPTION)]
    lines += ["", f"{index + 1} / {page.total}"]
    if p.id in mine:
        lines.append(tr._("✅ You voted for this project."))
    if left == 0 and standing.earlier:
        lines.append(tr._("A vote from this phone number has already been counted in this campaign (from an "
                          "earlier account of this number), so there is no vote left to give here."))
    if (line := _votes_left_line(ctx, c, left)) is not None:
        lines.append(line)
    if move_from is not None:
        lines.append(tr._("Choose the project to move your vote to."))
    rows: list[list[Button]] = []
    paging = paging_row(BALLOT, index, index < page.total - 1, None, c.id)
    if paging:
        rows.append(paging)
    if p.id not in mine:
        if move_from is not None:
            rows.append([Button(tr._("🔄 Move my vote here"), VOTE_ASK.pack(p.id))])
        elif left > 0:
            rows.append([Button(tr._("✅ Vote for this"), VOTE_ASK.pack(p.id))])
        elif c.vote_change_allowed and mine:
            rows.append([Button(tr._("🔄 Move a vote here"), VOTE_ASK.pack(p.id))])
    if p.latitude is not None and p.longitude is not None:
        rows.append([Button(tr._("📍 On the map"), url=f"https://www.openstreetmap.org/?mlat={p.latitude:.6f}"
                                                      f"&mlon={p.longitude:.6f}#map=17/{p.latitude:.6f}/{p.longitude:.6f}")])
    rows.append([Button(tr._("🧾 My votes"), MY_VOTES.pack(c.id)), campaign_button(ctx, c.id)])
    ctx.show("\n".join(lines), rows, photo=photo)


async def ask(ctx: Ctx, project_id: int) -> None:
    """"Vote for this": the confirmation (or the choice of which vote to move)."""
    tr, budget = ctx.tr, ctx.services.budget
    found = await _project(ctx, project_id)
    if found is None:
        return
    c, p = found
    if not await _open_for_voting(ctx, c):
        return
    standing = await budget.standing(ctx.resident.id, c.id)
    mine = standing.mine
    back = Button(tr._("« Back"), BALLOT.pack(c.id, _index(ctx, c.id)))
    if any(v.project_id == p.id for v in mine):
        ctx.show(tr._("You have already voted for this project."), [[back]])
        return
    move_from = _move_from(ctx, c.id)
    if move_from is not None and not any(v.project_id == move_from for v in mine):
        move_from = None
    title = esc(p.title, 200)
    if move_from is None and standing.left == 0:
        if not mine:  # the phone's votes were given from an earlier account
            ctx.show(tr._("A vote from this phone number has already been counted in this campaign."), [[back]])
            return
        if not c.vote_change_allowed:
            ctx.show(tr._("You have used all your votes in this campaign, and votes here cannot be changed."),
                     [[back]])
            return
        if len(mine) > 1:
            rows = [[Button("🔄 " + await _title(ctx, v.project_id, 40, label=True),
                            VOTE_MOVE.pack(v.project_id, p.id))]
                    for v in mine]
            ctx.show(tr._("You have used all your votes. Which of them should move to «{title}»?", title=title),
                     rows + [[back]])
            return
        move_from = mine[0].project_id
    until = tr.datetime(c.voting_until)
    if move_from is not None:
        ctx.show(tr._("Move your vote from «{old}» to <b>{title}</b> ({cost})?\n\n"
                      "You may change it again until {date}.", old=await _title(ctx, move_from), title=title,
                      cost=tr.tenge(p.cost_tenge), date=until),
                 [[Button(tr._("✅ Yes, move my vote"), VOTE_MOVE.pack(move_from, p.id))], [back]])
        return
    rule = (tr._("You may change your vote until {date}.", date=until) if c.vote_change_allowed
            else tr._("⚠️ Your vote cannot be changed after this."))
    ctx.show(tr._("You are voting for <b>{title}</b> ({cost}).", title=title, cost=tr.tenge(p.cost_tenge))
             + "\n\n" + rule, [[Button(tr._("✅ Yes, I vote for it"), VOTE_YES.pack(p.id))], [back]])


async def _title(ctx: Ctx, project_id: int, limit: int = 200, *, label: bool = False) -> str:
    """The project's title for a text (HTML-escaped) or, with ``label``, for a button (plain)."""
    p = await ctx.services.budget.get_project(project_id)
    title = p.title if p else "—"
    if label:
        return title if len(title) <= limit else title[:limit - 1] + "…"
    return esc(title, limit)


async def _refused(ctx: Ctx, c: BudgetCampaign, exc: BudgetError) -> None:
    tr, back = ctx.tr, [[Button(ctx.tr._("« Back"), BALLOT.pack(c.id, _index(ctx, c.id)))]]
    if isinstance(exc, VotingClosed):
        ctx.show(voting_closed_text(ctx, c, exc.phase), [[campaign_button(ctx, c.id)]])
    elif isinstance(exc, NotEligible):
        await explain_not_eligible(ctx, exc.reason, c)
    elif isinstance(exc, AlreadyVoted):
        ctx.show(tr._("You have already voted for this project."), back)
    elif isinstance(exc, NoVotesLeft):
        ctx.show(tr._("You have used all your votes in this campaign."), back)
    elif isinstance(exc, VoteChangeNotAllowed):
        ctx.show(tr._("Votes in this campaign cannot be changed."), back)
    elif isinstance(exc, VoteNotFound):
        ctx.show(tr._("You have no vote there to move."), back)
    else:  # ProjectNotFound, WrongCampaign, NotOnBallot
        _not_on_ballot(ctx)


async def cast(ctx: Ctx, project_id: int) -> None:
    found = await _project(ctx, project_id)
    if found is None:
        return
    c, p = found
    try:
        receipt = await ctx.services.budget.cast_vote(ctx.resident.id, c.id, p.id)
    except BudgetError as exc:
        await _refused(ctx, c, exc)
        return
    await _receipt(ctx, c, p, receipt, ctx.tr._("✅ Thank you! Your vote for <b>{title}</b> is counted.",
                                                title=esc(p.title, 200)))


async def change(ctx: Ctx, from_project: int, to_project: int) -> None:
    found = await _project(ctx, to_project)
    if found is None:
        return
    c, p = found
    try:
        receipt = await ctx.services.budget.change_vote(ctx.resident.id, c.id, from_project, p.id)
    except BudgetError as exc:
        await _refused(ctx, c, exc)
        return
    _data(ctx).pop("move_from", None)
    await _receipt(ctx, c, p, receipt, ctx.tr._("🔄 Your vote now counts for <b>{title}</b>. "
                                                "The receipt of the old vote no longer counts.",
                                                title=esc(p.title, 200)))


async def _receipt(ctx: Ctx, c: BudgetCampaign, p: BudgetProject, receipt: Receipt, head: str) -> None:
    tr = ctx.tr
    lines = [head, "", tr._("Your receipt: <code>{code}</code>", code=format_receipt(receipt.code)),
             tr._("Keep it. Anyone can check the code in this bot with «🔎 Check a receipt»: it confirms the vote "
                  "is counted, without showing who voted or for which project.")]
    if receipt.votes_left is not None and (line := _votes_left_line(ctx, c, receipt.votes_left)):
        lines += ["", line]
    ctx.show("\n".join(lines), [
        [Button(tr._("🗳 Ballot"), BALLOT.pack(c.id, _index(ctx, c.id))),
         Button(tr._("🧾 My votes"), MY_VOTES.pack(c.id))],
        [Button(tr._("🔎 Check a receipt"), RECEIPT_ASK), campaign_button(ctx, c.id)]])


async def my_votes(ctx: Ctx, campaign_id: int) -> None:
    _data(ctx).pop("on", None)
    tr, budget = ctx.tr, ctx.services.budget
    c = await load_campaign(ctx, campaign_id)
    if c is None:
        return
    voting = phase(ctx, c) is Phase.VOTING
    standing = await budget.standing(ctx.resident.id, c.id)
    votes = standing.mine
    rows: list[list[Button]] = []
    if not votes:
        lines = [tr._("You have not voted in this campaign.")]
    else:
        lines = [tr._("<b>Your votes</b>")]
        for v in votes:
            title = await _title(ctx, v.project_id)
            lines.append(f"• {title}: <code>{format_receipt(v.code)}</code> ({tr.datetime(v.at)})")
            if voting and c.vote_change_allowed:
                rows.append([Button(tr._("🔄 Change: {title}", title=await _title(ctx, v.project_id, 30, label=True)),
                                    CHANGE_VOTE.pack(c.id, v.project_id))])
        if voting:
            lines.append("")
            lines.append(tr._("You may change your vote until {date}.", date=tr.datetime(c.voting_until))
                         if c.vote_change_allowed else tr._("Votes in this campaign cannot be changed."))
    if voting and (line := _votes_left_line(ctx, c, standing.left)):
        lines.append(line)
    if voting:
        rows.append([Button(tr._("🗳 Ballot"), BALLOT.pack(c.id, _index(ctx, c.id)))])
    rows.append([Button(tr._("🔎 Check a receipt"), RECEIPT_ASK), campaign_button(ctx, c.id)])
    ctx.show("\n".join(lines), rows)


async def start_move(ctx: Ctx, campaign_id: int, from_project: int) -> None:
    """"Change": the ballot, where "Vote" moves this vote."""
    c = await load_campaign(ctx, campaign_id)
    if c is None or not await _open_for_voting(ctx, c):
        return
    if not c.vote_change_allowed:
        ctx.show(ctx.tr._("Votes in this campaign cannot be changed."), [[campaign_button(ctx, c.id)]])
        return
    if not any(v.project_id == from_project for v in await ctx.services.budget.my_votes(ctx.resident.id, c.id)):
        ctx.show(ctx.tr._("You have no vote there to move."), [[campaign_button(ctx, c.id)]])
        return
    d = _data(ctx)
    d["campaign"], d["move_from"] = c.id, from_project
    await open_ballot(ctx, c.id, 0)
