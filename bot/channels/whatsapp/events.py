"""The Cloud API's webhook payload (``whatsapp_business_account``) → inbound messages and status updates, then
an inbound message → the conversations' ``Event``. Parsed from the documented JSON, defensively: everything in
it is untrusted even once the signature is right (a bug on Meta's side, a replayed body)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.channels.narrow import ANSWER, PAGE, PHONE
from bot.flows.base import Contact, Event

CHANNEL = "whatsapp"
MAX_TEXT = 4096
WA_ID = re.compile(r"\d{6,15}")  # E.164 digits without "+"
MEDIA_ID_MAX = 255
MEDIA = {"image": "photo", "document": "document", "audio": "voice"}  # Cloud API type → Event kind
SILENT = {"reaction", "system", "request_welcome", "unsupported_reaction"}  # nothing to answer


@dataclass(frozen=True)
class Inbound:
    """One message a person sent (``kind`` the Cloud API's type)."""

    wamid: str
    wa_id: int
    kind: str
    body: dict[str, Any]  # the message's type object (``{"body": ...}`` for text)
    at: datetime
    name: str = ""  # the profile name WhatsApp shows


@dataclass(frozen=True)
class Status:
    """What became of a message the bot sent: ``status`` is sent, delivered, read or failed; ``errors`` are
    (code, title) pairs (Meta's error codes, e.g. 131047 outside the 24-hour window)."""

    wamid: str
    recipient: int | None
    status: str
    at: datetime
    errors: tuple[tuple[int, str], ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


def _time(raw: object) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(raw)), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _wa_id(raw: object) -> int | None:
    s = str(raw or "")
    return int(s) if WA_ID.fullmatch(s) else None


def parse(payload: Any, phone_number_id: str | None = None) -> tuple[list[Inbound], list[Status]]:
    """The messages and statuses in a webhook body, in the order given; a change for another business number
    (``phone_number_id``) is skipped."""
    inbound: list[Inbound] = []
    statuses: list[Status] = []
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return inbound, statuses
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field") != "messages":
                continue
            meta = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
            if phone_number_id and str(meta.get("phone_number_id", phone_number_id)) != str(phone_number_id):
                continue
            names = {str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")[:64]
                     for c in _list(value.get("contacts")) if isinstance(c, dict)}
            for m in _list(value.get("messages")):
                if not isinstance(m, dict) or (wa_id := _wa_id(m.get("from"))) is None:
                    continue
                wamid, kind = str(m.get("id") or "")[:200], str(m.get("type") or "unsupported")[:32]
                body = m.get(kind) if isinstance(m.get(kind), dict) else {}
                if wamid:
                    inbound.append(Inbound(wamid, wa_id, kind, body, _time(m.get("timestamp")),
                                           names.get(str(wa_id), "")))
            for st in _list(value.get("statuses")):
                if isinstance(st, dict) and st.get("id"):
                    errors = tuple((int(e.get("code") or 0), str(e.get("title") or e.get("message") or "")[:200])
                                   for e in _list(st.get("errors")) if isinstance(e, dict)
                                   and str(e.get("code") or "0").isdigit())
                    statuses.append(Status(str(st["id"])[:200], _wa_id(st.get("recipient_id")),
                                           str(st.get("status") or "")[:16], _time(st.get("timestamp")), errors, st))
    return inbound, statuses


def _list(v: object) -> list[Any]:
    return v if isinstance(v, list) else []


def _str(body: dict[str, Any], key: str, limit: int = MAX_TEXT) -> str:
    v = body.get(key)
    return v[:limit].replace("\x00", "") if isinstance(v, str) else ""


def page_of(m: Inbound) -> int | None:
    """The page a «More ›» press asks for (the adapter redraws it), or None."""
    return PAGE.value(_reply_id(m)) if m.kind == "interactive" else None


def _reply_id(m: Inbound) -> str:
    reply = m.body.get("button_reply") or m.body.get("list_reply")
    return _str(reply, "id", 256) if isinstance(reply, dict) else ""


def to_event(m: Inbound) -> Event | None:
    """The conversations' Event for a message; None for a kind they do not read (the adapter answers politely,
    or says nothing to a reaction)."""
    phone = "+" + str(m.wa_id)
    base = dict(user_id=m.wa_id, chat_id=m.wa_id, first_name=m.name, channel=CHANNEL, phone=phone)
    if m.kind == "text":
        text = _str(m.body, "body")
        if text.startswith("/") and len(text) > 1:
            head, _, args = text[1:].partition(" ")
            return Event(kind="command", text=text, command=head.lower()[:32], args=args.strip()[:256], **base)
        return Event(kind="text", text=text, **base)
    if m.kind in ("interactive", "button"):
        data = _reply_id(m) if m.kind == "interactive" else _str(m.body, "payload", 256)
        if data == PHONE:
            return Event(kind="contact", contact=Contact(phone, m.wa_id, m.name), **base)
        if data.startswith(ANSWER):
            return Event(kind="text", text=data[len(ANSWER):], **base)
        return Event(kind="button", data=data[:64], **base) if data else None
    if m.kind in MEDIA:
        media_id = _str(m.body, "id", MEDIA_ID_MAX + 1)
        if not media_id or len(media_id) > MEDIA_ID_MAX:
            return None
        return Event(kind=MEDIA[m.kind], text=_str(m.body, "caption"),  # type: ignore[arg-type]
                     file_id=media_id, file_name=_str(m.body, "filename", 200), **base)
    if m.kind == "location":
        try:
            lat, lon = float(m.body["latitude"]), float(m.body["longitude"])
        except (KeyError, TypeError, ValueError):
            return None
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return Event(kind="location", location=(lat, lon), **base)
    return None
