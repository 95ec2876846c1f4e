"""A recording bot session that answers like Telegram, and helpers that feed updates to the dispatcher.

Unknown methods fail the test, as do texts Telegram would refuse (bad HTML, too long, empty) and
callback data over 64 bytes.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.methods import TelegramMethod
from aiogram.types import Update

from tests.support.htmlcheck import EntityError, check_html

BOT_ID = 7000000001
TRUE_METHODS = {"answerCallbackQuery", "setMyCommands", "deleteMyCommands", "deleteWebhook", "sendChatAction",
                "deleteMessage"}


class UnknownMethod(AssertionError):
    pass


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None


@dataclass
class Sent:
    """A message the bot sent or edited, as a resident would see it."""

    chat_id: int
    message_id: int
    text: str
    markup: dict[str, Any] | None
    thread: int | None = None
    kind: str = "sendMessage"

    @property
    def buttons(self) -> list[dict[str, Any]]:
        m = self.markup or {}
        return [b for row in m.get("inline_keyboard", []) for b in row]

    @property
    def reply_buttons(self) -> list[dict[str, Any]]:
        m = self.markup or {}
        return [b for row in m.get("keyboard", []) for b in row]

    def data_of(self, label_part: str) -> str:
        for b in self.buttons:
            if label_part in b["text"]:
                return b["callback_data"]
        raise AssertionError(f"no button with {label_part!r} in {[b['text'] for b in self.buttons]}")


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], Sent] = {}
        self._ids = itertools.count(1000)
        self.blocked: set[int] = set()  # chats whose person blocked the bot: 403
        self.forum_chats: set[int] = set()  # supergroups with topics enabled
        self.topics: dict[int, dict[int, str]] = {}  # chat → thread id → title
        self.retry_after: list[int] = []  # the next sends answer 429 with these retry_after values
        self.unreachable: set[int] = set()  # sends to these chats fail as if the network dropped
        self.presses_too_old = False  # answerCallbackQuery refused: the press is past Telegram's answer window

    async def close(self) -> None:
        pass

    async def stream_content(self, *a, **kw):  # pragma: no cover - not used by the bot yet
        raise UnknownMethod("stream_content")
        yield b""

    async def make_request(self, bot: Bot, method: TelegramMethod, timeout: int | None = None):  # noqa: ASYNC109
        name = method.__api_method__
        params = {k: v for k, v in ((k, self.prepare_value(v, bot=bot, files={}, _dumps_json=False))
                                    for k, v in method.model_dump(warnings=False).items()) if v is not None}
        call = Call(name, params)
        self.calls.append(call)
        if name == "answerCallbackQuery" and self.presses_too_old:
            raise self._bad(method, "query is too old and response timeout expired or query ID is invalid")
        if name.startswith("send") and self.retry_after:
            raise TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=self.retry_after.pop(0))
        if name.startswith("send") and int(params.get("chat_id", 0)) in self.unreachable:
            raise TelegramNetworkError(method=method, message="connection reset")
        if name.startswith("send") and int(params.get("chat_id", 0)) in self.blocked:
            raise TelegramForbiddenError(method=method, message="Forbidden: bot was blocked by the user")
        result = self._answer(name, params)
        call.result = result
        response = self.check_response(bot, method, 200, json.dumps({"ok": True, "result": result}))
        return response.result

    def _bad(self, method: TelegramMethod | None, text: str) -> TelegramBadRequest:
        return TelegramBadRequest(method=method, message=f"Bad Request: {text}")  # type: ignore[arg-type]

    def _check_text(self, params: dict[str, Any]) -> None:
        text = params.get("text", "")
        length = len(text)
        if params.get("parse_mode") == "HTML":
            try:
                length = check_html(text)
            except EntityError as exc:
                raise self._bad(None, f"can't parse entities: {exc}") from exc
        if not text.strip():
            raise self._bad(None, "message text is empty")
        if length > 4096:
            raise self._bad(None, "message is too long")
        markup = params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for b in row:
                data = b.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise self._bad(None, "BUTTON_DATA_INVALID")

    def _answer(self, name: str, p: dict[str, Any]) -> Any:
        if name in TRUE_METHODS:
            return True
        if name == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Qatysu", "username": "qatysu_test_bot"}
        if name == "createForumTopic":
            chat_id = int(p["chat_id"])
            if chat_id not in self.forum_chats:
                raise self._bad(None, "the chat is not a forum")
            if not 1 <= len(p["name"]) <= 128:
                raise self._bad(None, "TOPIC_NAME_INVALID")
            thread = next(self._ids)
            self.topics.setdefault(chat_id, {})[thread] = p["name"]
            return {"message_thread_id": thread, "name": p["name"], "icon_color": 7322096}
        if name in ("sendMessage", "sendPhoto", "sendDocument", "sendLocation"):
            chat_id = int(p["chat_id"])
            thread = p.get("message_thread_id")
            if thread is not None and int(thread) not in self.topics.get(chat_id, {}):
                raise self._bad(None, "message thread not found")
            if name == "sendMessage":
                self._check_text(p)
                text = p["text"]
            else:
                text = p.get("caption") or f"[{name[4:].lower()}]"
                if len(text) > 1024:
                    raise self._bad(None, "message caption is too long")
                if p.get("caption") and p.get("parse_mode") == "HTML":
                    self._check_text({"text": text, "parse_mode": "HTML", "reply_markup": p.get("reply_markup")})
            sent = Sent(chat_id, next(self._ids), text, p.get("reply_markup"), thread=thread, kind=name)
            self.messages[(chat_id, sent.message_id)] = sent
            return self._message_json(sent)
        if name == "editMessageText":
            self._check_text(p)
            key = (int(p["chat_id"]), int(p["message_id"]))
            old = self.messages.get(key)
            if old is None:
                raise self._bad(None, "message to edit not found")
            if old.text == p["text"] and old.markup == p.get("reply_markup"):
                raise self._bad(None, "message is not modified")
            old.text, old.markup = p["text"], p.get("reply_markup")
            return self._message_json(old)
        raise UnknownMethod(f"the recording session does not know {name}")

    @staticmethod
    def _message_json(sent: Sent) -> dict[str, Any]:
        chat_type = "private" if sent.chat_id > 0 else "supergroup"
        out: dict[str, Any] = {"message_id": sent.message_id, "date": int(time.time()), "text": sent.text,
                               "chat": {"id": sent.chat_id, "type": chat_type},
                               "from": {"id": BOT_ID, "is_bot": True, "first_name": "Qatysu"}}
        if sent.markup and "inline_keyboard" in sent.markup:
            out["reply_markup"] = sent.markup
        if sent.thread is not None:
            out["message_thread_id"], out["is_topic_message"] = sent.thread, True
        return out


@dataclass
class Person:
    id: int
    language_code: str | None = "kk"
    first_name: str = "Айгүл"

    def as_user(self) -> dict[str, Any]:
        u = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            u["language_code"] = self.language_code
        return u


@dataclass
class Telegram:
    """Feeds updates into the app's real dispatcher and shows what came back."""

    app: Any
    session: RecordingSession
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _msg_ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def feed(self, update: dict[str, Any]) -> list[Sent]:
        before = len(self.session.calls)
        update = {"update_id": next(self._update_ids), **update}
        await self.app.dp.feed_update(self.app.bot, Update.model_validate(update, context={"bot": self.app.bot}))
        await self.app.effects.settled()  # what the update caused for others (bot/effects.py)
        out = []
        for c in self.session.calls[before:]:
            if c.method in ("sendMessage", "editMessageText", "sendPhoto", "sendDocument", "sendLocation") \
                    and isinstance(c.result, dict):
                out.append(self.session.messages[(c.result["chat"]["id"], c.result["message_id"])])
        return out

    def _message(self, who: Person, chat_id: int | None = None, **content: Any) -> dict[str, Any]:
        chat = {"id": chat_id or who.id, "type": "private" if (chat_id or who.id) > 0 else "supergroup"}
        if chat["type"] == "private":
            chat["first_name"] = who.first_name
        return {"message_id": next(self._msg_ids), "date": int(time.time()), "chat": chat, "from": who.as_user(),
                **content}

    async def text(self, who: Person, text: str, chat_id: int | None = None, thread: int | None = None,
                   reply_to: Sent | None = None) -> list[Sent]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if thread is not None:
            content["message_thread_id"], content["is_topic_message"] = thread, True
            content["reply_to_message"] = {"message_id": thread, "date": int(time.time()),
                                           "chat": {"id": chat_id, "type": "supergroup"}}
        if reply_to is not None:
            content["reply_to_message"] = {"message_id": reply_to.message_id, "date": int(time.time()),
                                           "chat": {"id": reply_to.chat_id, "type": "supergroup"}, "text": "…"}
        return await self.feed({"message": self._message(who, chat_id, **content)})

    async def edited(self, who: Person, text: str) -> list[Sent]:
        msg = self._message(who, text=text)
        msg["edit_date"] = int(time.time())
        return await self.feed({"edited_message": msg})

    async def contact(self, who: Person, phone: str, owner_id: int | None) -> list[Sent]:
        c: dict[str, Any] = {"phone_number": phone, "first_name": who.first_name}
        if owner_id is not None:
            c["user_id"] = owner_id
        return await self.feed({"message": self._message(who, contact=c)})

    async def send(self, who: Person, **content: Any) -> list[Sent]:
        return await self.feed({"message": self._message(who, **content)})

    async def press(self, who: Person, data: str, on: Sent | None = None) -> list[Sent]:
        on = on or self.last(who.id)
        cb = {"id": str(next(self._update_ids)), "from": who.as_user(), "chat_instance": "ci", "data": data,
              "message": {"message_id": on.message_id, "date": int(time.time()),
                          "chat": {"id": on.chat_id, "type": "private" if on.chat_id > 0 else "supergroup"},
                          "text": on.text}}
        if on.thread is not None:
            cb["message"]["message_thread_id"], cb["message"]["is_topic_message"] = on.thread, True
        return await self.feed({"callback_query": cb})

    async def click(self, who: Person, label_part: str, exact: bool = False) -> list[Sent]:
        """Press the inline button whose label contains ``label_part`` on the newest message that has it."""
        for sent in reversed(self.chat(who.id)):
            for b in sent.buttons:
                if (b["text"] == label_part) if exact else (label_part in b["text"]):
                    return await self.press(who, b["callback_data"], sent)
        raise AssertionError(f"no button {label_part!r} in chat {who.id}")

    def chat(self, chat_id: int) -> list[Sent]:
        return [m for (c, _), m in sorted(self.session.messages.items(), key=lambda kv: kv[0][1]) if c == chat_id]

    def last(self, chat_id: int) -> Sent:
        msgs = self.chat(chat_id)
        assert msgs, f"the bot has not written to {chat_id}"
        return msgs[-1]

    def methods(self) -> list[str]:
        return [c.method for c in self.session.calls]
