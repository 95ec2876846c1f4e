"""Appeals: lookups and lists (for staff, for a resident, by a message in either chat), deadlines (the due
report) and the statistics for the akim. A part of :class:`~bot.services.appeals.AppealService`."""

from __future__ import annotations

import statistics
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from bot.services.appeal_rules import (
    ACTIVE,
    AppealBase,
    AppealNotFound,
    AppealStats,
    AppealStatus,
    Direction,
    DueItem,
    DueReport,
    effective_due,
)
from bot.services.audit import audit
from storage.models import Appeal, AppealMessage, Territory


class AppealQueries(AppealBase):
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

