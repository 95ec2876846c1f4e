"""Webhook delivery, as Telegram's Bot API server does it: pending updates POSTed to the bot's (loopback) URL
with the X-Telegram-Bot-Api-Secret-Token header, up to ``max_connections`` requests at once, but one chat's
updates one at a time and in order (its next update only after the previous one was answered with a 2xx).
Failures are retried with a growing pause; the chat waits meanwhile. A response body carrying
{"method": ...} is executed, like Telegram's reply-with-a-method."""

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

    @staticmethod
    def queue_of(update: dict[str, Any]) -> Any:
        """Telegram's per-chat queue: the chat of a message or of a pressed button's message, else the sender."""
        for kind in ("message", "edited_message", "channel_post", "edited_channel_post", "business_message"):
            if kind in update:
                return ("chat", update[kind]["chat"]["id"])
        cb = update.get("callback_query")
        if cb is not None:
            return ("chat", cb["message"]["chat"]["id"]) if cb.get("message") else ("chat", cb["from"]["id"])
        return ("update", update["update_id"])

    async def _run(self) -> None:
        busy: dict[Any, asyncio.Task[None]] = {}  # a chat's queue → its update in flight
        retry_at: dict[int, float] = {}  # update id → not before (a failed delivery's pause)
        backoff: dict[int, float] = {}
        loop = asyncio.get_running_loop()

        async def deliver(update: dict[str, Any], queue: Any) -> None:
            hook = self.world.webhook
            try:
                error = await self._post(hook.url, hook.secret_token, update)
            finally:
                busy.pop(queue, None)
            uid = update["update_id"]
            if error is None:
                retry_at.pop(uid, None)
                backoff.pop(uid, None)
                with contextlib.suppress(ValueError):
                    self.world.pending.remove(update)
                self.delivered.append(update)
            else:
                hook.last_error_date, hook.last_error_message = now(), error
                pause = backoff.get(uid, 0.025) * 2
                backoff[uid] = min(self.max_backoff, pause)
                retry_at[uid] = loop.time() + backoff[uid]
            self.world.changed()

        try:
            while not self.world.closing:
                hook = self.world.webhook
                if not hook.url or not self.world.pending:
                    await self.world.wait_change(5.0)
                    continue
                blocked: set[Any] = set(busy)
                soonest = None
                for update in list(self.world.pending):
                    if len(busy) >= max(1, hook.max_connections):
                        break
                    queue = self.queue_of(update)
                    if queue in blocked:
                        continue
                    blocked.add(queue)  # later updates of this chat wait for this one
                    due = retry_at.get(update["update_id"], 0.0)
                    if due > loop.time():
                        soonest = due if soonest is None else min(soonest, due)
                        continue
                    busy[queue] = asyncio.create_task(deliver(update, queue))
                wait = 5.0 if soonest is None else max(0.005, soonest - loop.time())
                await self.world.wait_change(wait)
        finally:
            for task in list(busy.values()):
                task.cancel()

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
