"""Appeals (өтініш / обращение): creation, the status path, deadlines, the conversation, reports.

Plain domain code over a session: no Telegram, no wording. Methods return models, enums and small
dataclasses; refusals are typed exceptions (:class:`AppealError` and its subclasses).

The rules (Administrative Procedural Code of RK; see DOMAIN.md, "Appeals"):

* complaints and requests follow the full procedure: never anonymous, and they need the resident's
  verified phone and a name. Suggestions and messages follow the simplified one and may be anonymous;
* registration: the day of receipt, or the next working day if received after hours or on a day off
  (:meth:`WorkCalendar.registration_date`); the answer is due ``answer_days`` (15) working days later;
  ``registered_on`` and ``due_on`` are computed once, at creation, and never moved: an aide recording
  the eOtinish number later does not give the akimat more time;
* forwarding to the competent body only within ``forward_days`` (3) working days of registration;
* an extension may move the term to at most ``max_extension_months`` (2) calendar months after the
  original due date, in one or several steps, each with a reason; it is a field, not a status;
* the answer is given in the appeal's language (the caller renders it; the service stores ``language``).

Status path (thesis 004): ``received`` → ``registered`` or ``rejected`` → ``in_progress`` → ``answered``
→ ``closed``; ``forwarded`` to another body; a resident's "not resolved" after an answer sends it back to
``in_progress`` (``reopened_count`` += 1). The allowed moves are the data in :data:`TRANSITIONS`.

Resident isolation: every method a resident triggers takes ``resident_id`` and raises
:class:`AppealNotFound` for an appeal that is not theirs (the same error as for a missing one, so an
appeal's existence is not revealed).

Concurrency: public numbers come from a per-year counter row incremented with an upsert
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``, SQLite ≥ 3.35 and PostgreSQL) in the creating
transaction, so they are unique and gapless per year. Status changes lock the row on PostgreSQL
(``FOR UPDATE``) and are guarded everywhere by the ``version`` column (optimistic lock): of two aides
acting at once, the second is re-checked against the new status.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot.services import accounts
from bot.services.audit import audit
from bot.services.calendar import WorkCalendar
from storage.db import dialect_insert
from storage.models import Appeal, AppealCounter, AppealEvent, AppealMessage, Resident, Territory, utcnow

# -- vocabularies -------------------------------------------------------------------------------

DEFAULT_CATEGORIES: tuple[str, ...] = (
    "housing", "roads", "water", "heating_gas", "electricity_lighting", "waste", "landscaping", "transport",
    "land", "healthcare", "education", "social_support", "mobile_internet", "other",
)
LANGUAGES = ("kk", "ru")
NUMBER_PREFIX = "A"


class AppealKind(StrEnum):
    COMPLAINT = "complaint"  # шағым / жалоба
    REQUEST = "request"  # өтініш / заявление
    SUGGESTION = "suggestion"  # ұсыныс / предложение
    MESSAGE = "message"  # хабарлама / сообщение


FULL_PROCEDURE = frozenset({AppealKind.COMPLAINT, AppealKind.REQUEST})
"""Kinds that need a name and a verified phone and may not be anonymous; the others may be anonymous."""


class AppealStatus(StrEnum):
    RECEIVED = "received"  # delivered to the akimat
    REGISTERED = "registered"  # eOtinish number and date recorded
    REJECTED = "rejected"  # refused, with a reason
    IN_PROGRESS = "in_progress"  # taken by an aide / sent to an executor
    FORWARDED = "forwarded"  # sent to the competent body
    ANSWERED = "answered"
    CLOSED = "closed"


ACTIVE = frozenset({AppealStatus.RECEIVED, AppealStatus.REGISTERED, AppealStatus.IN_PROGRESS})
"""Statuses in which the akimat still owes an answer: the term runs (due report, overdue)."""


class Action(StrEnum):
    CREATE = "create"
    REGISTER = "register"
    REJECT = "reject"
    TAKE = "take"
    FORWARD = "forward"
    EXTEND = "extend"
    ANSWER = "answer"
    CLOSE = "close"
    REOPEN = "reopen"  # by the resident: "not resolved"
    RATE = "rate"  # by the resident


_S = AppealStatus
TRANSITIONS: dict[Action, dict[AppealStatus, AppealStatus]] = {
    # action: {status before: status after}; a status missing here refuses the action. A status that maps
    # to itself allows the action without a status change (e.g. the eOtinish number recorded after an aide
    # took the appeal, an extension, a rating).
    Action.REGISTER: {_S.RECEIVED: _S.REGISTERED, _S.REGISTERED: _S.REGISTERED, _S.IN_PROGRESS: _S.IN_PROGRESS},
    Action.REJECT: {_S.RECEIVED: _S.REJECTED, _S.REGISTERED: _S.REJECTED, _S.IN_PROGRESS: _S.REJECTED},
    Action.TAKE: {_S.RECEIVED: _S.IN_PROGRESS, _S.REGISTERED: _S.IN_PROGRESS, _S.IN_PROGRESS: _S.IN_PROGRESS},
    Action.FORWARD: {_S.RECEIVED: _S.FORWARDED, _S.REGISTERED: _S.FORWARDED, _S.IN_PROGRESS: _S.FORWARDED},
    Action.EXTEND: {_S.RECEIVED: _S.RECEIVED, _S.REGISTERED: _S.REGISTERED, _S.IN_PROGRESS: _S.IN_PROGRESS},
    Action.ANSWER: {_S.REGISTERED: _S.ANSWERED, _S.IN_PROGRESS: _S.ANSWERED},
    Action.CLOSE: {_S.ANSWERED: _S.CLOSED, _S.FORWARDED: _S.CLOSED, _S.REJECTED: _S.CLOSED},
    Action.REOPEN: {_S.ANSWERED: _S.IN_PROGRESS},
    Action.RATE: {_S.ANSWERED: _S.ANSWERED, _S.CLOSED: _S.CLOSED},
}
del _S


class Direction(StrEnum):
    IN = "in"  # from the resident
    OUT = "out"  # to the resident, signed as the akimat
    NOTE = "note"  # internal, never shown to the resident


class MediaKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


# -- errors -------------------------------------------------------------------------------------


class AppealError(Exception):
    """Base of every refusal of this service."""


class AppealNotFound(AppealError, LookupError):
    """No such appeal, or not the resident's own (the two are not told apart)."""


class ResidentNotFound(AppealError, LookupError):
    """No such resident, or their data was deleted."""


class InvalidAppeal(AppealError, ValueError):
    """A bad value (unknown kind, category, language or territory, empty text or reason, rating out of 1–5).
    ``field`` names it."""

    def __init__(self, field: str, message: str = "") -> None:
        super().__init__(message or f"invalid {field}")
        self.field = field


class AnonymousNotAllowed(AppealError):
    """A complaint or a request cannot be anonymous (art. 88 АППК)."""


class ContactRequired(AppealError):
    """A complaint or a request needs the resident's verified phone and a name; ``missing`` lists what
    is lacking: ``"phone"``, ``"name"``."""

    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__("missing: " + ", ".join(missing))
        self.missing = missing


class TransitionNotAllowed(AppealError):
    """The action is not allowed in the appeal's current status (see :data:`TRANSITIONS`)."""

    def __init__(self, action: Action, status: AppealStatus, message: str = "") -> None:
        super().__init__(message or f"{action} is not allowed when {status}")
        self.action = action
        self.status = status


class RatingNotAllowed(TransitionNotAllowed):
    """Only an answered appeal may be rated (and only by its owner: others get AppealNotFound)."""


class ForwardTooLate(AppealError):
    """Forwarding is allowed only within ``forward_days`` working days of registration; ``deadline``
    was the last day."""

    def __init__(self, deadline: date) -> None:
        super().__init__(f"forwarding was allowed until {deadline.isoformat()}")
        self.deadline = deadline


class ExtensionTooLong(AppealError):
    """The extension would go beyond ``limit`` (the original due date plus the maximum months)."""

    def __init__(self, limit: date) -> None:
        super().__init__(f"the term may be extended to {limit.isoformat()} at most")
        self.limit = limit


class ExtensionNotLater(AppealError):
    """The new term is not later than the ``current`` one."""

    def __init__(self, current: date) -> None:
        super().__init__(f"the new term must be after {current.isoformat()}")
        self.current = current


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """A photo or a document sent with the appeal: a media id (bot/services/media.py)."""

    kind: MediaKind | str
    media_id: int
    resident_chat_message_id: int | None = None


@dataclass(frozen=True)
class StatusChange:
    """What an action did: the caller notifies the resident from it (``appeal`` has the number, language,
    registration number, terms, …). ``message`` is the stored answer for :meth:`AppealService.answer`."""

    appeal: Appeal
    action: Action
    old: AppealStatus
    new: AppealStatus
    message: AppealMessage | None = None

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class DueItem:
    appeal_id: int
    number: str
    status: AppealStatus
    category: str
    territory_kato: str | None
    operator_user_id: int | None
    topic_id: int | None
    due: date  # the effective term: the extension if any, else due_on
    working_days: int  # overdue: working days past the term; due soon: working days left (0 = today)


@dataclass(frozen=True)
class DueReport:
    today: date
    overdue: list[DueItem]
    due_soon: list[DueItem]

    def by_operator(self) -> dict[int | None, DueReport]:
        """The same report split by the aide who took each appeal (``None``: nobody took it yet)."""
        ids = {i.operator_user_id for i in self.overdue} | {i.operator_user_id for i in self.due_soon}
        return {op: DueReport(self.today, [i for i in self.overdue if i.operator_user_id == op],
                              [i for i in self.due_soon if i.operator_user_id == op]) for op in ids}


@dataclass(frozen=True)
class AppealStats:
    total: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_territory: dict[str | None, int]
    answered: int  # appeals with an answer in force (status answered or closed after an answer)
    median_hours_to_answer: float | None  # received_at → answered_at, calendar hours
    answered_on_time_share: float | None  # of ``answered``: answered on or before the effective term
    rating_count: int
    rating_mean: float | None
    rating_distribution: dict[int, int] = field(default_factory=dict)  # 1..5, every key present


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


# -- the service --------------------------------------------------------------------------------


def effective_due(appeal: Appeal) -> date:
    return appeal.extended_until or appeal.due_on


class AppealService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        calendar: WorkCalendar,
        *,
        answer_days: int = 15,
        forward_days: int = 3,
        max_extension_months: int = 2,
        repeat_window_days: int = 30,
        categories: Sequence[str] = DEFAULT_CATEGORIES,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.calendar = calendar
        self.answer_days = answer_days
        self.forward_days = forward_days
        self.max_extension_months = max_extension_months
        self.repeat_window_days = repeat_window_days
        self.categories = tuple(categories)
        self._clock = clock

    # -- time -----------------------------------------------------------------------------------

    def now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return now.astimezone(UTC)

    def today(self) -> date:
        """Today in the calendar's time zone (Kazakhstan)."""
        return self.now().astimezone(self.calendar.tz).date()

    def forward_deadline(self, appeal: Appeal) -> date:
        return self.calendar.due_date(appeal.registered_on, self.forward_days)

    def extension_limit(self, appeal: Appeal) -> date:
        return self.calendar.add_months(appeal.due_on, self.max_extension_months)

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

    # -- staff actions --------------------------------------------------------------------------

    async def take(self, appeal_id: int, operator_id: int) -> StatusChange:
        """An aide takes the appeal (or takes it over from another aide): ``in_progress``."""

        def apply(a: Appeal) -> dict[str, Any]:
            previous, a.operator_user_id = a.operator_user_id, operator_id
            return {"previous_operator": previous}

        return await self._act(appeal_id, Action.TAKE, operator_id, apply)

    async def record_registration(self, appeal_id: int, number: str, registered: date, actor: int) -> StatusChange:
        """The eOtinish registration number and date; ``received`` → ``registered`` (later statuses keep)."""
        number = (number or "").strip()
        if not number or len(number) > 64:
            raise InvalidAppeal("registration_number")
        if not isinstance(registered, date) or isinstance(registered, datetime):
            raise InvalidAppeal("registration_date")

        def apply(a: Appeal) -> dict[str, Any]:
            a.registration_number, a.registration_date = number, registered
            return {"registration_number": number, "registration_date": registered.isoformat()}

        return await self._act(appeal_id, Action.REGISTER, actor, apply, note=number)

    async def extend(self, appeal_id: int, until: date, reason: str, actor: int) -> StatusChange:
        """Extend the term to ``until`` (later than the current term, at most ``max_extension_months``
        after the original due date). The resident must be told (within 3 working days)."""
        reason = (reason or "").strip()
        if not reason:
            raise InvalidAppeal("reason")

        def apply(a: Appeal) -> dict[str, Any]:
            current, limit = effective_due(a), self.extension_limit(a)
            if until <= current:
                raise ExtensionNotLater(current)
            if until > limit:
                raise ExtensionTooLong(limit)
            a.extended_until, a.extension_reason = until, reason
            return {"until": until.isoformat(), "previous": current.isoformat(), "reason": reason}

        return await self._act(appeal_id, Action.EXTEND, actor, apply, note=reason)

    async def forward(self, appeal_id: int, body: str, actor: int) -> StatusChange:
        """Forward to the competent ``body``, within ``forward_days`` working days of registration."""
        body = (body or "").strip()
        if not body:
            raise InvalidAppeal("body")

        def apply(a: Appeal) -> dict[str, Any]:
            deadline = self.forward_deadline(a)
            if self.today() > deadline:
                raise ForwardTooLate(deadline)
            a.forwarded_to, a.forwarded_at = body[:300], self.now()
            return {"body": body[:300]}

        return await self._act(appeal_id, Action.FORWARD, actor, apply, note=body)

    async def reject(self, appeal_id: int, reason: str, actor: int) -> StatusChange:
        reason = (reason or "").strip()
        if not reason:
            raise InvalidAppeal("reason")

        def apply(a: Appeal) -> dict[str, Any]:
            a.rejection_reason = reason
            return {"reason": reason}

        return await self._act(appeal_id, Action.REJECT, actor, apply, note=reason)

    async def answer(
        self,
        appeal_id: int,
        text: str | None,
        actor: int,
        *,
        media_kind: MediaKind | str | None = None,
        media_id: int | None = None,
        operator_chat_message_id: int | None = None,
    ) -> StatusChange:
        """The akimat's answer: stored as an ``out`` message (``StatusChange.message``), status ``answered``.
        The caller sends it to the resident, in ``appeal.language``, then records the resident-side message
        id with :meth:`link_message`."""
        text = (text or "").strip() or None
        media = self._media(media_kind, media_id)
        if text is None and media is None:
            raise InvalidAppeal("text")
        holder: list[AppealMessage] = []

        def apply(a: Appeal) -> dict[str, Any]:
            now = self.now()
            a.answered_at = now
            if a.operator_user_id is None:
                a.operator_user_id = actor
            msg = AppealMessage(appeal_id=a.id, direction=Direction.OUT.value, text=text,
                                media_kind=media[0] if media else None, media_id=media[1] if media else None,
                                author_user_id=actor, operator_chat_message_id=operator_chat_message_id, created_at=now)
            holder.append(msg)
            return {"message": msg}

        change = await self._act(appeal_id, Action.ANSWER, actor, apply)
        return StatusChange(change.appeal, change.action, change.old, change.new, holder[0])

    async def close(self, appeal_id: int, actor: int) -> StatusChange:
        def apply(a: Appeal) -> dict[str, Any]:
            a.closed_at = self.now()
            return {}

        return await self._act(appeal_id, Action.CLOSE, actor, apply)

    # -- resident actions -----------------------------------------------------------------------

    async def reopen_by_resident(self, appeal_id: int, resident_id: int) -> StatusChange:
        """The resident says the answer did not resolve it: back to ``in_progress`` (the term stays)."""

        def apply(a: Appeal) -> dict[str, Any]:
            a.reopened_count = (a.reopened_count or 0) + 1
            a.answered_at = None
            return {"reopened_count": a.reopened_count}

        return await self._act(appeal_id, Action.REOPEN, None, apply, resident_id=resident_id)

    async def rate(self, appeal_id: int, resident_id: int, rating: int) -> StatusChange:
        """The owner rates the answer 1–5 (again: the new rating replaces the old one)."""
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidAppeal("rating")

        def apply(a: Appeal) -> dict[str, Any]:
            if a.answered_at is None:  # closed without an answer (rejected, forwarded)
                raise RatingNotAllowed(Action.RATE, AppealStatus(a.status))
            a.rating = rating
            return {"rating": rating}

        return await self._act(appeal_id, Action.RATE, None, apply, resident_id=resident_id)

    # -- the engine of actions ------------------------------------------------------------------

    async def _act(
        self,
        appeal_id: int,
        action: Action,
        actor: int | None,
        apply: Callable[[Appeal], dict[str, Any]],
        *,
        resident_id: int | None = None,
        note: str | None = None,
    ) -> StatusChange:
        """Load the appeal (locked), check :data:`TRANSITIONS`, apply, record the event and the audit row.
        A concurrent change of the same appeal (version mismatch) re-runs the whole check once more."""
        for attempt in range(3):
            try:
                return await self._act_once(appeal_id, action, actor, apply, resident_id, note)
            except StaleDataError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _act_once(self, appeal_id: int, action: Action, actor: int | None,
                        apply: Callable[[Appeal], dict[str, Any]], resident_id: int | None,
                        note: str | None) -> StatusChange:
        async with self._sessions() as s, s.begin():
            appeal = await s.get(Appeal, appeal_id, with_for_update=True)
            if appeal is None or (resident_id is not None and appeal.resident_id != resident_id):
                raise AppealNotFound(appeal_id)
            if resident_id is not None:
                actor = await accounts.actor_id(s, resident_id)
            old = AppealStatus(appeal.status)
            new = TRANSITIONS[action].get(old)
            if new is None:
                cls = RatingNotAllowed if action is Action.RATE else TransitionNotAllowed
                raise cls(action, old)
            details = apply(appeal)
            message = details.pop("message", None)
            now = self.now()
            appeal.status, appeal.updated_at = new.value, now
            if message is not None:
                s.add(message)
            s.add(AppealEvent(appeal_id=appeal.id, at=now, action=action.value, status_from=old.value,
                              status_to=new.value, actor_user_id=actor, note=note))
            audit(s, f"appeal.{action.value}", actor=actor, object_type="appeal", object_id=appeal.id,
                  number=appeal.number, status_from=old.value, status_to=new.value, **details)
        return StatusChange(appeal, action, old, new, message)

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

    @staticmethod
    def _media(kind: MediaKind | str | None, media_id: int | None) -> tuple[str, int] | None:
        if kind is None and media_id is None:
            return None
        if kind not in MediaKind._value2member_map_ or not media_id:
            raise InvalidAppeal("media")
        return MediaKind(kind).value, int(media_id)

    async def link_message(self, message_id: int, *, resident_chat_message_id: int | None = None,
                           operator_chat_message_id: int | None = None) -> AppealMessage | None:
        """Record where a stored message was delivered (the other half of the message-id pair)."""
        async with self._sessions() as s, s.begin():
            msg = await s.get(AppealMessage, message_id)
            if msg is None:
                return None
            if resident_chat_message_id is not None:
                msg.resident_chat_message_id = resident_chat_message_id
            if operator_chat_message_id is not None:
                msg.operator_chat_message_id = operator_chat_message_id
        return msg

    async def set_operator_thread(self, appeal_id: int, topic_id: int | None, card_message_id: int | None) -> Appeal:
        """The forum topic and the card message posted for the appeal in the operator chat."""
        async with self._sessions() as s, s.begin():
            appeal = await s.get(Appeal, appeal_id, with_for_update=True)
            if appeal is None:
                raise AppealNotFound(appeal_id)
            appeal.topic_id, appeal.card_message_id = topic_id, card_message_id
        return appeal

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

    # -- lookups --------------------------------------------------------------------------------

    async def get(self, appeal_id: int) -> Appeal | None:
        """For staff: any appeal."""
        async with self._sessions() as s:
            return await s.get(Appeal, appeal_id)

    async def without_operator_card(self, limit: int = 50) -> list[int]:
        """Appeals whose card never reached the operator chat (the bot stopped in between), oldest first."""
        async with self._sessions() as s:
            rows = await s.scalars(select(Appeal.id).where(Appeal.card_message_id.is_(None))
                                   .order_by(Appeal.id).limit(limit))
            return list(rows)

    async def unrelayed_followups(self, limit: int = 50) -> list[int]:
        """Residents' follow-ups not yet posted to the operator chat, for appeals that have a card; also the
        appeal's own attachments when the bot stopped after the card and before them."""
        async with self._sessions() as s:
            rows = await s.scalars(
                select(AppealMessage.id).join(Appeal, Appeal.id == AppealMessage.appeal_id)
                .where(AppealMessage.direction == Direction.IN.value,
                       AppealMessage.operator_chat_message_id.is_(None), Appeal.card_message_id.is_not(None),
                       (AppealMessage.created_at > Appeal.received_at) | AppealMessage.media_id.is_not(None)
                       | AppealMessage.latitude.is_not(None))
                .order_by(AppealMessage.id).limit(limit))
            return list(rows)

    async def get_message(self, message_id: int) -> AppealMessage | None:
        async with self._sessions() as s:
            return await s.get(AppealMessage, message_id)

    async def get_by_number(self, number: str) -> Appeal | None:
        async with self._sessions() as s:
            return await s.scalar(select(Appeal).where(Appeal.number == number.strip().upper()))

    async def get_for_resident(self, appeal_id: int, resident_id: int) -> Appeal:
        async with self._sessions() as s:
            appeal = await s.get(Appeal, appeal_id)
        if appeal is None or appeal.resident_id != resident_id:
            raise AppealNotFound(appeal_id)
        return appeal

    async def list_for_resident(self, resident_id: int, *, limit: int | None = None,
                                offset: int = 0) -> list[Appeal]:
        """The resident's own appeals, newest first."""
        async with self._sessions() as s:
            q = (select(Appeal).where(Appeal.resident_id == resident_id)
                 .order_by(Appeal.received_at.desc(), Appeal.id.desc()).offset(offset))
            if limit is not None:
                q = q.limit(limit)
            return list(await s.scalars(q))

    async def find_by_topic(self, topic_id: int) -> Appeal | None:
        async with self._sessions() as s:
            return await s.scalar(select(Appeal).where(Appeal.topic_id == topic_id).order_by(Appeal.id.desc())
                                  .limit(1))

    async def find_by_operator_message(self, chat_message_id: int) -> Appeal | None:
        """The appeal a message in the operator chat belongs to: its card, or a message of its conversation
        (so an aide's reply to either reaches the right resident)."""
        async with self._sessions() as s:
            appeal = await s.scalar(select(Appeal).where(Appeal.card_message_id == chat_message_id)
                                    .order_by(Appeal.id.desc()).limit(1))
            if appeal is None:
                appeal = await s.scalar(
                    select(Appeal).join(AppealMessage, AppealMessage.appeal_id == Appeal.id)
                    .where(AppealMessage.operator_chat_message_id == chat_message_id)
                    .order_by(AppealMessage.id.desc()).limit(1))
            return appeal

    async def find_by_resident_message(self, resident_id: int, chat_message_id: int) -> Appeal | None:
        """The resident's appeal that a message in their chat belongs to (a reply to the bot's message)."""
        async with self._sessions() as s:
            return await s.scalar(
                select(Appeal).join(AppealMessage, AppealMessage.appeal_id == Appeal.id)
                .where(Appeal.resident_id == resident_id,
                       AppealMessage.resident_chat_message_id == chat_message_id)
                .order_by(AppealMessage.id.desc()).limit(1))

    async def note_blocked(self, appeal_id: int) -> Appeal:
        """The resident blocked the bot while this appeal was open: remember when (first time only)."""
        async with self._sessions() as s, s.begin():
            appeal = await s.get(Appeal, appeal_id, with_for_update=True)
            if appeal is None:
                raise AppealNotFound(appeal_id)
            if appeal.blocked_noted_at is None:
                appeal.blocked_noted_at = self.now()
                audit(s, "appeal.resident_blocked", object_type="appeal", object_id=appeal_id)
        return appeal

    # -- reports --------------------------------------------------------------------------------

    async def due_report(self, today: date | None = None) -> DueReport:
        """Appeals the akimat still owes an answer to (statuses in :data:`ACTIVE`; forwarded ones are the
        other body's) whose effective term is past (``overdue``) or within 2 working days (``due_soon``,
        today included). Sorted by term, then number; :meth:`DueReport.by_operator` groups them."""
        today = today or self.today()
        horizon = self.calendar.add_working_days(today, 2)
        term = func.coalesce(Appeal.extended_until, Appeal.due_on)
        async with self._sessions() as s:
            rows = list(await s.scalars(
                select(Appeal).where(Appeal.status.in_([st.value for st in ACTIVE]), term <= horizon)))
        overdue, soon = [], []
        for a in sorted(rows, key=lambda a: (effective_due(a), a.id)):
            due = effective_due(a)
            late = due < today
            item = DueItem(a.id, a.number, AppealStatus(a.status), a.category, a.territory_kato,
                           a.operator_user_id, a.topic_id, due,
                           self.calendar.working_days_between(due, today) if late
                           else self.calendar.working_days_between(today, due))
            (overdue if late else soon).append(item)
        return DueReport(today, overdue, soon)

    async def stats(self, territory_kato: str | None = None, since: datetime | None = None) -> AppealStats:
        """Numbers for the akim. ``territory_kato`` takes the territory and everything below it; ``since``
        counts appeals received at or after it. Counts are grouped in SQL; the median and the on-time share
        are computed over the answered appeals' timestamps (a portable median needs them anyway).

        * median time to answer: calendar hours from ``received_at`` to ``answered_at`` (the latest answer
          of appeals in force as answered: status ``answered``, or ``closed`` with an answer);
        * on time: the answer's date in Kazakhstan is on or before the effective term (extension included).
        """
        conds = []
        if since is not None:
            conds.append(Appeal.received_at >= since)
        if territory_kato is not None:
            tree = select(Territory.kato).where(Territory.kato == territory_kato).cte("subtree", recursive=True)
            tree = tree.union_all(select(Territory.kato).where(Territory.parent_kato == tree.c.kato))
            conds.append(Appeal.territory_kato.in_(select(tree.c.kato)))

        async def grouped(col) -> dict[Any, int]:
            rows = await s.execute(select(col, func.count()).where(*conds).group_by(col))
            return {k: n for k, n in rows.all()}

        async with self._sessions() as s:
            by_status = await grouped(Appeal.status)
            by_category = await grouped(Appeal.category)
            by_territory = await grouped(Appeal.territory_kato)
            answered_rows = (await s.execute(
                select(Appeal.received_at, Appeal.answered_at, Appeal.due_on, Appeal.extended_until)
                .where(*conds, Appeal.answered_at.is_not(None),
                       Appeal.status.in_([AppealStatus.ANSWERED.value, AppealStatus.CLOSED.value])))).all()
            ratings = await s.execute(select(Appeal.rating, func.count()).where(*conds, Appeal.rating.is_not(None))
                                      .group_by(Appeal.rating))
            distribution = {r: 0 for r in range(1, 6)}
            for r, n in ratings.all():
                distribution[int(r)] = n
            mean = await s.scalar(select(func.avg(Appeal.rating)).where(*conds, Appeal.rating.is_not(None)))

        hours = [(ans - rec).total_seconds() / 3600 for rec, ans, _, _ in answered_rows]
        on_time = sum(ans.astimezone(self.calendar.tz).date() <= (ext or due)
                      for _, ans, due, ext in answered_rows)
        rating_count = sum(distribution.values())
        return AppealStats(
            total=sum(by_status.values()),
            by_status=by_status,
            by_category=by_category,
            by_territory=by_territory,
            answered=len(answered_rows),
            median_hours_to_answer=statistics.median(hours) if hours else None,
            answered_on_time_share=on_time / len(answered_rows) if answered_rows else None,
            rating_count=rating_count,
            rating_mean=float(mean) if mean is not None else None,
            rating_distribution=distribution,
        )

