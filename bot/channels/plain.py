"""The bot's HTML (``<b>``, ``<i>``, ``<code>``, ``<a href>``) as plain text with WhatsApp-style marks:
*bold*, _italic_, ```monospace```, and a link as its text followed by its address."""

from __future__ import annotations

import re
from html import unescape

_MARKS = {"b": "*", "strong": "*", "i": "_", "em": "_", "s": "~", "code": "```", "pre": "```"}
_PAIR = re.compile(r"<(b|strong|i|em|s|code|pre)>(.*?)</\1>", re.DOTALL)
_LINK = re.compile(r"<a href=\"([^\"]*)\">(.*?)</a>", re.DOTALL)
_TAG = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?>")
# a mark a person typed (or any text between the tags) would format: it becomes a look-alike that does not;
# an underscore inside a word (snake_case, an address) formats nothing and stays
_TYPED = re.compile(r"[*~`]|(?<!\w)_|_(?!\w)")
_LOOKALIKE = {"*": "\u2217", "~": "\u223c", "`": "\u02cb", "_": "\uff3f"}


def _neutral(html: str) -> str:
    """The text between the tags with its WhatsApp marks neutralised; the tags (and their addresses) as they are."""
    out, at = [], 0
    for m in _TAG.finditer(html):
        out += [_TYPED.sub(lambda c: _LOOKALIKE[c.group()], html[at:m.start()]), m.group()]
        at = m.end()
    return "".join([*out, _TYPED.sub(lambda c: _LOOKALIKE[c.group()], html[at:])])


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
    """Convert the HTML the flows write; the entities of escaped user text become its characters again, and the
    marks in any text (what a person typed) cannot format it."""
    text = _LINK.sub(_link, _neutral(html))
    for _ in range(3):  # nested marks, e.g. <b><i>…</i></b>
        text = _PAIR.sub(_mark, text)
    return unescape(_TAG.sub("", text))

