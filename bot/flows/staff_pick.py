"""Helpers for the staff wizards (reports, meetings): the territory picker with a staff question instead of
"Where do you live?", a role check on every step, and leaving a wizard."""

from __future__ import annotations

from bot.flows import menu, territory
from bot.flows.base import Ctx
from bot.services.roles import Role

RESIDENT_QUESTION = "Where do you live? Choose your settlement or type part of its name."


def _retitle(ctx: Ctx, question: str, since: int) -> None:
    resident_question = ctx.tr._(RESIDENT_QUESTION)
    for screen in ctx.screens[since:]:
        if screen.text.startswith(resident_question):
            screen.text = question + screen.text[len(resident_question):]


async def show_picker(ctx: Ctx, question: str) -> None:
    since = len(ctx.screens)
    await territory.show(ctx)
    _retitle(ctx, question, since)


async def handle_picker(ctx: Ctx, question: str) -> str | None:
    """Like :func:`bot.flows.territory.handle` (a KATO code, "back", or None after showing the next screen)."""
    since = len(ctx.screens)
    picked = await territory.handle(ctx)
    _retitle(ctx, question, since)
    return picked


async def allowed(ctx: Ctx, *roles: Role) -> bool:
    """Whether the sender holds one of ``roles`` (an admin holds all); if not, leave the wizard politely."""
    if await ctx.services.roles.has(ctx.event.user_id, *roles):
        return True
    ctx.state = None
    if roles == (Role.ADMIN,):
        ctx.show(ctx.tr._("Sorry, this command is only for akimat administrators."))
    else:
        ctx.show(ctx.tr._("Sorry, this command is only for akimat staff."))
    return False


async def leave(ctx: Ctx, text: str) -> None:
    """End a staff wizard: the main menu for a registered resident, else just the text."""
    ctx.state = None
    r = ctx.resident
    if r is not None and r.registered_at is not None and r.deleted_at is None:
        await menu.show(ctx, text)
    else:
        ctx.show(text)
