"""What people do in their Telegram clients — residents, aides in the operator group, the secretary — as
Python methods that create the updates Telegram would send, plus reads and wait helpers for tests."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from typing import Any

from .entities import detect_entities, utf16_len
from .errors import ControlError
from .media import image_size, make_png
from .state import ROLES, CallbackRecord, Chat, Message, User, World, now

Predicate = Callable[[dict[str, Any]], bool]


class Actions:
    """Mixed into Sandbox; every action returns plain JSON-able dicts (message views, user views)."""

    world: World

    # --- people ---------------------------------------------------------------------------------------
    async def create_user(
        self,
        first_name: str = "Тұрғын",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "kk",
        role: str = "resident",
        user_id: int | None = None,
        phone: str | None = None,
        started: bool = False,
        operator_member: bool | None = None,
        operator_admin: bool = False,
    ) -> dict[str, Any]:
        """A person with a Telegram account. Aides are members of the operator group (as is anyone with
        operator_member=True). `started` means they have already pressed Start in the bot's chat."""
        world = self.world
        if role not in ROLES:
            raise ControlError(f"role must be one of {', '.join(ROLES)}")
        first_name = (first_name or "").strip()
        if not 1 <= len(first_name) <= 64:
            raise ControlError("first_name must be 1-64 characters")
        if username is not None:
            username = username.lstrip("@")
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{4,31}", username):
                raise ControlError("username must be 5-32 letters, digits or _ and start with a letter")
            if any((u.username or "").lower() == username.lower() for u in world.users.values()):
                raise ControlError(f"username @{username} is taken")
        if language_code is not None and not re.fullmatch(r"[a-z]{2}(-[A-Za-z]{2,4})?", language_code):
            raise ControlError("language_code must be an IETF tag such as kk or ru")
        if user_id is None:
            while world.next_user_id in world.users or world.next_user_id in world.chats:
                world.next_user_id += 1
            user_id = world.next_user_id
            world.next_user_id += 1
        if user_id <= 0 or user_id in world.users or user_id == world.bot_id:
            raise ControlError(f"user id {user_id} is taken or invalid")
        if phone is None:
            phone = f"770{user_id % 100_000_000:08d}"
        phone = re.sub(r"[^\d+]", "", phone)
        user = User(
            id=user_id,
            first_name=first_name,
            last_name=(last_name or "").strip() or None,
            username=username,
            language_code=language_code or None,
            role=role,
            phone=phone,
            started=started,
        )
        world.users[user_id] = user
        world.chats[user_id] = Chat(id=user_id, type="private", user_id=user_id)
        if operator_member if operator_member is not None else role == "aide":
            group = world.chats[world.operator_chat_id]
            group.members[user_id] = "administrator" if operator_admin else "member"
        world.publish({"type": "chats"})
        return user.view()

    def users(self, role: str | None = None) -> list[dict[str, Any]]:
        return [u.view() for u in self.world.users.values() if role is None or u.role == role]

    def user(self, user_id: int) -> dict[str, Any]:
        return self.world.user(user_id).view()

    async def block(self, user_id: int) -> dict[str, Any] | None:
        """The person blocks the bot: sends fail with 403, the bot gets a my_chat_member update."""
        return self._membership(user_id, blocked=True)

    async def unblock(self, user_id: int) -> dict[str, Any] | None:
        return self._membership(user_id, blocked=False)

    def _membership(self, user_id: int, *, blocked: bool) -> dict[str, Any] | None:
        world = self.world
        user = world.user(user_id)
        if user.blocked == blocked:
            return None
        user.blocked = blocked
        if not blocked:
            user.started = True
        chat = world.chats[user_id]
        bot = dict(world.bot)
        member = {"status": "member", "user": bot}
        kicked = {"status": "kicked", "user": bot, "until_date": 0}
        payload = {
            "chat": world.chat_api(chat),
            "from": user.api(),
            "date": now(),
            "old_chat_member": member if blocked else kicked,
            "new_chat_member": kicked if blocked else member,
        }
        world.publish({"type": "chats"})
        return world.enqueue("my_chat_member", payload)

    # --- messages from people -------------------------------------------------------------------------
    def _target_chat(self, user: User, chat_id: int | None) -> Chat:
        world = self.world
        chat = world.chats.get(user.id if chat_id is None else chat_id)
        if chat is None:
            raise ControlError(f"no chat {chat_id}")
        if chat.type == "private":
            if chat.id != user.id:
                raise ControlError("a person can write only in their own chat with the bot")
            if user.blocked:
                raise ControlError("this person has blocked the bot; unblock first")
        elif user.id not in chat.members:
            raise ControlError(f"{user.first_name} is not a member of {chat.title}")
        return chat

    def _place(
        self,
        user: User,
        chat: Chat,
        thread_id: int | None,
        reply_to: int | None,
    ) -> tuple[int | None, int | None]:
        if reply_to is not None:
            target = self.world.message(chat.id, reply_to)
            if target is None:
                raise ControlError(f"no message {reply_to} to reply to")
            if thread_id is None and chat.is_forum:
                thread_id = target.thread_id
        if thread_id is not None:
            if chat.type == "private" or not chat.is_forum:
                raise ControlError("topics exist only in the forum group")
            topic = chat.topics.get(thread_id)
            if topic is None or topic.deleted:
                raise ControlError(f"no topic {thread_id}")
            if topic.closed and chat.members.get(user.id) not in {"administrator", "creator"}:
                raise ControlError(f"topic «{topic.name}» is closed")
        return thread_id, reply_to

    def _post(
        self,
        user_id: int,
        content: dict[str, Any],
        *,
        chat_id: int | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        world = self.world
        user = world.user(user_id)
        chat = self._target_chat(user, chat_id)
        thread_id, reply_to = self._place(user, chat, message_thread_id, reply_to_message_id)
        if chat.type == "private":
            user.started = True
        msg = Message(
            chat_id=chat.id,
            message_id=chat.take_id(),
            sender=user.api(),
            from_bot=False,
            content=content,
            thread_id=thread_id,
            reply_to=reply_to,
        )
        world.add_message(chat, msg)
        if chat.keyboard and chat.keyboard.get("one_time_keyboard"):
            chat.keyboard = None
            world.publish({"type": "chats"})
        world.enqueue("message", world.message_api(msg))
        return world.message_view(msg)

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """A typed message; commands, mentions, hashtags and links get entities as a client sets them."""
        text = (text or "").strip()
        if not text:
            raise ControlError("text is empty")
        if utf16_len(text) > 4096:
            raise ControlError("text is longer than 4096 characters")
        content: dict[str, Any] = {"text": text}
        entities = detect_entities(text)
        if entities:
            content["entities"] = entities
        return self._post(
            user_id,
            content,
            chat_id=chat_id,
            message_thread_id=message_thread_id,
            reply_to_message_id=reply_to_message_id,
        )

    async def send_contact(
        self,
        user_id: int,
        *,
        own: bool = True,
        phone_number: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        contact_user_id: int | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """own=True: the person shares their own number (contact.user_id is theirs; digits without '+',
        as most clients send it). own=False: someone else's card, user_id only if contact_user_id is given."""
        user = self.world.user(user_id)
        if own:
            contact: dict[str, Any] = {
                "phone_number": phone_number or user.phone,
                "first_name": user.first_name,
            }
            if user.last_name:
                contact["last_name"] = user.last_name
            contact["user_id"] = user.id
        else:
            if not phone_number:
                raise ControlError("phone_number is required for someone else's contact")
            if contact_user_id == user.id:
                raise ControlError("that is the sender's own contact; use own=True")
            contact = {"phone_number": phone_number, "first_name": first_name or "Контакт"}
            if last_name:
                contact["last_name"] = last_name
            if contact_user_id is not None:
                contact["user_id"] = contact_user_id
        return self._post(user_id, {"contact": contact}, chat_id=chat_id)

    async def send_location(
        self,
        user_id: int,
        latitude: float = 51.128207,
        longitude: float = 71.430411,
        *,
        chat_id: int | None = None,
        message_thread_id: int | None = None,
    ) -> dict[str, Any]:
        if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
            raise ControlError("latitude must be within ±90 and longitude within ±180")
        location = {"latitude": float(latitude), "longitude": float(longitude)}
        return self._post(
            user_id, {"location": location}, chat_id=chat_id, message_thread_id=message_thread_id
        )

    async def send_photo(
        self,
        user_id: int,
        data: bytes | None = None,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """A photo (a small generated PNG unless data is given; it must be a PNG, JPEG, GIF or WebP)."""
        data = data or make_png()
        if image_size(data) is None:
            raise ControlError("not an image (PNG, JPEG, GIF or WebP expected)")
        stored = self.world.files.add(data, "photos")
        content: dict[str, Any] = {"photo": [stored.photo_size()]}
        self._add_caption(content, caption)
        return self._post(
            user_id,
            content,
            chat_id=chat_id,
            message_thread_id=message_thread_id,
            reply_to_message_id=reply_to_message_id,
        )

    async def send_document(
        self,
        user_id: int,
        data: bytes | None = None,
        *,
        file_name: str = "өтініш.pdf",
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        if data is None:
            data = (
                b"%PDF-1.4\n% sandbox document\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
            )
        if not data:
            raise ControlError("a document must not be empty")
        stored = self.world.files.add(data, "documents", file_name=file_name, mime_type=mime_type)
        content: dict[str, Any] = {"document": stored.document()}
        self._add_caption(content, caption)
        return self._post(
            user_id,
            content,
            chat_id=chat_id,
            message_thread_id=message_thread_id,
            reply_to_message_id=reply_to_message_id,
        )

    async def send_voice(
        self, user_id: int, data: bytes | None = None, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """A voice note (a few bytes of Ogg unless data is given)."""
        data = data or b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead\x01\x01" + b"\x00" * 64
        stored = self.world.files.add(data, "voices", file_name="voice.ogg", mime_type="audio/ogg")
        return self._post(user_id, {"voice": stored.voice()}, chat_id=chat_id)

    @staticmethod
    def _add_caption(content: dict[str, Any], caption: str | None) -> None:
        caption = (caption or "").strip()
        if utf16_len(caption) > 1024:
            raise ControlError("caption is longer than 1024 characters")
        if caption:
            content["caption"] = caption
            entities = detect_entities(caption)
            if entities:
                content["caption_entities"] = entities

    async def edit_text(
        self,
        user_id: int,
        message_id: int,
        text: str,
        *,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """The person edits their own text message: the bot gets an edited_message update."""
        world = self.world
        user = world.user(user_id)
        chat = self._target_chat(user, chat_id)
        msg = world.message(chat.id, message_id)
        if msg is None or msg.from_bot or msg.sender.get("id") != user.id:
            raise ControlError("a person can edit only their own messages")
        text = (text or "").strip()
        if "text" not in msg.content or not text:
            raise ControlError("only a text message can be edited, to a non-empty text")
        if text == msg.content["text"]:
            raise ControlError("the text is the same")
        msg.content = {"text": text}
        entities = detect_entities(text)
        if entities:
            msg.content["entities"] = entities
        msg.edit_date = now()
        view = world.message_view(msg)
        world.publish({"type": "message", "chat_id": chat.id, "message": view})
        world.enqueue("edited_message", world.message_api(msg))
        return view

    async def press_button(
        self,
        user_id: int,
        message_id: int,
        *,
        chat_id: int | None = None,
        data: str | None = None,
        text: str | None = None,
    ) -> str:
        """Press an inline callback button (found by its callback_data or its text; the only one if neither).
        Returns the callback query id; see callback_answer()."""
        world = self.world
        user = world.user(user_id)
        chat = self._target_chat(user, chat_id)
        msg = world.message(chat.id, message_id)
        if msg is None:
            raise ControlError(f"no message {message_id}")
        buttons = [b for row in (msg.reply_markup or {}).get("inline_keyboard", []) for b in row]
        if data is not None:
            matching = [b for b in buttons if b.get("callback_data") == data]
        elif text is not None:
            matching = [b for b in buttons if b.get("text") == text]
        else:
            matching = [b for b in buttons if "callback_data" in b]
            if len(matching) > 1:
                raise ControlError("the message has several buttons; name one by data or text")
        if not matching:
            raise ControlError("no such inline button on that message")
        button = matching[0]
        if "callback_data" not in button:
            raise ControlError("that button is not a callback button (it opens a link or an app)")
        query_id = str(secrets.randbits(63))
        record = CallbackRecord(
            id=query_id,
            user_id=user.id,
            chat_id=chat.id,
            message_id=msg.message_id,
            data=button["callback_data"],
        )
        world.callbacks[query_id] = record
        chat_instance = str(int(hashlib.sha256(f"{chat.id}".encode()).hexdigest()[:15], 16))
        payload = {
            "id": query_id,
            "from": user.api(),
            "message": world.message_api(msg),
            "chat_instance": chat_instance,
            "data": button["callback_data"],
        }
        world.publish({"type": "callback", **record.view()})
        world.enqueue("callback_query", payload)
        return query_id

    def callback_answer(self, query_id: str) -> dict[str, Any]:
        """Whether the bot answered the callback query, and with what (text, show_alert, url)."""
        record = self.world.callbacks.get(query_id)
        if record is None:
            raise ControlError(f"no callback query {query_id}")
        return record.view()

    def unanswered_callbacks(self) -> list[dict[str, Any]]:
        return [r.view() for r in self.world.callbacks.values() if not r.answered]

    # --- reading --------------------------------------------------------------------------------------
    def chats(self) -> list[dict[str, Any]]:
        return [self.world.chat_view(c) for c in self.world.chats.values()]

    def transcript(
        self,
        chat_id: int,
        thread_id: int | None = None,
        *,
        include_deleted: bool = True,
    ) -> list[dict[str, Any]]:
        """Messages both ways, oldest first: Message objects plus html, from_bot, deleted, reactions,
        keyboard."""
        if chat_id not in self.world.chats:
            raise ControlError(f"no chat {chat_id}")
        return self.world.transcript(chat_id, thread_id, include_deleted=include_deleted)

    def bot_messages(self, chat_id: int, thread_id: int | None = None) -> list[dict[str, Any]]:
        return [m for m in self.transcript(chat_id, thread_id) if m["from_bot"] and not m["service"]]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        msg = self.world.chats[chat_id].messages.get(message_id) if chat_id in self.world.chats else None
        return self.world.message_view(msg) if msg is not None else None

    def topics(self, chat_id: int | None = None, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        chat = self.world.chats[chat_id if chat_id is not None else self.world.operator_chat_id]
        return [t.view() for t in chat.topics.values() if include_deleted or not t.deleted]

    def pending_updates(self) -> list[dict[str, Any]]:
        return [dict(u) for u in self.world.pending]

    def commands(self, *, scope: str = "default", language_code: str = "") -> list[dict[str, str]]:
        """Commands as stored by setMyCommands for a scope key ("default", "all_private_chats",
        "chat:<id>", "chat_member:<chat>:<user>", ...) and language code."""
        return [dict(c) for c in self.world.commands.get((scope, language_code), [])]

    def menu(self, chat_id: int, user_id: int | None = None) -> list[dict[str, str]]:
        """The command menu a client would show this person in this chat."""
        chat = self.world.chats[chat_id]
        user = self.world.users.get(user_id if user_id is not None else chat_id)
        return self.world.commands_for(chat, user.id if user else None, user.language_code if user else None)

    # --- waiting --------------------------------------------------------------------------------------
    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: Predicate | None = None,
        timeout: float = 5,  # noqa: ASYNC109 - a test helper's deadline, not a network timeout
        *,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """The next bot message in the chat (optionally in a topic) that satisfies predicate. Each chat has
        a cursor: a message returned here is not returned again, nor are the ones before it."""
        return await self.world.wait_until(
            lambda: self.world.next_bot_message(chat_id, thread_id, predicate),
            timeout,
            f"a bot message in chat {chat_id}" + (f" topic {thread_id}" if thread_id else ""),
        )

    async def wait_for_callback_answer(self, query_id: str, timeout: float = 5) -> dict[str, Any]:  # noqa: ASYNC109
        await self.world.wait_until(
            lambda: self.world.callbacks[query_id].answered, timeout, f"answerCallbackQuery for {query_id}"
        )
        return self.callback_answer(query_id)

    async def wait_until(
        self,
        condition: Callable[[], Any],
        timeout: float = 5,  # noqa: ASYNC109
        what: str = "condition",
    ) -> Any:
        """Re-check condition() whenever the sandbox changes; returns its first truthy value."""
        return await self.world.wait_until(condition, timeout, what)

    async def wait_for_updates_consumed(self, timeout: float = 5) -> None:  # noqa: ASYNC109
        """Until the bot has confirmed every pending update (by getUpdates offset or webhook delivery)."""
        await self.world.wait_until(lambda: not self.world.pending, timeout, "the bot to take its updates")
