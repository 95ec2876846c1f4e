"""Deep links: ``/start <payload>`` from a QR code on a poster lands on the right screen."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.flows import menu
from bot.flows.base import Ctx

PAYLOAD = re.compile(r"^(vote|meeting|report|appeal)_(\d{1,9})$")


@dataclass(frozen=True)
class DeepLink:
    kind: str
    id: int


def parse(payload: str) -> DeepLink | None:
    m = PAYLOAD.match(payload.strip())
    return DeepLink(m.group(1), int(m.group(2))) if m else None


async def route(ctx: Ctx, payload: str) -> None:
    link = parse(payload)
    if link is None:
        await menu.show(ctx, ctx.tr._("This link is not valid any more. Here is the main menu."))
        return
    if link.kind == "appeal":
        from bot.flows import my_appeals

        await my_appeals.enter(ctx, link.id)
        return
    if link.kind == "vote":
        from bot.flows import budget

        await budget.open_link(ctx, link.id)
        return
    if link.kind == "meeting":
        from bot.flows import meetings

        await meetings.enter(ctx, link.id)
        return
    if link.kind == "report":
        from bot.flows import reports

        await reports.enter(ctx, link.id)
        return
    ctx.show(ctx.tr._("The section this link leads to is being prepared and will open soon."))
    await menu.show(ctx)
