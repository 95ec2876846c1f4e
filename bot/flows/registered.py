"""Every flow of the bot, in one place. A new flow declares ``FLOW = FlowSpec(...)`` at the bottom of its module
and is added here; the engine, the main menu, deep links, /cancel and the command menus pick it up."""

from __future__ import annotations

from bot.flows import (
    appeal,
    broadcast,
    budget,
    budget_admin,
    consent,
    meeting_admin,
    meetings,
    menu,
    my_appeals,
    registration,
    report_admin,
    reports,
    settings,
    staff,
)
from bot.flows.registry import Registry

REGISTRY = Registry([
    menu.FLOW,
    registration.FLOW,
    consent.FLOW,
    settings.FLOW,
    appeal.FLOW,
    my_appeals.FLOW,
    budget.FLOW,
    reports.FLOW,
    meetings.FLOW,
    staff.FLOW,
    broadcast.FLOW,
    budget_admin.FLOW,
    report_admin.FLOW,
    meeting_admin.FLOW,
])
