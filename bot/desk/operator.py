"""What aides do in the operator chat: commands and plain messages in an appeal's topic, card buttons."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from datetime import date

from bot.desk import texts
from bot.desk.desk import Delivery, Desk
from bot.flows.base import Button, Screen, esc
from bot.services.appeals import (
    Action,
    AppealError,
    ExtensionNotLater,
    ExtensionTooLong,
    ForwardTooLate,
    StatusChange,
    TransitionNotAllowed,
)
from bot.services.roles import Role
from storage.models import Appeal

DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
REFUSAL_EVERY = 600  # seconds between two refusals to the same non-operator


def parse_date(text: str) -> date | None:
    m = DATE.match(text.strip())
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


@dataclass
class OperatorMessage:
    """An aide's message in the operator chat, in plain terms."""

    user_id: int
    message_id: int
    thread_id: int | None
    reply_to_id: int | None
    text: str
    media_kind: str | None = None
    file_id: str | None = None
    is_bot: bool = False


class OperatorDesk:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.services = desk.services
        self.tr = desk.tr
        self._refused: dict[int, float] = {}

    async def _is_operator(self, user_id: int) -> bool:
        return await self.services.roles.has(user_id, Role.OPERATOR)

    async def _outside(self, user_id: int, a: Appeal) -> str | None:
        """The refusal when ``a`` lies outside the aide's territory (the one territory check of the desk)."""
        roles = self.services.roles
        if await roles.covers(user_id, Role.OPERATOR, a.territory_kato):
            return None
        reach = await roles.reach(user_id, Role.OPERATOR)
        place = await self.services.territories.get(reach.root) if reach and reach.root else None
        return self.tr._("This appeal is not from your territory, so you cannot act on it. "
                         "Your territory: {territory}.", territory=esc(place.name(self.tr.lang)) if place else "—")

    async def _appeal_of(self, msg: OperatorMessage) -> Appeal | None:
        a = await self.services.appeals.find_by_topic(msg.thread_id) if msg.thread_id else None
        if a is None and msg.reply_to_id:
            a = await self.services.appeals.find_by_operator_message(msg.reply_to_id)
        return a

    async def on_message(self, msg: OperatorMessage) -> list[str]:
        """Handle an aide's message; returns what to say back in the same place (already escaped)."""
        tr = self.tr
        if msg.is_bot:
            return []
        if not await self._is_operator(msg.user_id):
            now, last = time.monotonic(), self._refused.get(msg.user_id)
            if last is not None and now - last < REFUSAL_EVERY:  # None: never refused (the clock may be small)
                return []
            self._refused[msg.user_id] = now
            return [tr._("Only akimat operators work in this chat; your message was not passed on.")]
        a = await self._appeal_of(msg)
        if a is None:
            return [] if not msg.text.startswith("/") else [texts.operator_help(tr)]
        if refusal := await self._outside(msg.user_id, a):
            return [refusal]
        command, _, rest = msg.text.partition(" ") if msg.text.startswith("/") else ("", "", msg.text)
        command = command.split("@", 1)[0].lower()
        rest = rest.strip()
        try:
            return await self._command(a, msg, command, rest)
        except ForwardTooLate as exc:
            days = self.services.appeals.forward_days
            return [tr.ngettext("Forwarding is allowed only within {days} working day of registration (until {date}).",
                                "Forwarding is allowed only within {days} working days of registration (until {date}).",
                                days, days=days, date=tr.date(exc.deadline))]
        except ExtensionTooLong as exc:
            return [tr._("The term can be extended at most to {date}.", date=tr.date(exc.limit))]
        except ExtensionNotLater:
            return [tr._("The new term must be later than the current one.")]
        except TransitionNotAllowed:
            return [tr._("This cannot be done with the appeal in its current status.")]
        except AppealError:
            return [tr._("This cannot be done with the appeal now.")]

    async def _command(self, a: Appeal, msg: OperatorMessage, command: str, rest: str) -> list[str]:
        tr, appeals, uid = self.tr, self.services.appeals, msg.user_id
        if command == "/note":
            if not rest:
                return [tr._("Usage: /note TEXT")]
            await appeals.add_message(a.id, "note", text=rest[:3000], author_user_id=uid,
                                      operator_chat_message_id=msg.message_id)
            return [tr._("📝 Note saved; the resident does not see it.")]
        if command == "/reg":
            parts = rest.split()
            day = parse_date(parts[1]) if len(parts) == 2 else None
            if day is None or not 1 <= len(parts[0]) <= 64:
                return [tr._("Usage: /reg NUMBER DD.MM.YYYY, for example /reg ЖТ-2026-01234567 21.11.2026")]
            return await self._changed(await appeals.record_registration(a.id, parts[0], day, uid))
        if command == "/extend":
            day_text, _, reason = rest.partition(" ")
            day = parse_date(day_text)
            if day is None or not reason.strip():
                return [tr._("Usage: /extend DD.MM.YYYY REASON")]
            return await self._changed(await appeals.extend(a.id, day, reason.strip()[:500], uid))
        if command == "/forward":
            if not rest:
                return [tr._("Usage: /forward BODY, for example /forward Ауданның білім бөлімі")]
            return await self._changed(await appeals.forward(a.id, rest[:300], uid))
        if command == "/reject":
            if not rest:
                return [tr._("Usage: /reject REASON")]
            return await self._changed(await appeals.reject(a.id, rest[:500], uid))
        if command == "/close":
            return await self._changed(await appeals.close(a.id, uid))
        if command == "/take":
            return await self._changed(await appeals.take(a.id, uid))
        if command == "/answer":
            if not rest and not msg.file_id:
                return [tr._("Usage: /answer TEXT")]
            return await self._relay(a, msg, rest, final=True)
        if command:
            return [texts.operator_help(tr)]
        return await self._relay(a, msg, msg.text, final=False)

    async def _relay(self, a: Appeal, msg: OperatorMessage, text: str, final: bool) -> list[str]:
        return (await self._relay_result(a, msg, text, final))[1]

    async def _relay_result(self, a: Appeal, msg: OperatorMessage, text: str, final: bool) -> tuple[bool, list[str]]:
        """Send to the resident; (delivered, what to tell the aide)."""
        tr = self.tr
        if a.anonymous:
            return False, [tr._("This appeal is anonymous: no answer can be sent. Use /note for internal remarks.")]
        if len(text) > 3500:
            return False, [tr.ngettext("The message is too long for the resident ({n} character; at most 3500).",
                                       "The message is too long for the resident ({n} characters; at most 3500).",
                                       len(text))]
        result = await self.desk.reply_to_resident(a, msg.user_id, text or None, msg.media_kind, msg.file_id,
                                                   msg.message_id, final=final)
        if result is Delivery.SENT and final:
            await self.desk.refresh_card(a.id)
        ok = result in (Delivery.SENT, Delivery.SENT_NOT_ANSWERED, Delivery.QUEUED)
        return ok, texts.reply_outcome(tr, result, final)

    async def _changed(self, change: StatusChange) -> list[str]:
        await self.desk.notify(change)
        await self.desk.refresh_card(change.appeal.id)
        return [self.tr._("Done. The resident has been told.") if change.action != Action.TAKE or change.changed
                else self.tr._("Done.")]

    async def on_button(self, user_id: int, data: str) -> tuple[str | None, list[Screen]]:
        """A card button: returns a pop-up notice and screens to post in the topic."""
        tr = self.tr
        if not await self._is_operator(user_id):
            return tr._("Only akimat operators can do this."), []
        pressed, template = texts.CARD_ACTION.unpack(data), texts.TEMPLATE.unpack(data)
        if pressed is None and template is None:
            return tr._("This button is out of date."), []
        action, appeal_id = pressed if pressed is not None else ("t", template[0])  # type: ignore[index]
        a = await self.services.appeals.get(appeal_id)
        if a is None:
            return tr._("This button is out of date."), []
        if refusal := await self._outside(user_id, a):
            return html.unescape(refusal), []  # a pop-up is plain text
        hints = {"reg": tr._("Send in this topic: /reg NUMBER DD.MM.YYYY"),
                 "ext": tr._("Send in this topic: /extend DD.MM.YYYY REASON"),
                 "fwd": tr._("Send in this topic: /forward BODY"),
                 "rej": tr._("Send in this topic: /reject REASON")}
        try:
            if action in hints:
                return None, [Screen(hints[action])]
            if action == "take":
                change = await self.services.appeals.take(a.id, user_id)
                await self._changed(change)
                return tr._("You have taken {number}.", number=a.number), []
            if action == "close":
                await self._changed(await self.services.appeals.close(a.id, user_id))
                return tr._("Closed."), []
            if action == "tpl":
                rows = [[Button(self.desk.i18n(a.language)._(t)[:60], texts.TEMPLATE.pack(a.id, key))]
                        for key, (t, _) in texts.TEMPLATES.items()]
                return None, [Screen(tr._("Templates, in the appeal's language. Choose one to send:"), rows)]
            if action == "t" and template is not None:
                text, sets = texts.TEMPLATES[template[1]]
                body = self.desk.i18n(a.language)._(text)
                if a.status == "received" and sets == Action.ANSWER:
                    await self._changed(await self.services.appeals.take(a.id, user_id))
                    a = await self.services.appeals.get(a.id)
                msg = OperatorMessage(user_id, 0, a.topic_id, None, body)
                ok, said = await self._relay_result(a, msg, body, final=sets == Action.ANSWER)
                return tr._("Sent.") if ok else tr._("Not sent."), [Screen(s) for s in said]
        except TransitionNotAllowed:
            return tr._("This cannot be done with the appeal in its current status."), []
        except AppealError:
            return tr._("This cannot be done with the appeal now."), []
        return tr._("This button is out of date."), []

