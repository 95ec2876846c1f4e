"""Accounts: how a person is found on a channel, and how accounts on several channels become one person.

A resident is found by (channel, account id). A person who registered on one channel and then verifies the same
phone from an account on another channel is one person: that account joins the resident who holds the phone
(:func:`join`), where their appeals and votes already are, so they still have one vote. The resident row the new
account made on its way (consent, language, settlement) gives what it has to the older one and is deleted:

* empty fields of the older resident (language, settlement, name) are filled from it; the later consent counts;
* its appeals, questions, RSVPs, report ratings, proposals and outbox rows move to the older resident (an RSVP or
  rating the older resident already gave for the same meeting or report stays, the newer one is dropped);
* it cannot hold votes (voting needs a verified phone) nor its own verified phone (then the join is refused).

A second account on the same channel cannot take a phone another resident verified (one account per channel and
person, held by a unique constraint on (resident, channel)).
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Account,
    Appeal,
    BudgetProject,
    OutboxMessage,
    Question,
    ReportRating,
    Resident,
    ResidentTerritory,
    Rsvp,
    Vote,
)

MAIN = "telegram"  # the channel the outbox delivers on until it knows channels


async def account(s: AsyncSession, channel: str, account_id: int) -> Account | None:
    return await s.scalar(select(Account).where(Account.channel == channel, Account.account_id == account_id))


# built once: every update looks its sender up, and building the statement cost more than running it
_RESIDENT_OF = select(Resident).join(Account, Account.resident_id == Resident.id).where(
    Account.channel == bindparam("channel"), Account.account_id == bindparam("account_id"))
_RESIDENT_OF_LOCKED = _RESIDENT_OF.with_for_update(of=Resident)


async def resident_of(s: AsyncSession, channel: str, account_id: int, *, lock: bool = False) -> Resident | None:
    return await s.scalar(_RESIDENT_OF_LOCKED if lock else _RESIDENT_OF,
                          {"channel": channel, "account_id": account_id})


async def actor_id(s: AsyncSession, resident_id: int) -> int | None:
    """The platform id audits name a resident's own actions by: their first account's."""
    return await s.scalar(select(Account.account_id).where(Account.resident_id == resident_id)
                          .order_by(Account.id).limit(1))


async def chat_of(s: AsyncSession, resident_id: int, channel: str = MAIN) -> int | None:
    return await s.scalar(select(Account.chat_id).where(Account.resident_id == resident_id,
                                                        Account.channel == channel))


class CannotJoin(Exception):
    """The account cannot join the resident holding the phone (same channel, or it has a phone or votes)."""


async def join(s: AsyncSession, acc: Account, newer: Resident, older: Resident) -> Resident:
    """Move ``acc`` from ``newer`` (made by this account) to ``older`` (who verified the phone), in the caller's
    transaction; ``older`` is locked by the caller. Returns ``older``."""
    if newer.phone_hash is not None or await s.scalar(select(Vote.id).where(Vote.resident_id == newer.id).limit(1)):
        raise CannotJoin
    if await s.scalar(select(Account.id).where(Account.resident_id == older.id, Account.channel == acc.channel)):
        raise CannotJoin
    rid, oid = newer.id, older.id
    for name in ("language", "territory_kato", "name"):
        if getattr(older, name) is None:
            setattr(older, name, getattr(newer, name))
    if newer.consent_at is not None and (older.consent_at is None or newer.consent_at > older.consent_at):
        older.consent_version, older.consent_at = newer.consent_version, newer.consent_at
    if older.registered_at is None:
        older.registered_at = newer.registered_at
    if not await s.scalar(select(ResidentTerritory.id).where(ResidentTerritory.resident_id == oid).limit(1)):
        await s.execute(update(ResidentTerritory).where(ResidentTerritory.resident_id == rid)
                        .values(resident_id=oid).execution_options(synchronize_session=False))
    for model, unique in ((Rsvp, Rsvp.meeting_id), (ReportRating, ReportRating.report_id)):
        taken = select(unique).where(model.resident_id == oid).scalar_subquery()
        await s.execute(delete(model).where(model.resident_id == rid, unique.in_(taken))
                        .execution_options(synchronize_session=False))
    for model, column in ((Appeal, Appeal.resident_id), (Question, Question.resident_id), (Rsvp, Rsvp.resident_id),
                          (ReportRating, ReportRating.resident_id), (BudgetProject, BudgetProject.author_resident_id),
                          (OutboxMessage, OutboxMessage.resident_id)):
        await s.execute(update(model).where(column == rid).values({column.key: oid})
                        .execution_options(synchronize_session=False))
    acc.resident_id = oid
    await s.flush()
    await s.delete(newer)
    await s.flush()
    return older
