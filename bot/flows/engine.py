"""The one way in for every channel: an event goes through commands, then the chat's current flow."""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from types import ModuleType

from bot.config import Settings
from bot.flows import (
    appeal,
    broadcast,
    budget,
    budget_admin,
    consent,
    deeplinks,
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
from bot.flows.base import Ctx, Event, Screen, Services
from bot.flows.common import CANCEL
from bot.i18n import I18n, pick_language
from storage.state import State, StateStore

FLOWS: dict[str, ModuleType] = {registration.NAME: registration, settings.NAME: settings, appeal.NAME: appeal,
                                my_appeals.NAME: my_appeals, budget.NAME: budget, broadcast.NAME: broadcast,
                                reports.NAME: reports, meetings.NAME: meetings, report_admin.NAME: report_admin,
                                meeting_admin.NAME: meeting_admin, consent.NAME: consent}


EffectSink = Callable[[str, int], Awaitable[None]]
log = logging.getLogger("qatysu.flows")


class Conversations:
    def __init__(self, services: Services, settings: Settings, i18n: I18n, store: StateStore,
                 effects: EffectSink | None = None) -> None:
        self.services, self.settings, self.i18n, self.store = services, settings, i18n, store
        self.effects = effects

    async def handle(self, event: Event, deliver: Callable[[list[Screen]], Awaitable[None]] | None = None
                     ) -> list[Screen]:
        """Answer an event. With ``deliver`` the person gets the screens before the effects run."""
        resident = await self.services.residents.get(event.user_id)
        if resident is not None and not resident.reachable:  # they write again: they can hear us again
            await self.services.residents.set_reachable(resident.id, True)
            resident.reachable = True
        state = await self.store.get(event.chat_id)
        saved_lang = resident.language if resident else (state.data.get("lang") if state else None)
        lang = pick_language(saved_lang, event.language_code, self.settings.locale.default)
        ctx = Ctx(event=event, i18n=self.i18n, tr=self.i18n(lang), services=self.services,
                  settings=self.settings, resident=resident, state=state)
        before = None if state is None else replace(state, data=copy.deepcopy(state.data))
        await self._route(ctx)
        # the state is written before any reply is sent: a crash after this loses no step
        if ctx.state is None:
            if state is not None:
                await self.store.clear(event.chat_id)
        elif ctx.state != before:
            await self.store.set(event.chat_id, ctx.state)
        if not ctx.screens:  # never leave a person without an answer
            if _registered(ctx):
                await menu.show(ctx)
            else:
                ctx.show(ctx.tr._("To begin, send /start."))
        if deliver is not None:
            await deliver(ctx.screens)
        for name, ref in ctx.effects:
            if self.effects is not None:
                try:
                    await self.effects(name, ref)
                except Exception:  # noqa: BLE001 - the operator chat catches up from the database later
                    log.exception("effect %s %s failed", name, ref)
        return ctx.screens

    async def edited(self, event: Event) -> list[Screen]:
        """An edited message is not re-read: say so, in the person's language."""
        resident = await self.services.residents.get(event.user_id)
        lang = pick_language(resident.language if resident else None, event.language_code,
                             self.settings.locale.default)
        return [Screen(self.i18n(lang)._("I don't read edited messages. Please send the text again."))]

    async def _route(self, ctx: Ctx) -> None:
        ev = ctx.event
        if ev.kind == "command":
            await self._command(ctx)
        elif ev.kind == "button" and ev.data == CANCEL:
            await self._cancel(ctx)
        elif ev.kind == "button" and ev.data.startswith(broadcast.STOP):  # on a progress message, from anywhere
            await broadcast.stop_pressed(ctx)
        elif ev.kind == "button" and ev.data.startswith(meetings.PREFIX) and _registered(ctx):
            # buttons on meeting notices and reminders work from anywhere (a draft is put aside and resumed)
            await meetings.from_anywhere(ctx, FLOWS)
        elif (ev.kind == "button" and ev.data.startswith("ma:") and _registered(ctx)
              and (ctx.state is None or ctx.state.flow in (my_appeals.NAME, settings.NAME))):
            # buttons on notices about one's appeal work from anywhere but the middle of a draft
            ctx.state = State(my_appeals.NAME, my_appeals.LIST, {"page": 0})
            await my_appeals.handle(ctx)
        elif (ev.kind == "button" and ev.data.startswith(budget.PREFIX) and _registered(ctx)
              and (ctx.state is None or ctx.state.flow in (my_appeals.NAME, settings.NAME))):
            # People's Budget buttons (also on notices: "bd:c:", "bd:res:") work from anywhere but a draft
            ctx.state = State(budget.NAME, budget.MENU, {})
            await budget.handle(ctx)
        elif budget_admin.owns(ctx):  # the admin's campaign wizard and review buttons (staff, maybe unregistered)
            await budget_admin.handle(ctx)
        elif ctx.state is not None and ctx.state.flow in FLOWS:
            await FLOWS[ctx.state.flow].handle(ctx)
        elif not _registered(ctx):
            await registration.enter(ctx)
        elif ev.kind == "button" and ev.data.startswith(menu.PREFIX):
            await menu.handle(ctx)
        else:
            if ev.kind == "button":
                ctx.show(ctx.tr._("That button is from an earlier step. Here is where we are now:"))
            else:
                ctx.show(ctx.tr._("Please choose from the menu."))
            await menu.show(ctx)

    async def _command(self, ctx: Ctx) -> None:
        ev, cmd = ctx.event, ctx.event.command
        if cmd in staff.COMMANDS:
            await staff.handle(ctx)
            if ctx.state is not None and ctx.state.flow == registration.NAME:
                await registration.prompt(ctx)
        elif cmd == broadcast.COMMAND:  # secretaries and admins, registered as residents or not
            await broadcast.enter(ctx)
        elif cmd == "start":
            if _registered(ctx):
                ctx.state = None
                await (deeplinks.route(ctx, ev.args) if ev.args else menu.show(ctx))
            else:
                await registration.enter(ctx, ev.args)
        elif cmd == "cancel":
            await self._cancel(ctx)
        elif not _registered(ctx):
            if cmd == "help":
                ctx.show(menu.help_text(ctx))
            else:
                ctx.show(ctx.tr._("Please finish registration first."))
            await (registration.prompt(ctx) if ctx.state else registration.enter(ctx))
        elif cmd == "menu":
            ctx.state = None
            await menu.show(ctx)
        elif cmd == "settings":
            await settings.enter(ctx)
        elif cmd == "help":
            ctx.show(menu.help_text(ctx))
        else:
            ctx.show(ctx.tr._("I don't know this command. Here is the main menu."))
            ctx.state = None
            await menu.show(ctx)

    async def _cancel(self, ctx: Ctx) -> None:
        had = ctx.state is not None
        staff_step = had and ctx.state.flow in (budget_admin.NAME, broadcast.NAME, report_admin.NAME,
                                                meeting_admin.NAME)  # type: ignore[union-attr]
        ctx.state = None
        if staff_step and not _registered(ctx):
            ctx.show(ctx.tr._("Cancelled."))
        elif _registered(ctx):
            await menu.show(ctx, ctx.tr._("Cancelled. Main menu:") if had else None)
        else:
            ctx.show(ctx.tr._("Registration stopped. To start again, send /start."), remove_reply=True)


def _registered(ctx: Ctx) -> bool:
    r = ctx.resident
    return r is not None and r.registered_at is not None and r.deleted_at is None
