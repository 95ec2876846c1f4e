"""The operator chat: one forum topic per appeal with its card; messages relayed both ways.

Telegram-specific (forum topics), so it lives beside the handlers, not in the channel-neutral flows.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import Message

from bot.channels.telegram.render import markup
from bot.config import Settings
from bot.desk import texts
from bot.flows.base import Screen, Services, esc
from bot.i18n import I18n
from bot.locks import KeyedLocks
from bot.services.appeals import (
    TRANSITIONS,
    Action,
    AppealStatus,
    Direction,
    DueItem,
    DueReport,
    StatusChange,
    TransitionNotAllowed,
)
from bot.services.outbox import OutboxService, Outgoing, Priority
from bot.services.roles import Role
from storage.models import Appeal

log = logging.getLogger("qatysu.desk")
TELEGRAM = "telegram"  # the operator chat is a Telegram forum: media go there by their Telegram file ids


class Delivery(StrEnum):
    """What became of an aide's message to the resident."""

    SENT = "sent"  # Telegram took it; stored (and, for an answer, the appeal is answered)
    UNREACHABLE = "unreachable"  # blocked the bot, deleted their data, or the appeal is anonymous
    FAILED = "failed"  # not delivered (network, Telegram's refusal): nothing stored or marked; send again
    SENT_NOT_ANSWERED = "sent_not_answered"  # delivered, but the status changed meanwhile: kept as a message


class Desk:
    def __init__(self, bot: Bot, services: Services, settings: Settings, i18n: I18n, outbox: OutboxService,
                 wake_sender=None) -> None:
        self.bot, self.services, self.settings, self.i18n, self.outbox = bot, services, settings, i18n, outbox
        self.chat_id = settings.telegram.operator_chat_id
        self.tr = i18n(settings.locale.default)
        self._locks = KeyedLocks()
        self._wake = wake_sender

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

    async def _card(self, a: Appeal, today: date | None = None) -> tuple[str, object]:
        repeat = await self.services.appeals.get(a.repeat_of_id) if a.repeat_of_id else None
        today = today or self.services.appeals.today()
        overdue = (a.extended_until or a.due_on) < today
        text, rows = texts.card(self.tr, a, await self._place(a), overdue=overdue,
                                repeat_number=repeat.number if repeat else None)
        return text, markup(Screen(text, rows))

    async def open_topic(self, appeal_id: int) -> None:
        if self.chat_id is None:
            log.warning("no telegram.operator_chat_id: appeal %s waits in the database", appeal_id)
            return
        async with self._locks.hold(appeal_id):
            await self._open_topic(appeal_id)

    async def _open_topic(self, appeal_id: int) -> None:
        a = await self.services.appeals.get(appeal_id)
        if a is None or a.card_message_id is not None:
            return
        topic_id: int | None = a.topic_id
        if topic_id is None:
            try:
                title = texts.topic_title(self.tr, a, await self._place(a))
                topic = await self.bot.create_forum_topic(self.chat_id, title)
                topic_id = topic.message_thread_id
                # stored at once: an aide may write in the topic before the card is posted
                await self.services.appeals.set_operator_thread(a.id, topic_id, None)
            except TelegramBadRequest as exc:  # not a forum: the card and replies to it work instead
                log.info("operator chat has no topics (%s); using replies to the card", exc)
        text, kb = await self._card(a)
        try:
            card = await self.bot.send_message(self.chat_id, text, message_thread_id=topic_id, reply_markup=kb)
        except TelegramBadRequest as exc:
            if topic_id is None or "thread" not in str(exc).lower():
                raise
            await self.services.appeals.set_operator_thread(a.id, None, None)  # the topic is gone
            raise
        await self.services.appeals.set_operator_thread(a.id, topic_id, card.message_id)
        for m in await self.services.appeals.conversation(a.id):
            if m.direction == Direction.IN and (m.media_id or m.latitude is not None):
                sent = await self._send_in(a, topic_id, card.message_id, m.text, m.media_kind, m.media_id,
                                           (m.latitude, m.longitude) if m.latitude is not None else None)
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
        file_id = await self.services.media.file_id(media_id, TELEGRAM)
        if topic_id is None and reply_to:
            kw["reply_to_message_id"] = reply_to
        if media_kind in ("photo", "document") and file_id:
            caption, rest = texts.fit_caption(f"💬 {a.number}\n\n", text or "")
            send = self.bot.send_photo if media_kind == "photo" else self.bot.send_document
            sent = await send(self.chat_id, file_id, caption=caption, **kw)
            if rest:  # what did not fit in the caption follows as its own message
                await self.bot.send_message(self.chat_id, f"💬 {a.number}\n\n{esc(rest, 3800)}", **kw)
            return sent
        if location:
            return await self.bot.send_location(self.chat_id, location[0], location[1], **kw)
        return await self.bot.send_message(self.chat_id, f"💬 {a.number}\n\n{esc(text or '', 3800)}", **kw)

    async def relay_followup(self, message_id: int) -> None:
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
        """Relay an aide's words to the resident, signed as the akimat. The message is stored, and with
        ``final`` the appeal is marked answered, only once Telegram has taken it: a failed send leaves the
        status, the timestamps and the statistics as they were, so the aide can send it again.
        TransitionNotAllowed (before anything is sent) when the appeal cannot be answered now."""
        resident = await self.services.residents.get_by_id(a.resident_id)
        chat = None if resident is None else await self.services.residents.chat_of(resident.id)
        if resident is None or chat is None or a.anonymous:
            return Delivery.UNREACHABLE
        a = await self.services.appeals.get(a.id) or a
        if final and TRANSITIONS[Action.ANSWER].get(AppealStatus(a.status)) is None:
            raise TransitionNotAllowed(Action.ANSWER, AppealStatus(a.status))
        tr = self.i18n(a.language)
        kb = markup(Screen("", texts.answered_buttons(tr, a))) if final else None
        try:
            sent = await self._send_to_resident(chat, texts.signed(tr, a, ""), text or "", media_kind,
                                                file_id, kb)
        except TelegramForbiddenError:
            await self.services.appeals.note_blocked(a.id)
            await self.services.residents.set_reachable(resident.id, False)
            await self.refresh_card(a.id)
            return Delivery.UNREACHABLE
        except TelegramAPIError as exc:  # network error, 429 beyond the waits, Telegram's refusal: nothing marked
            log.warning("the reply to %s was not delivered: %s", a.number, type(exc).__name__)
            return Delivery.FAILED
        media_id = await self.services.media.adopt(TELEGRAM, media_kind or "", file_id) if file_id else None
        out = dict(media_kind=media_kind if media_id else None, media_id=media_id,
                   operator_chat_message_id=operator_message_id)
        if final:
            try:
                change = await self.services.appeals.answer(a.id, text or "", author, **out)
                await self.services.appeals.link_message(change.message.id, resident_chat_message_id=sent)
                return Delivery.SENT
            except TransitionNotAllowed:  # changed meanwhile (e.g. rejected): the words are kept as a message
                log.info("%s changed while its answer was sent; kept as a message", a.number)
        await self.services.appeals.add_message(a.id, Direction.OUT, text=text, author_user_id=author,
                                                resident_chat_message_id=sent, **out)
        return Delivery.SENT_NOT_ANSWERED if final else Delivery.SENT

    async def _send_to_resident(self, chat_id: int, head: str, text: str, media_kind: str | None,
                                file_id: str | None, kb) -> int:
        """Send ``head`` (HTML) and ``text`` (plain, escaped here); with a photo or document the caption
        holds what fits, cut before escaping, and the rest follows as its own message. Returns the id of
        the last message (the one with ``kb``)."""
        if media_kind in ("photo", "document") and file_id:
            caption, rest = texts.fit_caption(head, text)
            send = self.bot.send_photo if media_kind == "photo" else self.bot.send_document
            sent = await send(chat_id, file_id, caption=caption, reply_markup=None if rest else kb)
            if not rest:
                return sent.message_id
            return (await self.bot.send_message(chat_id, esc(rest, 4000), reply_markup=kb)).message_id
        return (await self.bot.send_message(chat_id, head + esc(text, 3500), reply_markup=kb)).message_id

    async def notify(self, change: StatusChange) -> None:
        """Tell the resident about a status change, through the outbox, in the appeal's language."""
        a = change.appeal
        text = texts.notice(self.i18n(a.language), a, change.action)
        if text is None or a.anonymous:
            return
        resident = await self.services.residents.get_by_id(a.resident_id)
        chat = None if resident is None else await self.services.residents.chat_of(resident.id)
        if resident is None or chat is None:
            return
        key = f"appeal:{a.id}:{change.action}:{a.version}"
        await self.outbox.enqueue([Outgoing(key, chat, {"text": text}, Priority.NOTICE,
                                            resident_id=resident.id)])
        if self._wake is not None:
            self._wake()

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
        report = await self.services.appeals.due_report(today)
        if not report.overdue and not report.due_soon:
            return None
        tr = self.tr
        lines = [tr._("<b>Appeals for {date}</b>", date=tr.date(today))]
        roles = self.services.roles

        async def named(i: DueItem) -> DueItem:
            """An aide is named only beside appeals of their territory (one taken before a limit: not taken)."""
            if i.operator_user_id is None or await roles.covers(i.operator_user_id, Role.OPERATOR, i.territory_kato):
                return i
            return replace(i, operator_user_id=None)

        report = DueReport(today, [await named(i) for i in report.overdue], [await named(i) for i in report.due_soon])
        groups = report.by_operator()
        for operator in sorted(groups, key=lambda o: (o is not None, o or 0)):
            part = groups[operator]
            who = tr._("not taken") if operator is None else f"<code>{operator}</code>"
            lines += ["", tr._("Aide: {who}", who=who)]
            lines += [f"🔴 {i.number} · {tr.date(i.due)}" for i in part.overdue]
            lines += [f"🟡 {i.number} · {tr.date(i.due)}" for i in part.due_soon]
        while len("\n".join(lines)) > 4000:  # whole lines only, so no tag is cut in half
            lines = lines[:-2] + ["…"]
        text = "\n".join(lines)
        try:
            await self.bot.send_message(self.chat_id, text)
        except TelegramAPIError as exc:
            log.warning("could not post the morning digest: %s", exc)
        for item in report.overdue:
            await self.refresh_card(item.appeal_id, today)
        return text

