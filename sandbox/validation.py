"""The checks the Bot API makes on what a bot sends: texts, captions, keyboards, commands, reactions."""

from __future__ import annotations

import re
from typing import Any

from .entities import Entity, EntityParseError, check_entities, parse_html, strip_text, utf16_len
from .errors import bad_request

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200

CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
# The emoji a bot may react with (ReactionTypeEmoji in the Bot API reference).
REACTION_EMOJI = set(
    "👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 "
    "🤣 ⚡ 🍌 🏆 💔 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👨‍💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 "
    "🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 🙉 🦄 😘 💊 🙊 😎 👾 🤷‍♂ 🤷 🤷‍♀ 😡".split()
)
TOPIC_COLORS = {7322096, 16766590, 13338331, 9367192, 16749490, 16478047}
SCOPE_TYPES = {
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
}
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_KEYBOARD_REQUESTS = (
    "request_contact",
    "request_location",
    "request_poll",
    "request_users",
    "request_chat",
    "web_app",
)


def formatted_text(
    text: Any, parse_mode: Any, entities: Any, *, caption: bool = False
) -> tuple[str, list[Entity]]:
    """Apply parse_mode/entities and Telegram's limits; returns the stored text and its entities."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        text = str(text)
    mode = (parse_mode or "").strip() if isinstance(parse_mode, str) else ""
    try:
        if mode.lower() == "html":
            plain, found = parse_html(text)
        elif mode:
            if mode.lower() in {"markdown", "markdownv2"}:
                raise bad_request(f"parse_mode {mode} is not supported by the sandbox; use HTML")
            raise bad_request("unsupported parse_mode")
        elif entities is not None:
            plain, found = text, check_entities(entities, text)
        else:
            plain, found = text, []
    except EntityParseError as e:
        raise bad_request(f"can't parse entities: {e}") from None
    plain, found = strip_text(plain, found)
    if not plain and not caption:
        raise bad_request("message text is empty")
    limit = MAX_CAPTION if caption else MAX_TEXT
    if utf16_len(plain) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    return plain, found


def _check_url(url: Any) -> None:
    if not isinstance(url, str) or not re.match(r"^(https?|tg)://[^\s]+$", url, re.I):
        raise bad_request("BUTTON_URL_INVALID")


def reply_markup(markup: Any, *, chat_type: str, inline_only: bool = False) -> dict[str, Any] | None:
    """Validate a reply_markup object and return it in the shape Telegram keeps."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        clean_rows = []
        for row in rows:
            clean_row = []
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request('can\'t find field "text"')
                if not button["text"].strip():
                    raise bad_request("BUTTON_TEXT_INVALID")
                actions = [k for k in _INLINE_ACTIONS if k in button and button[k] is not None]
                if not actions:
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                if len(actions) > 1:
                    raise bad_request("BUTTON_TYPE_INVALID")
                if "callback_data" in actions:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in actions:
                    _check_url(button["url"])
                clean_row.append({k: v for k, v in button.items() if v is not None})
            if clean_row:
                clean_rows.append(clean_row)
        if sum(len(r) for r in clean_rows) > 100:
            raise bad_request("BUTTONS_TOO_MUCH")
        return {"inline_keyboard": clean_rows}
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
        clean_rows = []
        for row in rows:
            clean_row = []
            for button in row:
                if isinstance(button, str):
                    button = {"text": button}
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request('can\'t find field "text"')
                if not button["text"].strip():
                    raise bad_request("BUTTON_TEXT_INVALID")
                requests = [k for k in _KEYBOARD_REQUESTS if button.get(k)]
                if len(requests) > 1:
                    raise bad_request("BUTTON_TYPE_INVALID")
                if chat_type != "private" and requests:
                    raise bad_request("BUTTON_TYPE_INVALID")
                clean_row.append({k: v for k, v in button.items() if v is not None})
            if clean_row:
                clean_rows.append(clean_row)
        if not clean_rows:
            raise bad_request("keyboard must be non-empty")
        return {**{k: v for k, v in markup.items() if v is not None}, "keyboard": clean_rows}
    if markup.get("remove_keyboard") is True:
        return {k: v for k, v in markup.items() if v is not None}
    if markup.get("force_reply") is True:
        return {k: v for k, v in markup.items() if v is not None}
    raise bad_request("can't parse reply keyboard markup JSON object")


def commands(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        raise bad_request("can't parse commands JSON object")
    if len(raw) > 100:
        raise bad_request("too many commands specified")
    result = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", command.lstrip("/")):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        result.append({"command": command.lstrip("/"), "description": description})
    return result


def scope_key(scope: Any) -> str:
    """A canonical key for a BotCommandScope object (default when absent)."""
    if scope is None:
        return "default"
    if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    if kind in {"chat", "chat_administrators", "chat_member"}:
        chat_id = scope.get("chat_id")
        if chat_id is None:
            raise bad_request("chat_id is empty")
        if kind == "chat_member":
            if scope.get("user_id") is None:
                raise bad_request("user_id is empty")
            return f"{kind}:{chat_id}:{scope['user_id']}"
        return f"{kind}:{chat_id}"
    return kind


def language_code(raw: Any) -> str:
    if raw in (None, ""):
        return ""
    if not isinstance(raw, str) or not re.fullmatch(r"[a-z]{2}", raw):
        raise bad_request("invalid language code specified")
    return raw


def reactions(raw: Any) -> list[dict[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("can't parse reaction types JSON object")
    result = []
    for item in raw:
        if not isinstance(item, dict) or item.get("type") not in {"emoji", "custom_emoji", "paid"}:
            raise bad_request("can't parse ReactionType JSON object")
        if item["type"] != "emoji" or item.get("emoji") not in REACTION_EMOJI:
            raise bad_request("REACTION_INVALID")
        result.append({"type": "emoji", "emoji": item["emoji"]})
    if len(result) > 1:
        raise bad_request("REACTIONS_TOO_MANY")
    return result


def topic_name(raw: Any) -> str:
    if not isinstance(raw, str) or not 1 <= len(raw.strip()) <= 128:
        raise bad_request("TOPIC_NAME_INVALID")
    return raw.strip()
