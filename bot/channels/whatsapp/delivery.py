"""The outbox's WhatsApp delivery (bot/delivery/port.py): a worded notice as Cloud API messages, within the
24-hour window or as an approved template outside it, and WhatsApp's error codes as the port's outcomes.

Inside the window (the resident wrote within 24 hours) a notice goes as the conversations' screens go, through
the channel (bot/channels/whatsapp/channel.py: the narrow renderer, media, paged lists). Outside it, the notice goes as
its kind's template in the reader's language when config names one and its text fits a template parameter
(templates.py). Otherwise it waits (``Deferred``) and is tried again every ``RECHECK_SECONDS`` and at once when
the resident writes (the window opens), for ``wait_hours``; after that it is undeliverable (``Refused``), which
the appeal card and the broadcast report show.

Error codes (Meta's Cloud API reference): 130429 (throughput), 131048 (spam rate), 131056 (pair rate) and 4/80007
(API calls): retry later; 131047 (re-engagement: the window closed meanwhile): the template, or wait; 131026
(undeliverable: not on WhatsApp, old app, the number blocked the business): unreachable; 131000/131016, 1/2 and
network errors: transient; anything else: refused.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from pywa_async.errors import WhatsAppError
from pywa_async.types.templates import TemplateLanguage

from bot.channels.whatsapp import templates
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.delivery.port import Deferred, Limiter, Refused, RetryLater, Transient, Unreachable
from bot.flows.base import Button, Screen

if TYPE_CHECKING:
    from bot.services.outbox import Claimed

log = logging.getLogger("qatysu.whatsapp")
WINDOW = timedelta(hours=24)
RECHECK_SECONDS = 600
SLOW_DOWN = {4, 80007, 130429, 131048}  # the whole number must slow down
PAIR_RATE = 131056  # too many messages to this one person
REENGAGE = 131047
UNDELIVERABLE = 131026
TRANSIENT = {1, 2, 131000, 131016}

LastInbound = Callable[[int], Awaitable[datetime | None]]  # chat id -> the person's last message to us


def screens_of(payload: dict[str, Any]) -> list[Screen]:
    """A worded notice (bot/delivery/notices.py) as the screens it means; a file id is WhatsApp's own media id."""
    out = []
    while payload:
        rows = payload.get("buttons") or []
        buttons = [[Button(b["text"], b.get("data"), b.get("url")) for b in row] for row in rows]
        out.append(Screen(payload.get("text") or "", buttons, photo=payload.get("photo"),
                          document=payload.get("document"), filename=payload.get("filename") or "file"))
        payload = payload.get("then") or {}
    return out


class WhatsAppDelivery:
    channel = "whatsapp"

    def __init__(self, channel: WhatsAppChannel, limiter: Limiter, last_inbound: LastInbound,
                 template_names: dict[str, dict[str, str]], *, wait_hours: float = 72,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.channel, self.wa, self.limiter, self.last_inbound = channel, channel.wa, limiter, last_inbound
        self.template_names, self.wait, self.clock = template_names, timedelta(hours=wait_hours), clock

    async def deliver(self, row: Claimed, payload: dict[str, Any]) -> int | str | None:
        seen = await self.last_inbound(row.chat_id)
        now = self.clock()
        try:
            if seen is not None and now - seen < WINDOW:
                try:
                    return await self._free_form(row, payload)
                except WhatsAppError as exc:
                    if exc.code != REENGAGE:
                        raise
            return await self._template(row, payload, now)
        except WhatsAppError as exc:
            raise _outcome(exc) from exc
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            raise Transient(repr(exc)) from exc

    async def _free_form(self, row: Claimed, payload: dict[str, Any]) -> str | None:
        return await self.channel.send(row.chat_id, screens_of(payload), row.language or self.channel.i18n.default)

    async def _template(self, row: Claimed, payload: dict[str, Any], now: datetime) -> str | None:
        lang = row.language or "kk"
        name = self.template_names.get(row.kind, {}).get(lang)
        text = templates.flatten(templates.payload_text(payload)) if name else ""
        if not name or not text:
            why = "no template for this notice" if not name else "the notice is too long for a template"
            if (row.created_at or now) + self.wait <= now:
                raise Refused(f"undeliverable outside WhatsApp's 24-hour window: {why}")
            raise Deferred(RECHECK_SECONDS, f"waiting for the 24-hour window: {why}")
        sent = await self.wa.send_template(str(row.chat_id), name=name, language=TemplateLanguage(lang), params=[
            {"type": "body", "parameters": [{"type": "text", "text": text}]}])
        return getattr(sent, "id", None)


def _outcome(exc: WhatsAppError) -> Exception:
    reason = f"{exc.code}: {exc.message}"
    if exc.code in SLOW_DOWN:
        return RetryLater(30, reason)
    if exc.code == PAIR_RATE:
        return RetryLater(6, reason, whole_channel=False)
    if exc.code == REENGAGE:
        return Deferred(RECHECK_SECONDS, reason)
    if exc.code == UNDELIVERABLE:
        return Unreachable(reason)
    if exc.code in TRANSIENT or getattr(exc, "is_transient", False):
        return Transient(reason)
    return Refused(reason)
