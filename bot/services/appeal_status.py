"""Appeals: the status machine at work: the aides' actions (take, register, extend, forward, reject, answer,
close), the resident's (reopen, rate), and the engine that checks :data:`TRANSITIONS`, locks and records each
move. A part of :class:`~bot.services.appeals.AppealService`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from bot.services import accounts
from bot.services.appeal_rules import (
    TRANSITIONS,
    Action,
    AppealBase,
    AppealNotFound,
    AppealStatus,
    Direction,
    ExtensionNotLater,
    ExtensionTooLong,
    ForwardTooLate,
    InvalidAppeal,
    MediaKind,
    RatingNotAllowed,
    StatusChange,
    TransitionNotAllowed,
    effective_due,
)
from bot.services.audit import audit
from storage.models import Appeal, AppealEvent, AppealMessage


class AppealTransitions(AppealBase):
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

