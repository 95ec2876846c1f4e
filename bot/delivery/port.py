"""What the outbox sender needs of a channel: deliver one worded notice and say, in the channel's own words
turned into these, what became of it.

Each channel (bot/channels/<name>/) offers one ``Delivery``. The sender (bot/delivery/sender.py) picks it by
the row's channel, waits on the delivery's own limiter (every platform has its own limits), hands it the
notice as worded for that channel (bot/delivery/notices.py) and maps the outcome:

- a platform message id (or None): sent;
- ``RetryLater``: the platform asked to slow down; the row goes back without counting an attempt, and with
  ``whole_channel`` every send on the channel pauses;
- ``Deferred``: not now, for a reason of the channel's (WhatsApp: outside the 24-hour window with no template
  for the kind); the row goes back without counting an attempt;
- ``Unreachable``: the person blocked the bot or has left the platform; the row is "blocked";
- ``Refused``: the platform refused this message for good; the row "failed";
- anything else (``Transient``: a network or server error): tried again, when the notice kind allows, up to the
  outbox's attempts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.services.outbox import Claimed


class Limiter(Protocol):
    async def wait(self, chat_id: int) -> None:
        """Wait for a slot to send to ``chat_id`` within the channel's limits."""

    async def pause(self, seconds: float) -> None:
        """No send on the channel for ``seconds`` (the platform said so)."""


class Delivery(Protocol):
    channel: str  # the outbox rows' channel it sends ("telegram", "whatsapp")
    limiter: Limiter

    async def deliver(self, row: Claimed, payload: dict[str, Any]) -> int | str | None:
        """Send the worded notice ``payload`` to the row's chat; returns the platform's id of the (last) message,
        a number (Telegram) or a text (WhatsApp's wamid, by which a later "failed" status finds the row). Raises
        one of the errors below."""


class DeliveryError(Exception):
    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class RetryLater(DeliveryError):
    def __init__(self, seconds: float, reason: str = "", *, whole_channel: bool = True) -> None:
        super().__init__(reason or f"retry after {seconds}")
        self.seconds, self.whole_channel = seconds, whole_channel


class Deferred(DeliveryError):
    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


class Unreachable(DeliveryError):
    pass


class Refused(DeliveryError):
    pass


class Transient(DeliveryError):
    pass
