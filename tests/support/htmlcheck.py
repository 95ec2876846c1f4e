"""Telegram's HTML subset, checked the way the Bot API does: unknown or unbalanced tags are refused."""

from __future__ import annotations

from html.parser import HTMLParser

ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre",
           "blockquote", "tg-emoji"}


class EntityError(ValueError):
    pass


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.text_len = 0

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED:
            raise EntityError(f"unsupported start tag \"{tag}\"")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            raise EntityError(f"unexpected end tag \"{tag}\"")
        self.stack.pop()

    def handle_data(self, data):
        if "<" in data or ">" in data:
            raise EntityError("unescaped < or >")
        self.text_len += len(data)

    def handle_entityref(self, name):
        if name not in ("lt", "gt", "amp", "quot"):
            raise EntityError(f"unsupported entity &{name};")
        self.text_len += 1

    def handle_charref(self, name):
        self.text_len += 1


def check_html(text: str) -> int:
    """Raise EntityError like Telegram's "can't parse entities"; return the visible length."""
    c = _Checker()
    c.feed(text)
    c.close()
    if c.stack:
        raise EntityError(f"unclosed tag \"{c.stack[-1]}\"")
    if c.rawdata:
        raise EntityError("unfinished tag or entity")
    return c.text_len
