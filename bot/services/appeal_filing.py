"""Appeals: filing (the number, the terms, repeat detection) and the conversation (messages in, out and
internal notes; where each was delivered). A part of :class:`~bot.services.appeals.AppealService`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import accounts
from bot.services.appeal_rules import (
    FULL_PROCEDURE,
    LANGUAGES,
    NUMBER_PREFIX,
    Action,
    AnonymousNotAllowed,
    AppealBase,
    AppealKind,
    AppealNotFound,
    AppealStatus,
    Attachment,
    ContactRequired,
    Direction,
    InvalidAppeal,
    MediaKind,
    ResidentNotFound,
)
from bot.services.audit import audit
from storage.db import dialect_insert
from storage.models import Appeal, AppealCounter, AppealEvent, AppealMessage, Resident, Territory

_APPEAL, _MESSAGE = Appeal.__table__, AppealMessage.__table__  # Core: one UPDATE, no ORM round of reading first

# -- similarity of texts (repeat detection) ----------------------------------------------------

REPEAT_THRESHOLD = 0.6
_STEM = 4
_STOP_WORDS = frozenset(
    "и в во на не по с со к ко у о об от до за из для что это уже как а но же бы ли то мы я вы он она они "
    "мне нас нам вас да де мен бен пен және ал бұл сол осы біз сіз ол үшін деп еді".split()
)  # Russian and Kazakh function words; «жоқ» / «нет» stay: «су жоқ» (no water) is the point


def text_tokens(text: str) -> frozenset[str]:
    """Normalised tokens of ``text``: case-folded words, stop words and one-letter words dropped, each
    cut to its first four letters (a crude stem that survives Russian and Kazakh endings: «дорога»,
    «дороги» → «доро»; «жолды», «жолға» → «жолд», «жолғ»...). Numbers are kept whole (house numbers)."""
    out = set()
    for w in re.findall(r"\w+", text.casefold()):
        if w.isdigit():
            out.add(w)
        elif len(w) > 1 and w not in _STOP_WORDS:
            out.add(w[:_STEM])
    return frozenset(out)


def text_similarity(a: str, b: str) -> float:
    """Dice coefficient of the token sets of :func:`text_tokens`: 2·|A∩B| / (|A|+|B|), in [0, 1].

    Word order does not matter («нет света на Абая» ~ «на Абая света нет» = 1.0), it is linear in the
    length of the texts, and a threshold of 0.6 is the same as token Jaccard ≥ 3/7. Chosen over difflib's
    character ratio, which is quadratic on long texts and scores reworded repeats low (about 0.5)."""
    ta, tb = text_tokens(a), text_tokens(b)
    if not ta or not tb:  # nothing but function words: equal texts only
        return 1.0 if a.strip().casefold() == b.strip().casefold() else 0.0
    return 2 * len(ta & tb) / (len(ta) + len(tb))




class AppealFiling(AppealBase):
    # -- creation -------------------------------------------------------------------------------

    async def create(
        self,
        resident_id: int,
        kind: AppealKind | str,
        category: str,
        territory_kato: str | None,
        text: str,
        language: str,
        anonymous: bool = False,
        contact_name: str | None = None,
        attachments: Iterable[Attachment | Mapping[str, Any]] = (),
        location: tuple[float, float] | None = None,
    ) -> Appeal:
        """Receive an appeal now. Computes the public number, ``registered_on`` and ``due_on``, and links
        ``repeat_of_id`` to an earlier similar appeal (:meth:`find_repeat`). Attachments (``Attachment`` or
        ``{"kind": "photo", "media_id": …}``) and the location are stored as ``in`` messages."""
        kind = self._kind(kind)
        if category not in self.categories:
            raise InvalidAppeal("category")
        if language not in LANGUAGES:
            raise InvalidAppeal("language")
        text = (text or "").strip()
        if not text:
            raise InvalidAppeal("text")
        files = [self._attachment(a) for a in attachments]
        if anonymous and kind in FULL_PROCEDURE:
            raise AnonymousNotAllowed(f"a {kind} cannot be anonymous")
        now = self.now()
        registered_on = self.calendar.registration_date(now)
        due_on = self.calendar.due_date(registered_on, self.answer_days)
        year = now.astimezone(self.calendar.tz).year

        async with self._sessions() as s, s.begin():
            resident = await s.get(Resident, resident_id)
            if resident is None or resident.deleted_at is not None:
                raise ResidentNotFound(resident_id)
            name = None if anonymous else ((contact_name or resident.name or "").strip()[:200] or None)
            if kind in FULL_PROCEDURE:
                missing = tuple(m for m, ok in (("phone", bool(resident.phone and resident.phone_verified_at)),
                                                ("name", bool(name))) if not ok)
                if missing:
                    raise ContactRequired(missing)
            if territory_kato is not None and await s.get(Territory, territory_kato) is None:
                raise InvalidAppeal("territory_kato")
            repeat = await self._find_repeat(s, resident_id, category, text, now)
            # The first write of the transaction: holds the counter row (PostgreSQL) or the database
            # (SQLite) until commit, so keep everything slow above it.
            number = await self._next_number(s, year)
            appeal = Appeal(
                number=number, resident_id=resident_id, kind=kind.value, category=category,
                territory_kato=territory_kato, text=text, language=language, anonymous=bool(anonymous),
                contact_name=name, status=AppealStatus.RECEIVED.value, received_at=now,
                registered_on=registered_on, due_on=due_on, reopened_count=0,
                repeat_of_id=repeat.id if repeat else None, created_at=now, updated_at=now,
            )
            s.add(appeal)
            await s.flush()
            for f in files:
                s.add(AppealMessage(appeal_id=appeal.id, direction=Direction.IN.value, media_kind=f.kind,
                                    media_id=f.media_id, resident_chat_message_id=f.resident_chat_message_id,
                                    created_at=now))
            if location is not None:
                s.add(AppealMessage(appeal_id=appeal.id, direction=Direction.IN.value, latitude=float(location[0]),
                                    longitude=float(location[1]), created_at=now))
            actor = await accounts.actor_id(s, resident_id)
            s.add(AppealEvent(appeal_id=appeal.id, at=now, action=Action.CREATE.value, status_from=None,
                              status_to=AppealStatus.RECEIVED.value, actor_user_id=actor))
            audit(s, "appeal.create", actor=actor, object_type="appeal", object_id=appeal.id,
                  number=number, kind=kind.value, category=category, anonymous=bool(anonymous),
                  repeat_of=appeal.repeat_of_id)
        return appeal

    @staticmethod
    def _kind(kind: AppealKind | str) -> AppealKind:
        try:
            return AppealKind(kind)
        except ValueError:
            raise InvalidAppeal("kind") from None

    @staticmethod
    def _attachment(a: Attachment | Mapping[str, Any]) -> Attachment:
        if isinstance(a, Mapping):
            a = Attachment(a.get("kind", ""), a.get("media_id", 0), a.get("resident_chat_message_id"))
        if a.kind in MediaKind._value2member_map_ and isinstance(a.media_id, int) and a.media_id > 0:
            return Attachment(MediaKind(a.kind).value, a.media_id, a.resident_chat_message_id)
        raise InvalidAppeal("attachments")

    async def _next_number(self, s: AsyncSession, year: int) -> str:
        insert = dialect_insert(s)
        stmt = (insert(AppealCounter).values(year=year, last=1)
                .on_conflict_do_update(index_elements=[AppealCounter.year], set_={"last": AppealCounter.last + 1})
                .returning(AppealCounter.last))
        n = (await s.execute(stmt)).scalar_one()
        return f"{NUMBER_PREFIX}-{year}-{n:06d}"

    # -- repeats --------------------------------------------------------------------------------

    async def find_repeat(self, resident_id: int, category: str, text: str) -> Appeal | None:
        """The resident's earlier appeal in the same category, received within ``repeat_window_days``
        calendar days, whose text is similar (:func:`text_similarity` ≥ 0.6); the most similar, then
        the newest. None when there is none."""
        async with self._sessions() as s:
            return await self._find_repeat(s, resident_id, category, text, self.now())

    async def _find_repeat(self, s: AsyncSession, resident_id: int, category: str, text: str,
                           now: datetime) -> Appeal | None:
        since = now - timedelta(days=self.repeat_window_days)
        rows = await s.scalars(
            select(Appeal).where(Appeal.resident_id == resident_id, Appeal.category == category,
                                 Appeal.received_at >= since, Appeal.received_at <= now)
            .order_by(Appeal.received_at.desc(), Appeal.id.desc()).limit(50))
        best, best_score = None, REPEAT_THRESHOLD
        for candidate in rows:
            score = text_similarity(text, candidate.text)
            if score >= best_score and (best is None or score > best_score):
                best, best_score = candidate, score
        return best

    # -- the conversation -----------------------------------------------------------------------

    async def add_message(
        self,
        appeal_id: int,
        direction: Direction | str,
        *,
        text: str | None = None,
        media_kind: MediaKind | str | None = None,
        media_id: int | None = None,
        location: tuple[float, float] | None = None,
        resident_id: int | None = None,
        author_user_id: int | None = None,
        resident_chat_message_id: int | None = None,
        operator_chat_message_id: int | None = None,
    ) -> AppealMessage:
        """Store one message of the conversation. ``in`` needs ``resident_id`` (the owner, else
        AppealNotFound); ``out`` and ``note`` need the staff ``author_user_id`` (audited). A message does
        not change the status: the formal answer is :meth:`answer`."""
        try:
            direction = Direction(direction)
        except ValueError:
            raise InvalidAppeal("direction") from None
        text = (text or "").strip() or None
        media = self._media(media_kind, media_id)
        if text is None and media is None and location is None:
            raise InvalidAppeal("text")
        if direction is Direction.IN and resident_id is None:
            raise InvalidAppeal("resident_id", "a message from the resident needs resident_id")
        if direction is not Direction.IN and author_user_id is None:
            raise InvalidAppeal("author_user_id", "a staff message needs its author")
        async with self._sessions() as s, s.begin():
            appeal = await s.get(Appeal, appeal_id)
            if appeal is None or (resident_id is not None and appeal.resident_id != resident_id):
                raise AppealNotFound(appeal_id)
            msg = AppealMessage(
                appeal_id=appeal_id, direction=direction.value, text=text,
                media_kind=media[0] if media else None, media_id=media[1] if media else None,
                latitude=float(location[0]) if location else None, longitude=float(location[1]) if location else None,
                author_user_id=author_user_id if direction is not Direction.IN else None,
                resident_chat_message_id=resident_chat_message_id, operator_chat_message_id=operator_chat_message_id,
                created_at=self.now())
            s.add(msg)
            await s.flush()
            if direction is not Direction.IN:
                audit(s, f"appeal.message_{direction.value}", actor=author_user_id, object_type="appeal",
                      object_id=appeal_id, message_id=msg.id)
        return msg

    async def link_message(self, message_id: int, *, resident_chat_message_id: int | None = None,
                           operator_chat_message_id: int | None = None) -> None:
        """Record where a stored message was delivered (the other half of the message-id pair): one UPDATE, none
        when there is nothing to record."""
        values = {k: v for k, v in (("resident_chat_message_id", resident_chat_message_id),
                                    ("operator_chat_message_id", operator_chat_message_id)) if v is not None}
        if not values:
            return
        async with self._sessions() as s:
            await s.execute(update(_MESSAGE).where(_MESSAGE.c.id == message_id).values(values))
            await s.commit()  # inside a unit of work: its transaction, committed with it

    async def set_operator_thread(self, appeal_id: int, topic_id: int | None, card_message_id: int | None) -> None:
        """The forum topic and the card message posted for the appeal in the operator chat: one UPDATE. The
        appeal's version moves on, as with any change, so a change an aide made from an older copy is refused."""
        async with self._sessions() as s:
            done = await s.execute(update(_APPEAL).where(_APPEAL.c.id == appeal_id).values(
                topic_id=topic_id, card_message_id=card_message_id, version=_APPEAL.c.version + 1))
            await s.commit()
        if done.rowcount == 0:
            raise AppealNotFound(appeal_id)

    async def conversation(self, appeal_id: int, *, resident_id: int | None = None) -> list[AppealMessage]:
        """The messages in order. With ``resident_id`` (a resident reading): only their own appeal, and
        internal notes left out. The author of staff messages must never be shown to a resident."""
        async with self._sessions() as s:
            owner = await s.scalar(select(Appeal.resident_id).where(Appeal.id == appeal_id))
            if owner is None or (resident_id is not None and owner != resident_id):
                raise AppealNotFound(appeal_id)
            q = select(AppealMessage).where(AppealMessage.appeal_id == appeal_id)
            if resident_id is not None:
                q = q.where(AppealMessage.direction != Direction.NOTE.value)
            return list(await s.scalars(q.order_by(AppealMessage.created_at, AppealMessage.id)))

    async def events(self, appeal_id: int) -> list[AppealEvent]:
        """The status history, oldest first."""
        async with self._sessions() as s:
            return list(await s.scalars(select(AppealEvent).where(AppealEvent.appeal_id == appeal_id)
                                        .order_by(AppealEvent.at, AppealEvent.id)))

