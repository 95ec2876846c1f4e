"""The operator chat's morning list: appeals due within two working days and overdue, by aide."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramAPIError

from bot.services.appeals import DueItem, DueReport
from bot.services.roles import Role

if TYPE_CHECKING:
    from bot.desk.desk import Desk

log = logging.getLogger("qatysu.desk")


async def morning_list(desk: Desk, today: date) -> str | None:
    """Post the list in the General topic and refresh the overdue appeals' cards; returns the text (None: nothing
    due)."""
    report = await desk.services.appeals.due_report(today)
    if not report.overdue and not report.due_soon:
        return None
    tr = desk.tr
    lines = [tr._("<b>Appeals for {date}</b>", date=tr.date(today))]
    roles = desk.services.roles

    async def named(i: DueItem) -> DueItem:
        """An aide is named only beside appeals of their territory (one taken before a limit: not taken)."""
        if i.operator_user_id is None or await roles.covers(i.operator_user_id, Role.OPERATOR, i.territory_kato):
            return i
        return replace(i, operator_user_id=None)

    report = DueReport(today, [await named(i) for i in report.overdue], [await named(i) for i in report.due_soon])
    groups = report.by_operator()
    for operator in sorted(groups, key=lambda o: (o is not None, o or 0)):
        part = groups[operator]
        who = tr._("not taken") if operator is None else f"<code>{operator}</code>"
        lines += ["", tr._("Aide: {who}", who=who)]
        lines += [f"🔴 {i.number} · {tr.date(i.due)}" for i in part.overdue]
        lines += [f"🟡 {i.number} · {tr.date(i.due)}" for i in part.due_soon]
    while len("\n".join(lines)) > 4000:  # whole lines only, so no tag is cut in half
        lines = lines[:-2] + ["…"]
    text = "\n".join(lines)
    try:
        await desk.bot.send_message(desk.chat_id, text)
    except TelegramAPIError as exc:
        log.warning("could not post the morning digest: %s", exc)
    for item in report.overdue:
        await desk.refresh_card(item.appeal_id, today)
    return text
