"""The People's Participatory Budget: constants, vocabularies, the typed refusals, the result dataclasses, and
the base of the service (its clock, the voter token, the phase of a campaign, who may take part). See
bot/services/budget.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.budget_district import voting_territory
from bot.services.phone_key import voter_token
from bot.services.territories import ancestors
from storage.models import BudgetCampaign, BudgetProject, Resident, utcnow

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
    votes_left: int | None = None  # for a vote just cast or moved: the votes the person has left in the campaign


@dataclass(frozen=True)
class Standing:
    """Where a person stands in a campaign's vote, read in one query: their own votes, the votes they have left,
    and the votes of their phone given from another (earlier) account, which use up the phone's votes too."""

    mine: list[Receipt]
    left: int
    earlier: int


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



class BudgetBase:
    """What every part of :class:`~bot.services.budget.BudgetService` uses."""

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

    @staticmethod
    async def _campaign(s: AsyncSession, campaign_id: int) -> BudgetCampaign:
        c = await s.get(BudgetCampaign, campaign_id)
        if c is None:
            raise CampaignNotFound(campaign_id)
        return c
