"""The outbox: every message the bot sends on its own initiative (and every aide's reply) is a row first, a
notice as data: its kind, its parameters, its reader (a resident, or a staff or group chat) and its channel.
No wording here: the sender words each row in the reader's language and channel when it goes
(bot/delivery/notices.py).

One row per recipient and message, under a unique key, so enqueuing twice sends once. Rows are claimed
atomically (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite serialises writers), so two senders never take
the same row. A resident's address and language are read from the resident when the row is claimed: a row of
a resident who deleted their data (or has no chat) is cancelled then, never sent. A claimed row is "claimed"
until the sender starts sending it, "sending" from then until its outcome is recorded: after a crash a row still
"claimed" was never tried and goes back to "pending"; one left "sending" is marked "unknown", never resent.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import dialect_insert
from storage.models import Account, Broadcast, OutboxMessage, Resident, utcnow

PENDING, CLAIMED, SENDING, SENT, BLOCKED, FAILED, UNKNOWN, CANCELLED = (
    "pending", "claimed", "sending", "sent", "blocked", "failed", "unknown", "cancelled")
TAKEN = (CLAIMED, SENDING)  # a sender holds the row: not yet tried, or being tried


class Priority(IntEnum):
    """Lower goes first: notices about a resident's own business before mass broadcasts."""

    NOTICE = 10
    REMINDER = 20
    BROADCAST = 30


@dataclass(frozen=True)
class Outgoing:
    """A notice to queue: to a resident (``resident_id``; the address is looked up when it is sent) or to a
    staff or group chat (``chat_id``)."""

    key: str
    kind: str
    params: dict[str, Any]
    resident_id: int | None = None
    chat_id: int | None = None
    priority: int = Priority.NOTICE
    broadcast_id: int | None = None
    channel: str = "telegram"


@dataclass(frozen=True)
class Claimed:
    """A row taken for sending, with its reader resolved: the address and the reader's language now."""

    id: int
    chat_id: int
    kind: str
    params: dict[str, Any]
    attempts: int
    resident_id: int | None
    broadcast_id: int | None
    channel: str = "telegram"
    language: str | None = None
    created_at: datetime | None = None  # when it was queued (a channel may give up on a row that waited too long)


class OutboxService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow,
                 max_attempts: int = 5) -> None:
        self._sessions = sessions
        self._clock = clock
        self.max_attempts = max_attempts

    async def enqueue(self, items: Iterable[Outgoing], session: AsyncSession | None = None) -> int:
        """Add rows; keys already present are left alone. Returns how many were new."""
        rows = [dict(key=i.key, kind=i.kind, params=i.params, channel=i.channel,
                     chat_id=None if i.resident_id is not None else i.chat_id, priority=int(i.priority),
                     resident_id=i.resident_id, broadcast_id=i.broadcast_id, state=PENDING, attempts=0,
                     not_before=self._clock(), created_at=self._clock()) for i in items]
        if any(r["resident_id"] is None and r["chat_id"] is None for r in rows):
            raise ValueError("an outbox row needs a resident or a chat")
        if not rows:
            return 0
        if session is not None:
            return await self._insert(session, rows)
        async with self._sessions() as s, s.begin():
            return await self._insert(s, rows)

    async def _insert(self, s: AsyncSession, rows: list[dict[str, Any]]) -> int:
        insert = dialect_insert(s)
        t = OutboxMessage.__table__
        # one compiled statement run as an executemany (SQLAlchemy batches it into multi-row INSERTs itself):
        # far cheaper than building a VALUES list per chunk; RETURNING counts the rows that were new
        stmt = insert(t).on_conflict_do_nothing(index_elements=["key"]).returning(t.c.id)
        total = 0
        for start in range(0, len(rows), 1000):
            res = await s.execute(stmt, rows[start:start + 1000])
            total += len(res.all())
        return total

    async def claim(self, limit: int, worker: str, row_id: int | None = None) -> list[Claimed]:
        """Take up to ``limit`` ready rows for this worker (or just row ``row_id``, whatever its turn); no row is
        ever taken by two workers.

        PostgreSQL locks the chosen rows (FOR UPDATE SKIP LOCKED) so concurrent workers pick others; on
        SQLite the update's ``state = pending`` guard does it, since SQLite runs one writer at a time.
        """
        now = self._clock()
        stopped = select(Broadcast.id).where(Broadcast.id == OutboxMessage.broadcast_id,
                                             Broadcast.status == "stopped").exists()
        ready = select(OutboxMessage.id).where(OutboxMessage.state == PENDING, ~stopped,
                                               OutboxMessage.resident_id.is_not(None)
                                               | OutboxMessage.chat_id.is_not(None))
        if row_id is not None:
            ready = ready.where(OutboxMessage.id == row_id)
        else:
            # a row of a stopped broadcast that came back after a 429 waits to be cancelled, never sent
            # the order of ix_outbox_ready: the database reads the first rows off the index instead of
            # sorting every pending row (47 ms a claim with 100,000 queued, against 0.5 ms)
            ready = (ready.where(OutboxMessage.not_before <= now)
                     .order_by(OutboxMessage.priority, OutboxMessage.not_before, OutboxMessage.id))
        ready = ready.limit(limit).with_for_update(skip_locked=True)
        async with self._sessions() as s, s.begin():
            ids = list(await s.scalars(ready))
            if not ids:
                return []
            res = await s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.state == PENDING)
                .values(state=CLAIMED, claimed_at=now, claimed_by=worker[:64],
                        attempts=OutboxMessage.attempts + 1)
                .returning(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.kind, OutboxMessage.params,
                           OutboxMessage.attempts, OutboxMessage.resident_id, OutboxMessage.broadcast_id,
                           OutboxMessage.priority, OutboxMessage.channel, OutboxMessage.created_at)
                .execution_options(synchronize_session=False))
            rows = sorted(res.all(), key=lambda r: (r.priority, r.id))
            return await self._readers(s, rows)

    async def peek(self, row_id: int) -> Claimed | None:
        """One row as the sender would take it now (its reader resolved), without taking it; None when it has
        no reader any more."""
        async with self._sessions() as s:
            row = (await s.execute(select(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.kind,
                                          OutboxMessage.params, OutboxMessage.attempts, OutboxMessage.resident_id,
                                          OutboxMessage.broadcast_id, OutboxMessage.channel,
                                          OutboxMessage.created_at)
                                   .where(OutboxMessage.id == row_id))).one_or_none()
            if row is None:
                return None
            found = await self._readers(s, [row], write=False)
            return found[0] if found else None

    async def _readers(self, s: AsyncSession, rows: list[Any], write: bool = True) -> list[Claimed]:
        """Resolve each claimed row's reader: a resident's address and language as they are now (a resident
        gone or without a chat: the row is cancelled); a staff chat's language from its resident, if any."""
        rids = {r.resident_id for r in rows if r.resident_id is not None}
        staff = {r.chat_id for r in rows if r.resident_id is None and r.chat_id is not None and r.chat_id > 0}
        people: dict[int, list[Any]] = {}
        if rids:  # the resident's accounts (bot/services/accounts.py), the most recently active first
            for p in (await s.execute(
                    select(Resident.id, Account.channel, Account.chat_id, Resident.language)
                    .join(Account, Account.resident_id == Resident.id)
                    .where(Resident.id.in_(rids), Resident.deleted_at.is_(None), Account.chat_id.is_not(None))
                    .order_by(Account.last_inbound_at.desc().nulls_last(), Account.id))).all():
                people.setdefault(p.id, []).append(p)
        tongues: dict[int, str | None] = {}
        if staff:  # staff chats are Telegram's
            tongues = {p.account_id: p.language for p in (await s.execute(
                select(Account.account_id, Resident.language)
                .join(Resident, Resident.id == Account.resident_id)
                .where(Account.channel == "telegram", Account.account_id.in_(staff),
                       Resident.deleted_at.is_(None)))).all()}
        out, gone, addressed = [], [], []
        for r in rows:
            channel = r.channel
            if r.resident_id is not None:
                # the row's channel when the person has an account there, else the one they used last (a
                # notice queued for Telegram reaches a resident who only writes from WhatsApp)
                theirs = people.get(r.resident_id, [])
                acc = next((a for a in theirs if a.channel == channel), theirs[0] if theirs else None)
                if acc is None:
                    gone.append(r.id)
                    continue
                chat, lang, channel = acc.chat_id, acc.language, acc.channel
                addressed.append({"row_id": r.id, "chat": chat, "ch": channel})
            else:
                chat, lang = r.chat_id, tongues.get(r.chat_id)
            out.append(Claimed(r.id, chat, r.kind, r.params, r.attempts, r.resident_id, r.broadcast_id,
                               channel, lang, r.created_at))
        t = OutboxMessage.__table__
        if not write:
            return out
        if gone:
            await s.execute(update(t).where(t.c.id.in_(gone))
                            .values(state=CANCELLED, error="the resident has no chat any more"))
        if addressed:  # the address it goes to, for the record (erased with the person's data)
            await s.execute(update(t).where(t.c.id == bindparam("row_id"))
                            .values(chat_id=bindparam("chat"), channel=bindparam("ch")), addressed)
        return out

    async def state_of(self, row_id: int) -> tuple[str, str | None]:
        """(state, error) of one row."""
        async with self._sessions() as s:
            row = (await s.execute(select(OutboxMessage.state, OutboxMessage.error)
                                   .where(OutboxMessage.id == row_id))).one()
            return row.state, row.error

    async def find(self, key: str) -> int | None:
        async with self._sessions() as s:
            return await s.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key))

    async def started(self, ids: Collection[int]) -> set[int]:
        """Claimed rows about to go to their platform become "sending" (from now on a crash leaves them
        "unknown"); returns the ids that did: a row cancelled since it was claimed (a stopped broadcast, a
        resident who deleted their data) is not among them, and must not go."""
        if not ids:
            return set()
        async with self._sessions() as s, s.begin():
            t = OutboxMessage.__table__
            res = await s.execute(update(t).where(t.c.id.in_(list(ids)), t.c.state == CLAIMED)
                                  .values(state=SENDING).returning(t.c.id))
            return set(res.scalars().all())

    async def release(self, ids: Collection[int]) -> int:
        """Rows claimed but never started go back to the queue as they were (a sender stopping)."""
        if not ids:
            return 0
        async with self._sessions() as s, s.begin():
            t = OutboxMessage.__table__
            res = await s.execute(update(t).where(t.c.id.in_(list(ids)), t.c.state == CLAIMED)
                                  .values(state=PENDING, attempts=t.c.attempts - 1))
            return res.rowcount or 0

    async def _finish(self, row_id: int, **values: Any) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(update(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.state.in_(TAKEN))
                            .values(**values))

    async def sent(self, row_id: int, message_id: int | str | None) -> None:
        await self._finish(row_id, state=SENT, sent_at=self._clock(), error=None, **_message_ids(message_id))

    async def sent_many(self, done: list[tuple[int, int | str | None]]) -> None:
        """Record a batch of sends in one transaction (the sender's hot path: one commit per batch)."""
        if not done:
            return
        now = self._clock()
        async with self._sessions() as s, s.begin():
            t = OutboxMessage.__table__  # a plain executemany (the ORM's bulk update wants primary keys as such)
            await s.execute(update(t).where(t.c.id == bindparam("row_id"), t.c.state == SENDING)
                            .values(state=SENT, sent_at=now, telegram_message_id=bindparam("message_id"),
                                    platform_message_id=bindparam("platform_id"), error=None),
                            [{"row_id": i, **_message_ids(m, "message_id", "platform_id")} for i, m in done])

    async def failed_after_sent(self, channel: str, platform_id: str, error: str) -> Claimed | None:
        """The platform reported later that a message it had accepted never arrived (a WhatsApp status
        "failed"): the row becomes "failed"; returns it for its kind's ``on_undelivered`` (None: not ours, or
        already failed)."""
        async with self._sessions() as s, s.begin():
            row = (await s.execute(select(OutboxMessage).where(
                OutboxMessage.channel == channel, OutboxMessage.platform_message_id == platform_id,
                OutboxMessage.state == SENT))).scalar_one_or_none()
            if row is None:
                return None
            row.state, row.error = FAILED, error[:300]
            return Claimed(row.id, row.chat_id or 0, row.kind, row.params, row.attempts, row.resident_id,
                           row.broadcast_id, row.channel, None, row.created_at)

    async def due_now(self, channel: str, chat_id: int) -> int:
        """Rows waiting for one chat on a channel may go at once (WhatsApp: the person wrote, so the 24-hour
        window is open). Returns how many."""
        async with self._sessions() as s, s.begin():
            result = await s.execute(update(OutboxMessage).where(
                OutboxMessage.state == "pending", OutboxMessage.channel == channel, OutboxMessage.chat_id == chat_id,
                OutboxMessage.not_before > self._clock()).values(not_before=self._clock()))
            return result.rowcount or 0

    async def retry(self, row: Claimed, after_seconds: float, error: str, count_attempt: bool = True) -> None:
        """Put the row back for later; past max_attempts it fails. A 429 does not count as an attempt."""
        if count_attempt and row.attempts >= self.max_attempts:
            await self._finish(row.id, state=FAILED, error=error[:300])
            return
        # a row whose resident deleted their data while it was in flight has no reader any more: cancelled
        gone = OutboxMessage.chat_id.is_(None) & OutboxMessage.resident_id.is_(None)
        await self._finish(row.id, state=case((gone, CANCELLED), else_=PENDING),
                           error=error[:300],
                           not_before=self._clock() + timedelta(seconds=after_seconds),
                           attempts=row.attempts if count_attempt else row.attempts - 1)

    async def failed(self, row_id: int, error: str) -> None:
        await self._finish(row_id, state=FAILED, error=error[:300])

    async def cancelled(self, row_id: int, error: str) -> None:
        await self._finish(row_id, state=CANCELLED, error=error[:300])

    async def blocked(self, row: Claimed) -> None:
        """The person blocked the bot: mark the row and the resident, and skip their other pending rows."""
        async with self._sessions() as s, s.begin():
            await s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                            .values(state=BLOCKED, error="blocked by the user"))
            theirs = OutboxMessage.chat_id == row.chat_id
            if row.resident_id is not None:
                theirs = theirs | (OutboxMessage.resident_id == row.resident_id)
            await s.execute(update(OutboxMessage).where(theirs, OutboxMessage.state == PENDING)
                            .values(state=BLOCKED, error="blocked by the user"))
            on_chat = select(Account.resident_id).where(Account.channel == "telegram", Account.chat_id == row.chat_id)
            await s.execute(update(Resident).where(Resident.id.in_(on_chat)).values(reachable=False))

    async def recover_after_crash(self, workers: Collection[str] | None = None) -> int:
        """The rows a gone sender held: those it had started were in flight at the crash and become "unknown",
        never resent (they may have arrived); those it had only claimed were never tried and go back to
        "pending", sent as if nothing happened. ``workers``: only the rows these (gone) senders claimed; None:
        every such row (one process). Returns how many became unknown."""
        t = OutboxMessage.__table__
        theirs = t.c.state.in_(TAKEN)
        if workers is not None:
            if not workers:
                return 0
            theirs = theirs & t.c.claimed_by.in_(list(workers))
        async with self._sessions() as s, s.begin():
            await s.execute(update(t).where(theirs, t.c.state == CLAIMED)
                            .values(state=PENDING, attempts=t.c.attempts - 1))
            res = await s.execute(update(t).where(theirs, t.c.state == SENDING)
                                  .values(state=UNKNOWN, error="in flight when the sender stopped"))
            return res.rowcount or 0

    async def in_flight_workers(self) -> list[str]:
        """The senders that hold rows ("claimed" or "sending") now."""
        async with self._sessions() as s:
            return list(await s.scalars(select(OutboxMessage.claimed_by).where(OutboxMessage.state.in_(TAKEN))
                                        .distinct()))


def _message_ids(message_id: int | str | None, number: str = "telegram_message_id",
                 text: str = "platform_message_id") -> dict[str, Any]:
    """A platform's message id in its column: a number, or a text id (WhatsApp's wamid)."""
    if isinstance(message_id, str):
        return {number: None, text: message_id[:128]}
    return {number: message_id, text: None}
