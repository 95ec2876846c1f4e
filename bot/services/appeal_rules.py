"""Appeals: the vocabularies, the status machine as data (:data:`TRANSITIONS`), the typed refusals, the
result dataclasses, and the base of the service (its settings and its clock). See bot/services/appeals.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.calendar import WorkCalendar
from storage.models import Appeal, AppealMessage, utcnow

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
    VOICE = "voice"  # a voice note (or an audio file), listened to by the aide


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



def effective_due(appeal: Appeal) -> date:
    return appeal.extended_until or appeal.due_on


class AppealBase:
    """The settings, the clock and the terms every part of :class:`~bot.services.appeals.AppealService` uses."""

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


    @staticmethod
    def _media(kind: MediaKind | str | None, media_id: int | None) -> tuple[str, int] | None:
        if kind is None and media_id is None:
            return None
        if kind not in MediaKind._value2member_map_ or not media_id:
            raise InvalidAppeal("media")
        return MediaKind(kind).value, int(media_id)
