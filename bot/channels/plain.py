"""The bot's HTML (``<b>``, ``<i>``, ``<code>``, ``<a href>``) as plain text with WhatsApp-style marks:
*bold*, _italic_, ```monospace```, and a link as its text followed by its address."""

from __future__ import annotations

import re
from html import unescape

_MARKS = {"b": "*", "strong": "*", "i": "_", "em": "_", "s": "~", "code": "```", "pre": "```"}
_PAIR = re.compile(r"<(b|strong|i|em|s|code|pre)>(.*?)</\1>", re.DOTALL)
_LINK = re.compile(r"<a href=\"([^\"]*)\">(.*?)</a>", re.DOTALL)
_TAG = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?>")


def _mark(m: re.Match[str]) -> str:
    inner = m.group(2)
    core = inner.strip()
    if not core:
        return inner
    mark = _MARKS[m.group(1)]
    lead, trail = inner[: len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()):]
    return f"{lead}{mark}{core}{mark}{trail}"  # WhatsApp wants the marks right against the words


def _link(m: re.Match[str]) -> str:
    url, label = unescape(m.group(1)), m.group(2)
    return label if unescape(_TAG.sub("", label)).strip() == url else f"{label} ({url})"


def plain(html: str) -> str:
    """Convert the HTML the flows write; the entities of escaped user text become its characters again."""
    text = _LINK.sub(_link, html)
    for _ in range(3):  # nested marks, e.g. <b><i>…</i></b>
        text = _PAIR.sub(_mark, text)
    return unescape(_TAG.sub("", text))

