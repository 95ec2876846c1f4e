"""A lean in-memory Telegram for benchmarks: answers every Bot API method the bot uses like Telegram would.

Like tests/support/telegram.py's RecordingSession it turns each call into JSON and back (so aiogram does the
work it does against the real server), but it keeps only the last few messages per chat (enough to press
their buttons) and does not validate HTML: a benchmark measures the bot, not the checker.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod

BOT_ID = 7000000001
KEEP = 6  # messages kept per chat
TRUE_METHODS = {"answerCallbackQuery", "setMyCommands", "deleteMyCommands", "deleteWebhook", "sendChatAction",
                "deleteMessage", "setChatMenuButton"}
SENDS = {"sendMessage", "sendPhoto", "sendDocument", "sendLocation"}


@dataclass
class Msg:
    chat_id: int
    message_id: int
    text: str
    markup: dict[str, Any] | None
    thread: int | None = None

    def buttons(self) -> list[dict[str, Any]]:
        return [b for row in (self.markup or {}).get("inline_keyboard", []) for b in row]


class LeanSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1000)
        self.chats: dict[int, deque[Msg]] = {}
        self.calls = 0
        self.methods: dict[str, int] = {}
        self.replied: dict[int, float] = {}  # private chat → when its first reply came (perf_counter); a driver pops it

    async def close(self) -> None:
        pass

    async def stream_content(self, *a: Any, **kw: Any):  # pragma: no cover - the bot does not download
        raise NotImplementedError
        yield b""

    async def make_request(self, bot: Bot, method: TelegramMethod, timeout: int | None = None):  # noqa: ASYNC109
        name = method.__api_method__
        params = {k: v for k, v in ((k, self.prepare_value(v, bot=bot, files={}, _dumps_json=False))
                                    for k, v in method.model_dump(warnings=False).items()) if v is not None}
        self.calls += 1
        self.methods[name] = self.methods.get(name, 0) + 1
        result = self._answer(name, params)
        return self.check_response(bot, method, 200, json.dumps({"ok": True, "result": result})).result

    def _answer(self, name: str, p: dict[str, Any]) -> Any:
        if name in TRUE_METHODS:
            return True
        if name == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Qatysu", "username": "qatysu_bench_bot"}
        if name == "createForumTopic":
            return {"message_thread_id": next(self._ids), "name": p["name"], "icon_color": 7322096}
        if name in SENDS or name == "editMessageText":
            chat_id = int(p["chat_id"])
            if chat_id > 0:
                self.replied.setdefault(chat_id, time.perf_counter())
        if name in SENDS:
            chat_id = int(p["chat_id"])
            text = p.get("text") or p.get("caption") or f"[{name[4:].lower()}]"
            msg = Msg(chat_id, next(self._ids), text, p.get("reply_markup"), p.get("message_thread_id"))
            self.chats.setdefault(chat_id, deque(maxlen=KEEP)).append(msg)
            return self.message_json(msg)
        if name == "editMessageText":
            chat_id, mid = int(p["chat_id"]), int(p["message_id"])
            for msg in self.chats.get(chat_id, ()):
                if msg.message_id == mid:
                    msg.text, msg.markup = p["text"], p.get("reply_markup")
                    return self.message_json(msg)
            msg = Msg(chat_id, mid, p["text"], p.get("reply_markup"))  # older than we keep: still fine
            return self.message_json(msg)
        raise AssertionError(f"the bench session does not know {name}")

    @staticmethod
    def message_json(msg: Msg) -> dict[str, Any]:
        out: dict[str, Any] = {"message_id": msg.message_id, "date": int(time.time()), "text": msg.text,
                               "chat": {"id": msg.chat_id, "type": "private" if msg.chat_id > 0 else "supergroup"},
                               "from": {"id": BOT_ID, "is_bot": True, "first_name": "Qatysu"}}
        if msg.markup and "inline_keyboard" in msg.markup:
            out["reply_markup"] = msg.markup
        if msg.thread is not None:
            out["message_thread_id"], out["is_topic_message"] = msg.thread, True
        return out

    def recent(self, chat_id: int) -> list[Msg]:
        return list(self.chats.get(chat_id, ()))
