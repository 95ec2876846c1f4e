"""The flow registry: each flow declares itself once, in a ``FLOW = FlowSpec(...)`` at the bottom of its module,
and bot/flows/registered.py lists the flows in one place.

What a flow declares: its name; its conversation (``handle`` and ``prompt``); the prefix of its typed buttons
(bot/flows/buttons.py) and which of them work from anywhere; which of its steps are a draft that another flow's
"from anywhere" button must not trample; its main-menu entry; its deep links (``/start vote_12``); its commands
and the roles they need. The engine (bot/flows/engine.py), the main menu, deep links, ``/cancel`` and the command
menus (bot/channels/telegram/commands.py) are built from it. A flow reaches another flow through ``ctx.flows``,
never by importing it, so the flows form no import cycle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.services.roles import Role

if TYPE_CHECKING:
    from bot.flows.base import Ctx
    from storage.state import State

Handler = Callable[["Ctx"], Awaitable[None]]
Opener = Callable[["Ctx", int], Awaitable[None]]
ALL_STEPS = "*"  # in ``drafts``: every step of the flow is a draft


class Reach(StrEnum):
    """Over which conversation a "from anywhere" button is taken."""

    ALWAYS = "always"  # over any step, drafts too (the flow puts a draft aside and comes back to it itself)
    OUTSIDE_DRAFTS = "outside_drafts"  # over any step that is not another flow's draft
    IDLE = "idle"  # only when no conversation is open


@dataclass(frozen=True)
class Anywhere:
    """Buttons whose data start with ``prefix`` are taken by ``press`` from other flows' steps too (they sit on
    notices and reminders, or on a progress message)."""

    prefix: str
    press: Handler
    reach: Reach = Reach.OUTSIDE_DRAFTS
    registered: bool = True  # only for registered residents


@dataclass(frozen=True)
class MenuEntry:
    """A main-menu button: ``m:<key>``, labelled ``label`` (an N_-marked msgid), placed by ``order``."""

    key: str
    label: str
    order: int
    enter: Handler
    roles: tuple[Role, ...] = ()  # who sees it (an admin holds every role); empty: every registered resident


@dataclass(frozen=True)
class DeepLink:
    """``/start <kind>_<id>`` opens ``open(ctx, id)``; without ``open`` the link is announced but its section
    is not built yet (the person is told so)."""

    kind: str
    open: Opener | None


@dataclass(frozen=True)
class Command:
    name: str
    run: Handler | None  # None: the engine's own (/start, /cancel)
    description: str  # N_-marked msgid shown in the command menu
    roles: tuple[Role, ...] = ()  # who may run it (an admin may run everything); empty: anyone
    # whose command menu lists it: None, the residents' menu; roles, the menu of staff holding one of them
    menu_roles: tuple[Role, ...] | None = None
    order: int = 0  # place in the command menu
    registered: bool = True  # False: also before registration (staff commands)


@dataclass(frozen=True)
class FlowSpec:
    name: str
    handle: Handler | None = None  # the conversation's steps, for a flow that keeps a state
    prompt: Handler | None = None  # asks the current step's question again (used to resume a step put aside)
    buttons: str = ""  # the prefix of the flow's typed buttons, e.g. "bd:"
    anywhere: tuple[Anywhere, ...] = ()
    drafts: frozenset[str] = frozenset()  # steps (or ALL_STEPS) that other flows' buttons must not trample
    staff: bool = False  # a staff wizard: /cancel does not show a resident's menu to someone unregistered
    menu: MenuEntry | None = None
    deep_links: tuple[DeepLink, ...] = ()
    commands: tuple[Command, ...] = ()

    def is_draft(self, step: str) -> bool:
        return ALL_STEPS in self.drafts or step in self.drafts


class Registry:
    """The flows of the bot, and lookups built from their declarations."""

    def __init__(self, specs: Iterable[FlowSpec], core_commands: Iterable[Command] = ()) -> None:
        self.specs = tuple(specs)
        self._by_name: dict[str, FlowSpec] = {}
        self._commands: dict[str, Command] = {}
        self._links: dict[str, DeepLink] = {}
        self._menu: dict[str, MenuEntry] = {}
        self._anywhere: list[tuple[FlowSpec, Anywhere]] = []
        prefixes: dict[str, str] = {}
        for c in core_commands:
            self._add(self._commands, c.name, c, "command")
        for spec in self.specs:
            self._add(self._by_name, spec.name, spec, "flow")
            for prefix in spec.buttons:
                self._add(prefixes, prefix, spec.name, "button prefix")
            for c in spec.commands:
                self._add(self._commands, c.name, c, "command")
            for link in spec.deep_links:
                self._add(self._links, link.kind, link, "deep link")
            if spec.menu is not None:
                self._add(self._menu, spec.menu.key, spec.menu, "menu entry")
            self._anywhere += [(spec, a) for a in spec.anywhere]
        for p, owner in prefixes.items():
            clash = [o for q, o in prefixes.items() if q != p and q.startswith(p)]
            if clash:
                raise ValueError(f"button prefix {p!r} of {owner} also starts the prefix of {clash}")

    @staticmethod
    def _add(table: dict, key: str, value: object, what: str) -> None:
        if key in table:
            raise ValueError(f"{what} {key!r} is declared twice")
        table[key] = value

    def get(self, name: str | None) -> FlowSpec | None:
        return self._by_name.get(name or "")

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def command(self, name: str | None) -> Command | None:
        return self._commands.get(name or "")

    def commands(self) -> list[Command]:
        return sorted(self._commands.values(), key=lambda c: c.order)

    def menu(self) -> list[MenuEntry]:
        return sorted(self._menu.values(), key=lambda e: e.order)

    def menu_entry(self, key: str) -> MenuEntry | None:
        return self._menu.get(key)

    def deep_link(self, kind: str) -> DeepLink | None:
        return self._links.get(kind)

    def deep_link_kinds(self) -> tuple[str, ...]:
        return tuple(self._links)

    def in_draft(self, state: State | None) -> bool:
        """Whether ``state`` is a step of a draft (another flow's "from anywhere" button must leave it be)."""
        spec = self.get(state.flow) if state is not None else None
        return spec is not None and state is not None and spec.is_draft(state.step)

    def anywhere(self, data: str, state: State | None, registered: bool) -> Anywhere | None:
        """The "from anywhere" handler that takes a press of ``data`` over ``state``, or None."""
        for spec, a in self._anywhere:
            if not data.startswith(a.prefix) or (a.registered and not registered):
                continue
            if a.reach is Reach.ALWAYS or state is None:
                return a
            if a.reach is Reach.OUTSIDE_DRAFTS and (state.flow == spec.name or not self.in_draft(state)):
                return a
            return None
        return None

    async def prompt(self, ctx: Ctx) -> bool:
        """Ask the question of the step in ``ctx.state`` again; False when its flow cannot."""
        spec = self.get(ctx.state.flow) if ctx.state is not None else None
        if spec is None or spec.prompt is None:
            return False
        await spec.prompt(ctx)
        return True
