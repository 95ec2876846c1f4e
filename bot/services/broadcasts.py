"""Secretary broadcasts: a notice to the residents of a territory (and everything below it), narrowed to one
language or to those who said they will come to a meeting, delivered through the outbox.

Life of a broadcast: ``create`` (a draft) → ``start`` (status "sending", the audience counted into ``total``)
→ ``expand`` (one outbox row per recipient under the key ``broadcast:<id>:<resident_id>``, priority
BROADCAST, inserted in chunks with a commit each, so the sender starts at once and a stop is seen between
chunks) → ``finish_if_done`` ("done" once every row is settled) or ``stop`` (pending rows → "cancelled",
status "stopped"). ``expand`` is idempotent: after a crash in the middle it is simply run again (the keys
keep anyone from getting the notice twice); a broadcast is fully expanded when it has ``total`` rows.

Only secretaries and admins may create, start and stop (checked here against RoleService). No aiogram and no
wording: texts arrive as HTML ready to send, one per language.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.audit import audit
from bot.services.broadcast_terms import (
    BROADCAST_NOTICE,
    CAPTION_LIMIT,
    DONE,
    DRAFT,
    LANGUAGES,
    MEDIA_KINDS,
    SENDING_STATUS,
    STOPPED,
    TEXT_LIMIT,
    Audience,
    BroadcastError,
    BroadcastNotFound,
    EmptyAudience,
    NotAllowed,
    OutsideTerritory,
    Progress,
    UpcomingMeeting,
    WrongStatus,
    broadcast_payload,
    check_texts,
    payload_for,
)
from bot.services.outbox import (
    BLOCKED,
    CANCELLED,
    CLAIMED,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    UNKNOWN,
    OutboxService,
    Outgoing,
    Priority,
)
from bot.services.residents import Recipient, ResidentService
from bot.services.roles import Role, RoleService
from bot.services.territories import subtree
from storage.models import AuditLog, Broadcast, Media, Meeting, OutboxMessage, Rsvp, utcnow

__all__ = [
    "BROADCAST_NOTICE", "CAPTION_LIMIT", "DONE", "DRAFT", "LANGUAGES", "MEDIA_KINDS", "SENDING_STATUS", "STOPPED",
    "TEXT_LIMIT", "Audience", "BroadcastError", "BroadcastNotFound", "BroadcastService", "EmptyAudience",
    "NotAllowed", "OutsideTerritory", "Progress", "UpcomingMeeting", "WrongStatus", "broadcast_payload",
    "check_texts", "payload_for",
]


class BroadcastService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], residents: ResidentService, roles: RoleService,
                 outbox: OutboxService, *, rate_per_second: float = 25, chunk: int = 2000,
                 default_language: str = "kk", clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self.residents, self.roles, self.outbox = residents, roles, outbox
        self.rate = rate_per_second
        self.chunk = chunk
        self.default_language = default_language
        self.clock = clock

    # -- who may ----------------------------------------------------------------------------------------

    async def may_broadcast(self, user_id: int) -> bool:
        return await self.roles.has(user_id, Role.SECRETARY)  # an admin holds every role

    async def may_address(self, user_id: int, audience: Audience) -> bool:
        """Whether the sender's territory covers the audience (everyone, for the whole district: only those
        reaching everywhere)."""
        kato = audience.territory_kato
        if audience.only_coming:
            m = await self.meeting(audience.meeting_id) if audience.meeting_id is not None else None
            kato = m.territory_kato if m else None
        return await self.roles.covers(user_id, Role.SECRETARY, kato)

    async def _require(self, user_id: int | None, system: bool, audience: Audience | None = None) -> None:
        if system:
            return
        if user_id is None or not await self.may_broadcast(user_id):
            raise NotAllowed(f"user {user_id} may not broadcast")
        if audience is not None and not await self.may_address(user_id, audience):
            raise OutsideTerritory(f"user {user_id} may not broadcast there")

    # -- the audience ------------------------------------------------------------------------------------

    async def coming_resident_ids(self, meeting_id: int) -> list[int]:
        async with self._sessions() as s:
            return list(await s.scalars(select(Rsvp.resident_id).where(Rsvp.meeting_id == meeting_id,
                                                                       Rsvp.coming.is_(True))))

    async def recipients(self, audience: Audience) -> list[Recipient]:
        if audience.only_coming:
            if audience.meeting_id is None:
                return []
            ids = await self.coming_resident_ids(audience.meeting_id)
            if not ids:
                return []
            return await self.residents.audience(None, language=audience.language, resident_ids=ids,
                                                 default_language=self.default_language)
        return await self.residents.audience(audience.territory_kato, language=audience.language,
                                             default_language=self.default_language)

    async def count_by_language(self, audience: Audience) -> dict[str, int]:
        """How many would get it, per language (both keys always present)."""
        counts = dict.fromkeys(LANGUAGES, 0)
        for r in await self.recipients(audience):
            counts[r.language if r.language in counts else self.default_language] += 1
        return counts

    async def upcoming_meetings(self, limit: int = 8, within: str | None = None) -> list[UpcomingMeeting]:
        """Meetings still ahead and not cancelled, soonest first, with how many said they will come; with
        ``within``, only those held in that territory or below it."""
        coming = (select(func.count(Rsvp.id)).where(Rsvp.meeting_id == Meeting.id, Rsvp.coming.is_(True))
                  .correlate(Meeting).scalar_subquery())
        q = (select(Meeting.id, Meeting.kind, Meeting.territory_kato, Meeting.starts_at, coming)
             .where(Meeting.starts_at > self.clock(), Meeting.cancelled_at.is_(None))
             .order_by(Meeting.starts_at, Meeting.id).limit(limit))
        async with self._sessions() as s:
            if within is not None:
                q = q.where(Meeting.territory_kato.in_(await subtree(s, within)))
            return [UpcomingMeeting(*row) for row in (await s.execute(q)).all()]

    async def meeting(self, meeting_id: int) -> Meeting | None:
        async with self._sessions() as s:
            return await s.get(Meeting, meeting_id)

    # -- life of a broadcast -----------------------------------------------------------------------------

    async def create(self, by: int | None, audience: Audience, *, text_kk: str | None, text_ru: str | None,
                     media_kind: str | None = None, media_id: int | None = None,
                     progress_chat_id: int | None = None, ui_language: str | None = None,
                     system: bool = False) -> Broadcast:
        """A draft. ``system=True`` is for the bot's own broadcasts (a meeting announcement), never for a
        person's request."""
        await self._require(by, system, audience)
        if audience.language not in (None, *LANGUAGES):
            raise BroadcastError("unknown language")
        if media_kind not in (None, *MEDIA_KINDS) or bool(media_kind) != bool(media_id):
            raise BroadcastError("media must be a photo or a document with its media id")
        check_texts(text_kk, text_ru, media_kind)
        async with self._sessions() as s, s.begin():
            if media_id is not None and await s.get(Media, media_id) is None:
                raise BroadcastError("no such media")
            b = Broadcast(created_by=by or 0, territory_kato=audience.territory_kato, language=audience.language,
                          meeting_id=audience.meeting_id, only_coming=audience.only_coming,
                          text_kk=text_kk or None, text_ru=text_ru or None, media_kind=media_kind,
                          media_id=media_id, status=DRAFT, total=0, progress_chat_id=progress_chat_id,
                          created_at=self.clock())
            s.add(b)
            await s.flush()
            audit(s, "broadcast.create", actor=by, object_type="broadcast", object_id=b.id,
                  territory=audience.territory_kato, language=audience.language, meeting=audience.meeting_id,
                  only_coming=audience.only_coming, ui_language=ui_language, system=system)
        return b

    async def get(self, broadcast_id: int) -> Broadcast | None:
        async with self._sessions() as s:
            return await s.get(Broadcast, broadcast_id)

    @staticmethod
    def audience_of(b: Broadcast) -> Audience:
        return Audience(b.territory_kato, b.language, b.meeting_id, b.only_coming)

    async def start(self, broadcast_id: int, by: int | None, *, system: bool = False) -> Broadcast:
        """Draft → sending: counts the audience into ``total``. The rows are written by :meth:`expand`."""
        await self._require(by, system)
        b = await self.get(broadcast_id)
        if b is None:
            raise BroadcastNotFound(broadcast_id)
        await self._require(by, system, self.audience_of(b))
        total = len(await self.recipients(self.audience_of(b)))
        if total == 0:
            raise EmptyAudience(broadcast_id)
        now = self.clock()
        async with self._sessions() as s, s.begin():
            res = await s.execute(update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status == DRAFT)
                                  .values(status=SENDING_STATUS, total=total, started_at=now)
                                  .execution_options(synchronize_session=False))
            if res.rowcount != 1:
                raise WrongStatus(broadcast_id)
            if b.meeting_id is not None and not b.only_coming:  # the meeting's announcement: it is announced now
                await s.execute(update(Meeting).where(Meeting.id == b.meeting_id, Meeting.announced_at.is_(None))
                                .values(announced_at=now))
            audit(s, "broadcast.start", actor=by, object_type="broadcast", object_id=broadcast_id, total=total)
        b.status, b.total, b.started_at = SENDING_STATUS, total, now
        return b

    async def expand(self, broadcast_id: int, wake: Callable[[], None] | None = None) -> int:
        """Write the outbox rows (notices of kind ``broadcast``, worded from the broadcast when each is sent), a
        chunk per transaction; stops early when the broadcast was stopped. Returns the rows added."""
        b = await self.get(broadcast_id)
        if b is None:
            raise BroadcastNotFound(broadcast_id)
        if b.status != SENDING_STATUS:
            return 0
        recipients = await self.recipients(self.audience_of(b))
        added = 0
        for start in range(0, len(recipients), self.chunk):
            chunk = recipients[start:start + self.chunk]
            async with self._sessions() as s, s.begin():
                # the broadcast row is locked (PostgreSQL) so a stop either comes before this chunk (nothing is
                # written) or after it (its rows are cancelled with the rest)
                status = await s.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id)
                                        .with_for_update())
                if status != SENDING_STATUS:
                    return added
                added += await self.outbox.enqueue(self._rows(broadcast_id, chunk), session=s)
            if wake is not None:
                wake()
        async with self._sessions() as s, s.begin():
            rows = await s.scalar(select(func.count(OutboxMessage.id))
                                  .where(OutboxMessage.broadcast_id == broadcast_id))
            # the audience may have changed since start: the rows written are the broadcast's size
            await s.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(total=rows or 0))
        return added

    def _rows(self, broadcast_id: int, chunk: Sequence[Recipient]) -> Iterable[Outgoing]:
        for r in chunk:
            yield Outgoing(f"broadcast:{broadcast_id}:{r.resident_id}", BROADCAST_NOTICE,
                           {"broadcast_id": broadcast_id}, resident_id=r.resident_id, priority=Priority.BROADCAST,
                           broadcast_id=broadcast_id)

    async def stop(self, broadcast_id: int, by: int | None, *, system: bool = False) -> Progress:
        """Sending → stopped: every row not yet started by the sender is cancelled (a claimed row too: the sender
        finds it cancelled and lets it be). Rows in flight finish."""
        await self._require(by, system)
        async with self._sessions() as s, s.begin():
            b = await s.scalar(select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update())
            if b is None:
                raise BroadcastNotFound(broadcast_id)
            if b.status != SENDING_STATUS:
                raise WrongStatus(broadcast_id)
            b.status = STOPPED
            res = await s.execute(update(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id,
                                                              OutboxMessage.state.in_((PENDING, CLAIMED)))
                                  .values(state=CANCELLED, error="the broadcast was stopped")
                                  .execution_options(synchronize_session=False))
            audit(s, "broadcast.stop", actor=by, object_type="broadcast", object_id=broadcast_id,
                  cancelled=res.rowcount or 0)
        return await self.finish_if_done(broadcast_id)

    async def finish_if_done(self, broadcast_id: int) -> Progress:
        """Mark a sending broadcast done once all its rows are written and settled; give a stopped one its
        finish time once nothing of it is in flight (rows put back after a stop are cancelled too)."""
        p = await self.progress(broadcast_id)
        if p.finished:
            return p
        now = self.clock()
        if p.status == SENDING_STATUS and p.expanded and p.pending == 0 and p.in_flight == 0:
            async with self._sessions() as s, s.begin():
                await s.execute(update(Broadcast).where(Broadcast.id == broadcast_id,
                                                        Broadcast.status == SENDING_STATUS)
                                .values(status=DONE, finished_at=now))
            return await self.progress(broadcast_id)
        if p.status == STOPPED:
            async with self._sessions() as s, s.begin():
                if p.pending:  # a row that met a 429 or a network error during the stop came back
                    await s.execute(update(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id,
                                                                OutboxMessage.state == PENDING)
                                    .values(state=CANCELLED, error="the broadcast was stopped"))
                elif p.in_flight == 0:
                    await s.execute(update(Broadcast).where(Broadcast.id == broadcast_id,
                                                            Broadcast.finished_at.is_(None))
                                    .values(finished_at=now))
            return await self.progress(broadcast_id)
        return p

    async def set_progress_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(update(Broadcast).where(Broadcast.id == broadcast_id)
                            .values(progress_chat_id=chat_id, progress_message_id=message_id))

    async def unfinished(self) -> list[int]:
        """Broadcasts the progress job looks after: sending, or stopped with rows still in flight."""
        async with self._sessions() as s:
            q = select(Broadcast.id).where(
                (Broadcast.status == SENDING_STATUS)
                | ((Broadcast.status == STOPPED) & Broadcast.finished_at.is_(None))).order_by(Broadcast.id)
            return list(await s.scalars(q))

    async def announcement_of(self, meeting_id: int) -> Broadcast | None:
        """The broadcast that announced a meeting to its territory, if any."""
        async with self._sessions() as s:
            return await s.scalar(select(Broadcast).where(Broadcast.meeting_id == meeting_id,
                                                          Broadcast.only_coming.is_(False)).order_by(Broadcast.id))

    # -- numbers -----------------------------------------------------------------------------------------

    async def progress(self, broadcast_id: int) -> Progress:
        async with self._sessions() as s:
            b = await s.get(Broadcast, broadcast_id)
            if b is None:
                raise BroadcastNotFound(broadcast_id)
            counts = dict((await s.execute(
                select(OutboxMessage.state, func.count(OutboxMessage.id))
                .where(OutboxMessage.broadcast_id == broadcast_id).group_by(OutboxMessage.state))).all())
            details = await s.scalar(select(AuditLog.details).where(
                AuditLog.object_type == "broadcast", AuditLog.object_id == str(broadcast_id),
                AuditLog.action == "broadcast.create").limit(1))
            eta = None
            if b.status == SENDING_STATUS:
                eta = await self._eta(s, b, counts)
        rows = sum(counts.values())
        ui = (details or {}).get("ui_language")
        return Progress(
            id=b.id, status=b.status, total=b.total, sent=counts.get(SENT, 0), pending=counts.get(PENDING, 0),
            in_flight=counts.get(CLAIMED, 0) + counts.get(SENDING, 0), blocked=counts.get(BLOCKED, 0),
            failed=counts.get(FAILED, 0),
            unknown=counts.get(UNKNOWN, 0), cancelled=counts.get(CANCELLED, 0), rows=rows, eta_seconds=eta,
            created_by=b.created_by, progress_chat_id=b.progress_chat_id, progress_message_id=b.progress_message_id,
            started_at=b.started_at, finished_at=b.finished_at, ui_language=ui if ui in LANGUAGES else None)

    async def _eta(self, s: AsyncSession, b: Broadcast, counts: dict[str, int]) -> int:
        """Seconds left at the configured rate, counting what waits in the outbox before this broadcast's
        rows (notices go first; older broadcasts before younger ones)."""
        not_written = max(b.total - sum(counts.values()), 0)
        mine = counts.get(PENDING, 0) + counts.get(CLAIMED, 0) + counts.get(SENDING, 0) + not_written
        if mine == 0:
            return 0
        first = await s.scalar(select(func.min(OutboxMessage.id)).where(OutboxMessage.broadcast_id == b.id,
                                                                        OutboxMessage.state == PENDING))
        ahead = 0
        if first is not None:
            ahead = await s.scalar(select(func.count(OutboxMessage.id)).where(
                OutboxMessage.state == PENDING,
                (OutboxMessage.priority < int(Priority.BROADCAST)) | (OutboxMessage.id < first),
                OutboxMessage.broadcast_id.is_distinct_from(b.id))) or 0
        return math.ceil((mine + ahead) / self.rate)
