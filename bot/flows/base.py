"""Channel-neutral conversation terms: an event comes in, screens go out. No aiogram here."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.flows.registry import Registry
    from bot.i18n import I18n, Translator
    from bot.services.appeals import AppealService
    from bot.services.broadcasts import BroadcastService
    from bot.services.budget import BudgetService
    from bot.services.media import MediaService
    from bot.services.meetings import MeetingService
    from bot.services.outbox import OutboxService
    from bot.services.reports import ReportService
    from bot.services.residents import ResidentService
    from bot.services.roles import RoleService
    from bot.services.tasks import TaskService
    from bot.services.territories import TerritoryService
    from storage.models import Resident
    from storage.state import State

EventKind = Literal["text", "command", "button", "contact", "location", "photo", "document", "voice", "other"]


@dataclass(frozen=True)
class Contact:
    phone: str
    user_id: int | None
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True)
class Event:
    kind: EventKind
    user_id: int
    chat_id: int
    text: str = ""  # message text or caption
    command: str | None = None  # "start" for "/start vote_5"
    args: str = ""  # "vote_5"
    data: str = ""  # button data
    contact: Contact | None = None
    location: tuple[float, float] | None = None
    file_id: str | None = None
    file_name: str = ""  # a document's name as sent
    language_code: str | None = None
    first_name: str = ""
    channel: str = "telegram"  # the channel it came from (bot/channels/): the person is found by (channel, user_id)
    phone: str = ""  # the sender's own number when the channel itself vouches for it (WhatsApp: the sender's id)


@dataclass(frozen=True)
class Button:
    """One option of a choice: pressing it sends ``data`` back (or opens ``url``)."""

    text: str
    data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Request:
    """A request for something the person's app sends with one press: their own phone number (``"phone"``) or a
    location (``"location"``). ``label`` names the press; ``answers`` are short replies offered beside it («Skip»,
    «« Back»), which come back as typed text, grouped in rows as a wide channel may show them."""

    kind: Literal["phone", "location"]
    label: str
    answers: tuple[tuple[str, ...], ...] = ()


@dataclass
class Screen:
    """One thing to say, in terms of what it means; the channel (bot/channels/) decides its shape.

    ``text`` is HTML (``<b>``, ``<i>``, ``<code>``, ``<a>``): anything a person typed must pass through ``esc``;
    a channel without HTML converts it. ``buttons`` is a choice among options, in rows a wide channel may keep
    (Telegram: an inline keyboard; a narrow channel: up to 3 buttons or a paged list). ``request`` asks for the
    phone or a location; ``request_over`` says such a request is over (Telegram takes its keyboard away).

    With ``photo`` (PNG or JPEG bytes, or a platform file id) the text is the photo's caption when it fits the
    channel's caption limit; a longer text is sent as a message of its own, then the photo. ``document``
    (bytes named ``filename``, or a file id) works the same way."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    request: Request | None = None
    request_over: bool = False
    notice: str | None = None  # a short acknowledgement of a press (Telegram: a pop-up)
    # said as a new message even when it answers a press: the pressed message (an old screen, e.g. the consent
    # the person agreed to or a receipt) keeps what it said
    keep_pressed: bool = False
    photo: bytes | str | None = None
    document: bytes | str | None = None
    filename: str = "file"


def clip(label: str, limit: int = 60) -> str:
    """A button label no longer than ``limit`` characters, cut at a word with "…" when it is longer."""
    if len(label) <= limit:
        return label
    cut = label[:limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rfind(" ")]
    return cut.rstrip(" ·:,›") + "…"


def esc(text: str | None, limit: int = 1000) -> str:
    """HTML-escape user text for a screen and bound its length."""
    text = text or ""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape(text, quote=False)


@dataclass
class Services:
    residents: ResidentService
    territories: TerritoryService
    roles: RoleService
    appeals: AppealService
    budget: BudgetService
    outbox: OutboxService
    tasks: TaskService
    reports: ReportService
    meetings: MeetingService
    broadcasts: BroadcastService
    media: MediaService


@dataclass
class Ctx:
    """What a flow step sees: the event, the resident, the texts of their language, the services."""

    event: Event
    i18n: I18n
    tr: Translator
    services: Services
    settings: Settings
    resident: Resident | None
    state: State | None
    flows: Registry  # every flow's declaration (bot/flows/registry.py): how one flow reaches another
    screens: list[Screen] = field(default_factory=list)
    # what happened that other channels must hear of, e.g. ("appeal_created", appeal_id); the engine hands
    # them to its effects sink after the state is saved
    effects: list[tuple[str, int]] = field(default_factory=list)

    @property
    def lang(self) -> str:
        return self.tr.lang

    def use_language(self, lang: str) -> None:
        self.tr = self.i18n(lang)

    async def file_of(self, media_id: int | None) -> str | bytes | None:
        """What this event's channel sends a media as, for a screen's photo or document: its id for it, or the
        bytes brought over from another channel (bot/services/media.py)."""
        return await self.services.media.for_channel(media_id, self.event.channel)

    async def adopt(self, kind: str, file_id: str | None) -> int | None:
        """A file this event's channel sent: its media id (None when it cannot be kept)."""
        return None if not file_id else await self.services.media.adopt(self.event.channel, kind, file_id)

    def show(self, text: str, buttons: list[list[Button]] | None = None, **kw: object) -> Screen:
        screen = Screen(text, buttons or [], **kw)  # type: ignore[arg-type]
        self.screens.append(screen)
        return screen
