"""The main menu and help. Entries whose feature is not built yet say so politely."""

from __future__ import annotations

from bot.flows.base import Button, Ctx
from bot.flows.common import wrong_input

PREFIX = "m:"
NOT_YET: tuple[str, ...] = ()


async def show(ctx: Ctx, text: str | None = None) -> None:
    tr = ctx.tr
    ctx.show(text or tr._("Main menu. What would you like to do?"), [
        [Button(tr._("📝 Write an appeal"), "m:appeal"), Button(tr._("📂 My appeals"), "m:my_appeals")],
        [Button(tr._("🗳 People's Budget"), "m:budget"), Button(tr._("📊 Akim's reports"), "m:reports")],
        [Button(tr._("📅 Meetings"), "m:meetings"), Button(tr._("⚙️ Settings"), "m:settings")],
        [Button(tr._("❓ Help"), "m:help")],
    ])


def help_text(ctx: Ctx) -> str:
    return ctx.tr._(
        "Qatysu connects you with your akimat.\n\n"
        "📝 <b>Appeal</b>: a complaint, request or suggestion; the akimat answers within the legal term.\n"
        "🗳 <b>People's Budget</b>: propose and vote for projects for your village.\n"
        "📊 <b>Reports</b> and 📅 <b>meetings</b>: read the akim's reports and ask questions.\n\n"
        "/menu: main menu · /settings: settings · /cancel: stop the current step\n\n"
        "In an emergency call 112 (police: 102).")


async def handle(ctx: Ctx) -> None:
    """A menu button pressed outside any conversation."""
    from bot.flows import appeal, my_appeals, settings  # they show the menu too

    entry = ctx.event.data[len(PREFIX):] if ctx.event.data.startswith(PREFIX) else ""
    if entry in NOT_YET:
        ctx.show(ctx.tr._("This section is being prepared and will open soon. Thank you for your patience!"))
        await show(ctx)
    elif entry == "settings":
        await settings.enter(ctx)
    elif entry == "appeal":
        await appeal.enter(ctx)
    elif entry == "my_appeals":
        await my_appeals.enter(ctx)
    elif entry == "budget":
        from bot.flows import budget

        await budget.enter(ctx)
    elif entry == "reports":
        from bot.flows import reports

        await reports.enter(ctx)
    elif entry == "meetings":
        from bot.flows import meetings

        await meetings.enter(ctx)
    elif entry == "help":
        ctx.show(help_text(ctx))
        await show(ctx)
    else:
        wrong_input(ctx)
        await show(ctx)
