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

from bot.services.appeal_filing import REPEAT_THRESHOLD, AppealFiling, text_similarity, text_tokens
from bot.services.appeal_queries import AppealQueries
from bot.services.appeal_rules import (
    ACTIVE,
    DEFAULT_CATEGORIES,
    FULL_PROCEDURE,
    LANGUAGES,
    NUMBER_PREFIX,
    TRANSITIONS,
    Action,
    AnonymousNotAllowed,
    AppealError,
    AppealKind,
    AppealNotFound,
    AppealStats,
    AppealStatus,
    Attachment,
    ContactRequired,
    Direction,
    DueItem,
    DueReport,
    ExtensionNotLater,
    ExtensionTooLong,
    ForwardTooLate,
    InvalidAppeal,
    MediaKind,
    RatingNotAllowed,
    ResidentNotFound,
    StatusChange,
    TransitionNotAllowed,
    effective_due,
)
from bot.services.appeal_status import AppealTransitions

__all__ = [
    "ACTIVE", "DEFAULT_CATEGORIES", "FULL_PROCEDURE", "LANGUAGES", "NUMBER_PREFIX", "REPEAT_THRESHOLD", "TRANSITIONS",
    "Action",
    "AnonymousNotAllowed", "AppealError", "AppealKind", "AppealNotFound", "AppealService", "AppealStats",
    "AppealStatus", "Attachment", "ContactRequired", "Direction", "DueItem", "DueReport", "ExtensionNotLater",
    "ExtensionTooLong", "ForwardTooLate", "InvalidAppeal", "MediaKind", "RatingNotAllowed", "ResidentNotFound",
    "StatusChange", "TransitionNotAllowed", "effective_due", "text_similarity", "text_tokens",
]


class AppealService(AppealFiling, AppealTransitions, AppealQueries):
    """The one service object callers use: filing and the conversation (bot/services/appeal_filing.py), the
    status machine (bot/services/appeal_status.py), lookups, deadlines and statistics
    (bot/services/appeal_queries.py), over the settings and the clock of :class:`AppealBase`
    (bot/services/appeal_rules.py)."""
