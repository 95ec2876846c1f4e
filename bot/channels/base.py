"""The channel port: what every messaging platform adapter offers the conversations.

A channel turns a platform update into an ``Event`` (which names the channel), renders ``Screen``s within its
``Capabilities`` and sends them. The conversations (``bot/flows``) never see a platform: they say what a screen
means (a choice among options, a request for the phone or a location, a photo, a document) and each channel
decides the shape (Telegram: an inline keyboard, a reply keyboard; a narrow channel: 3 buttons or a paged list).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.flows.base import Event, Screen


@dataclass(frozen=True)
class Capabilities:
    """What a channel can show in one message."""

    max_buttons: int  # options shown as buttons on one message
    list_rows: int  # options in a list message (with "more" rows for paging); 0: no list messages
    max_label: int  # characters of a button label or a list row's title
    edits: bool  # a pressed message can be replaced by the answer
    html: bool  # <b>, <i>, <code>, <a> in texts
    contact_request: bool  # a press that shares the person's own phone number
    location_request: bool  # a press that shares a location
    text_limit: int  # characters of a text message
    caption_limit: int  # characters of a photo's or document's caption
    options_text_limit: int = 0  # characters of the text that carries buttons or a list (0: text_limit)
    row_description: int = 0  # characters of a list row's description (0: rows have none)

    @property
    def options_text(self) -> int:
        return self.options_text_limit or self.text_limit


TELEGRAM = Capabilities(max_buttons=100, list_rows=0, max_label=64, edits=True, html=True, contact_request=True,
                        location_request=True, text_limit=4096, caption_limit=1024)

# what a WhatsApp adapter will have: 3 reply buttons, or a list of 10 rows (title 24, description 72) behind a
# button; 1024 characters beside buttons; no edits, no HTML (WhatsApp's own *bold* and _italic_); no contact
# request (the sender's number is their WhatsApp id), a location request message
NARROW = Capabilities(max_buttons=3, list_rows=10, max_label=20, edits=False, html=False, contact_request=False,
                      location_request=True, text_limit=4096, caption_limit=1024, options_text_limit=1024,
                      row_description=72)


@runtime_checkable
class Channel(Protocol):
    """One messaging platform behind the conversations."""

    name: str  # "telegram", the Event's channel
    capabilities: Capabilities

    def event(self, update: Any) -> Event | None:
        """A platform update as the conversations' Event, or None when it is none of theirs."""

    def render(self, chat_id: int, screen: Screen) -> list[Any]:
        """The platform messages that show ``screen`` in a chat, within the capabilities."""

    async def send(self, chat_id: int, screens: list[Screen]) -> None:
        """Show the screens in a chat, in order."""


class NotShown(Exception):
    """A channel could not post or edit a message. ``retry``: it may work later (the platform was away, a rate
    limit); otherwise it never will as asked (the message is gone, the chat refuses)."""

    def __init__(self, reason: str, *, retry: bool = True) -> None:
        super().__init__(reason)
        self.retry = retry


class Board(Protocol):
    """A message the bot keeps up to date in a chat (a broadcast's progress in the secretary's chat)."""

    async def post(self, chat_id: int, screen: Screen) -> int:
        """Show ``screen`` as a new message; its id, to edit it later. Raises NotShown."""

    async def edit(self, chat_id: int, message_id: int, screen: Screen) -> None:
        """Replace the message with ``screen`` (the same text and buttons again is no error). Raises NotShown."""
