"""The progress message of a secretary's notice: its numbers, its "⏹ Stop" button and what a press of it does
(works from any step). bot/delivery/broadcasts.py keeps the message up to date; the conversation that starts a
notice is bot/flows/broadcast.py."""

from __future__ import annotations

import math

from bot.flows.base import Button, Ctx
from bot.flows.buttons import Int, Kind
from bot.i18n import Translator
from bot.services.broadcasts import (
    DONE,
    SENDING_STATUS,
    STOPPED,
    BroadcastError,
    BroadcastNotFound,
    BroadcastService,
    NotAllowed,
    Progress,
    WrongStatus,
)

STOP = "bc:stop:"
STOP_BUTTON = Kind("bc:stop", Int())  # on the progress message: works from any step


def duration(tr: Translator, seconds: float) -> str:
    if seconds < 60:
        return tr._("less than a minute")
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return tr._("about {minutes} min", minutes=minutes)
    return tr._("about {hours} h {minutes} min", hours=minutes // 60, minutes=minutes % 60)


def progress_text(tr: Translator, p: Progress) -> str:
    n = tr.number
    if p.finished:
        lines = [tr._("📋 <b>Notice №{id}: delivery report</b>", id=p.id),
                 tr._("⏹ Stopped before the end.") if p.status == STOPPED else tr._("Sending is complete.")]
    elif p.status == STOPPED:
        lines = [tr._("⏹ <b>Notice №{id}: stopping…</b>", id=p.id)]
    else:
        lines = [tr._("📢 <b>Notice №{id}: sending</b>", id=p.id)]
    lines += ["", tr._("Recipients: {n}", n=n(p.total)), tr._("✅ Delivered: {n}", n=n(p.sent))]
    if not p.finished:
        lines.append(tr._("⏳ Remaining: {n}", n=n(p.remaining)))
    lines += [tr._("🚫 Blocked the bot: {n}", n=n(p.blocked)), tr._("⚠️ Not delivered: {n}", n=n(p.failed))]
    if p.unknown:
        lines.append(tr._("❓ Unknown, the bot restarted while sending: {n}", n=n(p.unknown)))
    if p.not_sent_for_the_stop:
        lines.append(tr._("⏹ Not sent because of the stop: {n}", n=n(p.not_sent_for_the_stop)))
    if p.status == SENDING_STATUS and p.eta_seconds is not None:
        lines.append(tr._("⏱ Time left: {time}", time=duration(tr, p.eta_seconds)))
    if p.finished and p.started_at is not None:
        lines.append(tr._("Took: {time}", time=duration(tr, (p.finished_at - p.started_at).total_seconds())))
    return "\n".join(lines)


def progress_buttons(tr: Translator, p: Progress) -> list[list[Button]]:
    return [[Button(tr._("⏹ Stop"), STOP_BUTTON.pack(p.id))]] if p.status == SENDING_STATUS else []


def progress_language(p: Progress, default: str) -> str:
    return p.ui_language or default



async def stop_pressed(ctx: Ctx) -> None:
    tr, ev = ctx.tr, ctx.event
    broadcast_id = STOP_BUTTON.value(ev.data)
    svc: BroadcastService = ctx.services.broadcasts
    if broadcast_id is None:
        ctx.show(tr._("This notice was not found."))
        return
    try:
        if not await svc.may_broadcast(ev.user_id):
            raise NotAllowed(ev.user_id)
        p = await svc.stop(broadcast_id, ev.user_id)
        notice = tr._("Stopped. Nobody else will get this notice.")
    except BroadcastNotFound:
        ctx.show(tr._("This notice was not found."))
        return
    except NotAllowed:
        ctx.show(tr._("Sorry, only maslikhat secretaries and akimat administrators can stop a notice."))
        return
    except (WrongStatus, BroadcastError):
        p = await svc.finish_if_done(broadcast_id)
        notice = tr._("This notice has already finished.") if p.status in (DONE, STOPPED) else None
    # the pressed progress message is replaced by the current numbers, in the language it was started in
    # (bot/delivery/broadcasts.py keeps them up to date)
    shown = ctx.i18n(progress_language(p, ctx.settings.locale.default))
    ctx.show(progress_text(shown, p), progress_buttons(shown, p), notice=notice)

