"""Sharing one's own phone with the channel's contact button: used by registration and by appeals."""

from __future__ import annotations

from bot.flows.base import Ctx, Request
from bot.services.residents import NotOwnContact, PhoneTaken


def request(ctx: Ctx, skip: bool = True) -> Request:
    """Ask for the person's own number, with «« Back» (and «Skip») beside the press that shares it."""
    answers = ((ctx.tr._("Skip"),) if skip else ()) + (ctx.tr._("« Back"),)
    return Request("phone", ctx.tr._("📱 Share my number"), (answers,))


VERIFIED, TAKEN, RETRY = "verified", "taken", "retry"


async def accept_contact(ctx: Ctx, skip: bool = True) -> str:
    """Verify the shared contact: VERIFIED; TAKEN by another account (said so); RETRY (a hint was shown)."""
    ev, tr = ctx.event, ctx.tr
    assert ev.contact is not None
    try:
        name = " ".join(p for p in (ev.contact.first_name, ev.contact.last_name) if p)
        ctx.resident = await ctx.services.residents.verify_phone(ev.user_id, ev.contact.phone, ev.contact.user_id,
                                                                 name, ev.channel)
        return VERIFIED
    except NotOwnContact:
        ctx.show(tr._("Please share your own number with the «📱 Share my number» button."),
                 request=request(ctx, skip))
    except PhoneTaken:
        if skip:
            ctx.show(tr._("This number is already registered with another account. "
                          "Registration continues without it; if this is a mistake, please contact the akimat."))
        else:
            ctx.show(tr._("This number is already registered with another account, so it cannot be used here. "
                          "If this is a mistake, please contact the akimat."), request=request(ctx, skip))
        return TAKEN
    except ValueError:
        ctx.show(tr._("I could not read this number. Please use the «📱 Share my number» button."),
                 request=request(ctx, skip))
    return RETRY


def is_back(ctx: Ctx) -> bool:
    ev = ctx.event
    return (ev.kind == "text" and ev.text.strip() == ctx.tr._("« Back")) or (ev.kind == "button" and ev.data == "back")
