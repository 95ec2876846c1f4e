"""Webhooks to the bot, as Meta delivers them: the verification handshake (GET with hub.mode=subscribe,
hub.verify_token, hub.challenge; the challenge must come back as the body), then every event POSTed as a
`whatsapp_business_account` payload signed with `X-Hub-Signature-256: sha256=<hmac of the raw body with the
app secret>`. One person's events go one at a time and in order; a non-2xx answer is retried a few times
with a growing pause (Meta keeps trying for days; the sandbox gives up after `attempts` and records it)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ..botapi import is_loopback_host
from ..errors import ControlError
from .state import WaWorld

log = logging.getLogger("sandbox.whatsapp.webhook")


def signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not is_loopback_host(parts.hostname):
        raise ControlError("the WhatsApp webhook URL must be http(s) on a loopback host (127.0.0.1, ::1, localhost)")
    return url


class WaWebhook:
    def __init__(self, wa: WaWorld, *, timeout: float = 10.0, attempts: int = 5, first_pause: float = 0.05) -> None:
        self.wa = wa
        self.timeout = timeout
        self.attempts = attempts
        self.first_pause = first_pause
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._task = asyncio.create_task(self._run(), name="sandbox-wa-webhook")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def verify(self, url: str, verify_token: str | None = None) -> None:
        """Meta's subscription handshake; the URL is kept only when the bot echoes the challenge. The verify
        token is the configured one unless the subscribing call names its own (as the Graph API's do)."""
        check_url(url)
        assert self._session is not None, "the sandbox is not started"
        challenge = str(secrets.randbelow(10**9) + 10**9)
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": verify_token or self.wa.config.verify_token,
            "hub.challenge": challenge,
        }
        try:
            async with self._session.get(url, params=params) as resp:
                text = (await resp.text()).strip()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ControlError(f"webhook verification failed: cannot reach {url} ({type(e).__name__})") from None
        if status != 200 or text != challenge:
            raise ControlError(f"webhook verification failed: {url} answered {status} {text[:80]!r}, not the challenge")
        self.wa.config.webhook_url = url
        if verify_token:
            self.wa.config.verify_token = verify_token
        self.wa.world.changed()

    async def _run(self) -> None:
        busy: dict[str, asyncio.Task[None]] = {}
        loop = asyncio.get_running_loop()
        world = self.wa.world
        try:
            while not world.closing:
                url = self.wa.config.webhook_url
                if not url or not self.wa.outbox:
                    await world.wait_change(5.0)
                    continue
                blocked = set(busy)
                soonest = None
                for event in list(self.wa.outbox):
                    if event["key"] in blocked:
                        continue
                    blocked.add(event["key"])  # later events of this person wait for this one
                    due = event.get("due", 0.0)
                    if due > loop.time():
                        soonest = due if soonest is None else min(soonest, due)
                        continue
                    busy[event["key"]] = asyncio.create_task(self._deliver(url, event, busy))
                wait = 5.0 if soonest is None else max(0.005, soonest - loop.time())
                await world.wait_change(wait)
        finally:
            for task in list(busy.values()):
                task.cancel()

    async def _deliver(self, url: str, event: dict[str, Any], busy: dict[str, asyncio.Task[None]]) -> None:
        try:
            error = await self._post(url, event["body"])
        finally:
            busy.pop(event["key"], None)
        event["attempts"] += 1
        if error is None:
            self._done(event, self.wa.delivered)
        elif event["attempts"] >= self.attempts:
            log.warning("WhatsApp webhook gave up after %d attempts: %s", event["attempts"], error)
            event["error"] = error
            self._done(event, self.wa.undeliverable)
        else:
            event["error"] = error
            event["due"] = asyncio.get_running_loop().time() + self.first_pause * 2 ** (event["attempts"] - 1)
        self.wa.world.changed()

    def _done(self, event: dict[str, Any], into: list[dict[str, Any]]) -> None:
        with contextlib.suppress(ValueError):
            self.wa.outbox.remove(event)
        into.append(event["body"] if into is self.wa.delivered else event)

    async def _post(self, url: str, payload: dict[str, Any]) -> str | None:
        assert self._session is not None
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature(self.wa.config.app_secret, raw),
            "User-Agent": "facebookexternalua",
        }
        try:
            async with self._session.post(url, data=raw, headers=headers) as resp:
                await resp.read()
                if not 200 <= resp.status < 300:
                    return f"{resp.status} {resp.reason}"
        except (aiohttp.ClientError, TimeoutError) as e:
            return f"connection error: {type(e).__name__}"
        return None
