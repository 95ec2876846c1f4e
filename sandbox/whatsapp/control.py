"""The WhatsApp part of the control API (/sandbox/api/wa/...), used by the page and by tests over HTTP; the
same operations as the Sandbox's wa_* methods. Answers like the rest of the control API:
{"ok": true, "result": ...} or {"ok": false, "error": ...} with 400/404/408."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..control import ControlRoutes, _bytes, fail
from ..errors import ControlError

if TYPE_CHECKING:
    from ..server import Sandbox


def _float(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be a number") from None


class WaControlRoutes:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox

    def register(self, app: web.Application, wrap: Any) -> None:
        r = app.router
        r.add_get("/sandbox/api/wa/state", wrap(self.state))
        r.add_post("/sandbox/api/wa/users", wrap(self.create_user))
        r.add_get("/sandbox/api/wa/users/{wa_id}/messages", wrap(self.messages))
        r.add_get("/sandbox/api/wa/users/{wa_id}/next_bot_message", wrap(self.next_bot_message))
        r.add_post("/sandbox/api/wa/users/{wa_id}/{action}", wrap(self.user_action))
        r.add_post("/sandbox/api/wa/templates", wrap(self.templates))
        r.add_post("/sandbox/api/wa/webhook", wrap(self.webhook))
        r.add_get("/sandbox/wa-files/{media_id}", self.file)

    async def state(self, request: web.Request) -> Any:
        sb = self.sb
        config = {k: v for k, v in sb.wa_config.items() if k not in ("token", "app_secret")}
        return {
            "config": config,
            "users": sb.wa_users(),
            "templates": sb.wa.templates,
            "pending_webhooks": len(sb.wa.outbox),
            "undeliverable_webhooks": len(sb.wa.undeliverable),
        }

    async def create_user(self, request: web.Request) -> Any:
        b = await ControlRoutes._body(request)
        return await self.sb.wa_create_user(
            str(b.get("name") or ""), b.get("phone") or None, language=b.get("language") or "kk"
        )

    async def messages(self, request: web.Request) -> Any:
        return self.sb.wa_messages(request.match_info["wa_id"])

    async def next_bot_message(self, request: web.Request) -> Any:
        timeout = min(60.0, _float(request.query.get("timeout", "5"), "timeout"))
        return await self.sb.wa_wait_for_bot_message(request.match_info["wa_id"], timeout=timeout)

    async def templates(self, request: web.Request) -> Any:
        b = await ControlRoutes._body(request)
        if not isinstance(b.get("templates"), list):
            raise ControlError("templates must be a list")
        return self.sb.wa_set_templates(b["templates"])

    async def webhook(self, request: web.Request) -> Any:
        b = await ControlRoutes._body(request)
        await self.sb.wa_set_webhook(str(b.get("url") or ""))
        return {"webhook_url": self.sb.wa.config.webhook_url}

    async def user_action(self, request: web.Request) -> Any:
        sb, wa_id, action = self.sb, request.match_info["wa_id"], request.match_info["action"]
        b = await ControlRoutes._body(request)
        if action == "text":
            return await sb.wa_send_text(wa_id, str(b.get("text") or ""), reply_to=b.get("reply_to") or None)
        if action == "press":
            return await sb.wa_press_reply(wa_id, str(b.get("message_id")), str(b.get("button_id")))
        if action == "template_button":
            index = int(_float(b.get("index", 0), "index"))
            return await sb.wa_press_template_button(wa_id, str(b.get("message_id")), index)
        if action == "choose":
            return await sb.wa_choose_row(wa_id, str(b.get("message_id")), str(b.get("row_id")))
        if action == "image":
            return await sb.wa_send_image(
                wa_id, _bytes(b), b.get("caption") or None, mime_type=b.get("mime_type") or "image/jpeg"
            )
        if action == "document":
            return await sb.wa_send_document(
                wa_id,
                _bytes(b),
                str(b.get("filename") or "өтініш.pdf"),
                b.get("caption") or None,
                mime_type=b.get("mime_type") or "application/pdf",
            )
        if action == "voice":
            return await sb.wa_send_voice(wa_id, _bytes(b))
        if action == "location":
            return await sb.wa_send_location(
                wa_id,
                _float(b.get("latitude", 43.238949), "latitude"),
                _float(b.get("longitude", 76.889709), "longitude"),
                name=b.get("name"),
                address=b.get("address"),
            )
        if action == "react":
            return await sb.wa_react(wa_id, str(b.get("message_id")), str(b.get("emoji") or ""))
        if action == "read":
            sb.wa_read(wa_id)
            return None
        if action == "age":
            return sb.wa_age_window(wa_id, _float(b.get("hours", 25), "hours"))
        if action == "unreachable":
            return sb.wa_set_unreachable(wa_id, bool(b.get("unreachable", True)))
        raise KeyError(f"no action {action}")

    async def file(self, request: web.Request) -> web.StreamResponse:
        media = self.sb.wa.media.get(request.match_info["media_id"])
        if media is None:
            return fail(404, "no such media")
        return web.Response(body=media.data, content_type=media.mime_type.split(";")[0])
