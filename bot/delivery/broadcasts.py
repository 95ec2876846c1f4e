"""Broadcasts on the way out: the progress message in the secretary's chat, posted and edited through the
channel's ``Board`` (bot/channels/base.py) and kept up to date by a small periodic job (bot/scheduler.py calls
:meth:`BroadcastDesk.tick` every few seconds and it edits only when the numbers changed), the expansion of a
started broadcast into outbox rows in the background, and the meeting announcement (a broadcast built from the
meeting when a meeting is created).

After a restart the job finds broadcasts still "sending" with fewer rows than their total (the process died
while expanding) and expands them again: the outbox keys keep anyone from getting a notice twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bot.channels.base import Board, NotShown
from bot.config import Settings
from bot.delivery.notices import Notices, Reader
from bot.flows import broadcast as texts
from bot.flows.base import Screen, Services
from bot.i18n import LANGUAGES, I18n
from bot.locks import KeyedLocks
from bot.services.broadcasts import BROADCAST_NOTICE, Audience, BroadcastError, BroadcastService, broadcast_payload
from storage.models import Broadcast

log = logging.getLogger("qatysu.broadcasts")
MEETING_CREATED = "meeting_created"


class BroadcastDesk:
    def __init__(self, board: Board, services: Services, settings: Settings, i18n: I18n,
                 wake_sender: Callable[[], None] | None = None) -> None:
        self.board, self.services, self.settings, self.i18n = board, services, settings, i18n
        self.svc: BroadcastService = services.broadcasts
        self._wake = wake_sender
        self._locks = KeyedLocks()
        self._shown: dict[int, tuple[str, Any]] = {}  # broadcast → what its progress message shows now
        self._expanding: dict[int, asyncio.Task[None]] = {}

    def register(self, notices: Notices) -> None:
        notices.register(BROADCAST_NOTICE, self.render)

    async def render(self, p: dict[str, Any], reader: Reader) -> dict[str, Any] | None:
        """One recipient's copy: their language's text (or the only one), the attachment by the id their channel
        knows it by, a meeting announcement's buttons."""
        b = await self.svc.get(p["broadcast_id"])
        if b is None:
            return None
        extra = self.extra(b)
        file_id = await self.services.media.for_channel(b.media_id, reader.channel)  # this channel's id (or bytes)
        return broadcast_payload(b, reader.language, file_id, extra.get(reader.language) if extra else None)

    # -- effects --------------------------------------------------------------------------------------------

    async def on_effect(self, name: str, ref: int) -> None:
        if name == texts.STARTED_EFFECT:
            await self.launch(ref)

    async def on_meeting_effect(self, name: str, ref: int) -> None:
        if name == MEETING_CREATED:
            await self.announce_meeting(ref)

    async def launch(self, broadcast_id: int) -> None:
        """A broadcast just started: show its progress message, then write its rows in the background."""
        b = await self.svc.get(broadcast_id)
        if b is None:
            return
        await self.refresh(broadcast_id)
        self._expand_later(b)

    async def announce_meeting(self, meeting_id: int) -> None:
        """The meeting's notice, with its buttons, to everyone of its territory; the creator sees the progress."""
        from bot.flows import meeting_texts

        if await self.svc.announcement_of(meeting_id) is not None:
            return  # announced already (the effect ran twice)
        m = await self.svc.meeting(meeting_id)
        if m is None or m.cancelled_at is not None:
            return
        audience = Audience(m.territory_kato, meeting_id=m.id)
        if not await self.svc.recipients(audience):  # nobody to tell yet: reminders reach later registrations
            log.info("meeting %s: nobody to announce it to", meeting_id)
            return
        place = await self.services.territories.get(m.territory_kato)
        notices = {lang: meeting_texts.notice(self.i18n(lang), m, place.name(lang) if place else m.territory_kato)
                   for lang in LANGUAGES}
        creator = m.created_by
        lang = None
        if creator:
            r = await self.services.residents.get(creator)
            lang = r.language if r is not None else None
        try:
            b = await self.svc.create(creator, audience,
                                      text_kk=notices["kk"], text_ru=notices["ru"], progress_chat_id=creator or None,
                                      ui_language=lang, system=True)
            await self.svc.start(b.id, creator, system=True)
        except BroadcastError as exc:  # e.g. the audience left meanwhile: the meeting stays in the meetings section
            log.info("meeting %s is not announced: %r", meeting_id, exc)
            return
        await self.launch(b.id)

    def extra(self, b: Broadcast) -> dict[str, dict[str, Any]] | None:
        """Per-language payload additions: a meeting announcement carries the meeting's buttons."""
        if b.meeting_id is None or b.only_coming:
            return None
        from bot.flows import meeting_texts

        return {lang: {"buttons": meeting_texts.buttons(self.i18n(lang), b.meeting_id)} for lang in LANGUAGES}

    # -- expansion ------------------------------------------------------------------------------------------

    def _expand_later(self, b: Broadcast) -> None:
        if b.id in self._expanding:
            return
        task = asyncio.create_task(self._expand(b), name=f"broadcast-{b.id}-expand")
        self._expanding[b.id] = task

    async def _expand(self, b: Broadcast) -> None:
        try:
            added = await self.svc.expand(b.id, wake=self._wake)
            log.info("broadcast %s: %s outbox rows written", b.id, added)
        except Exception:  # noqa: BLE001 - the job tries again on its next run
            log.exception("broadcast %s could not be expanded", b.id)
        finally:
            self._expanding.pop(b.id, None)

    async def settle(self) -> None:
        """Wait until the rows of every broadcast being expanded here are written (tests, shutdown)."""
        while self._expanding:
            await asyncio.gather(*list(self._expanding.values()), return_exceptions=True)

    # -- the periodic job -----------------------------------------------------------------------------------

    async def tick(self) -> None:
        """Resume broken expansions, notice finished broadcasts and edit the progress messages that changed."""
        unfinished = await self.svc.unfinished()
        for gone in set(self._shown) - set(unfinished):  # finished meanwhile (a stop shows its own report)
            self._shown.pop(gone, None)
        for broadcast_id in unfinished:
            try:
                p = await self.svc.progress(broadcast_id)
                if p.status == "sending" and not p.expanded and broadcast_id not in self._expanding:
                    b = await self.svc.get(broadcast_id)
                    if b is not None:
                        self._expand_later(b)
                await self.svc.finish_if_done(broadcast_id)
                await self.refresh(broadcast_id)
            except Exception:  # noqa: BLE001 - one broken broadcast must not stop the others' progress
                log.exception("broadcast %s: progress update failed", broadcast_id)

    async def refresh(self, broadcast_id: int) -> None:
        """Post the progress message if it is not there yet, else edit it when its text changed."""
        async with self._locks.hold(broadcast_id):
            p = await self.svc.progress(broadcast_id)
            if p.progress_chat_id is None:
                return
            tr = self.i18n(texts.progress_language(p, self.settings.locale.default))
            text = texts.progress_text(tr, p)
            screen = Screen(text, texts.progress_buttons(tr, p))
            shown = (text, screen.buttons)
            if p.progress_message_id is None:
                try:
                    message_id = await self.board.post(p.progress_chat_id, screen)
                except NotShown as exc:
                    log.warning("broadcast %s: no progress message in chat %s: %s", p.id, p.progress_chat_id, exc)
                    return
                await self.svc.set_progress_message(p.id, p.progress_chat_id, message_id)
            elif self._shown.get(p.id) != shown:
                try:
                    await self.board.edit(p.progress_chat_id, p.progress_message_id, screen)
                except NotShown as exc:
                    log.warning("broadcast %s: progress message not edited: %s", p.id, exc)
                    if exc.retry:
                        return
            self._shown[p.id] = shown
            if p.finished:
                self._shown.pop(p.id, None)
