"""Invariants the database must keep whatever people send and wherever the bot stops: checked by the hostile
and the fault suites."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Appeal, BudgetCampaign, ConversationState, OutboxMessage, Resident, Vote


async def problems(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """What is wrong, in words; empty when the database is consistent."""
    out: list[str] = []
    async with sessions() as s:
        # a vote belongs to a resident who consented and registered (or erased their data later), with a voter
        # token (erased only after the campaign's results are final)
        bad_votes = (await s.execute(
            select(Vote.id, Vote.resident_id).outerjoin(Resident, Resident.id == Vote.resident_id)
            .join(BudgetCampaign, BudgetCampaign.id == Vote.campaign_id)
            .where((Resident.id.is_(None)) | (Resident.consent_at.is_(None) & Resident.deleted_at.is_(None))
                   | (Resident.registered_at.is_(None) & Resident.deleted_at.is_(None))
                   | (Vote.voter_token.is_(None) & BudgetCampaign.published_at.is_(None)))
        )).all()
        out += [f"vote {v.id} has no registered resident ({v.resident_id})" for v in bad_votes]
        # one person, one vote per slot: never more votes than the campaign allows
        over = (await s.execute(
            select(Vote.campaign_id, Vote.resident_id, func.count(), BudgetCampaign.votes_per_resident)
            .join(BudgetCampaign, BudgetCampaign.id == Vote.campaign_id)
            .group_by(Vote.campaign_id, Vote.resident_id, BudgetCampaign.votes_per_resident)
            .having(func.count() > BudgetCampaign.votes_per_resident))).all()
        out += [f"resident {r[1]} has {r[2]} votes in campaign {r[0]} (allowed {r[3]})" for r in over]
        orphans = (await s.execute(
            select(Appeal.id).outerjoin(Resident, Resident.id == Appeal.resident_id).where(Resident.id.is_(None))
        )).scalars().all()
        out += [f"appeal {a} has no owner" for a in orphans]
        chatless = (await s.execute(
            # a row with neither a resident nor a chat belonged to a resident who deleted their data: it was
            # cancelled or had gone
            select(OutboxMessage.id).where((OutboxMessage.chat_id.is_(None) & OutboxMessage.resident_id.is_(None)
                                            & OutboxMessage.state.in_(("pending", "claimed", "sending")))
                                           | (OutboxMessage.chat_id == 0))
        )).scalars().all()
        out += [f"outbox row {o} has no chat" for o in chatless]
        stuck = (await s.execute(select(OutboxMessage.id, OutboxMessage.state)
                                 .where(OutboxMessage.state.in_(("claimed", "sending"))))).all()
        out += [f"outbox row {o} left {st!r}" for o, st in stuck]
        for row in await s.scalars(select(ConversationState)):
            if not isinstance(row.data, dict) or not row.flow or not row.step:
                out.append(f"conversation state of chat {row.chat_id} is malformed: {row.flow}/{row.step}")
        # a registered resident has consented; a deleted one keeps no personal data
        for r in await s.scalars(select(Resident).where(
                (Resident.registered_at.is_not(None) & Resident.consent_at.is_(None) & Resident.deleted_at.is_(None))
                | (Resident.deleted_at.is_not(None) & (Resident.phone.is_not(None) | Resident.name.is_not(None))))):
            out.append(f"resident {r.id} is inconsistent (registered without consent, or erased with data left)")
    return out
