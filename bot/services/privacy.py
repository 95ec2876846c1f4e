"""Personal data: what "delete my data" erases, what "my data" lists, and what is erased when it is no longer
needed. The README's "Personal data" section is the table of these decisions; keep the two in step.

At deletion (:func:`erase_person`, one transaction):

* resident: every personal field is emptied and every account of the person, on every channel, deleted; the row
  stays, anonymous, as the owner of the person's votes (the tally counts them, the database's per-resident slots
  need an owner);
* appeals (the akimat's official record): kept with their text, the name signed on them and the answers, but
  moved to an anonymous owner of their own, so the name leads to nothing else; the photos and documents the
  person sent (media rows and every channel's file id of them) and the message ids of their chat are erased;
  the person's account ids leave the appeal history;
* questions, RSVPs and report ratings: deleted; proposals: kept without their author (a photo only on a
  proposal that is on the ballot);
* outbox: messages not yet sent are cancelled (never sent afterwards); every row of the person loses its chat,
  its text and the message id;
* audit log and appeal history: the person's account ids are removed where they were the actor;
* conversation state: deleted, on every channel the person has an account on.

Later (:func:`erase_expired`, a scheduled job): vote tokens once a campaign's results are final plus
``vote_token_retention_days`` (and no campaign whose voting overlaps is still open); appeals of deleted residents
``appeal_retention_years`` after they were closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.services import media
from bot.services.budget_district import forget_district_votes
from storage.models import (
    Account,
    Appeal,
    AppealEvent,
    AppealMessage,
    AuditLog,
    BudgetCampaign,
    BudgetProject,
    ConversationState,
    Meeting,
    OutboxMessage,
    Question,
    ReportRating,
    Resident,
    Rsvp,
    Vote,
    utcnow,
)

log = logging.getLogger("qatysu.privacy")
SHOWN = 5  # items of each kind "my data" lists (the newest); the rest are counted


async def erase_person(s: AsyncSession, r: Resident, now: datetime) -> None:
    """Everything "delete my data" does, in the caller's transaction (see the module's docstring)."""
    rid = r.id
    accounts = list(await s.scalars(select(Account).where(Account.resident_id == rid)))
    uids = [a.account_id for a in accounts]
    # rows to the person, and rows to their chats on each channel (a chat id alone may be another channel's)
    mine = or_(OutboxMessage.resident_id == rid,
               *(and_(OutboxMessage.channel == a.channel, OutboxMessage.chat_id == a.chat_id)
                 for a in accounts if a.chat_id is not None))
    # a row claimed but not started is cancelled too: the sender finds it so and lets it be
    await s.execute(update(OutboxMessage).where(mine, OutboxMessage.state.in_(("pending", "claimed")))
                    .values(state="cancelled").execution_options(synchronize_session=False))
    await s.execute(update(OutboxMessage).where(mine)
                    .values(chat_id=None, resident_id=None, params={}, telegram_message_id=None, error=None)
                    .execution_options(synchronize_session=False))
    gone: list[int | None] = []  # media the person sent: deleted with every channel's file id of them
    appeal_ids = list(await s.scalars(select(Appeal.id).where(Appeal.resident_id == rid)))
    if appeal_ids:
        owner = Resident(notifications=False, reachable=False, created_at=now, deleted_at=now)
        s.add(owner)
        await s.flush()
        await s.execute(update(Appeal).where(Appeal.id.in_(appeal_ids)).values(resident_id=owner.id)
                        .execution_options(synchronize_session=False))
        await s.execute(update(AppealMessage).where(AppealMessage.appeal_id.in_(appeal_ids))
                        .values(resident_chat_message_id=None).execution_options(synchronize_session=False))
        sent = (AppealMessage.appeal_id.in_(appeal_ids), AppealMessage.direction == "in")
        gone += await s.scalars(select(AppealMessage.media_id).where(*sent, AppealMessage.media_id.is_not(None)))
        await s.execute(update(AppealMessage).where(*sent).values(media_id=None)
                        .execution_options(synchronize_session=False))
    if uids:
        await s.execute(update(AppealEvent).where(AppealEvent.actor_user_id.in_(uids)).values(actor_user_id=None)
                        .execution_options(synchronize_session=False))
        await s.execute(update(AppealMessage).where(AppealMessage.author_user_id.in_(uids))
                        .values(author_user_id=None).execution_options(synchronize_session=False))
        await s.execute(update(AuditLog).where(AuditLog.actor_user_id.in_(uids)).values(actor_user_id=None)
                        .execution_options(synchronize_session=False))
    for model in (Question, Rsvp, ReportRating):
        await s.execute(delete(model).where(model.resident_id == rid).execution_options(synchronize_session=False))
    not_on_ballot = (BudgetProject.author_resident_id == rid, BudgetProject.status != "accepted")
    gone += await s.scalars(select(BudgetProject.photo_media_id).where(*not_on_ballot))
    await s.execute(update(BudgetProject).where(*not_on_ballot)
                    .values(photo_media_id=None).execution_options(synchronize_session=False))
    await s.execute(update(BudgetProject).where(BudgetProject.author_resident_id == rid)
                    .values(author_resident_id=None).execution_options(synchronize_session=False))
    await media.forget(s, gone)
    for a in accounts:
        if a.chat_id is not None:
            await s.execute(delete(ConversationState).where(ConversationState.channel == a.channel,
                                                            ConversationState.chat_id == a.chat_id))
    await s.execute(delete(Account).where(Account.resident_id == rid))
    for name in ("language", "territory_kato", "name", "phone", "phone_hash", "phone_verified_at",
                 "consent_version", "consent_at", "registered_at"):
        setattr(r, name, None)
    r.notifications, r.reachable, r.deleted_at = False, False, now


# -- "my data" -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """The newest ``SHOWN`` items of one kind and how many there are in all."""

    items: list[Any] = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True)
class Linked:
    appeals: Section  # (number, status, received_at)
    votes: Section  # (campaign title kk, ru, project title, receipt)
    questions: Section  # (text, created_at)
    rsvps: Section  # (meeting kind, starts_at, coming)
    proposals: Section  # (title, status, campaign title kk, ru)


async def _section(s: AsyncSession, query: Any, where: Any) -> Section:
    total = await s.scalar(select(func.count()).select_from(query.where(where).subquery())) or 0
    rows = [tuple(row) for row in (await s.execute(query.where(where).limit(SHOWN))).all()] if total else []
    return Section(rows, total)


async def linked(sessions: async_sessionmaker[AsyncSession], resident_id: int) -> Linked:
    """What is linked to the resident, for "my data"."""
    async with sessions() as s:
        return Linked(
            appeals=await _section(s, select(Appeal.number, Appeal.status, Appeal.received_at)
                                   .order_by(Appeal.received_at.desc(), Appeal.id.desc()),
                                   Appeal.resident_id == resident_id),
            votes=await _section(s, select(BudgetCampaign.title_kk, BudgetCampaign.title_ru, BudgetProject.title,
                                           Vote.receipt)
                                 .join(BudgetCampaign, BudgetCampaign.id == Vote.campaign_id)
                                 .join(BudgetProject, BudgetProject.id == Vote.project_id)
                                 .order_by(Vote.created_at.desc(), Vote.id.desc()), Vote.resident_id == resident_id),
            questions=await _section(s, select(Question.text, Question.created_at)
                                     .order_by(Question.created_at.desc(), Question.id.desc()),
                                     Question.resident_id == resident_id),
            rsvps=await _section(s, select(Meeting.kind, Meeting.starts_at, Rsvp.coming)
                                 .join(Meeting, Meeting.id == Rsvp.meeting_id)
                                 .order_by(Meeting.starts_at.desc(), Rsvp.id.desc()), Rsvp.resident_id == resident_id),
            proposals=await _section(s, select(BudgetProject.title, BudgetProject.status, BudgetCampaign.title_kk,
                                               BudgetCampaign.title_ru)
                                     .join(BudgetCampaign, BudgetCampaign.id == BudgetProject.campaign_id)
                                     .order_by(BudgetProject.created_at.desc(), BudgetProject.id.desc()),
                                     BudgetProject.author_resident_id == resident_id))


# -- erasure when the purpose is over ------------------------------------------------------------------------


@dataclass(frozen=True)
class Erased:
    vote_tokens: int
    appeals: int


async def erase_expired(sessions: async_sessionmaker[AsyncSession], *, vote_token_retention_days: int,
                        appeal_retention_years: int, now: datetime | None = None) -> Erased:
    """Erase vote tokens of campaigns whose results were published ``vote_token_retention_days`` ago (while no
    campaign whose voting overlaps is still open: its one-vote check may look at them), and delete the appeals of
    residents who deleted their data once ``appeal_retention_years`` have passed since they were closed."""
    now = now or utcnow()
    cutoff = now - timedelta(days=vote_token_retention_days)
    other = aliased(BudgetCampaign)
    still_open = (select(other.id).where(other.id != BudgetCampaign.id, other.voting_until > now,
                                         other.voting_from < BudgetCampaign.voting_until,
                                         other.voting_until > BudgetCampaign.voting_from).exists())
    final = select(BudgetCampaign.id).where(BudgetCampaign.published_at.is_not(None),
                                            BudgetCampaign.published_at <= cutoff, ~still_open)
    appeal_cutoff = now - timedelta(days=round(365.25 * appeal_retention_years))
    last = func.coalesce(Appeal.closed_at, Appeal.answered_at, Appeal.received_at)
    deleted_owner = select(Resident.id).where(Resident.deleted_at.is_not(None))
    async with sessions() as s, s.begin():
        tokens = await s.execute(update(Vote).where(Vote.campaign_id.in_(final), Vote.voter_token.is_not(None))
                                 .values(voter_token=None).execution_options(synchronize_session=False))
        await forget_district_votes(s, now)  # the district-scoped tokens no vote can collide with any more
        old = list(await s.scalars(select(Appeal.id).where(Appeal.resident_id.in_(deleted_owner),
                                                           last < appeal_cutoff)))
        if old:
            await s.execute(update(Appeal).where(Appeal.repeat_of_id.in_(old)).values(repeat_of_id=None)
                            .execution_options(synchronize_session=False))
            files = list(await s.scalars(select(AppealMessage.media_id).where(AppealMessage.appeal_id.in_(old))))
            for model in (AppealMessage, AppealEvent):
                await s.execute(delete(model).where(model.appeal_id.in_(old)))
            await media.forget(s, files)
            await s.execute(delete(Appeal).where(Appeal.id.in_(old)))
    erased = Erased(tokens.rowcount or 0, len(old))
    if erased.vote_tokens or erased.appeals:
        log.info("privacy: %s vote tokens erased, %s appeals past retention deleted", erased.vote_tokens,
                 erased.appeals)
    return erased
