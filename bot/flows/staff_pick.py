"""Helpers for staff commands and wizards: the role check of a command and of every wizard step, the territory
they may choose, leaving a wizard."""

from __future__ import annotations

from bot.flows import menu
from bot.flows.base import Ctx
from bot.services.roles import Role


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


async def root(ctx: Ctx, role: Role) -> str | None:
    """The territory the sender is limited to in ``role`` (None: everywhere)."""
    reach = await ctx.services.roles.reach(ctx.event.user_id, role)
    return reach.root if reach else None


async def limit_picker(ctx: Ctx, role: Role) -> None:
    """Keep the territory picker within the sender's territory in ``role`` (a limited operator or secretary);
    set before the picker shows or reads a press, so a forged button for another territory is refused."""
    ctx.state.data["root"] = await root(ctx, role)  # type: ignore[union-attr]


async def command_allowed(ctx: Ctx, roles: tuple[Role, ...]) -> bool:
    """Whether the sender may run a command that needs one of ``roles`` (none: anyone; an admin holds all);
    if not, say so politely."""
    user_id, svc = ctx.event.user_id, ctx.services.roles
    if not roles or await svc.has(user_id, *roles):
        return True
    if roles == (Role.ADMIN,) and await svc.roles_of(user_id):
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
