"""The People's Participatory Budget: campaigns (creation, lookups, the campaigns a resident takes part in)
and eligibility (the settlement that counts, one campaign at a time per district). A part of
:class:`~bot.services.budget.BudgetService`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.audit import audit
from bot.services.budget_district import district_of, voted_elsewhere, voting_territory
from bot.services.budget_rules import (
    MIN_THRESHOLD,
    BudgetBase,
    InvalidCampaign,
    NotEligible,
    Phase,
    ThresholdTooLow,
    TieRule,
)
from bot.services.territories import ancestors
from storage.models import BudgetCampaign, Resident, ResidentTerritory, Territory


class BudgetCampaigns(BudgetBase):
    # -- campaigns ------------------------------------------------------------------------------

    async def create_campaign(
        self,
        territory_kato: str,
        title_kk: str,
        title_ru: str,
        budget_tenge: int,
        *,
        proposals_from: datetime,
        proposals_until: datetime,
        review_until: datetime,
        voting_from: datetime,
        voting_until: datetime,
        results_at: datetime,
        votes_per_resident: int = 1,
        vote_change_allowed: bool = False,
        threshold: int = MIN_THRESHOLD,
        tie_rule: TieRule | str = TieRule.EARLIER_SUBMISSION,
        created_by: int | None = None,
        is_demo: bool = False,
    ) -> BudgetCampaign:
        """Phases must follow each other: proposals_from < proposals_until ≤ review_until ≤ voting_from <
        voting_until ≤ results_at (all aware datetimes)."""
        title_kk, title_ru = (title_kk or "").strip(), (title_ru or "").strip()
        if not title_kk or not title_ru:
            raise InvalidCampaign("title")
        if int(threshold) < MIN_THRESHOLD:
            raise ThresholdTooLow(int(threshold))
        if int(budget_tenge) <= 0:
            raise InvalidCampaign("budget_tenge")
        if int(votes_per_resident) < 1:
            raise InvalidCampaign("votes_per_resident")
        try:
            tie_rule = TieRule(tie_rule)
        except ValueError:
            raise InvalidCampaign("tie_rule") from None
        times = (proposals_from, proposals_until, review_until, voting_from, voting_until, results_at)
        if any(t.tzinfo is None for t in times):
            raise InvalidCampaign("phases", "phase times must be aware datetimes")
        if not (proposals_from < proposals_until <= review_until <= voting_from < voting_until <= results_at):
            raise InvalidCampaign("phases", "phase times are not in order")
        async with self._sessions() as s, s.begin():
            if await s.get(Territory, territory_kato) is None:
                raise InvalidCampaign("territory_kato")
            c = BudgetCampaign(
                territory_kato=territory_kato, title_kk=title_kk[:200], title_ru=title_ru[:200],
                budget_tenge=int(budget_tenge), proposals_from=proposals_from, proposals_until=proposals_until,
                review_until=review_until, voting_from=voting_from, voting_until=voting_until, results_at=results_at,
                votes_per_resident=int(votes_per_resident), vote_change_allowed=bool(vote_change_allowed),
                threshold=int(threshold), tie_rule=tie_rule.value, created_by=created_by, created_at=self.now(),
                is_demo=bool(is_demo))
            s.add(c)
            await s.flush()
            audit(s, "budget.campaign_create", actor=created_by, object_type="budget_campaign", object_id=c.id,
                  territory=territory_kato, budget_tenge=int(budget_tenge), threshold=int(threshold),
                  votes_per_resident=int(votes_per_resident), vote_change_allowed=bool(vote_change_allowed),
                  tie_rule=tie_rule.value)
        return c

    async def get_campaign(self, campaign_id: int) -> BudgetCampaign | None:
        async with self._sessions() as s:
            return await s.get(BudgetCampaign, campaign_id)

    async def campaigns_for(self, territory_kato: str, *, include_demo: bool = False) -> list[BudgetCampaign]:
        """Campaigns a resident of ``territory_kato`` takes part in (of it or of a territory above), newest
        first. The caller filters by :meth:`phase`."""
        async with self._sessions() as s:
            up = await ancestors(s, territory_kato)
            q = select(BudgetCampaign).where(BudgetCampaign.territory_kato.in_(up))
            if not include_demo:
                q = q.where(BudgetCampaign.is_demo.is_(False))
            return list(await s.scalars(q.order_by(BudgetCampaign.voting_from.desc(), BudgetCampaign.id.desc())))

    async def campaigns_for_resident(self, resident_id: int, *, include_demo: bool = False) -> list[BudgetCampaign]:
        """The campaigns of the resident's settlement and above, and those open for voting where the settlement
        on record when voting opened lies (after a move), newest first."""
        async with self._sessions() as s:
            r = await s.get(Resident, resident_id)
            if r is None or not r.territory_kato:
                return []
            q = select(BudgetCampaign)
            if not include_demo:
                q = q.where(BudgetCampaign.is_demo.is_(False))
            found = {c.id: c for c in await s.scalars(
                q.where(BudgetCampaign.territory_kato.in_(await ancestors(s, r.territory_kato))))}
            now = self.now()
            for kato in await self._moved_from(s, r):
                for c in await s.scalars(q.where(BudgetCampaign.territory_kato.in_(await ancestors(s, kato)))):
                    if c.id not in found and await self._voting_after_move(s, r, c, now):
                        found[c.id] = c
            return sorted(found.values(), key=lambda c: (c.voting_from, c.id), reverse=True)

    async def campaign_for_resident(self, resident_id: int, campaign_id: int, *,
                                    include_demo: bool = False) -> BudgetCampaign | None:
        """The campaign when it is among :meth:`campaigns_for_resident`, by the same rules, without loading the
        others: None when it is not (or does not exist)."""
        async with self._sessions() as s:
            r = await s.get(Resident, resident_id)
            c = await s.get(BudgetCampaign, campaign_id)
            if r is None or not r.territory_kato or c is None or (c.is_demo and not include_demo):
                return None
            if c.territory_kato in await ancestors(s, r.territory_kato):
                return c
            for kato in await self._moved_from(s, r):
                if c.territory_kato in await ancestors(s, kato) and await self._voting_after_move(s, r, c, self.now()):
                    return c
            return None

    @staticmethod
    async def _moved_from(s: AsyncSession, r: Resident) -> set[str]:
        """The resident's earlier settlements on record."""
        return set(await s.scalars(select(ResidentTerritory.territory_kato)
                                   .where(ResidentTerritory.resident_id == r.id))) - {r.territory_kato}

    async def _voting_after_move(self, s: AsyncSession, r: Resident, c: BudgetCampaign, now: datetime) -> bool:
        """A campaign of an earlier settlement: the resident's while it votes and the settlement on record when
        voting opened lies within it."""
        return self.phase(c, now) is Phase.VOTING and await self._within(s, await voting_territory(s, r, c), c)

    async def voting_territory(self, resident_id: int, campaign_id: int) -> str | None:
        """For the explanation to a resident who moved: the settlement that counts in this campaign."""
        async with self._sessions() as s:
            r = await s.get(Resident, resident_id)
            return None if r is None else await voting_territory(s, r, await self._campaign(s, campaign_id))

    async def district_of_campaign(self, campaign_id: int) -> str | None:
        """The district within which one phone votes in one campaign at a time (None: the rule does not apply)."""
        async with self._sessions() as s:
            return await district_of(s, (await self._campaign(s, campaign_id)).territory_kato)

    async def voted_elsewhere(self, resident_id: int, campaign_id: int) -> BudgetCampaign | None:
        async with self._sessions() as s:
            r = await s.get(Resident, resident_id)
            return None if r is None else await voted_elsewhere(s, r, await self._campaign(s, campaign_id))

    async def eligibility(self, resident_id: int, campaign_id: int) -> str | None:
        """None when the resident may vote in the campaign (phase aside), else the NotEligible reason."""
        async with self._sessions() as s:
            c = await self._campaign(s, campaign_id)
            try:
                r = await self._resident(s, resident_id, c, phone=True)
            except NotEligible as exc:
                return exc.reason
            if await voted_elsewhere(s, r, c) is not None:
                return "elsewhere"
        return None
