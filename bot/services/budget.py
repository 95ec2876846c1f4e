"""The People's Participatory Budget (Халық араласатын бюджет / Бюджет народного участия): campaigns,
proposals, review, the ballot, votes with receipts, the tally and its published results.

Plain domain code over a session: no Telegram, no wording. Refusals are typed exceptions
(:class:`BudgetError` and its subclasses).

The rules (DOMAIN.md, "People's Participatory Budget"):

* a campaign belongs to one territory and covers everything below it (territories have ``parent_kato``);
  its phases are given by times: draft → proposals → review → voting → closed → results
  (:meth:`BudgetService.phase`);
* a project that fewer than ``threshold`` (at least 10, held by a CHECK in the database) distinct people
  voted for may not be implemented;
* one person, ``votes_per_resident`` votes per campaign, at most one per project. "Person" is the verified
  phone, as a per-campaign ``voter_token`` (:meth:`BudgetService.voter_token`), so a second Telegram account with
  the same phone gets no extra vote. The database holds it: unique (campaign, project, voter_token) and a
  per-voter ``slot`` 1..N unique per (campaign, voter_token) and per (campaign, resident); the service picks the
  slot, concurrent attempts collide on the constraints and are mapped to :class:`AlreadyVoted` /
  :class:`NoVotesLeft`;
* winners: eligible projects ranked by votes (ties by the campaign's published ``tie_rule``), taken greedily
  while their cost fits the remaining budget; one that does not fit is skipped and cheaper ones still may;
* the counts and the rules are published as canonical JSON with its SHA-256 (:func:`canonical_json`), so
  anyone can recompute the digest and the winners (:func:`rank_projects`).

Age (18+) is not checked: residents give no birth date. The caller checks it if it ever collects one.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import accounts, media
from bot.services.audit import audit
from bot.services.budget_district import LostRace, claim_district, district_of, voted_elsewhere, voting_territory
from bot.services.phone_key import voter_token
from bot.services.territories import ancestors
from storage.models import BudgetCampaign, BudgetProject, Resident, ResidentTerritory, Territory, Vote, utcnow

MIN_THRESHOLD = 10  # 001 L881–882: fewer than ten people → may not be implemented
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud or typed from paper
RECEIPT_LENGTH = 12  # 31^12 ≈ 2^59


class Phase(StrEnum):
    DRAFT = "draft"  # before proposals open
    PROPOSALS = "proposals"  # [proposals_from, proposals_until)
    REVIEW = "review"  # [proposals_until, voting_from)
    VOTING = "voting"  # [voting_from, voting_until)
    CLOSED = "closed"  # voting over, results not published yet
    RESULTS = "results"  # published


class TieRule(StrEnum):
    EARLIER_SUBMISSION = "earlier_submission"  # the project submitted first wins the tie
    LOWER_COST = "lower_cost"  # the cheaper project wins the tie (then the earlier one)
    LOT_BY_DIGEST = "lot_by_digest"  # sha256(counts digest + ":" + project id), lower first: a public lot


class ProjectStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RETURNED = "returned"  # for changes by the author
    RESUBMITTED = "resubmitted"


class Decision(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    RETURN = "return"


REVIEWABLE = frozenset({ProjectStatus.PROPOSED, ProjectStatus.RESUBMITTED})
_DECISION_STATUS = {Decision.ACCEPT: ProjectStatus.ACCEPTED, Decision.REJECT: ProjectStatus.REJECTED,
                    Decision.RETURN: ProjectStatus.RETURNED}


# -- errors -------------------------------------------------------------------------------------


class BudgetError(Exception):
    """Base of every refusal of this service."""


class CampaignNotFound(BudgetError, LookupError):
    pass


class ProjectNotFound(BudgetError, LookupError):
    pass


class InvalidCampaign(BudgetError, ValueError):
    """A bad campaign setting; ``field`` names it (``phases`` for inconsistent phase times)."""

    def __init__(self, field: str, message: str = "") -> None:
        super().__init__(message or f"invalid {field}")
        self.field = field


class ThresholdTooLow(InvalidCampaign):
    """The threshold may be raised by a territory, never set below 10."""

    def __init__(self, threshold: int) -> None:
        super().__init__("threshold", f"threshold {threshold} is below {MIN_THRESHOLD}")
        self.threshold = threshold


class InvalidProject(BudgetError, ValueError):
    """A bad project value (title, cost, territory, location, decision, reason); ``field`` names it."""

    def __init__(self, field: str, message: str = "") -> None:
        super().__init__(message or f"invalid {field}")
        self.field = field


class WrongPhase(BudgetError):
    """The action needs another phase; ``phase`` is the campaign's current one."""

    def __init__(self, phase: Phase, message: str = "") -> None:
        super().__init__(message or f"not allowed in phase {phase}")
        self.phase = phase


class ProposalsClosed(WrongPhase):
    pass


class ReviewClosed(WrongPhase):
    pass


class VotingClosed(WrongPhase):
    pass


class NotEligible(BudgetError):
    """The resident may not take part. ``reason``: ``not_found`` (or deleted), ``not_registered``,
    ``no_consent``, ``no_phone`` (no verified phone), ``territory`` (lives outside the campaign territory),
    ``moved`` (the settlement on record when voting opened is outside it; the one chosen later does not count),
    ``elsewhere`` (:class:`VotedElsewhere`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VotedElsewhere(NotEligible):
    """This phone already voted in another campaign of the same district whose voting overlaps this one
    (``campaign_id``): one phone, one campaign at a time within a district."""

    def __init__(self, campaign_id: int) -> None:
        super().__init__("elsewhere")
        self.campaign_id = campaign_id


class WrongCampaign(BudgetError):
    """The project belongs to another campaign."""


class NotOnBallot(BudgetError):
    """The project is not accepted, so it cannot be voted for."""


class AlreadyVoted(BudgetError):
    """This person (phone) already voted for this project."""


class NoVotesLeft(BudgetError):
    """This person (phone) used all ``votes_per_resident`` votes of the campaign."""


class VoteChangeNotAllowed(BudgetError):
    """The campaign's votes are irrevocable."""


class VoteNotFound(BudgetError, LookupError):
    """The resident has no vote for the project they want to move it from."""


class TransitionNotAllowed(BudgetError):
    """The review decision or the resubmission is not allowed in the project's status."""

    def __init__(self, status: str, message: str = "") -> None:
        super().__init__(message or f"not allowed when {status}")
        self.status = status


class ResultsAlreadyPublished(BudgetError):
    pass


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """Given to the voter: ``code`` lets anyone check the vote is counted (:meth:`BudgetService.check_receipt`)."""

    code: str
    campaign_id: int
    project_id: int
    at: datetime


@dataclass(frozen=True)
class ReceiptCheck:
    """What a receipt confirms to whoever checks it: the vote is counted in the campaign. Neither who voted nor
    the project (the voter sees their own choice in "my votes")."""

    code: str
    campaign_id: int
    campaign_title_kk: str
    campaign_title_ru: str
    at: datetime


@dataclass(frozen=True)
class BallotPage:
    projects: list[BudgetProject]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class TallyRow:
    project_id: int
    title: str
    cost_tenge: int
    votes: int
    eligible: bool
    winner: bool
    reason: str | None  # when not a winner: "below_threshold" | "over_budget"
    rank: int  # 1-based place in the ranking (votes desc, ties by the rule)


@dataclass(frozen=True)
class TallyResult:
    campaign_id: int
    budget_tenge: int
    threshold: int
    tie_rule: str
    rows: list[TallyRow]
    spent_tenge: int
    canonical: str  # the canonical JSON of the counts and the rules; digest = sha256 of its UTF-8 bytes
    digest: str

    @property
    def winners(self) -> list[TallyRow]:
        return [r for r in self.rows if r.winner]

    def to_json(self) -> dict[str, Any]:
        return {"input": json.loads(self.canonical), "digest": self.digest, "spent_tenge": self.spent_tenge,
                "rows": [asdict(r) for r in self.rows]}


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


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def normalize_receipt(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def format_receipt(code: str) -> str:
    """``ABCD-EFGH-JKMN`` for display; :meth:`BudgetService.check_receipt` accepts either form."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


# -- the service --------------------------------------------------------------------------------


class BudgetService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession],
                 clock: Callable[[], datetime] = utcnow, phone_key: bytes | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self.phone_key = phone_key  # for voter tokens; a service without it counts and publishes but takes no vote

    def voter_token(self, campaign_id: int, r: Resident) -> str:
        """The one place a vote's token is made: per campaign, from the resident's phone hash, under the key."""
        if self.phone_key is None or not r.phone_hash:
            raise RuntimeError("a voter token needs the phone key and a verified phone")
        return voter_token(self.phone_key, campaign_id, r.phone_hash)

    def now(self) -> datetime:
        return self._clock()

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

    @staticmethod
    def phase(campaign: BudgetCampaign, now: datetime) -> Phase:
        if campaign.published_at is not None:
            return Phase.RESULTS
        if now < campaign.proposals_from:
            return Phase.DRAFT
        if now < campaign.proposals_until:
            return Phase.PROPOSALS
        if now < campaign.voting_from:
            return Phase.REVIEW
        if now < campaign.voting_until:
            return Phase.VOTING
        return Phase.CLOSED

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
            for kato in set(await s.scalars(select(ResidentTerritory.territory_kato)
                                            .where(ResidentTerritory.resident_id == r.id))) - {r.territory_kato}:
                for c in await s.scalars(q.where(BudgetCampaign.territory_kato.in_(await ancestors(s, kato)))):
                    if c.id not in found and self.phase(c, now) is Phase.VOTING \
                            and await self._within(s, await voting_territory(s, r, c), c):
                        found[c.id] = c
            return sorted(found.values(), key=lambda c: (c.voting_from, c.id), reverse=True)

    # -- territory and eligibility --------------------------------------------------------------

    async def _within(self, s: AsyncSession, kato: str | None, campaign: BudgetCampaign) -> bool:
        return kato is not None and campaign.territory_kato in await ancestors(s, kato)

    async def _resident(self, s: AsyncSession, resident_id: int, campaign: BudgetCampaign, *,
                        phone: bool) -> Resident:
        r = await s.get(Resident, resident_id)
        if r is None or r.deleted_at is not None:
            raise NotEligible("not_found")
        if r.consent_at is None:
            raise NotEligible("no_consent")
        if r.registered_at is None:
            raise NotEligible("not_registered")
        if phone and (not r.phone_hash or r.phone_verified_at is None):
            raise NotEligible("no_phone")
        if not phone:  # proposing: where the resident lives now
            if not await self._within(s, r.territory_kato, campaign):
                raise NotEligible("territory")
            return r
        if not await self._within(s, await voting_territory(s, r, campaign), campaign):
            raise NotEligible("moved" if await self._within(s, r.territory_kato, campaign) else "territory")
        return r

    async def voting_territory(self, resident_id: int, campaign_id: int) -> str | None:
        """For the explanation to a resident who moved: the settlement that counts in this campaign."""
        async with self._sessions() as s:
            r = await s.get(Resident, resident_id)
            return None if r is None else await voting_territory(s, r, await self._campaign(s, campaign_id))

    async def district_of_campaign(self, campaign_id: int) -> str | None:
        """The district within which one phone votes in one campaign at a time (None: the rule does not apply)."""
        async with self._sessions() as s:
            return await district_of(s, (await self._campaign(s, campaign_id)).territory_kato)

    async def _claim_district(self, s: AsyncSession, r: Resident, c: BudgetCampaign) -> None:
        other = await claim_district(s, r, c, self.now())
        if other is not None:
            raise VotedElsewhere(other.id)

    async def voted_elsewhere(self, resident_id: int, campaign_id: int) -> BudgetCampaign | None:
        async with self._sessions() as s:
            r = await s.get(Resident, resident_id)
            return None if r is None else await voted_elsewhere(s, r, await self._campaign(s, campaign_id))

    @staticmethod
    async def _campaign(s: AsyncSession, campaign_id: int) -> BudgetCampaign:
        c = await s.get(BudgetCampaign, campaign_id)
        if c is None:
            raise CampaignNotFound(campaign_id)
        return c

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

    # -- proposals and review -------------------------------------------------------------------

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

    # -- the ballot and votes -------------------------------------------------------------------

    async def ballot(self, campaign_id: int, page: int = 0, page_size: int = 10) -> BallotPage:
        """The accepted projects, in a stable order (by id); ``page`` counts from 0."""
        page, page_size = max(0, int(page)), max(1, int(page_size))
        cond = (BudgetProject.campaign_id == campaign_id, BudgetProject.status == ProjectStatus.ACCEPTED.value)
        async with self._sessions() as s:
            await self._campaign(s, campaign_id)
            total = await s.scalar(select(func.count()).select_from(BudgetProject).where(*cond)) or 0
            rows = await s.scalars(select(BudgetProject).where(*cond).order_by(BudgetProject.id)
                                   .offset(page * page_size).limit(page_size))
            return BallotPage(list(rows), page, page_size, total)

    async def _vote_checks(self, s: AsyncSession, resident_id: int, campaign_id: int,
                           project_id: int) -> tuple[BudgetCampaign, Resident, BudgetProject]:
        c = await self._campaign(s, campaign_id)
        if (ph := self.phase(c, self.now())) is not Phase.VOTING:
            raise VotingClosed(ph)
        r = await self._resident(s, resident_id, c, phone=True)
        p = await s.get(BudgetProject, project_id)
        if p is None:
            raise ProjectNotFound(project_id)
        if p.campaign_id != c.id:
            raise WrongCampaign(project_id)
        if p.status != ProjectStatus.ACCEPTED.value:
            raise NotOnBallot(project_id)
        return c, r, p

    async def _my_votes(self, s: AsyncSession, campaign_id: int, r: Resident) -> list[Vote]:
        """The person's votes: by phone and by resident row (either would be another person's extra vote)."""
        mine = Vote.resident_id == r.id
        if r.phone_hash:
            mine = mine | (Vote.voter_token == self.voter_token(campaign_id, r))
        return list(await s.scalars(
            select(Vote).where(Vote.campaign_id == campaign_id, mine)
            .order_by(Vote.slot)))

    async def cast_vote(self, resident_id: int, campaign_id: int, project_id: int) -> Receipt:
        """One vote for an accepted project of the campaign, in the voting phase, by an eligible resident.
        Refusals: VotingClosed, NotEligible, ProjectNotFound, WrongCampaign, NotOnBallot, AlreadyVoted,
        NoVotesLeft, VotedElsewhere. Races end on the database constraints and get the same answers."""
        for _ in range(8):  # a lost race for a slot while votes remain: try the next free slot
            try:
                return await self._try_vote(resident_id, campaign_id, project_id)
            except (IntegrityError, LostRace):
                continue
        raise NoVotesLeft(campaign_id)

    async def _try_vote(self, resident_id: int, campaign_id: int, project_id: int) -> Receipt:
        async with self._sessions() as s, s.begin():
            c, r, p = await self._vote_checks(s, resident_id, campaign_id, project_id)
            mine = await self._my_votes(s, c.id, r)
            if any(v.project_id == p.id for v in mine):
                raise AlreadyVoted(project_id)
            used = {v.slot for v in mine}
            free = [n for n in range(1, c.votes_per_resident + 1) if n not in used]
            if not free:
                raise NoVotesLeft(campaign_id)
            await self._claim_district(s, r, c)
            vote = Vote(campaign_id=c.id, project_id=p.id, resident_id=r.id, voter_token=self.voter_token(c.id, r),
                        slot=free[0], receipt=new_receipt_code(), created_at=self.now())
            s.add(vote)
            await s.flush()
        return Receipt(vote.receipt, c.id, p.id, vote.created_at)

    async def change_vote(self, resident_id: int, campaign_id: int, from_project: int, to_project: int) -> Receipt:
        """Move a vote to another project (same slot, a new receipt; the old one no longer checks), only
        when the campaign allows changes and voting is open."""
        try:
            async with self._sessions() as s, s.begin():
                c, r, p = await self._vote_checks(s, resident_id, campaign_id, to_project)
                if not c.vote_change_allowed:
                    raise VoteChangeNotAllowed(campaign_id)
                mine = await self._my_votes(s, c.id, r)
                if any(v.project_id == p.id for v in mine):
                    raise AlreadyVoted(to_project)
                vote = next((v for v in mine if v.project_id == from_project), None)
                if vote is None:
                    raise VoteNotFound(from_project)
                vote.project_id, vote.receipt, vote.created_at = p.id, new_receipt_code(), self.now()
                await s.flush()
        except IntegrityError:
            raise AlreadyVoted(to_project) from None
        return Receipt(vote.receipt, c.id, p.id, vote.created_at)

    async def my_votes(self, resident_id: int, campaign_id: int) -> list[Receipt]:
        async with self._sessions() as s:
            rows = await s.scalars(select(Vote).where(Vote.campaign_id == campaign_id, Vote.resident_id == resident_id)
                                   .order_by(Vote.slot))
            return [Receipt(v.receipt, v.campaign_id, v.project_id, v.created_at) for v in rows]

    async def votes_left(self, resident_id: int, campaign_id: int) -> int:
        async with self._sessions() as s:
            c = await self._campaign(s, campaign_id)
            r = await s.get(Resident, resident_id)
            if r is None:
                return 0
            return max(0, c.votes_per_resident - len(await self._my_votes(s, c.id, r)))

    async def earlier_account_votes(self, resident_id: int, campaign_id: int) -> int:
        """Votes of this resident's phone in the campaign given from another account (e.g. one whose owner
        deleted their data): counted, and using up this phone's votes."""
        async with self._sessions() as s:
            r = await s.get(Resident, resident_id)
            if r is None:
                return 0
            return sum(1 for v in await self._my_votes(s, campaign_id, r) if v.resident_id != r.id)

    async def check_receipt(self, code: str) -> ReceiptCheck | None:
        """What a receipt confirms: the vote is counted, in which campaign and when (not for which project).
        None for an unknown (or replaced, after a vote change) code."""
        code = normalize_receipt(code)
        if not code:
            return None
        async with self._sessions() as s:
            row = (await s.execute(
                select(Vote.receipt, Vote.campaign_id, BudgetCampaign.title_kk, BudgetCampaign.title_ru,
                       Vote.created_at)
                .join(BudgetCampaign, BudgetCampaign.id == Vote.campaign_id)
                .where(Vote.receipt == code))).first()
        if row is None:
            return None
        return ReceiptCheck(*row)

    async def voters(self, campaign_id: int) -> list[int]:
        """Resident ids that voted in the campaign (to tell them the results)."""
        async with self._sessions() as s:
            return list(await s.scalars(select(Vote.resident_id).where(Vote.campaign_id == campaign_id)
                                        .distinct().order_by(Vote.resident_id)))

    # -- the tally and results -----------------------------------------------------------------

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
