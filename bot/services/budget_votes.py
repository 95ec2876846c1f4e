"""The People's Participatory Budget: the ballot, votes (one person, one slot each, held by the database) and
their receipts. A part of :class:`~bot.services.budget.BudgetService`."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.budget_district import LostRace, claim_district
from bot.services.budget_rules import (
    RECEIPT_ALPHABET,
    RECEIPT_LENGTH,
    AlreadyVoted,
    BallotPage,
    BudgetBase,
    NotOnBallot,
    NoVotesLeft,
    Phase,
    ProjectNotFound,
    ProjectStatus,
    Receipt,
    ReceiptCheck,
    Standing,
    VoteChangeNotAllowed,
    VotedElsewhere,
    VoteNotFound,
    VotingClosed,
    WrongCampaign,
)
from storage.models import BudgetCampaign, BudgetProject, Resident, Vote


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def normalize_receipt(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def format_receipt(code: str) -> str:
    """``ABCD-EFGH-JKMN`` for display; :meth:`BudgetService.check_receipt` accepts either form."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))



class BudgetVotes(BudgetBase):
    async def ballot(self, campaign_id: int, page: int = 0, page_size: int = 10) -> BallotPage:
        """The accepted projects, in a stable order (by id); ``page`` counts from 0."""
        page, page_size = max(0, int(page)), max(1, int(page_size))
        cond = (BudgetProject.campaign_id == campaign_id, BudgetProject.status == ProjectStatus.ACCEPTED.value)
        async with self._sessions() as s:
            await self._campaign(s, campaign_id)
            # the page and the ballot's size in one query; past the end there is no row to carry the size
            rows = (await s.execute(select(BudgetProject, func.count().over()).where(*cond)
                                    .order_by(BudgetProject.id).offset(page * page_size).limit(page_size))).all()
            total = rows[0][1] if rows else (
                await s.scalar(select(func.count()).select_from(BudgetProject).where(*cond)) or 0 if page else 0)
            return BallotPage([r[0] for r in rows], page, page_size, total)

    async def _claim_district(self, s: AsyncSession, r: Resident, c: BudgetCampaign) -> None:
        other = await claim_district(s, r, c, self.now())
        if other is not None:
            raise VotedElsewhere(other.id)

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
        return Receipt(vote.receipt, c.id, p.id, vote.created_at, max(0, c.votes_per_resident - len(mine) - 1))

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
        return Receipt(vote.receipt, c.id, p.id, vote.created_at, max(0, c.votes_per_resident - len(mine)))

    async def my_votes(self, resident_id: int, campaign_id: int) -> list[Receipt]:
        async with self._sessions() as s:
            rows = await s.scalars(select(Vote).where(Vote.campaign_id == campaign_id, Vote.resident_id == resident_id)
                                   .order_by(Vote.slot))
            return [Receipt(v.receipt, v.campaign_id, v.project_id, v.created_at) for v in rows]

    async def standing(self, resident_id: int, campaign_id: int) -> Standing:
        """The person's own votes (by slot), the votes they have left, and their phone's votes from another
        account: one query."""
        async with self._sessions() as s:
            c = await self._campaign(s, campaign_id)
            r = await s.get(Resident, resident_id)
            if r is None:
                return Standing([], 0, 0)
            votes = await self._my_votes(s, c.id, r)
            return Standing([Receipt(v.receipt, v.campaign_id, v.project_id, v.created_at)
                             for v in votes if v.resident_id == r.id],
                            max(0, c.votes_per_resident - len(votes)), sum(v.resident_id != r.id for v in votes))

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
