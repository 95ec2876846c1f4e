"""WhatsApp behind the channel port (bot/channels/base.py): Cloud API messages in, narrow screens out.

Screens take the narrow renderer's shapes (bot/channels/narrow.py) in the reader's language; each message goes
out through ``send.send_message``. A list longer than one message is paged: the last paged screen of each chat is
kept in memory, so a «More ›» press (``pg:<n>``) redraws page n of it without asking the conversations.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from pywa_async import WhatsApp

from bot.channels.base import NARROW, Capabilities
from bot.channels.narrow import Message, NarrowRenderer, Words
from bot.channels.whatsapp import events
from bot.channels.whatsapp.send import send_message
from bot.flows.base import Event, Screen
from bot.i18n import I18n

log = logging.getLogger("qatysu.whatsapp")
LanguageOf = Callable[[int], Awaitable[str]]
KEPT_LISTS = 10_000  # chats whose last paged list is kept for «More ›»


class WhatsAppChannel:
    name = events.CHANNEL
    capabilities: Capabilities = NARROW

    def __init__(self, wa: WhatsApp, i18n: I18n, language_of: LanguageOf | None = None) -> None:
        self.wa, self.i18n = wa, i18n
        self.language_of = language_of
        self._renderers: dict[str, NarrowRenderer] = {}
        self._lists: OrderedDict[int, tuple[Screen, str]] = OrderedDict()

    def renderer(self, lang: str) -> NarrowRenderer:
        if lang not in self._renderers:
            self._renderers[lang] = NarrowRenderer(Words.of(self.i18n(lang)), self.capabilities)
        return self._renderers[lang]

    def event(self, update: object) -> Event | None:
        return events.to_event(update) if isinstance(update, events.Inbound) else None

    def render(self, chat_id: int, screen: Screen, lang: str | None = None, page: int = 0) -> list[Message]:
        return self.renderer(lang or self.i18n.default).render(screen, page)

    async def send(self, chat_id: int, screens: list[Screen], lang: str | None = None) -> str | None:
        """Show the screens in the chat, in order (``lang``: the reader's language; looked up when not given).
        Returns the last message's wamid."""
        if not screens:
            return None
        if lang is None:
            lang = await self.language_of(chat_id) if self.language_of is not None else self.i18n.default
        wamid = None
        for screen in screens:
            if self.renderer(lang).pages(screen) > 1:
                self._keep(chat_id, screen, lang)
            wamid = await self._send_screen(chat_id, screen, lang, 0) or wamid
        return wamid

    async def page(self, chat_id: int, page: int) -> bool:
        """Redraw page ``page`` of the chat's last paged list; False when it is not kept (or has no such page)."""
        kept = self._lists.get(chat_id)
        if kept is None or not 0 <= page < self.renderer(kept[1]).pages(kept[0]):
            return False
        await self._send_screen(chat_id, kept[0], kept[1], page)
        return True

    def _keep(self, chat_id: int, screen: Screen, lang: str) -> None:
        self._lists[chat_id] = (screen, lang)
        self._lists.move_to_end(chat_id)
        while len(self._lists) > KEPT_LISTS:
            self._lists.popitem(last=False)

    async def _send_screen(self, chat_id: int, screen: Screen, lang: str, page: int) -> str | None:
        to, wamid = str(chat_id), None
        for m in self.render(chat_id, screen, lang, page):
            if m.kind in ("photo", "document"):
                media = screen.photo if m.kind == "photo" else screen.document
                if isinstance(media, str) and not media.isdigit():  # another platform's id: nothing to show here
                    log.warning("a %s for chat %s has no WhatsApp media: sent without it", m.kind, chat_id)
                    if m.body:
                        wamid = await send_message(self.wa, to, Message("text", m.body))
                    continue
                wamid = await send_message(self.wa, to, m, media=media, filename=screen.filename)
            else:
                wamid = await send_message(self.wa, to, m)
        return wamid
