"""What the WhatsApp stand-in remembers: its configuration, the people (by wa_id), both sides' messages,
media, templates and the webhook queue. Notification and waiting go through the sandbox's World, so the
page's live stream and the test helpers see WhatsApp changes too."""

from __future__ import annotations

import copy
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..state import World

WINDOW_SECONDS = 24 * 3600


@dataclass
class WaConfig:
    """What the bot must be configured with to talk to this stand-in (see Sandbox.wa_config)."""

    token: str = "EAAsandbox-whatsapp-token"
    phone_number_id: str = "100000000000001"
    display_phone_number: str = "77000000000"
    business_account_id: str = "200000000000001"
    app_secret: str = "sandbox-app-secret"
    verify_token: str = "sandbox-verify-token"
    webhook_url: str = ""
    verified_name: str = "Qatysu"
    failures: str = "sync"  # "sync": 131047/131026 answer the send; "webhook": a failed status (Meta's way)
    statuses: bool = True  # deliver sent/delivered/read status webhooks for bot messages


@dataclass
class WaUser:
    wa_id: str
    name: str
    language: str = "kk"
    role: str = "resident"
    last_inbound: float | None = None  # unix time of their last message: opens the 24-hour window
    unreachable: bool = False

    @property
    def bsuid(self) -> str:
        """The business-scoped user id Meta sends beside (and one day instead of) the phone: CC.digits."""
        digits = int(hashlib.sha256(self.wa_id.encode()).hexdigest()[:16], 16)
        return f"KZ.{digits:020d}"

    def contact(self) -> dict[str, Any]:
        return {"profile": {"name": self.name}, "wa_id": self.wa_id, "user_id": self.bsuid}

    def window_open(self, now: float) -> bool:
        return self.last_inbound is not None and now - self.last_inbound < WINDOW_SECONDS

    def view(self, now: float) -> dict[str, Any]:
        closes = self.last_inbound + WINDOW_SECONDS if self.last_inbound is not None else None
        return {
            "wa_id": self.wa_id,
            "bsuid": self.bsuid,
            "name": self.name,
            "phone": "+" + self.wa_id,
            "language": self.language,
            "role": self.role,
            "channel": "whatsapp",
            "last_inbound": int(self.last_inbound) if self.last_inbound is not None else None,
            "window_open": self.window_open(now),
            "window_closes": int(closes) if closes is not None else None,
            "unreachable": self.unreachable,
        }


@dataclass
class WaMessage:
    id: str  # wamid.…
    wa_id: str  # the person's side of the chat
    from_bot: bool
    type: str
    content: dict[str, Any]  # the object under `type`, as sent (bot) or as the webhook carries it (person)
    timestamp: int = field(default_factory=lambda: int(time.time()))
    context: str | None = None  # id of the message replied to
    status: str = "sent"  # bot: sent/delivered/read/failed; person: received/read (the bot marked it)
    errors: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, str] = field(default_factory=dict)  # "bot" / "user" → emoji
    rendered: str | None = None  # a template's text with its parameters filled in
    buttons: list[dict[str, str]] | None = None  # a template's quick replies: text and payload

    def view(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "wa_id": self.wa_id,
            "from_bot": self.from_bot,
            "type": self.type,
            self.type: copy.deepcopy(self.content),
            "timestamp": self.timestamp,
            "status": self.status,
            "reactions": dict(self.reactions),
        }
        if self.context:
            data["context"] = {"id": self.context}
        if self.errors:
            data["errors"] = copy.deepcopy(self.errors)
        if self.rendered is not None:
            data["rendered"] = self.rendered
        if self.buttons:
            data["template_buttons"] = copy.deepcopy(self.buttons)
        media_id = self.content.get("id") if isinstance(self.content, dict) else None
        if media_id and self.type in ("image", "document", "audio", "video", "sticker"):
            data["file_url"] = f"/sandbox/wa-files/{media_id}"
        return data


@dataclass
class WaMedia:
    id: str
    data: bytes
    mime_type: str
    filename: str | None = None
    sha256: str = ""
    hash: str = field(default_factory=lambda: secrets.token_urlsafe(12))

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.data).hexdigest()


def new_wamid() -> str:
    return "wamid." + secrets.token_urlsafe(36).replace("-", "A").replace("_", "B")


def new_media_id() -> str:
    return str(1_000_000_000_000_000 + secrets.randbelow(8_999_999_999_999_999))


class WaWorld:
    def __init__(self, world: World, config: WaConfig, clock: Callable[[], float] = time.time) -> None:
        self.world = world
        self.config = config
        self.clock = clock
        self.users: dict[str, WaUser] = {}
        self.chats: dict[str, list[WaMessage]] = {}
        self.by_id: dict[str, WaMessage] = {}
        self.media: dict[str, WaMedia] = {}
        self.templates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str, Any]] = []  # (method, path, body) of every Graph API call
        self.outbox: list[dict[str, Any]] = []  # webhook events waiting: {"seq", "key", "body"}
        self.delivered: list[dict[str, Any]] = []  # bodies the bot answered with 200
        self.undeliverable: list[dict[str, Any]] = []  # bodies given up after the retries
        self._seq = 0
        self._cursors: dict[str, int] = {}

    # --- people and messages --------------------------------------------------------------------------
    def user(self, wa_id: str) -> WaUser:
        try:
            return self.users[wa_id]
        except KeyError:
            raise KeyError(f"no WhatsApp user {wa_id}") from None

    def find(self, recipient: str) -> WaUser | None:
        """The person a send names: by phone (wa_id) or by business-scoped user id."""
        return self.users.get(recipient) or next((u for u in self.users.values() if u.bsuid == recipient), None)

    def add(self, msg: WaMessage) -> WaMessage:
        self.chats.setdefault(msg.wa_id, []).append(msg)
        self.by_id[msg.id] = msg
        self.world.publish({"type": "wa_message", "wa_id": msg.wa_id, "message": msg.view()})
        return msg

    def touch(self, msg: WaMessage) -> None:
        self.world.publish({"type": "wa_message", "wa_id": msg.wa_id, "message": msg.view()})

    def changed_users(self) -> None:
        self.world.publish({"type": "wa_users"})

    def next_bot_message(self, wa_id: str, predicate: Callable[[dict[str, Any]], bool] | None) -> dict[str, Any] | None:
        self.user(wa_id)
        cursor = self._cursors.get(wa_id, -1)
        for index, msg in enumerate(self.chats.get(wa_id, [])):
            if index <= cursor or not msg.from_bot:
                continue
            view = msg.view()
            if predicate is None or predicate(view):
                self._cursors[wa_id] = index
                return view
        return None

    # --- webhook payloads -----------------------------------------------------------------------------
    def _envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        c = self.config
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": c.business_account_id,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": c.display_phone_number,
                                    "phone_number_id": c.phone_number_id,
                                },
                                **value,
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }

    def inbound_payload(self, user: WaUser, msg: WaMessage) -> dict[str, Any]:
        message: dict[str, Any] = {
            "from": user.wa_id,
            "from_user_id": user.bsuid,
            "id": msg.id,
            "timestamp": str(msg.timestamp),
            "type": msg.type,
            msg.type: copy.deepcopy(msg.content),
        }
        if msg.context:
            message["context"] = {"from": self.config.display_phone_number, "id": msg.context}
        return self._envelope({"contacts": [user.contact()], "messages": [message]})

    def status_payload(self, msg: WaMessage, status: str, *, template: bool = False) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": msg.id,
            "status": status,
            "timestamp": str(int(self.clock())),
            "recipient_id": msg.wa_id,
        }
        user = self.users.get(msg.wa_id)
        if user is not None:
            entry["recipient_user_id"] = user.bsuid
        if status == "failed":
            entry["errors"] = copy.deepcopy(msg.errors)
        else:
            entry["pricing"] = {
                "billable": template,
                "pricing_model": "PMP",
                "type": "regular" if template else "free_customer_service",
                "category": "utility" if template else "service",
            }
        value: dict[str, Any] = {"statuses": [entry]}
        if user is not None:
            value = {"contacts": [user.contact()], **value}
        return self._envelope(value)

    def queue(self, key: str, body: dict[str, Any]) -> None:
        self._seq += 1
        self.outbox.append({"seq": self._seq, "key": key, "body": body, "attempts": 0})
        self.world.changed()

    def queue_status(self, msg: WaMessage, status: str) -> None:
        msg.status = status
        self.touch(msg)
        if self.config.statuses or status == "failed":
            self.queue(msg.wa_id, self.status_payload(msg, status, template=msg.type == "template"))
