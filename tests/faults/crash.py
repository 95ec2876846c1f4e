"""Killing the bot at a chosen Bot API call, and starting it again over the same database.

A kill freezes the old process at that call (``before``: the request never reached Telegram; ``after``: Telegram
got it but the bot never heard back) and everything still running in it is cancelled, as when the process dies.
The new process gets a new app built by bot/app.py; Telegram (the chats and topics people see) carries over.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any

from aiogram import Bot
from aiogram.methods import TelegramMethod

from bot.app import App, build_app
from bot.config import Settings
from tests.conftest import OPERATOR_CHAT
from tests.support import notices
from tests.support.telegram import RecordingSession, Telegram


class KillingSession(RecordingSession):
    def __init__(self, kill_at: int | None = None, mode: str = "before") -> None:
        super().__init__()
        self.kill_at, self.mode = kill_at, mode
        self.count = 0
        self.killed = asyncio.Event()
        self.killed_on: str | None = None

    async def make_request(self, bot: Bot, method: TelegramMethod, timeout: int | None = None):  # noqa: ASYNC109
        if self.killed.is_set():
            await asyncio.Event().wait()  # the process is gone: nothing more happens in it
        self.count += 1
        if self.kill_at is not None and self.count == self.kill_at:
            self.killed_on = method.__api_method__
            if self.mode == "after":
                with contextlib.suppress(Exception):
                    await super().make_request(bot, method, timeout)
            self.killed.set()
            await asyncio.Event().wait()
        return await super().make_request(bot, method, timeout)

    def carry_over_from(self, old: RecordingSession) -> None:
        """What Telegram keeps across the bot's restart: messages, topics, the forum flag."""
        self.messages.update(old.messages)
        self._ids = old._ids
        self.forum_chats |= old.forum_chats
        for chat, topics in old.topics.items():
            self.topics.setdefault(chat, {}).update(topics)
        self.calls = list(old.calls)
        self.count = 0


async def run_until_killed(session: KillingSession, work: Awaitable[Any]) -> bool:
    """Run ``work``; True when the session's kill point was reached (the work was cancelled there)."""
    task = asyncio.ensure_future(work)
    killed = asyncio.ensure_future(session.killed.wait())
    done, _ = await asyncio.wait({task, killed}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        killed.cancel()
        await asyncio.gather(killed, return_exceptions=True)
        task.result()
        return False
    task.cancel()  # cancels what it awaits too (a sender's gathered workers)
    await asyncio.gather(task, return_exceptions=True)
    return True


async def start(settings: Settings, old: RecordingSession | None = None, kill_at: int | None = None,
                mode: str = "before") -> tuple[App, KillingSession, Telegram]:
    session = KillingSession(kill_at, mode)
    session.forum_chats.add(OPERATOR_CHAT)
    if old is not None:
        session.carry_over_from(old)
    app = await build_app(settings, session=session)
    notices.register(app)
    return app, session, Telegram(app, session)


async def die(app: App) -> None:
    """The old process is gone: drop its connections (a killed process's are closed by the OS)."""
    with contextlib.suppress(Exception):
        await app.engine.dispose()
