"""End to end: the bot process (serve() from bot/runner.py) talks HTTP to the sandbox with aiogram's own
client; the tests act as people through the sandbox."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.app import App, build_app
from bot.channels.whatsapp import templates as wa_templates
from bot.config import Settings
from bot.runner import serve
from bot.sandbox_mode import TOKEN, DemoPeople, demo_people, sandbox_settings, seed_demo
from sandbox import Sandbox


@dataclass
class Live:
    sb: Sandbox
    app: App
    people: DemoPeople

    def last(self, chat_id: int, thread_id: int | None = None) -> dict[str, Any]:
        msgs = self.sb.bot_messages(chat_id, thread_id)
        assert msgs, f"the bot has not written to {chat_id}"
        return msgs[-1]

    async def expect(self, chat_id: int, text: str, thread_id: int | None = None,
                     timeout: float = 20) -> dict:  # noqa: ASYNC109 - a test deadline
        """Wait until one of the bot's messages in the chat (new or edited) contains ``text``."""

        def found():
            return next((m for m in reversed(self.sb.bot_messages(chat_id, thread_id))
                         if text in (m.get("html") or m.get("caption") or "")), None)

        return await self.sb.wait_until(found, timeout, f"{text!r} in chat {chat_id}")

    async def card(self, number: str, timeout: float = 20) -> dict:  # noqa: ASYNC109 - a test deadline
        """Wait for the appeal's card in the operator chat: the message naming it that carries the card's buttons
        (the resident's files relayed into the topic after it name the appeal too, and may already be there)."""
        chat = self.sb.operator_chat_id

        def found():
            return next((m for m in reversed(self.sb.bot_messages(chat, None))
                         if number in (m.get("html") or "") and m.get("reply_markup")), None)

        return await self.sb.wait_until(found, timeout, f"the card of {number} in chat {chat}")

    async def press(self, user_id: int, label: str, chat_id: int | None = None) -> None:
        """Press the newest inline button whose label contains ``label``."""
        chat_id = chat_id or user_id
        for m in reversed(self.sb.bot_messages(chat_id)):
            rows = (m.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in (b for row in rows for b in row):
                if label in b["text"]:
                    qid = await self.sb.press_button(user_id, m["message_id"], chat_id=chat_id,
                                                     data=b["callback_data"])
                    await self.sb.wait_for_callback_answer(qid)
                    return
        raise AssertionError(f"no button {label!r} in chat {chat_id}")


@contextlib.asynccontextmanager
async def running_bot(settings: Settings, sb: Sandbox) -> AsyncIterator[Live]:
    """The bot (serve(), as `qatysu run` does) with the demo data, against the started sandbox ``sb``."""
    people = await demo_people(sb)
    settings.sandbox.database_url = settings.database.url
    app = await build_app(sandbox_settings(settings, sb, people))
    app.whatsapp_subscribe = sb.wa_set_webhook  # as start_sandbox does: the WhatsApp stand-in posts to the bot
    sb.wa_set_templates(wa_templates.definitions(app.i18n))  # and knows the templates as approved
    await seed_demo(app)
    task = asyncio.create_task(serve(app, handle_signals=False))
    await sb.wait_until(lambda: sb.commands(language_code="kk"), 10, "the bot to start")
    try:
        yield Live(sb, app, people)
    finally:
        with contextlib.suppress(RuntimeError):
            await app.dp.stop_polling()
        await asyncio.wait_for(task, 15)
        await app.close()


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    sb = Sandbox(TOKEN)
    await sb.start()
    try:
        async with running_bot(settings, sb) as bot:
            yield bot
    finally:
        await sb.stop()
