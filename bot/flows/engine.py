"""The one way in for every channel: an event goes through commands, then the buttons the flows take from anywhere,
then the chat's current flow. All three are built from the flow registry (bot/flows/registry.py)."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.config import Settings
from bot.effects import Effects
from bot.flows import deeplinks, menu, registration, staff_pick
from bot.flows.base import Ctx, Event, Screen, Services
from bot.flows.common import CANCEL
from bot.flows.registered import REGISTRY
from bot.flows.registry import Registry
from bot.i18n import I18n, pick_language
from storage.state import StateStore


class Conversations:
    def __init__(self, services: Services, settings: Settings, i18n: I18n, store: StateStore,
                 effects: Effects | None = None, flows: Registry = REGISTRY) -> None:
        self.services, self.settings, self.i18n, self.store = services, settings, i18n, store
        self.effects, self.flows = effects, flows

    async def handle(self, event: Event, deliver: Callable[[list[Screen]], Awaitable[None]] | None = None
                     ) -> list[Screen]:
        """Answer an event. With ``deliver`` the person gets the screens; then the event's effects start in a task
        of their own, and the update is done (bot/effects.py).

        The work of the update is one unit of work (storage/uow.py): one session, one transaction, committed with
        the new state before any reply is sent, so a crash after it loses no step."""
        async with self.store.unit():
            ctx = await self._answer(event)
        if deliver is not None:
            await deliver(ctx.screens)
        if self.effects is not None and ctx.effects:
            self.effects.after(ctx.effects)
        return ctx.screens

    async def _answer(self, event: Event) -> Ctx:
        resident, state = await self.store.sender(event.channel, event.user_id, event.chat_id)
        if resident is None and event.phone:  # the channel vouches for the number: the same person as elsewhere
            resident = await self.services.residents.link_phone(event.user_id, event.chat_id, event.phone,
                                                                event.channel)
        if resident is not None and not resident.reachable:  # they write again: they can hear us again
            await self.services.residents.set_reachable(resident.id, True)
            resident.reachable = True
        saved_lang = resident.language if resident else (state.data.get("lang") if state else None)
        lang = pick_language(saved_lang, event.language_code, self.settings.locale.default)
        ctx = Ctx(event=event, i18n=self.i18n, tr=self.i18n(lang), services=self.services,
                  settings=self.settings, resident=resident, state=state, flows=self.flows)
        before = None if state is None else replace(state, data=copy.deepcopy(state.data))
        await self._route(ctx)
        if ctx.state is None:
            if state is not None:
                await self.store.clear(event.channel, event.chat_id)
        elif ctx.state != before:
            await self.store.set(event.channel, event.chat_id, ctx.state)
        if not ctx.screens:  # never leave a person without an answer
            if _registered(ctx):
                await menu.show(ctx)
            else:
                ctx.show(ctx.tr._("To begin, send /start."))
        return ctx

    async def edited(self, event: Event) -> list[Screen]:
        """An edited message is not re-read: say so, in the person's language."""
        resident = await self.services.residents.get(event.user_id, event.channel)
        lang = pick_language(resident.language if resident else None, event.language_code,
                             self.settings.locale.default)
        return [Screen(self.i18n(lang)._("I don't read edited messages. Please send the text again."))]

    async def _route(self, ctx: Ctx) -> None:
        ev, st = ctx.event, ctx.state
        if ev.kind == "command":
            await self._command(ctx)
        elif ev.kind == "button" and ev.data == CANCEL:
            await self._cancel(ctx)
        elif ev.kind == "button" and (press := self.flows.anywhere(ev.data, st, _registered(ctx))) is not None:
            await press.press(ctx)  # a button from a notice, a reminder or a progress message
        elif st is not None and (spec := self.flows.get(st.flow)) is not None and spec.handle is not None:
            await spec.handle(ctx)
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
        declared = self.flows.command(cmd)
        # staff commands work whether or not the sender is registered as a resident
        if declared is not None and declared.run is not None and not declared.registered:
            if await staff_pick.command_allowed(ctx, declared.roles):
                await declared.run(ctx)
            if ctx.state is not None and ctx.state.flow == registration.NAME:
                await registration.prompt(ctx)
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
        elif declared is not None and declared.run is not None:
            if await staff_pick.command_allowed(ctx, declared.roles):
                await declared.run(ctx)
        else:
            ctx.show(ctx.tr._("I don't know this command. Here is the main menu."))
            ctx.state = None
            await menu.show(ctx)

    async def _cancel(self, ctx: Ctx) -> None:
        had = ctx.state is not None
        spec = self.flows.get(ctx.state.flow) if ctx.state is not None else None
        staff_step = spec is not None and spec.staff
        ctx.state = None
        if staff_step and not _registered(ctx):
            ctx.show(ctx.tr._("Cancelled."))
        elif _registered(ctx):
            await menu.show(ctx, ctx.tr._("Cancelled. Main menu:") if had else None)
        else:
            ctx.show(ctx.tr._("Registration stopped. To start again, send /start."), request_over=True)


def _registered(ctx: Ctx) -> bool:
    r = ctx.resident
    return r is not None and r.registered_at is not None and r.deleted_at is None
