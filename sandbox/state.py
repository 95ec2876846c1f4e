"""Everything the sandbox remembers: people, chats, messages, topics, files, pending updates, callback
queries, commands and the webhook — plus change notification for waiters and the page's live stream."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .entities import render_html
from .errors import BLOCKED, CANT_INITIATE, CHAT_NOT_FOUND, bad_request, forbidden
from .media import FileStore

T = TypeVar("T")

ROLES = ("resident", "aide", "secretary", "admin")
UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
DEFAULT_UPDATE_TYPES = tuple(
    t for t in UPDATE_TYPES if t not in {"chat_member", "message_reaction", "message_reaction_count"}
)
CALLBACK_ANSWER_WINDOW = 15.0  # seconds Telegram waits for answerCallbackQuery


def now() -> int:
    return int(time.time())


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    role: str = "resident"
    phone: str = ""
    started: bool = False
    blocked: bool = False

    def api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def view(self) -> dict[str, Any]:
        return {
            **self.api(),
            "role": self.role,
            "phone": self.phone,
            "started": self.started,
            "blocked": self.blocked,
            "name": " ".join(p for p in (self.first_name, self.last_name) if p),
        }


@dataclass
class Topic:
    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            data["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return data

    def view(self) -> dict[str, Any]:
        return {**self.api(), "closed": self.closed, "deleted": self.deleted}


@dataclass
class Message:
    chat_id: int
    message_id: int
    sender: dict[str, Any]
    from_bot: bool
    content: dict[str, Any]
    date: int = field(default_factory=now)
    thread_id: int | None = None
    reply_to: int | None = None
    reply_markup: dict[str, Any] | None = None  # inline keyboard: part of the Message object
    keyboard: dict[str, Any] | None = None  # reply keyboard / removal / force reply sent along
    edit_date: int | None = None
    deleted: bool = False
    reactions: list[dict[str, Any]] = field(default_factory=list)
    service: bool = False


@dataclass
class Chat:
    id: int
    type: str  # private | supergroup
    title: str | None = None
    user_id: int | None = None
    is_forum: bool = False
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    messages: dict[int, Message] = field(default_factory=dict)
    next_id: int = 1
    topics: dict[int, Topic] = field(default_factory=dict)
    keyboard: dict[str, Any] | None = None  # reply keyboard currently shown

    def take_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


@dataclass
class CallbackRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float = field(default_factory=time.monotonic)
    answered: bool = False
    answer: dict[str, Any] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "answered": self.answered,
            **self.answer,
        }


@dataclass
class Webhook:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None

    def api(self, pending: int, allowed: list[str] | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }
        if self.url:
            data["max_connections"] = self.max_connections
            data["ip_address"] = "127.0.0.1"
            if allowed is not None:
                data["allowed_updates"] = allowed
        if self.last_error_date:
            data["last_error_date"] = self.last_error_date
            data["last_error_message"] = self.last_error_message
        return data


class World:
    def __init__(
        self, bot_user: dict[str, Any], operator_chat_id: int, operator_chat_title: str, forum: bool
    ) -> None:
        self.bot = bot_user
        self.bot_id: int = bot_user["id"]
        self.operator_chat_id = operator_chat_id
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.files = FileStore()
        self.pending: list[dict[str, Any]] = []
        self.next_update_id = 100_000_001
        self.allowed_updates: list[str] | None = None
        self.callbacks: dict[str, CallbackRecord] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook = Webhook()
        self.actions: dict[int, dict[str, Any]] = {}
        self.next_user_id = 700_000_001
        self.closing = False
        self._changed = asyncio.Event()
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._cursors: dict[tuple[int, int | None], int] = {}
        # Message 1 of a supergroup is its creation; topics and posts come after it.
        group = Chat(
            id=operator_chat_id, type="supergroup", title=operator_chat_title, is_forum=forum, next_id=2
        )
        group.members[self.bot_id] = "administrator"
        self.chats[group.id] = group

    # --- notification ---------------------------------------------------------------------------------
    def changed(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def publish(self, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self._subscribers.discard(queue)  # a stalled page reconnects and reloads
        self.changed()

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers.discard(queue)

    async def wait_change(self, seconds: float) -> bool:
        event = self._changed
        try:
            async with asyncio.timeout(seconds):  # not wait_for: it can swallow a cancellation in 3.11
                await event.wait()
        except TimeoutError:
            return False
        return True

    async def wait_until(
        self, condition: Callable[[], T | None], seconds: float, what: str = "condition"
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            result = condition()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closing:
                raise TimeoutError(f"sandbox: timed out after {seconds:g}s waiting for {what}")
            await self.wait_change(remaining)

    # --- people and chats -----------------------------------------------------------------------------
    def user(self, user_id: int) -> User:
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"no sandbox user {user_id}") from None

    def private_chat(self, user_id: int) -> Chat:
        return self.chats[user_id]

    def chat_api(self, chat: Chat) -> dict[str, Any]:
        if chat.type == "private":
            user = self.users[chat.user_id or chat.id]
            data = {"id": chat.id, "first_name": user.first_name, "type": "private"}
            if user.last_name:
                data["last_name"] = user.last_name
            if user.username:
                data["username"] = user.username
            return data
        data = {"id": chat.id, "title": chat.title, "type": chat.type}
        if chat.is_forum:
            data["is_forum"] = True
        return data

    def chat_view(self, chat: Chat) -> dict[str, Any]:
        data = {**self.chat_api(chat), "topics": [t.view() for t in chat.topics.values() if not t.deleted]}
        if chat.type == "private":
            data["user"] = self.users[chat.id].view()
        else:
            data["members"] = [self.users[uid].view() for uid in chat.members if uid in self.users]
        data["keyboard"] = chat.keyboard
        last = next((m for m in reversed(chat.messages.values()) if not m.deleted), None)
        data["last_message"] = self.message_view(last) if last else None
        action = self.actions.get(chat.id)
        data["action"] = action if action and action["until"] > time.time() else None
        return data

    def bot_chat(self, chat_id: Any) -> Chat:
        """The chat a bot names in a request; unknown chats are refused as Telegram does."""
        if isinstance(chat_id, str):
            chat_id = chat_id.strip()
            try:
                chat_id = int(chat_id)
            except ValueError:
                raise bad_request(CHAT_NOT_FOUND) from None
        if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id not in self.chats:
            raise bad_request(CHAT_NOT_FOUND)
        return self.chats[chat_id]

    def check_can_write(self, chat: Chat) -> None:
        if chat.type == "private":
            user = self.users[chat.id]
            if user.blocked:
                raise forbidden(BLOCKED)
            if not user.started:
                raise forbidden(CANT_INITIATE)

    # --- messages -------------------------------------------------------------------------------------
    def message(self, chat_id: int, message_id: int) -> Message | None:
        chat = self.chats.get(chat_id)
        if chat is None:
            return None
        msg = chat.messages.get(message_id)
        return None if msg is None or msg.deleted else msg

    def add_message(self, chat: Chat, msg: Message) -> Message:
        chat.messages[msg.message_id] = msg
        self.publish({"type": "message", "chat_id": chat.id, "message": self.message_view(msg)})
        return msg

    def message_api(self, msg: Message, with_reply: bool = True) -> dict[str, Any]:
        chat = self.chats[msg.chat_id]
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": dict(msg.sender),
            "chat": self.chat_api(chat),
            "date": msg.date,
        }
        if msg.thread_id is not None:
            data["message_thread_id"] = msg.thread_id
            if chat.is_forum:
                data["is_topic_message"] = True
        reply_to = msg.reply_to
        if reply_to is None and chat.is_forum and msg.thread_id and msg.message_id != msg.thread_id:
            reply_to = msg.thread_id  # Telegram: a topic message "replies" to the topic's first message
        if with_reply and reply_to is not None:
            target = chat.messages.get(reply_to)
            if target is not None and not target.deleted:
                data["reply_to_message"] = self.message_api(target, with_reply=False)
        if msg.edit_date:
            data["edit_date"] = msg.edit_date
        data.update(copy.deepcopy(msg.content))
        if msg.reply_markup:
            data["reply_markup"] = copy.deepcopy(msg.reply_markup)
        return data

    def message_view(self, msg: Message) -> dict[str, Any]:
        """What the transcript and the page show: the Message object plus the sandbox's own fields."""
        data = self.message_api(msg)
        text = msg.content.get("text", msg.content.get("caption"))
        ents = msg.content.get("entities", msg.content.get("caption_entities"))
        data["html"] = render_html(text, ents) if text is not None else None
        data["from_bot"] = msg.from_bot
        data["deleted"] = msg.deleted
        data["reactions"] = list(msg.reactions)
        data["service"] = msg.service
        if msg.keyboard is not None:
            data["keyboard"] = copy.deepcopy(msg.keyboard)
        if "photo" in msg.content:
            data["file_url"] = f"/sandbox/files/{msg.content['photo'][-1]['file_id']}"
        elif "document" in msg.content:
            data["file_url"] = f"/sandbox/files/{msg.content['document']['file_id']}"
        return data

    def transcript(
        self,
        chat_id: int,
        thread_id: int | None = None,
        *,
        include_deleted: bool = True,
    ) -> list[dict[str, Any]]:
        chat = self.chats[chat_id]
        return [
            self.message_view(m)
            for m in chat.messages.values()
            if (thread_id is None or m.thread_id == thread_id) and (include_deleted or not m.deleted)
        ]

    def next_bot_message(
        self, chat_id: int, thread_id: int | None, predicate: Callable[[dict[str, Any]], bool] | None
    ) -> dict[str, Any] | None:
        """The first bot message after this chat's cursor that matches; the cursor moves past it."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise KeyError(f"no sandbox chat {chat_id}")
        key = (chat_id, thread_id)
        cursor = self._cursors.get(key, 0)
        for mid, msg in chat.messages.items():
            if mid <= cursor or not msg.from_bot or msg.service:
                continue
            if thread_id is not None and msg.thread_id != thread_id:
                continue
            view = self.message_view(msg)
            if predicate is None or predicate(view):
                self._cursors[key] = mid
                return view
        return None

    # --- updates --------------------------------------------------------------------------------------
    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        allowed = self.allowed_updates if self.allowed_updates else DEFAULT_UPDATE_TYPES
        if kind not in allowed:
            return None
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        self.pending.append(update)
        self.publish({"type": "update", "update_id": update["update_id"], "kind": kind})
        return update

    def confirm(self, offset: int) -> None:
        """getUpdates' offset: updates with a smaller id are confirmed and forgotten."""
        self.pending = [u for u in self.pending if u["update_id"] >= offset]

    def set_allowed(self, allowed: list[str] | None) -> None:
        if allowed is not None:
            self.allowed_updates = [t for t in allowed if t in UPDATE_TYPES]

    # --- commands -------------------------------------------------------------------------------------
    def commands_for(self, chat: Chat, user_id: int | None, lang: str | None) -> list[dict[str, str]]:
        """The menu a client would show: Telegram's scope resolution order, language first."""
        keys: list[str] = []
        if chat.type == "private":
            keys = [f"chat:{chat.id}", "all_private_chats", "default"]
        else:
            status = chat.members.get(user_id or 0)
            admin = status in {"administrator", "creator"}
            keys = [f"chat_member:{chat.id}:{user_id}"]
            if admin:
                keys.append(f"chat_administrators:{chat.id}")
            keys.append(f"chat:{chat.id}")
            if admin:
                keys.append("all_chat_administrators")
            keys += ["all_group_chats", "default"]
        for key in keys:
            for code in ([lang] if lang else []) + [""]:
                found = self.commands.get((key, code))
                if found:
                    return found
        return []
