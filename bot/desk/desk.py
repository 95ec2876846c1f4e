"""The operator chat: one forum topic per appeal with its card; messages relayed both ways.

Telegram-specific (forum topics), so it lives beside the handlers, not in the channel-neutral flows.
Towards the resident everything goes through the outbox as notices (bot/delivery/notices.py): a status
change (kind ``appeal_status``) and an aide's words (kind ``appeal_reply``). A reply is written to the outbox
before it is sent, then sent at once while the aide waits; the appeal is marked answered and the words stored
only when the reply was delivered (the kind's ``on_sent``), and the aide reads in the topic what became of it.
A reply queued but not sent at a crash goes with the sender's next batch, and its outcome is posted then.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import date
from enum import StrEnum
from uuid import uuid4

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, Message

from bot.channels.telegram.render import markup
from bot.config import Settings
from bot.delivery.notices import Notices, Reader
from bot.desk import texts
from bot.desk.digest import morning_list
from bot.flows.base import Screen, Services, esc
from bot.flows.budget_notice_texts import payload as message
from bot.i18n import I18n
from bot.locks import KeyedLocks
from bot.services.appeals import (
    TRANSITIONS,
    Action,
    AppealStatus,
    Direction,
    InvalidAppeal,
    StatusChange,
    TransitionNotAllowed,
)
from bot.services.outbox import Claimed, OutboxService, Outgoing, Priority
from storage.models import Appeal

log = logging.getLogger("qatysu.desk")
TELEGRAM = "telegram"  # the operator chat is a Telegram forum: media go there by their Telegram file ids
STATUS_NOTICE, REPLY = "appeal_status", "appeal_reply"  # the desk's notice kinds


class Delivery(StrEnum):
    """What became of an aide's message to the resident."""

    SENT = "sent"  # Telegram took it; stored (and, for an answer, the appeal is answered)
    UNREACHABLE = "unreachable"  # blocked the bot, deleted their data, or the appeal is anonymous
    FAILED = "failed"  # not delivered (network, Telegram's refusal): nothing stored or marked; send again
    SENT_NOT_ANSWERED = "sent_not_answered"  # delivered, but the status changed meanwhile: kept as a message
    QUEUED = "queued"  # another sender has it in hand: its outcome is posted in the topic when it is known


class Desk:
    def __init__(self, bot: Bot, services: Services, settings: Settings, i18n: I18n, outbox: OutboxService,
                 units: Callable[[], AbstractAsyncContextManager[object]], wake_sender=None,
                 send_now: Callable[[int], Awaitable[str]] | None = None) -> None:
        self.bot, self.services, self.settings, self.i18n, self.outbox = bot, services, settings, i18n, outbox
        self._unit = units  # the database work between two Telegram calls: one unit of work (storage/uow.py)
        self.chat_id = settings.telegram.operator_chat_id
        self.tr = i18n(settings.locale.default)
        self._locks = KeyedLocks()
        self._wake = wake_sender
        self._send_now = send_now
        self._waiting: dict[int, Delivery | None] = {}  # replies being sent while their aide waits

    def register(self, notices: Notices) -> None:
        notices.register(STATUS_NOTICE, self.render_status)
        notices.register(REPLY, self.render_reply, on_sent=self.reply_delivered,
                         on_undelivered=self.reply_undelivered, retry=False)

    # -- effects from the residents' conversations ------------------------------------------------

    async def on_effect(self, name: str, ref: int) -> None:
        if name == "appeal_created":
            await self.open_topic(ref)
        elif name == "appeal_followup":
            await self.relay_followup(ref)
        elif name in ("appeal_reopened", "appeal_rated"):
            a = await self.services.appeals.get(ref)
            if a is not None:
                note = (self.tr._("👎 The resident says the problem is not resolved; the appeal is open again.")
                        if name == "appeal_reopened" else self.tr._("The resident rated the answer: {stars}",
                                                                   stars="⭐" * (a.rating or 0)))
                await self.post(a, note)
                await self.refresh_card(a.id)

    # -- the topic and its card ---------------------------------------------------------------------

    async def _place(self, a: Appeal) -> str:
        t = await self.services.territories.get(a.territory_kato) if a.territory_kato else None
        return t.name(self.tr.lang) if t else "—"

    async def _card(self, a: Appeal, today: date | None = None, place: str | None = None) -> tuple[str, object]:
        repeat = await self.services.appeals.get(a.repeat_of_id) if a.repeat_of_id else None
        today = today or self.services.appeals.today()
        overdue = (a.extended_until or a.due_on) < today
        text, rows = texts.card(self.tr, a, place or await self._place(a), overdue=overdue,
                                repeat_number=repeat.number if repeat else None,
                                channels=await self.services.residents.channels(a.resident_id))
        return text, markup(Screen(text, rows))

    async def open_topic(self, appeal_id: int) -> None:
        if self.chat_id is None:
            log.warning("no telegram.operator_chat_id: appeal %s waits in the database", appeal_id)
            return
        async with self._locks.hold(appeal_id):
            await self._open_topic(appeal_id)

    async def _open_topic(self, appeal_id: int) -> None:
        async with self._unit():
            a = await self.services.appeals.get(appeal_id)
            if a is None or a.card_message_id is not None:
                return
            place = await self._place(a)
            text, kb = await self._card(a, place=place)
        topic_id: int | None = a.topic_id
        if topic_id is None:
            try:
                topic = await self.bot.create_forum_topic(self.chat_id, texts.topic_title(self.tr, a, place))
                topic_id = topic.message_thread_id
                # stored at once: an aide may write in the topic before the card is posted
                async with self._unit():
                    await self.services.appeals.set_operator_thread(a.id, topic_id, None)
            except TelegramBadRequest as exc:  # not a forum: the card and replies to it work instead
                log.info("operator chat has no topics (%s); using replies to the card", exc)
        try:
            card = await self.bot.send_message(self.chat_id, text, message_thread_id=topic_id, reply_markup=kb)
        except TelegramBadRequest as exc:
            if topic_id is None or "thread" not in str(exc).lower():
                raise
            await self.services.appeals.set_operator_thread(a.id, None, None)  # the topic is gone
            raise
        async with self._unit():
            await self.services.appeals.set_operator_thread(a.id, topic_id, card.message_id)
            attached = [m for m in await self.services.appeals.conversation(a.id)
                        if m.direction == Direction.IN and (m.media_id or m.latitude is not None)]
        for m in attached:
            sent = await self._send_in(a, topic_id, card.message_id, m.text, m.media_kind, m.media_id,
                                       (m.latitude, m.longitude) if m.latitude is not None else None)
            async with self._unit():
                await self.services.appeals.link_message(m.id, operator_chat_message_id=sent.message_id)

    async def refresh_card(self, appeal_id: int, today: date | None = None) -> None:
        a = await self.services.appeals.get(appeal_id)
        if a is None or self.chat_id is None or a.card_message_id is None:
            return
        text, kb = await self._card(a, today)
        try:
            await self.bot.edit_message_text(text, chat_id=self.chat_id, message_id=a.card_message_id, reply_markup=kb)
        except TelegramBadRequest as exc:
            if "not modified" not in str(exc):
                log.warning("could not refresh the card of %s: %s", a.number, exc)

    async def _send_in(self, a: Appeal, topic_id: int | None, reply_to: int | None, text: str | None,
                       media_kind: str | None, media_id: int | None, location) -> Message:
        kw: dict = dict(message_thread_id=topic_id)
        # a resident's file from another channel (WhatsApp) comes over as bytes (bot/services/media.py)
        file = await self.services.media.for_channel(media_id, TELEGRAM)
        if isinstance(file, bytes):
            file = BufferedInputFile(file, {"photo": "photo.jpg", "voice": "voice.ogg"}.get(media_kind or "", "file"))
        if topic_id is None and reply_to:
            kw["reply_to_message_id"] = reply_to
        if media_kind in ("photo", "document", "voice") and file:
            caption, rest = texts.fit_caption(f"💬 {a.number}\n\n", text or "")
            send = {"photo": self.bot.send_photo, "voice": self.bot.send_voice}.get(media_kind, self.bot.send_document)
            sent = await send(self.chat_id, file, caption=caption, **kw)
            if rest:  # what did not fit in the caption follows as its own message
                await self.bot.send_message(self.chat_id, f"💬 {a.number}\n\n{esc(rest, 3800)}", **kw)
            return sent
        if location:
            return await self.bot.send_location(self.chat_id, location[0], location[1], **kw)
        return await self.bot.send_message(self.chat_id, f"💬 {a.number}\n\n{esc(text or '', 3800)}", **kw)

    async def relay_followup(self, message_id: int) -> None:
        async with self._unit():
            m = await self.services.appeals.get_message(message_id)
            if m is None or self.chat_id is None:
                return
            a = await self.services.appeals.get(m.appeal_id)
        if a.card_message_id is None:
            await self.open_topic(a.id)  # posts the appeal's attachments with the card: this one may be among them
            a = await self.services.appeals.get(a.id)
            m = await self.services.appeals.get_message(message_id)
            if m is None or m.operator_chat_message_id is not None:
                return
        location = (m.latitude, m.longitude) if m.latitude is not None else None
        try:
            sent = await self._send_in(a, a.topic_id, a.card_message_id, m.text, m.media_kind, m.media_id, location)
        except TelegramBadRequest as exc:
            if "thread" not in str(exc).lower() or a.topic_id is None:
                raise
            a = await self._recreate_topic(a)  # an aide deleted the topic: open a new one
            sent = await self._send_in(a, a.topic_id, a.card_message_id, m.text, m.media_kind, m.media_id, location)
        async with self._unit():
            await self.services.appeals.link_message(m.id, operator_chat_message_id=sent.message_id)

    async def _recreate_topic(self, a: Appeal) -> Appeal:
        await self.services.appeals.set_operator_thread(a.id, None, None)
        await self.open_topic(a.id)
        return await self.services.appeals.get(a.id)

    async def post(self, a: Appeal, text: str) -> None:
        """An internal line in the appeal's topic (recreating it if it was deleted)."""
        if self.chat_id is None:
            return
        try:
            await self.bot.send_message(self.chat_id, text, message_thread_id=a.topic_id,
                                        reply_to_message_id=None if a.topic_id else a.card_message_id)
        except TelegramBadRequest as exc:
            if "thread" in str(exc).lower() and a.topic_id is not None:
                a = await self._recreate_topic(a)
                await self.bot.send_message(self.chat_id, text, message_thread_id=a.topic_id)
            else:
                raise

    # -- towards the resident -------------------------------------------------------------------------

    async def reply_to_resident(self, a: Appeal, author: int, text: str | None, media_kind: str | None = None,
                                file_id: str | None = None, operator_message_id: int | None = None,
                                final: bool = False) -> Delivery:
        """Relay an aide's words to the resident, signed as the akimat, through the outbox: written first,
        then sent at once. The message is stored, and with ``final`` the appeal is marked answered, only once
        Telegram has taken it: a failed send leaves the status, the timestamps and the statistics as they
        were, so the aide can send it again. TransitionNotAllowed (before anything is queued) when the appeal
        cannot be answered now."""
        row_id = await self.queue_reply(a, author, text, media_kind, file_id, operator_message_id, final)
        if row_id is None:
            return Delivery.UNREACHABLE
        if self._send_now is None:
            return Delivery.QUEUED
        self._waiting[row_id] = None
        try:
            state = await self._send_now(row_id)
            result = self._waiting.get(row_id)
        finally:
            self._waiting.pop(row_id, None)
        if result is not None:
            return result
        return {"sent": Delivery.SENT, "cancelled": Delivery.UNREACHABLE, "blocked": Delivery.UNREACHABLE,
                "failed": Delivery.FAILED}.get(state, Delivery.QUEUED)

    async def queue_reply(self, a: Appeal, author: int, text: str | None, media_kind: str | None = None,
                          file_id: str | None = None, operator_message_id: int | None = None,
                          final: bool = False) -> int | None:
        """Write the reply to the outbox (the aide's message once: its id is the key). Returns the row's id, or
        None when the resident cannot be reached."""
        if not (text or "").strip() and not file_id:  # a location, a sticker: nothing to relay
            raise InvalidAppeal("text")
        resident = await self.services.residents.get_by_id(a.resident_id)
        # on the resident's own channel: the outbox takes the one they have (Telegram first, then WhatsApp)
        reachable = resident is not None and bool(await self.services.residents.channels(resident.id))
        if resident is None or not reachable or resident.deleted_at is not None or a.anonymous:
            return None
        a = await self.services.appeals.get(a.id) or a
        if final and TRANSITIONS[Action.ANSWER].get(AppealStatus(a.status)) is None:
            raise TransitionNotAllowed(Action.ANSWER, AppealStatus(a.status))
        key = f"appeal:{a.id}:reply:{operator_message_id or uuid4().hex}"
        params = dict(appeal_id=a.id, text=text or "", media_kind=media_kind if file_id else None, file_id=file_id,
                      final=final, author=author, operator_message_id=operator_message_id)
        await self.outbox.enqueue([Outgoing(key, REPLY, params, resident_id=resident.id, priority=Priority.NOTICE)])
        return await self.outbox.find(key)

    async def render_reply(self, p: dict, reader: Reader) -> dict | None:
        """An aide's reply as the resident reads it: in the appeal's language, signed as the akimat; with a
        photo or document the caption holds what fits (cut before escaping) and the rest follows."""
        a = await self.services.appeals.get(p["appeal_id"])
        if a is None:
            return None
        tr = self.i18n(a.language)
        head, text = texts.signed(tr, a, ""), p.get("text") or ""
        rows = texts.answered_buttons(tr, a) if p.get("final") else None
        # the aide's attachment is a Telegram file: on another channel it goes as its bytes
        file = await self.services.media.carry(p["file_id"], TELEGRAM, reader.channel) if p.get("file_id") else None
        if p.get("media_kind") in ("photo", "document") and file is not None:
            caption, rest = texts.fit_caption(head, text)
            first = message(caption, None if rest else rows)
            first[p["media_kind"]] = file
            if rest:
                first["then"] = message(esc(rest, 4000), rows)
            return first
        return message(head + esc(text, 3500), rows)

    async def reply_delivered(self, row: Claimed, message_id: int | None) -> None:
        """The resident has the reply: store it (and with ``final`` mark the appeal answered)."""
        p = row.params
        # the aide's attachment is kept under our own id, with its Telegram file id cached
        media_id = await self.services.media.adopt(TELEGRAM, p.get("media_kind") or "", p["file_id"]) \
            if p.get("file_id") else None
        out = dict(media_kind=p.get("media_kind") if media_id else None, media_id=media_id,
                   operator_chat_message_id=p.get("operator_message_id"))
        result = Delivery.SENT
        if p.get("final"):
            try:
                change = await self.services.appeals.answer(p["appeal_id"], p.get("text") or "", p["author"], **out)
                await self.services.appeals.link_message(change.message.id, resident_chat_message_id=message_id)
            except TransitionNotAllowed:  # changed meanwhile (e.g. rejected): the words are kept as a message
                log.info("appeal %s changed while its answer was sent; kept as a message", p["appeal_id"])
                result = Delivery.SENT_NOT_ANSWERED
        if result is Delivery.SENT_NOT_ANSWERED or not p.get("final"):
            await self.services.appeals.add_message(p["appeal_id"], Direction.OUT, text=p.get("text") or None,
                                                    author_user_id=p["author"], resident_chat_message_id=message_id,
                                                    **out)
        await self._reply_outcome(row, result)

    async def reply_undelivered(self, row: Claimed, why: str) -> None:
        """The reply did not arrive: nothing stored or marked; a blocked bot is noted on the card."""
        if why == "blocked":
            await self.services.appeals.note_blocked(row.params["appeal_id"])
            if row.resident_id is not None:
                await self.services.residents.set_reachable(row.resident_id, False)
            await self.refresh_card(row.params["appeal_id"])
        await self._reply_outcome(row, Delivery.UNREACHABLE if why == "blocked" else Delivery.FAILED)

    async def _reply_outcome(self, row: Claimed, result: Delivery) -> None:
        """Hand the outcome to the aide waiting for it, or (a reply sent later, after a restart) post it in the
        appeal's topic."""
        if row.id in self._waiting:
            self._waiting[row.id] = result
            return
        a = await self.services.appeals.get(row.params["appeal_id"])
        if a is None:
            return
        for line in texts.reply_outcome(self.tr, result, bool(row.params.get("final"))):
            await self.post(a, line)
        if result is Delivery.SENT and row.params.get("final"):
            await self.refresh_card(a.id)

    async def notify(self, change: StatusChange) -> None:
        """Tell the resident about a status change, through the outbox, in the appeal's language."""
        a = change.appeal
        if a.anonymous or texts.notice(self.tr, a, change.action) is None:
            return
        resident = await self.services.residents.get_by_id(a.resident_id)
        chat = None if resident is None else await self.services.residents.chat_of(resident.id)
        if resident is None or chat is None:
            return
        key = f"appeal:{a.id}:{change.action}:{a.version}"
        await self.outbox.enqueue([Outgoing(key, STATUS_NOTICE, {"appeal_id": a.id, "action": str(change.action)},
                                            resident_id=resident.id, priority=Priority.NOTICE)])
        if self._wake is not None:
            self._wake()

    async def render_status(self, p: dict, reader: Reader) -> dict | None:
        a = await self.services.appeals.get(p["appeal_id"])
        text = texts.notice(self.i18n(a.language), a, Action(p["action"])) if a is not None else None
        return {"text": text} if text else None

    async def catch_up(self) -> int:
        """Post what a stop left undone: cards of new appeals, residents' follow-ups. Safe to run any time."""
        if self.chat_id is None:
            return 0
        done = 0
        for appeal_id in await self.services.appeals.without_operator_card():
            await self.open_topic(appeal_id)
            done += 1
        for message_id in await self.services.appeals.unrelayed_followups():
            await self.relay_followup(message_id)
            done += 1
        return done

    async def morning_digest(self) -> None:
        await self.digest(self.services.appeals.today())

    async def digest(self, today: date) -> str | None:
        """The morning list for the General topic: due within two working days and overdue, by aide."""
        return await morning_list(self, today)
