"""Fixtures for the sandbox tests: a started Sandbox on a free loopback port and a real aiogram Bot that
talks to it over HTTP exactly as to a self-hosted Bot API server."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

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
