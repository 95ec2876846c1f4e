"""Typed button data: one codec for every button the bot draws.

A button kind is declared once, next to the code that draws it::

    OPEN = Kind("ma:o", Int())          # "ma:o:12"
    RATE = Kind("ma:s", Int(), Stars)   # "ma:s:12:5"
    LIST = Kind("bd:l")                 # "bd:l"

``kind.pack(12)`` gives the data (checked against every channel's limit: Telegram takes 64 bytes);
``kind.unpack(data)`` gives the typed values back as a tuple, or ``None`` when the data are not this kind:
another kind's, forged, stale or malformed data never raise. ``kind.value(data)`` is the one value of a
one-field kind (or ``None``); ``kind.matches(data)`` tells whether the data are this kind.

The data formats are the ones the bot has always drawn (a prefix, then the fields, joined by ":"), so buttons
already sitting in chats and in the outbox keep working.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# bytes of button data each channel takes (WhatsApp: the id of a reply button or a list row)
LIMITS = {"telegram": 64, "whatsapp": 200}
SEP = ":"
INT32 = 2**31 - 1  # ids are database integers: a bigger number is never ours


class Field:
    """One typed value in button data."""

    def encode(self, value: Any) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def decode(self, text: str) -> Any | None:  # pragma: no cover - interface
        raise NotImplementedError

    def widest(self) -> Any:  # pragma: no cover - interface
        """The value whose encoding is longest: what the limit test packs."""
        raise NotImplementedError


@dataclass(frozen=True)
class Int(Field):
    """A whole number from ``low`` to ``high``, in ASCII digits."""

    high: int = INT32
    low: int = 0

    def encode(self, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            raise ValueError(f"{value!r} is not a whole number from {self.low} to {self.high}")
        return str(value)

    def decode(self, text: str) -> int | None:
        if not text or len(text) > len(str(self.high)) or not (text.isascii() and text.isdigit()) \
                or (text[0] == "0" and text != "0"):  # we never draw a leading zero
            return None
        value = int(text)
        return value if self.low <= value <= self.high else None

    def widest(self) -> int:
        return self.high


@dataclass(frozen=True)
class Choice(Field):
    """One of a few short words (a language, a yes/no, an appeal kind)."""

    values: tuple[str, ...]

    def encode(self, value: Any) -> str:
        if value not in self.values:
            raise ValueError(f"{value!r} is not one of {self.values}")
        return str(value)

    def decode(self, text: str) -> str | None:
        return text if text in self.values else None

    def widest(self) -> str:
        return max(self.values, key=lambda v: len(v.encode()))


@dataclass(frozen=True)
class Token(Field):
    """A short code from the data (a KATO code, a category key, a report period): ASCII letters, digits, "_", "."
    and "-", at most ``max_len`` characters. Whether it names something real is checked by the flow."""

    max_len: int = 16

    def encode(self, value: Any) -> str:
        if not isinstance(value, str) or self.decode(value) is None:
            raise ValueError(f"{value!r} is not a code of at most {self.max_len} characters")
        return value

    def decode(self, text: str) -> str | None:
        return text if 0 < len(text) <= self.max_len and _TOKEN.fullmatch(text) else None

    def widest(self) -> str:
        return "Z" * self.max_len


_TOKEN = re.compile(r"[A-Za-z0-9_.\-]+")
STARS = Choice(("1", "2", "3", "4", "5"))  # a rating; unpacked as text, int() of it is safe

_KINDS: dict[str, Kind] = {}


class Kind:
    """A kind of button: its prefix and typed fields. Prefixes are unique across the bot."""

    def __init__(self, prefix: str, *fields: Field, register: bool = True) -> None:
        if not prefix or SEP in prefix[-1:] or (register and prefix in _KINDS):
            raise ValueError(f"bad or repeated button prefix {prefix!r}")
        self.prefix, self.fields = prefix, fields
        if register:
            _KINDS[prefix] = self

    def __repr__(self) -> str:
        return f"Kind({self.prefix!r}, {len(self.fields)} fields)"

    def pack(self, *values: Any) -> str:
        if len(values) != len(self.fields):
            raise ValueError(f"{self.prefix}: {len(self.fields)} values expected, got {len(values)}")
        data = SEP.join([self.prefix, *(f.encode(v) for f, v in zip(self.fields, values, strict=True))])
        size = len(data.encode())
        for channel, limit in LIMITS.items():
            if size > limit:
                raise ValueError(f"button data {data!r} is {size} bytes; {channel} takes {limit}")
        return data

    def unpack(self, data: object) -> tuple[Any, ...] | None:
        """The typed values, or None when ``data`` are not this kind (never an exception)."""
        if not isinstance(data, str) or len(data) > max(LIMITS.values()):
            return None
        if not self.fields:
            return () if data == self.prefix else None
        head = self.prefix + SEP
        if not data.startswith(head):
            return None
        parts = data[len(head):].split(SEP)
        if len(parts) != len(self.fields):
            return None
        values = tuple(f.decode(p) for f, p in zip(self.fields, parts, strict=True))
        return None if any(v is None for v in values) else values

    def value(self, data: object) -> Any | None:
        """The one value of a one-field kind, or None."""
        values = self.unpack(data)
        return values[0] if values is not None and len(values) == 1 else None

    def matches(self, data: object) -> bool:
        return self.unpack(data) is not None

    def widest(self) -> str:
        """The longest data this kind can have (for the limit tests)."""
        return self.pack(*(f.widest() for f in self.fields))


def all_kinds() -> Iterable[Kind]:
    """Every kind declared so far (import the modules that draw buttons first)."""
    return list(_KINDS.values())
