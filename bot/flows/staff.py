"""Staff commands: every one checks the sender's role and refuses others politely."""

from __future__ import annotations

from bot.flows.base import Ctx
from bot.i18n import N_
from bot.services.roles import Role

ROLE_NAMES = {Role.ADMIN: N_("administrator"), Role.OPERATOR: N_("operator"), Role.SECRETARY: N_("secretary")}
# command → roles allowed (an admin is allowed everything); empty: anyone
COMMANDS: dict[str, tuple[Role, ...]] = {
    "whoami": (),
    "staff": (Role.OPERATOR, Role.SECRETARY),
    "roles": (Role.ADMIN,),
    "grant": (Role.ADMIN,),
    "revoke": (Role.ADMIN,),
}


def role_name(ctx: Ctx, role: Role) -> str:
    return ctx.tr._(ROLE_NAMES[role])


async def handle(ctx: Ctx) -> None:
    ev, tr, roles = ctx.event, ctx.tr, ctx.services.roles
    allowed = COMMANDS[ev.command or ""]
    if allowed and not await roles.has(ev.user_id, *allowed):
        ctx.show(tr._("Sorry, this command is only for akimat staff."))
        return
    if ev.command == "whoami":
        mine = await roles.roles_of(ev.user_id)
        names = ", ".join(role_name(ctx, r) for r in sorted(mine)) or tr._("resident")
        ctx.show(tr._("Your Telegram ID: <code>{user_id}</code>\nRole: {roles}", user_id=ev.user_id, roles=names))
    elif ev.command == "staff":
        ctx.show(tr._("Staff commands:\n/roles: list staff roles (administrator)\n"
                      "/grant ID role, /revoke ID role: give or take a role (administrator)\n"
                      "/whoami: your ID and role\n\nRoles: admin, operator, secretary."))
    elif ev.command == "roles":
        entries = await roles.list()
        lines = [f"• <code>{e.user_id}</code>: {role_name(ctx, e.role)}"
                 + (" " + tr._("(config)") if e.source == "config" else "") for e in entries]
        ctx.show(tr._("Staff roles:") + "\n" + ("\n".join(lines) if lines else "—"))
    else:
        await _grant_or_revoke(ctx)


async def _grant_or_revoke(ctx: Ctx) -> None:
    ev, tr, roles = ctx.event, ctx.tr, ctx.services.roles
    parts = ev.args.split()
    if len(parts) != 2 or not parts[0].isdigit() or len(parts[0]) > 15 or parts[1] not in Role._value2member_map_:
        ctx.show(tr._("Usage: /{command} TELEGRAM_ID ROLE, where ROLE is admin, operator or secretary. "
                      "Example: /{command} 123456789 operator", command=ev.command))
        return
    user_id, role = int(parts[0]), Role(parts[1])
    if ev.command == "grant":
        done = await roles.grant(user_id, role, by=ev.user_id)
        ctx.show(tr._("Done: {user_id} is now {role}.", user_id=user_id, role=role_name(ctx, role)) if done
                 else tr._("{user_id} already has this role.", user_id=user_id))
    else:
        done = await roles.revoke(user_id, role, by=ev.user_id)
        if done:
            ctx.show(tr._("Done: the role {role} is taken from {user_id}.", user_id=user_id,
                          role=role_name(ctx, role)))
        elif roles.in_config(user_id, role):
            ctx.show(tr._("This role is set in config.toml; remove it there."))
        else:
            ctx.show(tr._("{user_id} does not have this role.", user_id=user_id))
