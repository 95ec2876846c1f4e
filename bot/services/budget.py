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

from bot.services.budget_campaigns import BudgetCampaigns
from bot.services.budget_proposals import BudgetProposals
from bot.services.budget_rules import (
    MIN_THRESHOLD,
    RECEIPT_ALPHABET,
    RECEIPT_LENGTH,
    REVIEWABLE,
    AlreadyVoted,
    BallotPage,
    BudgetError,
    CampaignNotFound,
    Decision,
    InvalidCampaign,
    InvalidProject,
    NotEligible,
    NotOnBallot,
    NoVotesLeft,
    Phase,
    ProjectNotFound,
    ProjectStatus,
    ProposalsClosed,
    Receipt,
    ReceiptCheck,
    ResultsAlreadyPublished,
    ReviewClosed,
    TallyResult,
    TallyRow,
    ThresholdTooLow,
    TieRule,
    TransitionNotAllowed,
    VoteChangeNotAllowed,
    VotedElsewhere,
    VoteNotFound,
    VotingClosed,
    WrongCampaign,
    WrongPhase,
)
from bot.services.budget_tally import BudgetTally, canonical_json, digest_of, rank_projects
from bot.services.budget_votes import BudgetVotes, format_receipt, new_receipt_code, normalize_receipt

__all__ = [
    "MIN_THRESHOLD", "RECEIPT_ALPHABET", "RECEIPT_LENGTH", "REVIEWABLE", "AlreadyVoted", "BallotPage", "BudgetError",
    "BudgetService", "CampaignNotFound", "Decision", "InvalidCampaign", "InvalidProject", "NoVotesLeft",
    "NotEligible", "NotOnBallot", "Phase", "ProjectNotFound", "ProjectStatus", "ProposalsClosed", "Receipt",
    "ReceiptCheck", "ResultsAlreadyPublished", "ReviewClosed", "TallyResult", "TallyRow", "ThresholdTooLow",
    "TieRule", "TransitionNotAllowed", "VoteChangeNotAllowed", "VoteNotFound", "VotedElsewhere", "VotingClosed",
    "WrongCampaign", "WrongPhase", "canonical_json", "digest_of", "format_receipt", "new_receipt_code",
    "normalize_receipt", "rank_projects",
]


class BudgetService(BudgetCampaigns, BudgetProposals, BudgetVotes, BudgetTally):
    """The one service object callers use: campaigns and eligibility (bot/services/budget_campaigns.py),
    proposals and review (bot/services/budget_proposals.py), the ballot, votes and receipts
    (bot/services/budget_votes.py), the tally and results (bot/services/budget_tally.py), over
    :class:`BudgetBase` (bot/services/budget_rules.py)."""
