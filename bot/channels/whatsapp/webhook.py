"""The WhatsApp Cloud API webhook: Meta's handshake, then signed POSTs of messages and statuses.

* GET ``webhook_path`` with ``hub.mode=subscribe`` and the configured ``hub.verify_token``: ``hub.challenge`` is
  echoed; anything else is 403.
* POST ``webhook_path``: the raw body (at most ``MAX_BODY`` bytes) must carry ``X-Hub-Signature-256:
  sha256=<HMAC-SHA256 of the body with the app secret>``, compared in constant time. A request without it is
  401, with a wrong one 403 (and with no app secret configured every POST is refused): nothing of it is read.
* Each message is handled in order per person: a person's messages take the chat's lock in arrival order, and a
  message whose wamid was handled already (Meta delivers again when an answer is slow or lost) is not handled
  again. The answer is 200 once the body's messages are handled or after ``ANSWER_WITHIN`` seconds, whichever
  comes first (the rest finish in the background): Meta wants a quick answer, and a crash before the answer
  leaves the message to be delivered again.
* Statuses (sent, delivered, read, failed) go to ``on_status`` (the outbox delivery's hook), else to the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from bot.channels.whatsapp import events
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.channels.whatsapp.events import Inbound, Status
from bot.config import WhatsAppSettings
from bot.flows.base import Screen
from bot.flows.engine import Conversations
from bot.i18n import I18n, pick_language
from bot.locks import KeyedLocks
from bot.throttle import Flood, too_fast

log = logging.getLogger("qatysu.whatsapp.webhook")
handled = logging.getLogger("qatysu.updates")
SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_BODY = 1 << 20  # Meta's payloads are a few kilobytes
ANSWER_WITHIN = 5.0
StatusHook = Callable[[Status], Awaitable[None]]
InboundHook = Callable[[int, datetime], Awaitable[bool]]  # (wa_id, at) → the account was there to record it


class Locks(Protocol):
    def hold(self, key: Any) -> AbstractAsyncContextManager[None]: ...


class Seen:
    """The wamids handled lately (in this process; ``redis``: across replicas, for a day)."""

    def __init__(self, redis: Any = None, prefix: str = "qatysu:wa:done:", keep: int = 100_000) -> None:
        self.redis, self.prefix, self.keep = redis, prefix, keep
        self._recent: OrderedDict[str, None] = OrderedDict()

    async def done(self, wamid: str) -> bool:
        if wamid in self._recent:
            return True
        return bool(self.redis is not None and await self.redis.exists(self.prefix + wamid))

    async def mark(self, wamid: str) -> None:
        self._recent[wamid] = None
        while len(self._recent) > self.keep:
            self._recent.popitem(last=False)
        if self.redis is not None:
            await self.redis.set(self.prefix + wamid, 1, ex=86_400)


def signed(app_secret: bytes, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(app_secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


class WhatsAppWebhook:
    def __init__(self, settings: WhatsAppSettings, channel: WhatsAppChannel, conversations: Conversations,
                 i18n: I18n, *, on_status: StatusHook | None = None, on_inbound: InboundHook | None = None,
                 locks: Locks | None = None, seen: Seen | None = None, flood: Flood | None = None) -> None:
        self.settings, self.channel, self.conversations, self.i18n = settings, channel, conversations, i18n
        self.flood = flood  # the flood throttle (bot/throttle.py), shared with Telegram's through its store
        self.on_status, self.on_inbound = on_status, on_inbound
        self.locks: Locks = locks or KeyedLocks()
        self.seen = seen or Seen()
        self._tasks: set[asyncio.Task[None]] = set()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(self.settings.webhook_path, self.on_verify)
        app.router.add_post(self.settings.webhook_path, self.on_post)

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        self.add_routes(app)
        return app

    async def on_verify(self, request: web.Request) -> web.Response:
        q, token = request.query, self.settings.verify_token
        given = q.get("hub.verify_token", "")
        if token is None or q.get("hub.mode") != "subscribe" or not hmac.compare_digest(
                given.encode(), token.get_secret_value().encode()):
            log.warning("refused a WhatsApp webhook handshake from %s", request.remote)
            return web.Response(status=403)
        return web.Response(text=q.get("hub.challenge", "")[:200])

    async def on_post(self, request: web.Request) -> web.Response:
        header = request.headers.get(SIGNATURE_HEADER)
        if header is None:
            log.warning("refused an unsigned WhatsApp webhook from %s", request.remote)
            return web.Response(status=401)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413)
        try:
            body = await request.read()  # the whole body, bounded by the application's client_max_size
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413)
        if len(body) > MAX_BODY:
            return web.Response(status=413)
        secret = self.settings.app_secret
        if secret is None or not signed(secret.get_secret_value().encode(), body, header):
            log.warning("refused a WhatsApp webhook with a wrong signature from %s", request.remote)
            return web.Response(status=403)
        try:
            payload = json.loads(body)
        except ValueError:
            return web.Response(status=400)
        inbound, statuses = events.parse(payload, self.settings.phone_number_id)
        for st in statuses:
            await self._status(st)
        if inbound:
            task = asyncio.create_task(self._all(inbound))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), ANSWER_WITHIN)
        return web.Response(text="ok")

    async def close(self) -> None:
        """Let the messages in hand finish."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=ANSWER_WITHIN * 4)

    async def _status(self, st: Status) -> None:
        if self.on_status is None:
            log.info("whatsapp status %s of %s for %s %s", st.status, st.wamid, st.recipient, st.errors or "")
            return
        try:
            await self.on_status(st)
        except Exception:  # noqa: BLE001 - a status is information; the message is not to be delivered again
            log.exception("the status hook failed for %s", st.wamid)

    async def _all(self, inbound: list[Inbound]) -> None:
        for m in inbound:
            try:
                await self.handle(m)
            except Exception:  # noqa: BLE001 - one message's failure leaves the others and the answer alone
                log.exception("whatsapp message %s of %s failed", m.wamid, m.wa_id)

    async def handle(self, m: Inbound) -> None:
        """One person's message, once, after their earlier ones; too many at once are dropped with a warning."""
        if await self._dropped(m):
            return
        async with self.locks.hold(f"wa:{m.wa_id}"):
            if await self.seen.done(m.wamid):
                log.info("whatsapp message %s was handled already: not again", m.wamid)
                return
            recorded = self.on_inbound is not None and await self.on_inbound(m.wa_id, m.at)
            await self._answer(m)
            if self.on_inbound is not None and not recorded:  # the account was made just now (consent)
                await self.on_inbound(m.wa_id, m.at)
            await self.seen.mark(m.wamid)
        handled.info("handled whatsapp message=%s chat=%s", m.wamid, m.wa_id)
        try:
            await self.channel.wa.mark_message_as_read(m.wamid)
        except Exception:  # noqa: BLE001 - a read receipt is a courtesy
            log.debug("could not mark %s read", m.wamid, exc_info=True)

    async def _dropped(self, m: Inbound) -> bool:
        """The flood throttle, before the person's lock: a dropped message is answered at once (the first with a
        warning, a dropped press with the same warning again), never handled."""
        event = events.to_event(m) if self.flood is not None else None
        if event is None or self.flood is None:
            return False
        verdict = await self.flood.judge(event)
        if verdict.admitted:
            return False
        text = verdict.repeat
        if verdict.warn:
            text = await too_fast(self.i18n, self.conversations.services, event)
            await self.flood.warned(event, text)
        if text:
            await self.channel.send(m.wa_id, [Screen(text)])
        log.info("whatsapp message %s of %s dropped: too many at once", m.wamid, m.wa_id)
        return True

    async def _answer(self, m: Inbound) -> None:
        page = events.page_of(m)
        if page is not None and await self.channel.page(m.wa_id, page):
            return
        event = events.to_event(m)
        if event is None:
            if m.kind not in events.SILENT:
                tr = self.i18n(await self.language_of(m.wa_id))
                await self.channel.send(m.wa_id, [Screen(tr._(
                    "I can read text, photos, documents, locations and voice messages, but not this kind of "
                    "message. Please send it in one of those ways."))], tr.lang)
            return

        async def deliver(screens: list[Screen]) -> None:
            await self.channel.send(m.wa_id, screens)

        await self.conversations.handle(event, deliver)

    async def language_of(self, chat_id: int) -> str:
        """The reader's language: the resident's, or the one chosen in registration so far, or the default."""
        services, default = self.conversations.services, self.conversations.settings.locale.default
        resident = await services.residents.get(chat_id, events.CHANNEL)
        if resident is not None and resident.language:
            return resident.language
        state = await self.conversations.store.get(events.CHANNEL, chat_id)
        return pick_language(state.data.get("lang") if state else None, None, default)
