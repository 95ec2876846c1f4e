"""The People's Participatory Budget: the tally, its canonical JSON and digest, the ranking anyone can recompute,
and the publication of the results. A part of :class:`~bot.services.budget.BudgetService`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bot.services.audit import audit
from bot.services.budget_rules import (
    BudgetBase,
    CampaignNotFound,
    Phase,
    ProjectStatus,
    ResultsAlreadyPublished,
    TallyResult,
    TallyRow,
    TieRule,
    WrongPhase,
)
from storage.models import BudgetCampaign, BudgetProject, Vote

# -- pure functions: anyone can recompute these from the published JSON -------------------------


def canonical_json(campaign: BudgetCampaign, counts: Iterable[Mapping[str, Any]]) -> str:
    """The counts and the rules, as canonical JSON (sorted keys, no spaces, UTF-8, projects by id).
    ``counts``: dicts with ``id``, ``cost_tenge``, ``votes``, ``submitted_at`` (ISO 8601 UTC)."""
    doc = {
        "campaign_id": campaign.id,
        "budget_tenge": int(campaign.budget_tenge),
        "threshold": int(campaign.threshold),
        "tie_rule": campaign.tie_rule,
        "votes_per_resident": int(campaign.votes_per_resident),
        "projects": sorted(({"id": int(c["id"]), "cost_tenge": int(c["cost_tenge"]), "votes": int(c["votes"]),
                             "submitted_at": c["submitted_at"]} for c in counts), key=lambda c: c["id"]),
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest_of(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def rank_projects(doc: Mapping[str, Any], digest: str) -> list[dict[str, Any]]:
    """Rank and pick winners from a canonical document (:func:`canonical_json`, parsed). Returns one dict
    per project in rank order: ``id``, ``votes``, ``eligible``, ``winner``, ``reason``, ``rank``."""
    rule = TieRule(doc["tie_rule"])
    threshold, remaining = doc["threshold"], doc["budget_tenge"]

    def tie_key(p: Mapping[str, Any]) -> tuple[Any, ...]:
        if rule is TieRule.LOWER_COST:
            return (p["cost_tenge"], p["submitted_at"], p["id"])
        if rule is TieRule.LOT_BY_DIGEST:
            return (hashlib.sha256(f"{digest}:{p['id']}".encode()).hexdigest(), p["id"])
        return (p["submitted_at"], p["id"])

    ranked = sorted(doc["projects"], key=lambda p: (-p["votes"], *tie_key(p)))
    out = []
    for rank, p in enumerate(ranked, 1):
        eligible = p["votes"] >= threshold
        winner, reason = False, None
        if not eligible:
            reason = "below_threshold"
        elif p["cost_tenge"] <= remaining:
            winner, remaining = True, remaining - p["cost_tenge"]
        else:
            reason = "over_budget"
        out.append({"id": p["id"], "votes": p["votes"], "eligible": eligible, "winner": winner, "reason": reason,
                    "rank": rank})
    return out


def _utc_iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")



class BudgetTally(BudgetBase):
    async def tally(self, campaign_id: int) -> TallyResult:
        """Counts per accepted project (GROUP BY in SQL), eligibility, greedy winners within the budget, ties
        by the campaign's rule, and the digest of the canonical counts and rules."""
        async with self._sessions() as s:
            c = await self._campaign(s, campaign_id)
            counts = dict((await s.execute(
                select(Vote.project_id, func.count()).where(Vote.campaign_id == campaign_id)
                .group_by(Vote.project_id))).all())
            projects = list((await s.execute(
                select(BudgetProject.id, BudgetProject.title, BudgetProject.cost_tenge, BudgetProject.submitted_at)
                .where(BudgetProject.campaign_id == campaign_id,
                       BudgetProject.status == ProjectStatus.ACCEPTED.value))).all())
        return self._result(c, projects, counts)

    @staticmethod
    def _result(c: BudgetCampaign, projects: Sequence[Any], counts: Mapping[int, int]) -> TallyResult:
        titles = {pid: title for pid, title, _, _ in projects}
        costs = {pid: int(cost) for pid, _, cost, _ in projects}
        canonical = canonical_json(c, ({"id": pid, "cost_tenge": cost, "votes": int(counts.get(pid, 0)),
                                        "submitted_at": _utc_iso(at)} for pid, _, cost, at in projects))
        digest = digest_of(canonical)
        ranked = rank_projects(json.loads(canonical), digest)
        rows = [TallyRow(r["id"], titles[r["id"]], costs[r["id"]], r["votes"], r["eligible"], r["winner"],
                         r["reason"], r["rank"]) for r in ranked]
        return TallyResult(c.id, int(c.budget_tenge), int(c.threshold), c.tie_rule, rows,
                           sum(r.cost_tenge for r in rows if r.winner), canonical, digest)

    async def publish_results(self, campaign_id: int, actor: int) -> TallyResult:
        """Once voting is over: store the tally (results_json, digest) and the publication time."""
        now = self.now()
        result = await self.tally(campaign_id)
        async with self._sessions() as s, s.begin():
            c = await s.get(BudgetCampaign, campaign_id, with_for_update=True)
            if c is None:
                raise CampaignNotFound(campaign_id)
            if c.published_at is not None:
                raise ResultsAlreadyPublished(campaign_id)
            if (ph := self.phase(c, now)) is not Phase.CLOSED:
                raise WrongPhase(ph)
            c.results_json, c.results_digest, c.published_at = result.to_json(), result.digest, now
            audit(s, "budget.results_publish", actor=actor, object_type="budget_campaign", object_id=c.id,
                  digest=result.digest, winners=[r.project_id for r in result.winners])
        return result
