"""The published results of a People's Budget campaign: winners, projects below the threshold, the money
spent, the digest anyone can recompute, and a bar chart. Results are public: any registered resident may
open them (the admin side's notices carry "bd:res:<campaign>")."""

from __future__ import annotations

import asyncio
import logging

from bot.flows.base import Button, Ctx, esc
from bot.flows.budget_common import RECEIPT_ASK, list_button, phase, title_of
from bot.services.budget import Phase

TEXT_BUDGET = 3500  # characters of the text message; Telegram's limit is 4096
log = logging.getLogger("qatysu.budget")


async def show(ctx: Ctx, campaign_id: int) -> None:
    tr = ctx.tr
    if ctx.state is not None:
        ctx.state.data.pop("on", None)  # off the ballot: wrong input here shows the campaign
    c = await ctx.services.budget.get_campaign(campaign_id)
    if c is None:
        ctx.show(tr._("There is no such People's Budget campaign. It may have been removed."), [[list_button(ctx)]])
        return
    result = c.results_json if phase(ctx, c) is Phase.RESULTS else None
    if not result:
        ctx.show(tr._("The results of «{campaign}» are not published yet. They are expected by {date}.",
                      campaign=title_of(ctx, c), date=tr.date(c.results_at)), [[list_button(ctx)]])
        return
    rows = list(result.get("rows") or [])
    winners = [r for r in rows if r.get("winner")]
    others = [r for r in rows if not r.get("winner")]
    lines = [tr._("<b>Results: {campaign}</b>", campaign=title_of(ctx, c)),
             tr._("Budget: {budget}. Given to the winners: {spent}.", budget=tr.tenge(c.budget_tenge),
                  spent=tr.tenge(int(result.get("spent_tenge", 0)))),
             tr.ngettext("A project needed at least {n} voter.", "A project needed at least {n} voters.",
                         int(c.threshold)), ""]
    if winners:
        lines.append(tr._("<b>🏆 Winners</b>"))
        lines += [_row(ctx, r) for r in winners]
    else:
        lines.append(tr._("No project won."))
    tail = ["", tr._("Digest (SHA-256 of the published counts and rules): <code>{digest}</code>",
                     digest=esc(c.results_digest or result.get("digest", ""), 64)),
            tr._("Anyone can recompute it from the published data and check the winners.")]
    if others:
        lines += ["", tr._("<b>Not chosen</b>")]
        for i, r in enumerate(others):
            line = _row(ctx, r) + " · " + (tr._("below the threshold") if r.get("reason") == "below_threshold"
                                           else tr._("did not fit the remaining budget"))
            if len("\n".join(lines + [line] + tail)) > TEXT_BUDGET:
                lines.append(tr._("… and {n} more", n=len(others) - i))
                break
            lines.append(line)
    ctx.show("\n".join(lines + tail))
    buttons = [[Button(tr._("🔎 Check a receipt"), RECEIPT_ASK), list_button(ctx)]]
    if not rows:
        ctx.show(tr._("No projects were on the ballot."), buttons)
        return
    labels = {"title": c.title(ctx.lang), "votes": tr._("votes"), "winner": tr._("winner"),
              "not_chosen": tr._("not chosen"),
              "threshold": tr.ngettext("threshold: {n} voter", "threshold: {n} voters", int(c.threshold))}
    from bot import charts  # matplotlib loads with the first chart, not when the bot starts

    try:
        png = await asyncio.to_thread(charts.budget_chart, rows, int(c.threshold), labels)
    except Exception:  # noqa: BLE001 - the text above already has everything; the picture is a help
        log.exception("results chart of campaign %s failed", c.id)
        ctx.show(tr._("Votes per project are listed above."), buttons)
        return
    ctx.show(tr._("Votes per project"), buttons, photo=png)


def _row(ctx: Ctx, r: dict) -> str:
    votes = ctx.tr.ngettext("{n} vote", "{n} votes", int(r.get("votes", 0)))
    cost = ctx.tr.tenge(int(r.get("cost_tenge", 0)))
    return f"{int(r.get('rank', 0))}. {esc(str(r.get('title', '')), 120)}: {votes}, {cost}"
