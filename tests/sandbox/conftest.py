"""Fixtures for the sandbox tests: a started Sandbox on a free loopback port and a real aiogram Bot that
talks to it over HTTP exactly as to a self-hosted Bot API server."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402

from sandbox import Sandbox  # noqa: E402

TOKEN = "123456789:SANDBOX-test-token_0"


def make_bot(sandbox: Sandbox, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.api_base)))


async def close_bot(b: Bot) -> None:
    """Bot.session.close() waits 250 ms for TLS connections to wind down; over plain loopback HTTP there are
    none, so close aiogram's aiohttp session directly when it is there (keeps the suite fast)."""
    inner = getattr(b.session, "_session", None)
    if inner is not None and hasattr(inner, "close"):
        if not inner.closed:
            await inner.close()
    else:
        await b.session.close()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb = Sandbox(TOKEN)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


@pytest.fixture
async def free_sandbox() -> AsyncIterator[Sandbox]:
    """Rate limits off, for tests that send many messages quickly."""
    sb = Sandbox(TOKEN, rate_limits=False)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


@pytest.fixture
async def bot_factory() -> AsyncIterator[Callable[..., Bot]]:
    """make(sandbox, token=TOKEN) -> Bot; every bot made is closed after the test."""
    made: list[Bot] = []

    def make(sb: Sandbox, token: str = TOKEN) -> Bot:
        made.append(make_bot(sb, token))
        return made[-1]

    try:
        yield make
    finally:
        for b in made:
            await close_bot(b)


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    b = make_bot(sandbox)
    try:
        yield b
    finally:
        await close_bot(b)


@pytest.fixture
async def resident(sandbox: Sandbox) -> dict:
    """A resident who has pressed Start, so the bot may write to them."""
    return await sandbox.create_user("Әлия", last_name="Серікова", language_code="kk", started=True)


# --- WhatsApp -------------------------------------------------------------------------------------------
class FakeWaBot:
    """A bot's WhatsApp webhook endpoint on a free loopback port: answers the verification handshake when the
    verify token matches, records every POST (raw body, signature header, JSON) and answers it with the next
    status in `answers` (200 once they run out)."""

    def __init__(self, verify_token: str) -> None:
        self.verify_token = verify_token
        self.posts: list[dict] = []
        self.answers: list[int] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def verify(request: web.Request) -> web.Response:
            q = request.query
            if q.get("hub.mode") == "subscribe" and q.get("hub.verify_token") == self.verify_token:
                return web.Response(text=q.get("hub.challenge", ""))
            return web.Response(status=403)

        async def receive(request: web.Request) -> web.Response:
            raw = await request.read()
            self.posts.append(
                {"raw": raw, "signature": request.headers.get("X-Hub-Signature-256"), "json": json.loads(raw)}
            )
            return web.Response(status=self.answers.pop(0) if self.answers else 200)

        app = web.Application()
        app.router.add_get("/wa", verify)
        app.router.add_post("/wa", receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/wa"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def messages(self) -> list[dict]:
        """Inbound messages (not statuses) the bot received, in order."""
        out = []
        for post in self.posts:
            value = post["json"]["entry"][0]["changes"][0]["value"]
            out.extend(value.get("messages", []))
        return out

    def statuses(self) -> list[dict]:
        out = []
        for post in self.posts:
            value = post["json"]["entry"][0]["changes"][0]["value"]
            out.extend(value.get("statuses", []))
        return out


@pytest.fixture
async def wa_bot(sandbox: Sandbox) -> AsyncIterator[FakeWaBot]:
    """A fake bot endpoint subscribed to the sandbox's WhatsApp webhooks (handshake done)."""
    fake = FakeWaBot(sandbox.wa.config.verify_token)
    await fake.start()
    try:
        await sandbox.wa_set_webhook(fake.url)
        yield fake
    finally:
        await fake.stop()
