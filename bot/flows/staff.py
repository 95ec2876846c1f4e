"""Staff commands: every one checks the sender's role and refuses others politely."""

from __future__ import annotations

import asyncio

from babel.numbers import format_decimal, format_percent

from bot.flows.appeal_labels import CATEGORIES, STATUSES, category_name, status_name
from bot.flows.base import Ctx, esc
from bot.flows.registry import Command, FlowSpec
from bot.i18n import N_
from bot.services.roles import LIMITABLE, Role, RoleEntry

ROLE_NAMES = {Role.ADMIN: N_("administrator"), Role.OPERATOR: N_("operator"), Role.SECRETARY: N_("secretary")}
TOP_CATEGORIES = 5  # in the text; the chart shows them all
TOP_TERRITORIES = 8


def role_name(ctx: Ctx, role: Role) -> str:
    return ctx.tr._(ROLE_NAMES[role])


async def handle(ctx: Ctx) -> None:
    """/whoami, /staff, /stats, /roles, /grant, /revoke; the engine has checked the roles they need (FLOW)."""
    ev, tr, roles = ctx.event, ctx.tr, ctx.services.roles
    if ev.command == "whoami":
        mine = await roles.roles_of(ev.user_id)
        names = ", ".join(role_name(ctx, r) for r in sorted(mine)) or tr._("resident")
        ctx.show(tr._("Your account ID: <code>{user_id}</code>\nRole: {roles}", user_id=ev.user_id, roles=names))
    elif ev.command == "staff":
        ctx.show(tr._("Staff commands:\n/roles: list staff roles (administrator)\n"
                      "/grant ID role, /revoke ID role: give or take a role (administrator)\n"
                      "/stats: appeal statistics with a chart (administrator)\n"
                      "/campaign: a new People's Budget campaign; /proposals: proposals to review (administrator)\n"
                      "/report: publish an akim's report; /questions: residents' questions (administrator)\n"
                      "/meeting: announce or cancel a meeting; /broadcast: a notice to residents "
                      "(secretary, administrator)\n"
                      "/whoami: your ID and role\n\nRoles: admin, operator, secretary.\n"
                      "Operators answer appeals in the operator chat, in each appeal's topic."))
    elif ev.command == "stats":
        await _stats(ctx)
    elif ev.command == "roles":
        lines = [await _role_line(ctx, e) for e in await roles.list()]
        ctx.show(tr._("Staff roles:") + "\n" + ("\n".join(lines) if lines else "—"))
    else:
        await _grant_or_revoke(ctx)


async def _role_line(ctx: Ctx, e: RoleEntry) -> str:
    """One line of /roles: the role, where it holds (nothing: everywhere) and who granted it."""
    tr = ctx.tr
    line = f"• <code>{e.user_id}</code>: {role_name(ctx, e.role)}"
    if e.source == "config":
        return line + " " + tr._("(config)")
    if e.territory_kato:
        place = await ctx.services.territories.get(e.territory_kato)
        name = esc(place.name(tr.lang)) if place else e.territory_kato
        line += " · " + tr._("territory: {territory}", territory=name)
    if e.granted_by:
        line += " · " + tr._("granted by {user_id}", user_id=f"<code>{e.granted_by}</code>")
    return line


async def _grant_or_revoke(ctx: Ctx) -> None:
    ev, tr, roles = ctx.event, ctx.tr, ctx.services.roles
    parts = ev.args.split()
    kato = parts.pop() if ev.command == "grant" and len(parts) == 3 and parts[2].isdigit() else None
    if len(parts) != 2 or not parts[0].isdigit() or len(parts[0]) > 15 or parts[1] not in Role._value2member_map_ \
            or (kato is not None and len(kato) > 12):
        usage = tr._("Usage: /{command} TELEGRAM_ID ROLE, where ROLE is admin, operator or secretary. "
                     "Example: /{command} 123456789 operator", command=ev.command)
        if ev.command == "grant":
            usage += "\n" + tr._("To limit an operator or a secretary to a territory and the places in it, add its "
                                 "KATO code: /grant 123456789 operator 114040000")
        ctx.show(usage)
        return
    user_id, role = int(parts[0]), Role(parts[1])
    if ev.command == "grant":
        place = await ctx.services.territories.get(kato) if kato else None
        if kato and place is None:
            ctx.show(tr._("No territory with the KATO code {kato} is loaded.", kato=kato))
            return
        if kato and role not in LIMITABLE:
            ctx.show(tr._("Only an operator or a secretary can be limited to a territory."))
            return
        done = await roles.grant(user_id, role, by=ev.user_id, territory=kato)
        if not done:
            ctx.show(tr._("{user_id} already has this role.", user_id=user_id))
        elif place is not None:
            ctx.show(tr._("Done: {user_id} is now {role}. Territory: {territory} and the places in it.",
                          user_id=user_id, role=role_name(ctx, role), territory=esc(place.name(tr.lang))))
        else:
            ctx.show(tr._("Done: {user_id} is now {role}.", user_id=user_id, role=role_name(ctx, role)))
    else:
        done = await roles.revoke(user_id, role, by=ev.user_id)
        if done:
            ctx.show(tr._("Done: the role {role} is taken from {user_id}.", user_id=user_id,
                          role=role_name(ctx, role)))
        elif roles.in_config(user_id, role):
            ctx.show(tr._("This role is set in config.toml; remove it there."))
        else:
            ctx.show(tr._("{user_id} does not have this role.", user_id=user_id))


async def _stats(ctx: Ctx) -> None:
    """Numbers for the akim, all time: counts by status, the top categories and settlements, the median
    time to answer, the share answered on time, the mean rating; with a chart of categories and statuses."""
    tr = ctx.tr
    st = await ctx.services.appeals.stats()
    title = tr._("Appeals: {total}", total=tr.number(st.total))
    if st.total == 0:
        ctx.show(tr._("No appeals yet."))
        return

    def bullets(items: list[tuple[str, int]]) -> list[str]:
        return [f"• {name}: {tr.number(n)}" for name, n in items]

    order = {k: i for i, k in enumerate(STATUSES)}
    statuses = sorted(st.by_status.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    categories = sorted(st.by_category.items(), key=lambda kv: (-kv[1], category_name(tr, kv[0])))
    # no tr._() inside f-strings: the extractor does not see into them
    by_status, by_category, by_settlement = tr._("By status"), tr._("By category"), tr._("By settlement")
    lines = [f"📊 <b>{title}</b>", "", f"<b>{by_status}</b>",
             *bullets([(status_name(tr, k), n) for k, n in statuses]),
             "", f"<b>{by_category}</b>",
             *bullets([(category_name(tr, k), n) for k, n in categories[:TOP_CATEGORIES]])]
    if len(categories) > TOP_CATEGORIES:
        lines += bullets([(tr._("Other topics"), sum(n for _, n in categories[TOP_CATEGORIES:]))])
    lines += ["", f"<b>{by_settlement}</b>", *bullets(await _territories(ctx, st.by_territory))]
    lines.append("")
    if st.answered:
        hours = st.median_hours_to_answer or 0.0
        lines.append(tr._("Median time to answer: {hours} h ({days} d)",
                          hours=format_decimal(hours, "#,##0.#", locale=tr.lang),
                          days=format_decimal(hours / 24, "#,##0.#", locale=tr.lang)))
        lines.append(tr._("Answered on time: {percent} of {answered}",
                          percent=format_percent(st.answered_on_time_share or 0.0, locale=tr.lang),
                          answered=tr.number(st.answered)))
    else:
        lines.append(tr._("No answers yet."))
    if st.rating_count and st.rating_mean is not None:
        lines.append(tr._("Average rating: {mean} of 5 ({count} ratings)",
                          mean=format_decimal(st.rating_mean, "0.0", locale=tr.lang),
                          count=tr.number(st.rating_count)))
    else:
        lines.append(tr._("No ratings yet."))

    labels = {"title": title, "by_category": by_category, "by_status": by_status,
              "categories": {k: category_name(tr, k) for k in CATEGORIES},
              "statuses": {k: status_name(tr, k) for k in STATUSES},
              "other": tr._("Other topics")}
    from bot import charts  # matplotlib loads on the first /stats, not when the bot starts

    # about 0.3 s of drawing: in a thread, so other chats are answered meanwhile
    photo = await asyncio.to_thread(charts.appeals_chart, st, labels)
    ctx.show("\n".join(lines), photo=photo)


async def _territories(ctx: Ctx, counts: dict[str | None, int]) -> list[tuple[str, int]]:
    tr = ctx.tr
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or ""))
    out = []
    for kato, n in ranked[:TOP_TERRITORIES]:
        place = await ctx.services.territories.get(kato) if kato else None
        name = esc(place.name(tr.lang)) if place else (kato or tr._("Settlement not given"))
        out.append((name, n))
    if len(ranked) > TOP_TERRITORIES:
        out.append((tr._("Other settlements"), sum(n for _, n in ranked[TOP_TERRITORIES:])))
    return out


_STAFF = (Role.ADMIN, Role.OPERATOR, Role.SECRETARY)
FLOW = FlowSpec(
    name="staff",
    commands=(
        Command("roles", handle, N_("Staff roles"), (Role.ADMIN,), (Role.ADMIN,), 110, registered=False),
        Command("grant", handle, N_("Give a role"), (Role.ADMIN,), (Role.ADMIN,), 111, registered=False),
        Command("revoke", handle, N_("Take a role"), (Role.ADMIN,), (Role.ADMIN,), 112, registered=False),
        Command("stats", handle, N_("Appeal statistics"), (Role.ADMIN,), (Role.ADMIN,), 113, registered=False),
        Command("staff", handle, N_("Staff commands"), (Role.OPERATOR, Role.SECRETARY),
                (Role.OPERATOR, Role.SECRETARY), 140, registered=False),
        Command("whoami", handle, N_("My ID and role"), (), _STAFF, 199, registered=False),
    ),
)
