"""The Bot API as a bot sees it: /bot{token}/{method} and /file/bot{token}/{file_path}, with Telegram's
result and error shapes."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from . import validation
from .errors import ApiError, bad_request
from .media import MAX_DOCUMENT_BYTES, MAX_DOWNLOAD_BYTES, MAX_PHOTO_BYTES, StoredFile
from .params import Params
from .ratelimit import RateLimiter
from .state import CALLBACK_ANSWER_WINDOW, Chat, Message, Topic, World, now

log = logging.getLogger("sandbox.botapi")

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

Handler = Callable[[Params], Awaitable[Any]]


def _real_methods() -> set[str]:
    """Bot API method names (lower-cased) known to the installed aiogram, to tell "not implemented by the
    sandbox" (501) from "no such method" (404)."""
    try:
        from aiogram import methods
    except ImportError:  # pragma: no cover - the sandbox itself does not need aiogram
        return set()
    names = set()
    for value in vars(methods).values():
        api_name = getattr(value, "__api_method__", None)
        if isinstance(api_name, str):
            names.add(api_name.lower())
    return names


class Described:
    """A result that Telegram sends with a "description" (setWebhook, deleteWebhook)."""

    def __init__(self, result: Any, description: str) -> None:
        self.result = result
        self.description = description


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BotApi:
    def __init__(self, world: World, token: str, limiter: RateLimiter) -> None:
        self.world = world
        self.token = token
        self.limiter = limiter
        self.calls: deque[tuple[str, dict[str, Any]]] = deque(maxlen=5000)  # method log, for tests
        self._real_methods: set[str] | None = None  # filled on the first unknown method
        self._poll_generation = 0
        self.methods: dict[str, Handler] = {}
        for name in dir(self):
            if name.startswith("m_"):
                self.methods[name[2:].lower()] = getattr(self, name)

    # --- HTTP -----------------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        name = request.match_info["method"]
        handler = self.methods.get(name.lower())
        if handler is None:
            if self._real_methods is None:
                self._real_methods = _real_methods()
            if name.lower() in self._real_methods:
                description = f"Not Implemented: the sandbox does not implement {name}"
                return web.json_response(
                    {"ok": False, "error_code": 501, "description": description}, status=501
                )
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        try:
            params = await Params.read(request)
            result = await self.run(name, handler, params)
        except ApiError as e:
            return web.json_response(e.payload(), status=e.code)
        body: dict[str, Any] = {"ok": True}
        if isinstance(result, Described):
            body["result"] = result.result
            body["description"] = result.description
        else:
            body["result"] = result
        return web.json_response(body)

    async def run(self, name: str, handler: Handler, params: Params) -> Any:
        self.calls.append((name, {k: v for k, v in params.values.items()}))
        return await handler(params)

    async def call(self, name: str, values: dict[str, Any]) -> Any:
        """Run a method in-process (a webhook reply carrying a method uses this)."""
        handler = self.methods.get(name.lower())
        if handler is None:
            raise ApiError(404, "Not Found")
        return await self.run(name, handler, Params(values, {}, typed=True))

    async def download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        stored = self.world.files.by_path(request.match_info["path"])
        if stored is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # --- shared pieces --------------------------------------------------------------------------------
    def _thread(self, chat: Chat, p: Params) -> int | None:
        thread_id = p.int("message_thread_id")
        if thread_id is None or chat.type == "private":
            return None
        if chat.is_forum:
            topic = chat.topics.get(thread_id)
            if topic is None or topic.deleted:
                raise bad_request("message thread not found")
            return thread_id
        if self.world.message(chat.id, thread_id) is None:
            raise bad_request("message thread not found")
        return thread_id

    def _reply(self, chat: Chat, p: Params, thread: int | None) -> tuple[int | None, int | None]:
        params = p.json("reply_parameters")
        allow = p.bool("allow_sending_without_reply")
        target_id: int | None = None
        if isinstance(params, dict):
            target_id = params.get("message_id")
            allow = bool(params.get("allow_sending_without_reply", allow))
            other = params.get("chat_id")
            if other is not None and str(other) != str(chat.id):
                raise bad_request("message to be replied not found")
            if not isinstance(target_id, int):
                raise bad_request("message to be replied not found")
        elif params is not None:
            raise bad_request("can't parse reply parameters JSON object")
        else:
            target_id = p.int("reply_to_message_id")
        if target_id is None:
            return None, thread
        target = self.world.message(chat.id, target_id)
        if target is None:
            if allow:
                return None, thread
            raise bad_request("message to be replied not found")
        if thread is None and chat.is_forum and target.thread_id is not None:
            thread = target.thread_id
        return target_id, thread

    def _markup(self, chat: Chat, p: Params, *, inline_only: bool = False) -> dict[str, Any] | None:
        return validation.reply_markup(p.json("reply_markup"), chat_type=chat.type, inline_only=inline_only)

    def _deliver(self, chat: Chat, p: Params, content: dict[str, Any], *, rate: bool = True) -> Message:
        thread = self._thread(chat, p)
        reply_to, thread = self._reply(chat, p, thread)
        markup = self._markup(chat, p)
        self.world.check_can_write(chat)
        if rate:
            self.limiter.check(chat.id, private=chat.type == "private")
        msg = Message(
            chat_id=chat.id,
            message_id=chat.take_id(),
            sender=dict(self.world.bot),
            from_bot=True,
            content=content,
            thread_id=thread,
            reply_to=reply_to,
        )
        if markup is not None:
            if "inline_keyboard" in markup:
                msg.reply_markup = markup
            else:
                msg.keyboard = markup
                if "keyboard" in markup:
                    chat.keyboard = markup
                elif markup.get("remove_keyboard"):
                    chat.keyboard = None
        self.world.actions.pop(chat.id, None)
        return self.world.add_message(chat, msg)

    def _text_content(self, p: Params) -> dict[str, Any]:
        text, entities = validation.formatted_text(p.raw("text"), p.raw("parse_mode"), p.json("entities"))
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        preview = p.json("link_preview_options")
        if isinstance(preview, dict) and preview:
            content["link_preview_options"] = preview
        return content

    def _caption(self, p: Params, content: dict[str, Any]) -> dict[str, Any]:
        if p.raw("caption") is None:
            return content
        caption, entities = validation.formatted_text(
            p.raw("caption"), p.raw("parse_mode"), p.json("caption_entities"), caption=True
        )
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return content

    def _input_file(self, p: Params, field: str, kind: str) -> StoredFile:
        reference = p.raw(field)
        upload = p.uploads.get(field) if reference is None else None
        if isinstance(reference, str):
            upload = p.upload(reference) or upload
        if upload is not None:
            limit = MAX_PHOTO_BYTES if kind == "photos" else MAX_DOCUMENT_BYTES
            if len(upload.data) > limit:
                raise ApiError(413, "Request Entity Too Large")
            if not upload.data:
                raise bad_request("file must be non-empty")
            return self.world.files.add(
                upload.data,
                kind,
                file_name=upload.filename,
                mime_type=upload.content_type
                if kind == "documents" and upload.content_type != "application/octet-stream"
                else None,
            )
        if not isinstance(reference, str) or not reference:
            raise bad_request(f"there is no {field} in the request")
        if reference.startswith("attach://"):
            raise bad_request(f"there is no {field} in the request")
        if re.match(r"^https?://", reference, re.I):
            raise bad_request("failed to get HTTP URL content")
        stored = self.world.files.get(reference)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            names = {"photos": "Photo", "documents": "Document", "voices": "Voice"}
            raise bad_request(f"can't use file of type {names[stored.kind]} as {names[kind]}")
        return stored

    def _bot_message(self, p: Params, *, kind: str) -> tuple[Chat, Message]:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self.world.bot_chat(p.chat_id())
        message_id = p.int("message_id", required=True, empty="message identifier is not specified")
        msg = self.world.message(chat.id, message_id or 0)
        if msg is None:
            raise bad_request(f"message to {kind} not found")
        return chat, msg

    def _edited(self, chat: Chat, msg: Message) -> dict[str, Any]:
        msg.edit_date = now()
        self.world.publish({"type": "message", "chat_id": chat.id, "message": self.world.message_view(msg)})
        return self.world.message_api(msg)

    def _topic(self, p: Params) -> tuple[Chat, Topic]:
        chat = self.world.bot_chat(p.chat_id())
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        thread_id = p.int("message_thread_id", required=True)
        topic = chat.topics.get(thread_id or 0)
        if topic is None or topic.deleted:
            raise bad_request("TOPIC_ID_INVALID")
        return chat, topic

    def _service(
        self, chat: Chat, thread_id: int, content: dict[str, Any], message_id: int | None = None
    ) -> None:
        msg = Message(
            chat_id=chat.id,
            message_id=message_id or chat.take_id(),
            sender=dict(self.world.bot),
            from_bot=True,
            content=content,
            thread_id=thread_id,
            service=True,
        )
        self.world.add_message(chat, msg)

    def _user_id(self, p: Params) -> int:
        user_id = p.int("user_id", required=True)
        assert user_id is not None
        return user_id

    # --- identity and updates -------------------------------------------------------------------------
    async def m_getMe(self, p: Params) -> Any:
        return {
            **self.world.bot,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def m_logOut(self, p: Params) -> Any:
        return True

    async def m_close(self, p: Params) -> Any:
        return True

    async def m_getUpdates(self, p: Params) -> Any:
        world = self.world
        if world.webhook.url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        self._poll_generation += 1
        generation = self._poll_generation
        world.changed()  # wakes an older long poll, which then ends with 409
        offset = p.int("offset") or 0
        limit = max(1, min(100, p.int("limit") or 100))
        timeout = max(0, min(50, p.int("timeout") or 0))
        allowed = p.json("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise bad_request("can't parse allowed_updates JSON object")
            world.set_allowed(allowed)
        if offset > 0:
            world.confirm(offset)
        elif offset < 0:
            world.pending = world.pending[offset:]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not world.pending and not world.closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await world.wait_change(remaining)
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_POLL)
            if world.webhook.url:
                raise ApiError(409, CONFLICT_WEBHOOK)
        return [dict(u) for u in world.pending[:limit]]

    async def m_setWebhook(self, p: Params) -> Any:
        url = p.str("url") or ""
        if not url:
            return await self.m_deleteWebhook(p)
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise bad_request("bad webhook: Webhook URL must be an HTTP or HTTPS URL")
        if not is_loopback_host(parts.hostname):
            raise bad_request("bad webhook: the sandbox delivers webhooks only to loopback addresses")
        secret = p.str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = p.int("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed = p.json("allowed_updates")
        if allowed is not None and not isinstance(allowed, list):
            raise bad_request("can't parse allowed_updates JSON object")
        self.world.set_allowed(allowed)
        if p.bool("drop_pending_updates"):
            self.world.pending.clear()
        hook = self.world.webhook
        hook.url, hook.secret_token, hook.max_connections = url, secret, max_connections
        hook.last_error_date = hook.last_error_message = None
        self._poll_generation += 1
        self.world.changed()
        return Described(True, "Webhook was set")

    async def m_deleteWebhook(self, p: Params) -> Any:
        hook = self.world.webhook
        had = bool(hook.url)
        hook.url, hook.secret_token = "", None
        hook.last_error_date = hook.last_error_message = None
        if p.bool("drop_pending_updates"):
            self.world.pending.clear()
        self.world.changed()
        return Described(True, "Webhook was deleted" if had else "Webhook is already deleted")

    async def m_getWebhookInfo(self, p: Params) -> Any:
        allowed = self.world.allowed_updates
        return self.world.webhook.api(len(self.world.pending), allowed)

    # --- sending --------------------------------------------------------------------------------------
    async def m_sendMessage(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        content = self._text_content(p)
        return self.world.message_api(self._deliver(chat, p, content))

    async def m_sendPhoto(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        content = self._caption(p, {})
        stored = self._input_file(p, "photo", "photos")
        content = {"photo": [stored.photo_size()], **content}
        if p.bool("has_spoiler"):
            content["has_media_spoiler"] = True
        return self.world.message_api(self._deliver(chat, p, content))

    async def m_sendDocument(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        content = self._caption(p, {})
        stored = self._input_file(p, "document", "documents")
        content = {"document": stored.document(), **content}
        return self.world.message_api(self._deliver(chat, p, content))

    async def m_sendVoice(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        content = self._caption(p, {})
        stored = self._input_file(p, "voice", "voices")
        content = {"voice": stored.voice(), **content}
        return self.world.message_api(self._deliver(chat, p, content))

    async def m_sendLocation(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        latitude = p.float("latitude", required=True)
        longitude = p.float("longitude", required=True)
        if latitude is None or not -90 <= latitude <= 90:
            raise bad_request("wrong latitude specified")
        if longitude is None or not -180 <= longitude <= 180:
            raise bad_request("wrong longitude specified")
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        accuracy = p.float("horizontal_accuracy")
        if accuracy is not None:
            location["horizontal_accuracy"] = accuracy
        return self.world.message_api(self._deliver(chat, p, {"location": location}))

    def _source(self, p: Params, what: str) -> Message:
        source_chat = self.world.bot_chat(p.chat_id("from_chat_id"))
        message_id = p.int("message_id", required=True, empty="message identifier is not specified")
        msg = self.world.message(source_chat.id, message_id or 0)
        if msg is None:
            raise bad_request(f"message to {what} not found")
        if msg.service:
            raise bad_request(f"message can't be {'copied' if what == 'copy' else 'forwarded'}")
        return msg

    async def m_copyMessage(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        source = self._source(p, "copy")
        content = {k: v for k, v in source.content.items() if k not in {"forward_origin"}}
        if any(k in content for k in ("photo", "document")) and p.raw("caption") is not None:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content = self._caption(p, content)
        msg = self._deliver(chat, p, content)
        return {"message_id": msg.message_id}

    async def m_forwardMessage(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        source = self._source(p, "forward")
        content = {k: v for k, v in source.content.items()}
        origin = content.pop("forward_origin", None) or {
            "type": "user",
            "sender_user": dict(source.sender),
            "date": source.date,
        }
        content["forward_origin"] = origin
        p.values.pop("reply_markup", None)
        p.values.pop("reply_parameters", None)
        p.values.pop("reply_to_message_id", None)
        return self.world.message_api(self._deliver(chat, p, content))

    async def m_sendChatAction(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        action = p.str("action", required=True)
        if action not in validation.CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        thread = self._thread(chat, p)
        self.world.check_can_write(chat)
        self.world.actions[chat.id] = {"action": action, "thread_id": thread, "until": time.time() + 5}
        self.world.publish({"type": "action", "chat_id": chat.id, "action": action, "thread_id": thread})
        return True

    # --- editing --------------------------------------------------------------------------------------
    async def m_editMessageText(self, p: Params) -> Any:
        chat, msg = self._bot_message(p, kind="edit")
        if not msg.from_bot or msg.service:
            raise bad_request("message can't be edited")
        content = self._text_content(p)
        markup = self._markup(chat, p, inline_only=True)
        if "text" not in msg.content:
            raise bad_request("there is no text in the message to edit")
        same_text = content["text"] == msg.content["text"]
        same_entities = content.get("entities", []) == msg.content.get("entities", [])
        if same_text and same_entities and markup == msg.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self._check_blocked(chat)
        msg.content = {
            **{k: v for k, v in msg.content.items() if k not in {"entities", "link_preview_options"}},
            **content,
        }
        msg.reply_markup = markup
        return self._edited(chat, msg)

    async def m_editMessageCaption(self, p: Params) -> Any:
        chat, msg = self._bot_message(p, kind="edit")
        if not msg.from_bot or msg.service:
            raise bad_request("message can't be edited")
        if not any(k in msg.content for k in ("photo", "document")):
            raise bad_request("there is no caption in the message to edit")
        caption = self._caption(p, {}) if p.raw("caption") is not None else {}
        markup = self._markup(chat, p, inline_only=True)
        old = {k: msg.content[k] for k in ("caption", "caption_entities") if k in msg.content}
        if old == caption and markup == msg.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self._check_blocked(chat)
        msg.content = {
            **{k: v for k, v in msg.content.items() if k not in {"caption", "caption_entities"}},
            **caption,
        }
        msg.reply_markup = markup
        return self._edited(chat, msg)

    async def m_editMessageReplyMarkup(self, p: Params) -> Any:
        chat, msg = self._bot_message(p, kind="edit")
        if not msg.from_bot or msg.service:
            raise bad_request("message can't be edited")
        markup = self._markup(chat, p, inline_only=True)
        if markup == msg.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self._check_blocked(chat)
        msg.reply_markup = markup
        return self._edited(chat, msg)

    def _check_blocked(self, chat: Chat) -> None:
        if chat.type == "private" and self.world.users[chat.id].blocked:
            self.world.check_can_write(chat)

    async def m_deleteMessage(self, p: Params) -> Any:
        chat, msg = self._bot_message(p, kind="delete")
        if msg.service and msg.thread_id == msg.message_id:
            raise bad_request("message can't be deleted")
        msg.deleted = True
        self.world.publish({"type": "message", "chat_id": chat.id, "message": self.world.message_view(msg)})
        return True

    async def m_deleteMessages(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        ids = p.json("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a non-empty list of at most 100 identifiers")
        for message_id in ids:
            msg = self.world.message(chat.id, message_id) if isinstance(message_id, int) else None
            if msg is not None and not (msg.service and msg.thread_id == msg.message_id):
                msg.deleted = True
                self.world.publish(
                    {"type": "message", "chat_id": chat.id, "message": self.world.message_view(msg)}
                )
        return True

    async def m_setMessageReaction(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        message_id = p.int("message_id", required=True, empty="message identifier is not specified")
        reactions = validation.reactions(p.json("reaction"))
        msg = self.world.message(chat.id, message_id or 0)
        if msg is None or msg.service:
            raise bad_request("MESSAGE_ID_INVALID")
        msg.reactions = reactions
        self.world.publish({"type": "message", "chat_id": chat.id, "message": self.world.message_view(msg)})
        return True

    async def m_answerCallbackQuery(self, p: Params) -> Any:
        query_id = p.str("callback_query_id", required=True, empty="QUERY_ID_INVALID")
        record = self.world.callbacks.get(query_id or "")
        if record is None or record.answered or time.monotonic() - record.created > CALLBACK_ANSWER_WINDOW:
            raise bad_request(QUERY_TOO_OLD)
        text = p.str("text")
        if text is not None and len(text) > validation.MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.answer = {
            "text": text,
            "show_alert": p.bool("show_alert"),
            "url": p.str("url"),
            "cache_time": p.int("cache_time") or 0,
        }
        self.world.publish({"type": "callback_answer", **record.view()})
        return True

    # --- files ----------------------------------------------------------------------------------------
    async def m_getFile(self, p: Params) -> Any:
        file_id = p.str("file_id", required=True, empty="file_id not specified")
        stored = self.world.files.get(file_id or "")
        if stored is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if stored.size > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return stored.api_file()

    # --- forum topics ---------------------------------------------------------------------------------
    async def m_createForumTopic(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        name = validation.topic_name(p.raw("name"))
        color = p.int("icon_color")
        if color is None:
            color = 7322096
        elif color not in validation.TOPIC_COLORS:
            raise bad_request("TOPIC_COLOR_INVALID")
        emoji = p.str("icon_custom_emoji_id")
        thread_id = chat.take_id()
        topic = Topic(thread_id=thread_id, name=name, icon_color=color, icon_custom_emoji_id=emoji)
        chat.topics[thread_id] = topic
        created: dict[str, Any] = {"name": name, "icon_color": color}
        if emoji:
            created["icon_custom_emoji_id"] = emoji
        self._service(chat, thread_id, {"forum_topic_created": created}, message_id=thread_id)
        self.world.publish({"type": "chats"})
        return topic.api()

    async def m_editForumTopic(self, p: Params) -> Any:
        chat, topic = self._topic(p)
        name = validation.topic_name(p.raw("name")) if p.raw("name") is not None else None
        emoji = p.raw("icon_custom_emoji_id")
        if (name is None or name == topic.name) and (
            emoji is None or (emoji or None) == topic.icon_custom_emoji_id
        ):
            raise bad_request("TOPIC_NOT_MODIFIED")
        edited: dict[str, Any] = {}
        if name is not None:
            topic.name = edited["name"] = name
        if emoji is not None:
            topic.icon_custom_emoji_id = emoji or None
            edited["icon_custom_emoji_id"] = emoji
        self._service(chat, topic.thread_id, {"forum_topic_edited": edited})
        self.world.publish({"type": "chats"})
        return True

    async def m_closeForumTopic(self, p: Params) -> Any:
        chat, topic = self._topic(p)
        if topic.closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = True
        self._service(chat, topic.thread_id, {"forum_topic_closed": {}})
        self.world.publish({"type": "chats"})
        return True

    async def m_reopenForumTopic(self, p: Params) -> Any:
        chat, topic = self._topic(p)
        if not topic.closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.closed = False
        self._service(chat, topic.thread_id, {"forum_topic_reopened": {}})
        self.world.publish({"type": "chats"})
        return True

    async def m_deleteForumTopic(self, p: Params) -> Any:
        chat, topic = self._topic(p)
        topic.deleted = True
        for msg in chat.messages.values():
            if msg.thread_id == topic.thread_id:
                msg.deleted = True
        self.world.publish({"type": "chats"})
        return True

    # --- commands -------------------------------------------------------------------------------------
    def _scope(self, p: Params) -> str:
        scope = p.json("scope")
        if isinstance(scope, dict) and "chat_id" in scope:
            chat = self.world.bot_chat(scope["chat_id"])
            scope = {**scope, "chat_id": chat.id}
            if scope.get("type") == "chat_member":
                try:
                    user_id = int(scope.get("user_id"))  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    raise bad_request("user not found") from None
                if user_id not in self.world.users:
                    raise bad_request("user not found")
                scope["user_id"] = user_id
        return validation.scope_key(scope)

    async def m_setMyCommands(self, p: Params) -> Any:
        commands = validation.commands(p.json("commands"))
        key = (self._scope(p), validation.language_code(p.raw("language_code")))
        if commands:
            self.world.commands[key] = commands
        else:
            self.world.commands.pop(key, None)
        self.world.publish({"type": "commands"})
        return True

    async def m_deleteMyCommands(self, p: Params) -> Any:
        key = (self._scope(p), validation.language_code(p.raw("language_code")))
        self.world.commands.pop(key, None)
        self.world.publish({"type": "commands"})
        return True

    async def m_getMyCommands(self, p: Params) -> Any:
        key = (self._scope(p), validation.language_code(p.raw("language_code")))
        return [dict(c) for c in self.world.commands.get(key, [])]

    # --- chats and members ----------------------------------------------------------------------------
    async def m_getChat(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        info = {
            **self.world.chat_api(chat),
            "accent_color_id": abs(chat.id) % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.type != "private":
            info["permissions"] = {
                "can_send_messages": True,
                "can_send_photos": True,
                "can_send_documents": True,
                "can_manage_topics": False,
            }
        return info

    def _member(self, chat: Chat, user_id: int) -> dict[str, Any]:
        if user_id == self.world.bot_id:
            user = dict(self.world.bot)
            if chat.type == "private":
                return {"status": "member", "user": user}
            return {"status": "administrator", "user": user, **_ADMIN_RIGHTS}
        found = self.world.users.get(user_id)
        if found is None:
            raise bad_request("user not found")
        user = found.api()
        if chat.type == "private":
            if chat.id != user_id:
                raise bad_request("user not found")
            return {"status": "member", "user": user}
        status = chat.members.get(user_id)
        if status is None:
            return {"status": "left", "user": user}
        if status == "administrator":
            return {"status": "administrator", "user": user, **_ADMIN_RIGHTS, "can_be_edited": True}
        return {"status": "member", "user": user}

    async def m_getChatMember(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        return self._member(chat, self._user_id(p))

    async def m_getChatAdministrators(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        return [self._member(chat, uid) for uid, status in chat.members.items() if status == "administrator"]

    async def m_getChatMemberCount(self, p: Params) -> Any:
        chat = self.world.bot_chat(p.chat_id())
        return 2 if chat.type == "private" else len(chat.members)


_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
    "can_send_welcome_messages": False,
}
