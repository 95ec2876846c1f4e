"""The People's Participatory Budget: proposals by residents, their review, the projects the akimat imports,
and the lists of projects. A part of :class:`~bot.services.budget.BudgetService`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import accounts, media
from bot.services.audit import audit
from bot.services.budget_rules import (
    _DECISION_STATUS,
    REVIEWABLE,
    BudgetBase,
    Decision,
    InvalidProject,
    Phase,
    ProjectNotFound,
    ProjectStatus,
    ProposalsClosed,
    ReviewClosed,
    TransitionNotAllowed,
)
from storage.models import BudgetCampaign, BudgetProject


class BudgetProposals(BudgetBase):
    async def _clean_project(self, s: AsyncSession, c: BudgetCampaign, row: Mapping[str, Any]) -> dict[str, Any]:
        title = str(row.get("title") or "").strip()
        if not title or len(title) > 200:
            raise InvalidProject("title")
        try:
            cost = int(row.get("cost_tenge") or 0)
        except (TypeError, ValueError):
            raise InvalidProject("cost_tenge") from None
        if cost <= 0 or cost > c.budget_tenge:
            raise InvalidProject("cost_tenge", "the cost must be positive and within the campaign budget")
        kato = row.get("territory_kato") or c.territory_kato
        if not await self._within(s, kato, c):
            raise InvalidProject("territory_kato")
        lat, lon = row.get("latitude"), row.get("longitude")
        if (lat is None) != (lon is None):
            raise InvalidProject("location")
        if lat is not None:
            lat, lon = float(lat), float(lon)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise InvalidProject("location")
        description = str(row.get("description") or "").strip() or None
        photo = await media.checked(s, row.get("photo_media_id"), row.get("photo_file_id"), InvalidProject("photo"))
        return {"title": title, "description": description, "cost_tenge": cost, "territory_kato": kato,
                "latitude": lat, "longitude": lon, "photo_media_id": photo}

    async def submit_proposal(
        self,
        resident_id: int,
        campaign_id: int,
        title: str,
        cost_tenge: int,
        *,
        description: str | None = None,
        territory_kato: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        photo_media_id: int | None = None,
    ) -> BudgetProject:
        """A resident's proposal, in the proposals phase only, by a registered consented resident of the
        campaign territory (or below). The project's territory defaults to the campaign's."""
        now = self.now()
        async with self._sessions() as s, s.begin():
            c = await self._campaign(s, campaign_id)
            if (ph := self.phase(c, now)) is not Phase.PROPOSALS:
                raise ProposalsClosed(ph)
            r = await self._resident(s, resident_id, c, phone=False)
            values = await self._clean_project(s, c, {
                "title": title, "cost_tenge": cost_tenge, "description": description,
                "territory_kato": territory_kato, "latitude": latitude, "longitude": longitude,
                "photo_media_id": photo_media_id})
            p = BudgetProject(campaign_id=c.id, author_resident_id=r.id, status=ProjectStatus.PROPOSED.value,
                              created_at=now, submitted_at=now, **values)
            s.add(p)
            await s.flush()
            audit(s, "budget.proposal_submit", actor=await accounts.actor_id(s, r.id), object_type="budget_project",
                  object_id=p.id, campaign=c.id, cost_tenge=p.cost_tenge)
        return p

    async def resubmit_proposal(self, resident_id: int, project_id: int, **changes: Any) -> BudgetProject:
        """The author changes a returned project and sends it again (before the review ends). ``changes``:
        title, cost_tenge, description, territory_kato, latitude, longitude, photo_media_id."""
        now = self.now()
        async with self._sessions() as s, s.begin():
            p = await s.get(BudgetProject, project_id, with_for_update=True)
            if p is None or p.author_resident_id != resident_id:
                raise ProjectNotFound(project_id)
            c = await self._campaign(s, p.campaign_id)
            if (ph := self.phase(c, now)) not in (Phase.PROPOSALS, Phase.REVIEW) or now >= c.review_until:
                raise ReviewClosed(ph)
            if p.status != ProjectStatus.RETURNED.value:
                raise TransitionNotAllowed(p.status)
            r = await self._resident(s, resident_id, c, phone=False)
            current = {k: getattr(p, k) for k in ("title", "cost_tenge", "description", "territory_kato",
                                                  "latitude", "longitude", "photo_media_id")}
            unknown = set(changes) - set(current)
            if unknown:
                raise InvalidProject(sorted(unknown)[0])
            for k, v in (await self._clean_project(s, c, {**current, **changes})).items():
                setattr(p, k, v)
            p.status, p.submitted_at = ProjectStatus.RESUBMITTED.value, now
            audit(s, "budget.proposal_resubmit", actor=await accounts.actor_id(s, r.id),
                  object_type="budget_project", object_id=p.id, changed=sorted(changes))
        return p

    async def review(self, project_id: int, decision: Decision | str, reason: str | None, actor: int) -> BudgetProject:
        """accept | reject | return (for changes) a proposed or resubmitted project, before voting opens.
        reject and return need a reason (the author is told it)."""
        try:
            decision = Decision(decision)
        except ValueError:
            raise InvalidProject("decision") from None
        reason = (reason or "").strip() or None
        if decision is not Decision.ACCEPT and reason is None:
            raise InvalidProject("reason")
        now = self.now()
        async with self._sessions() as s, s.begin():
            p = await s.get(BudgetProject, project_id, with_for_update=True)
            if p is None:
                raise ProjectNotFound(project_id)
            c = await self._campaign(s, p.campaign_id)
            if (ph := self.phase(c, now)) not in (Phase.PROPOSALS, Phase.REVIEW):
                raise ReviewClosed(ph)
            if p.status not in REVIEWABLE:
                raise TransitionNotAllowed(p.status)
            old = p.status
            p.status = _DECISION_STATUS[decision].value
            p.status_reason, p.reviewed_by, p.reviewed_at = reason, actor, now
            audit(s, f"budget.review_{decision.value}", actor=actor, object_type="budget_project", object_id=p.id,
                  campaign=c.id, status_from=old, status_to=p.status, reason=reason)
        return p

    async def import_projects(self, campaign_id: int, rows: Iterable[Mapping[str, Any]], actor: int, *,
                              accepted: bool = True) -> list[BudgetProject]:
        """Projects the akimat prepared (no author), all or none, before voting opens. They go straight onto
        the ballot (``accepted``) unless ``accepted=False``. Each row: title, cost_tenge and optionally
        description, territory_kato, latitude, longitude, photo_media_id or photo_file_id (Telegram's)."""
        now = self.now()
        status = ProjectStatus.ACCEPTED if accepted else ProjectStatus.PROPOSED
        async with self._sessions() as s, s.begin():
            c = await self._campaign(s, campaign_id)
            if (ph := self.phase(c, now)) not in (Phase.DRAFT, Phase.PROPOSALS, Phase.REVIEW):
                raise ReviewClosed(ph)
            cleaned = [await self._clean_project(s, c, row) for row in rows]
            projects = [BudgetProject(campaign_id=c.id, author_resident_id=None, status=status.value,
                                      reviewed_by=actor if accepted else None, reviewed_at=now if accepted else None,
                                      created_at=now, submitted_at=now, **v) for v in cleaned]
            s.add_all(projects)
            await s.flush()
            audit(s, "budget.projects_import", actor=actor, object_type="budget_campaign", object_id=c.id,
                  projects=[p.id for p in projects], status=status.value)
        return projects

    async def get_project(self, project_id: int) -> BudgetProject | None:
        async with self._sessions() as s:
            return await s.get(BudgetProject, project_id)

    async def projects(self, campaign_id: int, status: ProjectStatus | str | None = None) -> list[BudgetProject]:
        """For staff: the campaign's projects (optionally of one status), oldest submission first."""
        async with self._sessions() as s:
            q = select(BudgetProject).where(BudgetProject.campaign_id == campaign_id)
            if status is not None:
                q = q.where(BudgetProject.status == ProjectStatus(status).value)
            return list(await s.scalars(q.order_by(BudgetProject.submitted_at, BudgetProject.id)))

    async def my_proposals(self, resident_id: int) -> list[BudgetProject]:
        async with self._sessions() as s:
            return list(await s.scalars(select(BudgetProject).where(BudgetProject.author_resident_id == resident_id)
                                        .order_by(BudgetProject.created_at.desc(), BudgetProject.id.desc())))

    async def awaiting_review(self) -> list[BudgetProject]:
        """For admins: proposed or resubmitted projects of campaigns whose review is still open (voting has not
        begun), oldest submission first."""
        async with self._sessions() as s:
            q = (select(BudgetProject).join(BudgetCampaign, BudgetCampaign.id == BudgetProject.campaign_id)
                 .where(BudgetProject.status.in_([st.value for st in REVIEWABLE]),
                        BudgetCampaign.published_at.is_(None), BudgetCampaign.voting_from > self.now())
                 .order_by(BudgetProject.submitted_at, BudgetProject.id))
            return list(await s.scalars(q))
