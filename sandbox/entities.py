"""Message entities: Telegram's HTML subset parsed into text + entities (as the Bot API does), entities
rendered back into safe HTML, and the entities a client detects in what a person types.

Offsets and lengths are in UTF-16 code units, like Telegram's."""

from __future__ import annotations

import html
import re
from typing import Any

Entity = dict[str, Any]

TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "a": "text_link",
}
_SPACES = " \t\r\n\v\f\0"
ENTITY_TYPES = {
    "mention",
    "hashtag",
    "cashtag",
    "bot_command",
    "url",
    "email",
    "phone_number",
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
    "blockquote",
    "expandable_blockquote",
    "code",
    "pre",
    "text_link",
    "text_mention",
    "custom_emoji",
    "date_time",
}


class EntityParseError(ValueError):
    """The text is refused: "Bad Request: can't parse entities: <message>"."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """tdlib's decode_html_entity: &lt; &gt; &amp; &quot; and numeric references; ';' is optional."""
    end = pos + 1
    if text.startswith("#", end):
        end += 1
        value = 0
        if text.startswith("x", end):
            end += 1
            while end < len(text) and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
                if value >= 0x10FFFF:
                    return None
        else:
            while end < len(text) and text[end].isascii() and text[end].isdigit():
                value = value * 10 + int(text[end])
                end += 1
                if value >= 0x10FFFF:
                    return None
        if value == 0 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        char = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(text[pos + 1 : end], "")
        if not char:
            return None
    if text.startswith(";", end):
        end += 1
    return char, end


def _normalize_url(url: str) -> str | None:
    url = url.strip()
    if not url or any(c in url for c in _SPACES):
        return None
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", url)
    if match:
        if match.group(1).lower() not in {"http", "https", "tg", "ton", "tonsite"}:
            return None
        if match.group(1).lower() in {"http", "https"} and not re.match(r"^https?://[^/?#]+", url, re.I):
            return None
        return url
    if re.match(r"^[\w.-]+\.[A-Za-z\u0400-\u04ff]{2,}(?:[:/?#].*)?$", url):
        return "http://" + url + ("/" if "/" not in url else "")
    return None


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Parse Telegram's HTML subset the way tdlib does; unknown, unclosed or mismatched tags are refused."""
    out: list[str] = []
    out_len = 0  # UTF-16 length of the text produced so far
    stack: list[dict[str, Any]] = []
    entities: list[Entity] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == "&":
            decoded = _decode_entity(source, i)
            if decoded is not None:
                out.append(decoded[0])
                out_len += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if ch != "<":
            out.append(ch)
            out_len += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        if i + 1 < n and source[i + 1] == "/":
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(source, begin)}")
            i += 2
            name_start = i
            while i < n and source[i] not in _SPACES and source[i] != ">":
                i += 1
            end_name = source[name_start:i].lower()
            while i < n and source[i] in _SPACES:
                i += 1
            if i >= n or source[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(source, begin)}")
            i += 1
            opened = stack.pop()
            if end_name and end_name != opened["tag"]:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
                    f'expected "</{opened["tag"]}>", found "</{end_name}>"'
                )
            _close(opened, out, out_len, entities)
            continue
        i += 1
        name_start = i
        while i < n and source[i] not in _SPACES and source[i] != ">":
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
        tag = source[name_start:i].lower()
        if tag not in TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {_byte_offset(source, begin)}'
            )
        argument = ""
        expandable = False
        while True:
            while i < n and source[i] in _SPACES:
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
            if source[i] == ">":
                i += 1
                break
            attr_start = i
            while i < n and source[i] not in _SPACES and source[i] not in "=>":
                i += 1
            attr = source[attr_start:i].lower()
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(source, begin)}'
                )
            while i < n and source[i] in _SPACES:
                i += 1
            if i >= n or source[i] != "=":
                if tag == "blockquote" and attr == "expandable":
                    expandable = True
                    continue
                raise EntityParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {_byte_offset(source, begin)}"
                )
            i += 1
            while i < n and source[i] in _SPACES:
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
            if source[i] not in "'\"":
                token_start = i
                while i < n and (source[i].isascii() and source[i].isalnum() or source[i] in ".-"):
                    i += 1
                value = source[token_start:i].lower()
                if i >= n or (source[i] not in _SPACES and source[i] != ">"):
                    raise EntityParseError(
                        f"Unexpected end of name token at byte offset {_byte_offset(source, token_start)}"
                    )
            else:
                quote = source[i]
                i += 1
                chars: list[str] = []
                while i < n and source[i] != quote:
                    if source[i] == "&":
                        decoded = _decode_entity(source, i)
                        if decoded is not None:
                            chars.append(decoded[0])
                            i = decoded[1]
                            continue
                    chars.append(source[i])
                    i += 1
                if i >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
                i += 1
                value = "".join(chars)
            if tag == "a" and attr == "href":
                argument = value
            elif tag == "code" and attr == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and attr == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and attr == "emoji-id":
                argument = value
            elif tag == "blockquote" and attr == "expandable":
                expandable = True
        if tag == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(source, begin)}'
            )
        if tag == "tg-emoji" and not argument.isdigit():
            raise EntityParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {_byte_offset(source, begin)}'
            )
        stack.append(
            {
                "tag": tag,
                "argument": argument,
                "expandable": expandable,
                "offset": out_len,
                "start": len(out),
            }
        )
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"')
    return "".join(out), sort_entities(entities)


def _close(opened: dict[str, Any], out: list[str], out_len: int, entities: list[Entity]) -> None:
    offset = opened["offset"]
    length = out_len - offset
    if length <= 0:
        return
    tag, argument = opened["tag"], opened["argument"]
    kind = _TAG_TYPES[tag]
    entity: Entity = {"type": kind, "offset": offset, "length": length}
    if tag == "a":
        url = _normalize_url(argument or "".join(out[opened["start"] :]))
        if url is None:
            return
        entity["url"] = url
    elif tag == "code" and argument:
        entity["language"] = argument  # kept only when it sits exactly inside <pre>
    elif tag == "pre":
        inner = next(
            (e for e in entities if e["type"] == "code" and e["offset"] == offset and e["length"] == length),
            None,
        )
        if inner is not None:
            entities.remove(inner)
            if inner.get("language"):
                entity["language"] = inner["language"]
    elif tag == "blockquote" and opened["expandable"]:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = argument
    entities.append(entity)


def sort_entities(entities: list[Entity]) -> list[Entity]:
    for e in entities:
        if e["type"] == "code":
            e.pop("language", None)
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Telegram trims leading and trailing whitespace of a message; entities are cut to match."""
    stripped_left = text.lstrip()
    cut = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    total = utf16_len(result)
    kept: list[Entity] = []
    for e in entities:
        start = max(e["offset"] - cut, 0)
        end = min(e["offset"] + e["length"] - cut, total)
        if end > start:
            kept.append({**e, "offset": start, "length": end - start})
    return result, kept


def check_entities(raw: Any, text: str) -> list[Entity]:
    """The explicit `entities` / `caption_entities` parameter, checked against the text."""
    if not isinstance(raw, list):
        raise EntityParseError("entities must be an array")
    total = utf16_len(text)
    result = []
    for item in raw:
        if not isinstance(item, dict) or item.get("type") not in ENTITY_TYPES:
            raise EntityParseError("unsupported entity type")
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise EntityParseError("wrong entity offset or length")
        if offset + length > total or length == 0:
            continue
        result.append(dict(item))
    return sort_entities(result)


# --- rendering ------------------------------------------------------------------------------------------


def _open_tag(e: Entity) -> tuple[str, str]:
    kind = e["type"]
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "spoiler": "tg-spoiler",
        "code": "code",
        "blockquote": "blockquote",
    }
    if kind in simple:
        return f"<{simple[kind]}>", f"</{simple[kind]}>"
    if kind == "expandable_blockquote":
        return "<blockquote expandable>", "</blockquote>"
    if kind == "pre":
        if e.get("language"):
            return f'<pre><code class="language-{html.escape(e["language"])}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{html.escape(e.get("url", ""))}">', "</a>"
    if kind == "text_mention":
        user_id = int((e.get("user") or {}).get("id", 0))
        return f'<a href="tg://user?id={user_id}">', "</a>"
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{html.escape(str(e.get("custom_emoji_id", "")))}">', "</tg-emoji>"
    return "", ""


def render_html(text: str, entities: list[Entity] | None) -> str:
    """Text + entities → Telegram-style HTML with everything escaped (partial overlaps are split)."""
    if not entities:
        return html.escape(text, quote=False)
    units = text.encode("utf-16-le")
    boundaries = sorted(
        {0, len(units) // 2} | {e["offset"] for e in entities} | {e["offset"] + e["length"] for e in entities}
    )
    ordered = sort_entities([dict(e) for e in entities])
    parts: list[str] = []
    stack: list[Entity] = []
    for start, end in zip(boundaries, boundaries[1:], strict=False):
        active = [e for e in ordered if e["offset"] <= start and e["offset"] + e["length"] >= end]
        keep = 0
        while keep < len(stack) and keep < len(active) and stack[keep] is active[keep]:
            keep += 1
        for e in reversed(stack[keep:]):
            parts.append(_open_tag(e)[1])
        stack = stack[:keep]
        for e in active[keep:]:
            parts.append(_open_tag(e)[0])
            stack.append(e)
        parts.append(
            html.escape(units[start * 2 : end * 2].decode("utf-16-le", errors="replace"), quote=False)
        )
    for e in reversed(stack):
        parts.append(_open_tag(e)[1])
    return "".join(parts)


# --- what a client detects in typed text -----------------------------------------------------------------

_DETECTORS = [
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]}'»]", re.I)),
]


def detect_entities(text: str) -> list[Entity]:
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DETECTORS:
        for m in pattern.finditer(text):
            if any(m.start() < b and a < m.end() for a, b in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append(
                {"type": kind, "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
            )
    return sort_entities(found)
