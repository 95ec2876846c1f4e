"""The main menu and help. Its entries come from the flows' declarations (bot/flows/registry.py)."""

from __future__ import annotations

from bot.flows.base import Button, Ctx
from bot.flows.buttons import Kind, Token
from bot.flows.common import wrong_input
from bot.flows.registry import Command, FlowSpec
from bot.i18n import N_

PREFIX = "m:"
ENTRY = Kind("m", Token(32))  # "m:<entry key>"
HELP = "help"
NOT_YET: tuple[str, ...] = ()


async def show(ctx: Ctx, text: str | None = None) -> None:
    tr = ctx.tr
    entries = [e for e in ctx.flows.menu()
               if not e.roles or await ctx.services.roles.has(ctx.event.user_id, *e.roles)]
    buttons = [Button(tr._(e.label), ENTRY.pack(e.key)) for e in entries]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([Button(tr._("❓ Help"), ENTRY.pack(HELP))])
    ctx.show(text or tr._("Main menu. What would you like to do?"), rows)


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
    entry = ENTRY.value(ctx.event.data) or ""
    target = ctx.flows.menu_entry(entry)
    if entry in NOT_YET:
        ctx.show(ctx.tr._("This section is being prepared and will open soon. Thank you for your patience!"))
        await show(ctx)
    elif entry == HELP:
        ctx.show(help_text(ctx))
        await show(ctx)
    elif target is not None:
        await target.enter(ctx)
    else:
        wrong_input(ctx)
        await show(ctx)


async def menu_command(ctx: Ctx) -> None:
    ctx.state = None
    await show(ctx)


async def help_command(ctx: Ctx) -> None:
    ctx.show(help_text(ctx))


# /start and /cancel are the engine's own (bot/flows/engine.py); they are declared here for the command menu
FLOW = FlowSpec(
    name="menu",
    buttons=(PREFIX,),
    commands=(
        Command("start", None, N_("Start or main menu"), order=10),
        Command("menu", menu_command, N_("Main menu"), order=20),
        Command("help", help_command, N_("Help"), order=40),
        Command("cancel", None, N_("Stop the current step"), order=50),
    ),
)
