"""What people do in WhatsApp, as Python methods on the Sandbox (all named wa_*): each creates the message
the person's phone would send and queues it as a signed webhook to the bot. Reads and wait helpers too."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ControlError
from ..media import make_png
from .state import WaConfig, WaMedia, WaMessage, WaUser, WaWorld, new_media_id, new_wamid
from .validation import check_template_definition
from .webhook import WaWebhook

Predicate = Callable[[dict[str, Any]], bool]
# The smallest valid Ogg page header followed by filler: enough for the bot to store and forward a voice note.
OGG_VOICE = b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead\x01\x01" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class WaActions:
    """Mixed into Sandbox. Every action returns plain JSON-able dicts (message views, user views)."""

    wa: WaWorld
    wa_webhook: WaWebhook

    # --- configuration --------------------------------------------------------------------------------
    @property
    def wa_config(self) -> dict[str, Any]:
        """What the bot's WhatsApp adapter needs: graph_base replaces https://graph.facebook.com/v{version}."""
        c: WaConfig = self.wa.config
        base = self.api_base  # type: ignore[attr-defined]
        return {
            "api_base": base,
            "graph_base": f"{base}/v{self.wa_api_version}",
            "api_version": self.wa_api_version,
            "phone_number_id": c.phone_number_id,
            "display_phone_number": c.display_phone_number,
            "business_account_id": c.business_account_id,
            "token": c.token,
            "app_secret": c.app_secret,
            "verify_token": c.verify_token,
            "webhook_url": c.webhook_url,
        }

    wa_api_version = "22.0"

    async def wa_set_webhook(self, url: str) -> None:
        """Subscribe the bot's webhook: Meta's GET handshake first (the bot must echo hub.challenge), then
        every queued and future event is POSTed there, signed with the app secret."""
        await self.wa_webhook.verify(url)

    def wa_set_templates(self, templates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replace the approved templates: Meta's template JSON (name, language, category, components with a
        BODY text using {{1}}, {{2}}…; optional HEADER/FOOTER; status defaults to APPROVED)."""
        try:
            checked = [check_template_definition(t) for t in templates]
        except ValueError as e:
            raise ControlError(str(e)) from None
        self.wa.templates = checked
        self.wa.world.publish({"type": "wa_users"})
        return checked

    def wa_load_templates(self, path: str | Path) -> list[dict[str, Any]]:
        """wa_set_templates from a JSON file: a list of templates, or {"templates": [...]}, or Meta's
        {"data": [...]} as GET /{waba_id}/message_templates answers."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if isinstance(data, dict):
            data = data.get("templates", data.get("data"))
        if not isinstance(data, list):
            raise ControlError(f"{path}: expected a list of templates")
        return self.wa_set_templates(data)

    # --- people ---------------------------------------------------------------------------------------
    async def wa_create_user(
        self, name: str = "Тұрғын", phone: str | None = None, *, language: str = "kk", role: str = "resident"
    ) -> dict[str, Any]:
        """A person with WhatsApp on `phone` (wa_id = its digits; one is made up when omitted). `language`
        only guides the page (WhatsApp does not tell the bot a language). Their window is closed until they
        write."""
        wa = self.wa
        name = (name or "").strip()
        if not 1 <= len(name) <= 64:
            raise ControlError("name must be 1-64 characters")
        if phone is None:
            n = 1
            while (phone := f"7701{len(wa.users) + n:07d}") in wa.users:
                n += 1
        wa_id = re.sub(r"\D", "", phone)
        if not 8 <= len(wa_id) <= 15:
            raise ControlError("phone must have 8-15 digits (country code first)")
        if wa_id in wa.users:
            raise ControlError(f"WhatsApp user {wa_id} exists")
        if language not in ("kk", "ru", "en"):
            raise ControlError("language must be kk, ru or en")
        wa.users[wa_id] = WaUser(wa_id, name, language, role)
        wa.chats[wa_id] = []
        wa.changed_users()
        return wa.users[wa_id].view(wa.clock())

    def wa_users(self) -> list[dict[str, Any]]:
        now = self.wa.clock()
        return [u.view(now) for u in self.wa.users.values()]

    def wa_age_window(self, wa_id: str, hours: float) -> dict[str, Any]:
        """Pretend the person's last message was `hours` ago (25 closes the window; 0 opens it)."""
        user = self.wa.user(wa_id)
        user.last_inbound = self.wa.clock() - hours * 3600
        self.wa.changed_users()
        return user.view(self.wa.clock())

    def wa_set_unreachable(self, wa_id: str, unreachable: bool = True) -> dict[str, Any]:
        """Sends to an unreachable person fail with 131026 (Message Undeliverable)."""
        user = self.wa.user(wa_id)
        user.unreachable = unreachable
        self.wa.changed_users()
        return user.view(self.wa.clock())

    # --- messages from people -------------------------------------------------------------------------
    def _wa_inbound(self, wa_id: str, kind: str, content: dict[str, Any], context: str | None = None) -> dict[str, Any]:
        wa = self.wa
        user = wa.user(wa_id)
        if context is not None and (wa.by_id.get(context) is None or wa.by_id[context].wa_id != wa_id):
            raise ControlError(f"no message {context} in this chat")
        self.wa_read(wa_id)
        msg = WaMessage(new_wamid(), wa_id, False, kind, content, context=context, status="received")
        user.last_inbound = wa.clock()
        wa.add(msg)
        wa.queue(wa_id, wa.inbound_payload(user, msg))
        wa.changed_users()
        return msg.view()

    def wa_read(self, wa_id: str) -> None:
        """The person opens the chat: the bot's delivered messages become read (status webhooks)."""
        for msg in self.wa.chats.get(wa_id, []):
            if msg.from_bot and msg.status in ("sent", "delivered"):
                self.wa.queue_status(msg, "read")

    async def wa_send_text(self, wa_id: str, text: str, *, reply_to: str | None = None) -> dict[str, Any]:
        if not text or not text.strip() or len(text) > 65536:
            raise ControlError("text must be 1-65536 characters")
        return self._wa_inbound(wa_id, "text", {"body": text}, reply_to)

    def _wa_bot_interactive(self, wa_id: str, message_id: str, kind: str) -> dict[str, Any]:
        msg = self.wa.by_id.get(message_id)
        if msg is None or msg.wa_id != wa_id or not msg.from_bot:
            raise ControlError(f"no bot message {message_id} in this chat")
        if msg.type != "interactive" or msg.content.get("type") != kind:
            raise ControlError(f"message {message_id} has no {'reply buttons' if kind == 'button' else 'list'}")
        if msg.status == "failed":
            raise ControlError(f"message {message_id} was never delivered")
        return msg.content

    async def wa_press_reply(self, wa_id: str, message_id: str, button_id: str) -> dict[str, Any]:
        """Press a reply button under the bot's interactive message → an interactive.button_reply message."""
        content = self._wa_bot_interactive(wa_id, message_id, "button")
        for button in content["action"]["buttons"]:
            if button["reply"]["id"] == button_id:
                reply = {"id": button_id, "title": button["reply"]["title"]}
                return self._wa_inbound(
                    wa_id, "interactive", {"type": "button_reply", "button_reply": reply}, message_id
                )
        raise ControlError(f"no button {button_id!r} under message {message_id}")

    async def wa_choose_row(self, wa_id: str, message_id: str, row_id: str) -> dict[str, Any]:
        """Open the bot's list and choose a row → an interactive.list_reply message."""
        content = self._wa_bot_interactive(wa_id, message_id, "list")
        for section in content["action"]["sections"]:
            for row in section["rows"]:
                if row["id"] == row_id:
                    reply = {"id": row_id, "title": row["title"]}
                    if row.get("description"):
                        reply["description"] = row["description"]
                    return self._wa_inbound(
                        wa_id, "interactive", {"type": "list_reply", "list_reply": reply}, message_id
                    )
        raise ControlError(f"no row {row_id!r} in the list of message {message_id}")

    async def wa_press_template_button(self, wa_id: str, message_id: str, index: int = 0) -> dict[str, Any]:
        """Press a quick-reply button of a template message → a `button` message {payload, text}."""
        msg = self.wa.by_id.get(message_id)
        if msg is None or msg.wa_id != wa_id or msg.type != "template" or msg.status == "failed":
            raise ControlError(f"no delivered template message {message_id} in this chat")
        if not msg.buttons or not 0 <= index < len(msg.buttons):
            raise ControlError(f"template message {message_id} has no button {index}")
        button = msg.buttons[index]
        return self._wa_inbound(wa_id, "button", {"payload": button["payload"], "text": button["text"]}, message_id)

    def _wa_store(self, data: bytes, mime_type: str, filename: str | None = None) -> WaMedia:
        media = WaMedia(new_media_id(), data, mime_type, filename)
        self.wa.media[media.id] = media
        return media

    async def wa_send_image(
        self, wa_id: str, data: bytes | None = None, caption: str | None = None, *, mime_type: str = "image/jpeg"
    ) -> dict[str, Any]:
        data = data or make_png(64, 48)
        if data[:4] == b"\x89PNG":
            mime_type = "image/png"  # WhatsApp recompresses photos; the sandbox keeps the bytes and their type
        media = self._wa_store(data, mime_type)
        content = {"mime_type": mime_type, "sha256": media.sha256, "id": media.id}
        if caption:
            content["caption"] = caption
        return self._wa_inbound(wa_id, "image", content)

    async def wa_send_document(
        self,
        wa_id: str,
        data: bytes | None = None,
        filename: str = "өтініш.pdf",
        caption: str | None = None,
        *,
        mime_type: str = "application/pdf",
    ) -> dict[str, Any]:
        media = self._wa_store(data or PDF, mime_type, filename)
        content = {"filename": filename, "mime_type": mime_type, "sha256": media.sha256, "id": media.id}
        if caption:
            content["caption"] = caption
        return self._wa_inbound(wa_id, "document", content)

    async def wa_send_voice(self, wa_id: str, data: bytes | None = None) -> dict[str, Any]:
        """A voice note (push-to-talk): audio/ogg with opus, `voice: true`."""
        mime = "audio/ogg; codecs=opus"
        media = self._wa_store(data or OGG_VOICE, mime)
        return self._wa_inbound(
            wa_id, "audio", {"mime_type": mime, "sha256": media.sha256, "id": media.id, "voice": True}
        )

    async def wa_send_location(
        self, wa_id: str, latitude: float, longitude: float, *, name: str | None = None, address: str | None = None
    ) -> dict[str, Any]:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ControlError("latitude/longitude out of range")
        content: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if name:
            content["name"] = name
        if address:
            content["address"] = address
        return self._wa_inbound(wa_id, "location", content)

    async def wa_react(self, wa_id: str, message_id: str, emoji: str) -> dict[str, Any]:
        target = self.wa.by_id.get(message_id)
        if target is None or target.wa_id != wa_id:
            raise ControlError(f"no message {message_id} in this chat")
        target.reactions["user"] = emoji
        self.wa.touch(target)
        return self._wa_inbound(wa_id, "reaction", {"message_id": message_id, "emoji": emoji})

    # --- reads and waiting ----------------------------------------------------------------------------
    def wa_messages(self, wa_id: str) -> list[dict[str, Any]]:
        """The chat as the person's phone shows it, both sides, oldest first."""
        self.wa.user(wa_id)
        return [m.view() for m in self.wa.chats.get(wa_id, [])]

    def wa_media(self, media_id: str) -> bytes:
        media = self.wa.media.get(media_id)
        if media is None:
            raise KeyError(f"no WhatsApp media {media_id}")
        return media.data

    async def wa_wait_for_bot_message(
        self,
        wa_id: str,
        predicate: Predicate | None = None,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The next message the bot sent this person that satisfies predicate (failed sends excluded). Each
        chat has a cursor: a message returned here is not returned again, nor are the ones before it."""

        def find() -> dict[str, Any] | None:
            return self.wa.next_bot_message(
                wa_id, lambda v: v["status"] != "failed" and (predicate is None or predicate(v))
            )

        return await self.wa.world.wait_until(find, timeout, f"a WhatsApp bot message to {wa_id}")

    async def wa_wait_for_webhooks_delivered(self, timeout: float = 5) -> None:  # noqa: ASYNC109
        """Until the bot has answered 200 to every queued webhook (or the sandbox gave up on it)."""
        await self.wa.world.wait_until(lambda: not self.wa.outbox, timeout, "WhatsApp webhooks to be delivered")
