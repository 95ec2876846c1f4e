"""Deep links: ``/start <payload>`` from a QR code on a poster lands on the right screen. The kinds of link
(``vote_12``, ``meeting_5``, ``report_3``, ``appeal_5``) are declared by the flows (bot/flows/registry.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.flows import menu
from bot.flows.base import Ctx


@dataclass(frozen=True)
class DeepLink:
    kind: str
    id: int


def parse(payload: str, kinds: Iterable[str]) -> DeepLink | None:
    names = "|".join(re.escape(k) for k in kinds)
    m = re.match(rf"^({names})_(\d{{1,9}})$", payload.strip()) if names else None
    return DeepLink(m.group(1), int(m.group(2))) if m else None


async def route(ctx: Ctx, payload: str) -> None:
    link = parse(payload, ctx.flows.deep_link_kinds())
    target = ctx.flows.deep_link(link.kind) if link is not None else None
    if link is None or target is None:
        await menu.show(ctx, ctx.tr._("This link is not valid any more. Here is the main menu."))
        return
    if target.open is None:
        ctx.show(ctx.tr._("The section this link leads to is being prepared and will open soon."))
        await menu.show(ctx)
        return
    await target.open(ctx, link.id)
