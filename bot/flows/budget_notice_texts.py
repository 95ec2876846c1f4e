"""What people read about the People's Budget that the bot sends on its own: phase notices and results to
residents, a new proposal to the admins, a review decision to the author. Wording only: the rules and the
queuing are in bot/services/budget_notices.py, whose notices :class:`BudgetTexts` words when they are sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.flows.base import Button, esc
from bot.flows.budget_common import CAMPAIGN, RESULTS
from bot.flows.buttons import Choice, Int, Kind
from bot.i18n import N_, I18n, Translator
from storage.models import BudgetCampaign, BudgetProject, Territory

if TYPE_CHECKING:
    from bot.delivery.notices import Notices, Reader
    from bot.services.budget import BudgetService
    from bot.services.media import MediaService
    from bot.services.territories import TerritoryService

# the admin's review buttons, also on the notice of a new proposal: "ba:<action>:<number>"; "pl" a page of the
# list, "o" one proposal, "acc|rej|ret" a decision (bot/flows/budget_admin.py)
REVIEW = Kind("ba", Choice(("pl", "o", "acc", "rej", "ret")), Int())
MAX_WINNERS_LISTED = 10
CAPTION_LIMIT = 1024
TIE_RULES = {
    "earlier_submission": (N_("Earlier submission"), N_("of projects with equal votes, the one submitted earlier "
                                                        "wins")),
    "lower_cost": (N_("Lower cost"), N_("of projects with equal votes, the cheaper one wins (then the earlier "
                                        "one)")),
    "lot_by_digest": (N_("Public lot"), N_("of projects with equal votes, a lot drawn from the published checksum "
                                           "of the results decides: nobody can know it before voting ends")),
}


def payload(text: str, buttons: list[list[Button]] | None = None, photo: str | None = None) -> dict[str, Any]:
    """A screen as an outbox payload (see bot/delivery/sender.py)."""
    out: dict[str, Any] = {"text": text}
    rows = [[{"text": b.text, "url": b.url} if b.url else {"text": b.text, "data": b.data} for b in row]
            for row in buttons or [] if row]
    if rows:
        out["buttons"] = rows
    if photo:
        out["photo"] = photo
    return out


def place_name(tr: Translator, territory: Territory | None, fallback: str = "—") -> str:
    return esc(territory.name(tr.lang), 200) if territory else fallback


def header(tr: Translator, c: BudgetCampaign) -> str:
    return tr._("🗳 <b>People's Budget: {title}</b>", title=esc(c.title(tr.lang), 200))


def tie_rule_text(tr: Translator, rule: str) -> str:
    name, explained = TIE_RULES.get(rule, (rule, ""))
    return f"{tr._(name)}: {tr._(explained)}" if explained else esc(rule)


# -- the admin's review ---------------------------------------------------------------------------


def proposal_card(tr: Translator, p: BudgetProject, c: BudgetCampaign, place: Territory | None,
                  status: str | None = None) -> tuple[str, list[list[Button]]]:
    """A proposal as an admin reviews it, with the decision buttons (``ba:acc|rej|ret:<id>``); with
    ``status`` (a proposal already decided) the status instead of the buttons."""
    if status is not None:
        first = tr._("📄 <b>Project proposal</b> · {status}", status=status)
    elif p.status == "resubmitted":
        first = tr._("🔁 <b>A changed proposal, sent again</b>")
    else:
        first = tr._("📥 <b>A new project proposal</b>")
    lines = [first, tr._("Campaign: {title}", title=esc(c.title(tr.lang), 200)), "",
             f"<b>{esc(p.title, 200)}</b>",
             tr._("Cost: {cost}", cost=tr.tenge(p.cost_tenge)),
             tr._("Place: {place}", place=place_name(tr, place))]
    if p.description:
        lines += ["", esc(p.description, 500)]
    if p.status_reason and p.status in ("resubmitted", "rejected", "returned"):
        lines += ["", tr._("Reason given: {reason}", reason=esc(p.status_reason, 200))]
    rows: list[list[Button]] = []
    if status is None:
        lines += ["", tr._("Accept puts it on the ballot. Reject or return asks you for a reason; the author will "
                           "read it.")]
        rows += [[Button(tr._("✅ Accept"), REVIEW.pack("acc", p.id)),
                  Button(tr._("⛔ Reject"), REVIEW.pack("rej", p.id))],
                 [Button(tr._("↩️ Return for changes"), REVIEW.pack("ret", p.id))]]
    if p.latitude is not None and p.longitude is not None:
        url = f"https://www.openstreetmap.org/?mlat={p.latitude:.6f}&mlon={p.longitude:.6f}#map=17/" \
              f"{p.latitude:.6f}/{p.longitude:.6f}"
        rows.append([Button(tr._("📍 On the map"), url=url)])
    return "\n".join(lines), rows


def decision_text(tr: Translator, p: BudgetProject, c: BudgetCampaign) -> str:
    """What the author hears about the admin's decision, with the reason."""
    title = esc(p.title, 200)
    if p.status == "accepted":
        body = tr._("✅ Your proposal «{title}» has been accepted. It will be on the ballot when voting opens "
                    "on {date}.", title=title, date=tr.datetime(c.voting_from))
    elif p.status == "rejected":
        body = tr._("Your proposal «{title}» has not been accepted.\nReason: {reason}", title=title,
                    reason=esc(p.status_reason, 1000))
    else:
        body = tr._("↩️ Your proposal «{title}» has been returned for changes.\nWhat to change: {reason}\n\n"
                    "You can change it and send it again until {date}.", title=title,
                    reason=esc(p.status_reason, 1000), date=tr.datetime(c.review_until))
    return header(tr, c) + "\n\n" + body


# -- residents' notices ---------------------------------------------------------------------------


def phase_text(tr: Translator, kind: str, c: BudgetCampaign, place: Territory | None) -> tuple[str, str]:
    """(text, button label) of a phase notice: proposals_open, voting_open, voting_closing."""
    where = place_name(tr, place)
    if kind == "proposals_open":
        body = tr._("Proposals are open until {until}. What would you improve in {place}: a playground, lighting, "
                    "benches, a pavement? Send your project proposal here in the bot.",
                    until=tr.datetime(c.proposals_until), place=where)
        return f"{header(tr, c)}\n\n{body}", tr._("📝 Propose a project")
    votes = tr.ngettext("Each resident has {n} vote.", "Each resident has {n} votes.", c.votes_per_resident)
    if kind == "voting_open":
        body = tr._("Voting is open until {until}! Choose the projects for {place}.", until=tr.datetime(c.voting_until),
                    place=where)
        return f"{header(tr, c)}\n\n{body} {votes}", tr._("🗳 Vote")
    body = tr._("⏰ Voting ends on {until}. If you have not voted yet, there is still time.",
                until=tr.datetime(c.voting_until))
    return f"{header(tr, c)}\n\n{body}", tr._("🗳 Vote")


def results_text(tr: Translator, c: BudgetCampaign) -> str:
    rows = (c.results_json or {}).get("rows", [])
    winners = [r for r in rows if r.get("winner")]
    total = sum(int(r.get("votes", 0)) for r in rows)
    lines = [header(tr, c), "", tr._("📊 The voting results are in.")]
    if winners:
        lines.append(tr._("Projects to be implemented:"))
        for r in winners[:MAX_WINNERS_LISTED]:
            votes = tr.ngettext("{n} vote", "{n} votes", int(r["votes"]))
            lines.append(f"• {esc(str(r['title']), 200)}: {votes}, {tr.tenge(int(r['cost_tenge']))}")
        if len(winners) > MAX_WINNERS_LISTED:
            rest = len(winners) - MAX_WINNERS_LISTED
            lines.append(tr.ngettext("…and {n} more project", "…and {n} more projects", rest))
    else:
        lines.append(tr.ngettext("No project got at least {threshold} vote, so none can be implemented this time.",
                                 "No project got at least {threshold} votes, so none can be implemented this time.",
                                 int(c.threshold), threshold=c.threshold))
    lines += ["", tr.ngettext("{n} vote counted in all. Thank you for taking part!",
                              "{n} votes counted in all. Thank you for taking part!", total)]
    return "\n".join(lines)


class BudgetTexts:
    """The renderers of the budget's notice kinds (bot/services/budget_notices.py), in the reader's language."""

    def __init__(self, i18n: I18n, budget: BudgetService, territories: TerritoryService, media: MediaService) -> None:
        self.i18n, self.budget, self.territories, self.media = i18n, budget, territories, media

    def register(self, notices: Notices) -> None:
        from bot.services import budget_notices as kinds

        notices.register(kinds.PHASE_NOTICE, self.phase)
        notices.register(kinds.RESULTS_NOTICE, self.results)
        notices.register(kinds.PROPOSAL_NOTICE, self.proposal)
        notices.register(kinds.DECISION_NOTICE, self.decision)

    async def _project(self, p: dict[str, Any]) -> tuple[BudgetProject | None, BudgetCampaign | None]:
        project = await self.budget.get_project(p["project_id"])
        c = await self.budget.get_campaign(project.campaign_id) if project is not None else None
        return project, c

    async def proposal(self, params: dict[str, Any], reader: Reader) -> dict[str, Any] | None:
        p, c = await self._project(params)
        if p is None or c is None:
            return None
        place = await self.territories.get(p.territory_kato or c.territory_kato)
        text, rows = proposal_card(self.i18n(reader.language), p, c, place)
        photo = await self.media.file_id(p.photo_media_id, reader.channel) if p.photo_media_id else None
        # a caption holds 1024 characters: a longer card goes as text, and /proposals shows the photo
        return payload(text, rows, photo=photo if len(text) <= CAPTION_LIMIT else None)

    async def decision(self, params: dict[str, Any], reader: Reader) -> dict[str, Any] | None:
        p, c = await self._project(params)
        if p is None or c is None:
            return None
        tr = self.i18n(reader.language)
        return payload(decision_text(tr, p, c), [[Button(tr._("🗳 People's Budget"), CAMPAIGN.pack(c.id))]])

    async def phase(self, params: dict[str, Any], reader: Reader) -> dict[str, Any] | None:
        c = await self.budget.get_campaign(params["campaign_id"])
        if c is None:
            return None
        place = await self.territories.get(c.territory_kato)
        text, label = phase_text(self.i18n(reader.language), params["phase"], c, place)
        return payload(text, [[Button(label, CAMPAIGN.pack(c.id))]])

    async def results(self, params: dict[str, Any], reader: Reader) -> dict[str, Any] | None:
        c = await self.budget.get_campaign(params["campaign_id"])
        if c is None:
            return None
        tr = self.i18n(reader.language)
        return payload(results_text(tr, c), [[Button(tr._("📊 Full results"), RESULTS.pack(c.id))]])
