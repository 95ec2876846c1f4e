"""Webhook delivery: pending updates POSTed one at a time, in order, to the bot's (loopback) URL with the
X-Telegram-Bot-Api-Secret-Token header; failures are retried with a growing pause, as Telegram does. A
response body carrying {"method": ...} is executed, like Telegram's reply-with-a-method."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import aiohttp

from .botapi import BotApi
from .errors import ApiError
from .state import World, now

log = logging.getLogger("sandbox.webhook")


class WebhookDelivery:
    def __init__(self, world: World, api: BotApi, *, timeout: float = 10.0, max_backoff: float = 2.0) -> None:
        self.world = world
        self.api = api
        self.timeout = timeout
        self.max_backoff = max_backoff
        self.delivered: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._task = asyncio.create_task(self._run(), name="sandbox-webhook")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        backoff = 0.05
        while not self.world.closing:
            hook = self.world.webhook
            if not hook.url or not self.world.pending:
                await self.world.wait_change(5.0)
                continue
            update = self.world.pending[0]
            error = await self._post(hook.url, hook.secret_token, update)
            if error is None:
                backoff = 0.05
                if self.world.pending and self.world.pending[0] is update:
                    self.world.pending.pop(0)
                self.delivered.append(update)
                self.world.changed()
                continue
            hook.last_error_date, hook.last_error_message = now(), error
            self.world.changed()
            await self.world.wait_change(backoff)
            backoff = min(self.max_backoff, backoff * 2)

    async def _post(self, url: str, secret: str | None, update: dict[str, Any]) -> str | None:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        try:
            async with self._session.post(url, data=json.dumps(update), headers=headers) as resp:
                body = await resp.read()
                if not 200 <= resp.status < 300:
                    return f"Wrong response from the webhook: {resp.status} {resp.reason}"
        except (aiohttp.ClientError, TimeoutError) as e:
            return f"Connection error: {type(e).__name__}"
        await self._run_reply(body)
        return None

    async def _run_reply(self, body: bytes) -> None:
        try:
            reply = json.loads(body) if body.strip() else None
        except ValueError:
            return
        if isinstance(reply, dict) and isinstance(reply.get("method"), str):
            values = {k: v for k, v in reply.items() if k != "method"}
            try:
                await self.api.call(reply["method"], values)
            except ApiError as e:
                log.info("webhook reply method %s failed: %s", reply["method"], e.description)
