"""Every screen the conversations answer with in a dispatcher-level test also goes through the narrow renderer
(bot/channels/narrow.py, what a WhatsApp adapter will need), in every language: anything such a channel would
refuse is written down here, and the test that drew it fails (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from bot.app import App
from bot.channels.narrow import NarrowRenderer, Words, check
from bot.flows.base import Screen
from bot.i18n import LANGUAGES

PROBLEMS: list[str] = []  # what the screens of the running test would have had refused
SEEN = [0]  # screens checked in this session


class NarrowTap:
    def __init__(self, app: App) -> None:
        self.renderers = [NarrowRenderer(Words.of(app.i18n(lang))) for lang in LANGUAGES]
        conversations = app.conversations
        cls = type(conversations)  # looked up at each call: a test may patch the class

        async def tapped_handle(*a: Any, **kw: Any) -> list[Screen]:
            return self.see(await cls.handle(conversations, *a, **kw))

        async def tapped_edited(*a: Any, **kw: Any) -> list[Screen]:
            return self.see(await cls.edited(conversations, *a, **kw))

        conversations.handle = tapped_handle  # type: ignore[method-assign]
        conversations.edited = tapped_edited  # type: ignore[method-assign]

    def see(self, screens: list[Screen]) -> list[Screen]:
        for screen in screens:
            SEEN[0] += 1
            for renderer in self.renderers:
                PROBLEMS.extend(check(screen, renderer))
        return screens
