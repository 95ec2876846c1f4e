"""The Graph API routes of the WhatsApp Cloud API stand-in: send messages (with the 24-hour window,
templates, throughput and pair limits), mark as read, upload / describe / delete / download media."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..ratelimit import Bucket
from .errors import GraphError, bad_token, invalid, no_object
from .state import WaMedia, WaMessage, WaWorld, new_media_id, new_wamid
from .validation import (
    MEDIA_TYPES,
    SEND_TYPES,
    check_interactive,
    check_location,
    check_media,
    check_template,
    check_text,
)
from .webhook import WaWebhook

VERSION = r"{version:\d+\.\d+}"
MEDIA_LIMITS = {  # mime type → (message type, max bytes), as the Cloud API's supported media table
    "image/jpeg": ("image", 5 << 20),
    "image/png": ("image", 5 << 20),
    "image/webp": ("sticker", 500 << 10),
    "audio/aac": ("audio", 16 << 20),
    "audio/amr": ("audio", 16 << 20),
    "audio/mpeg": ("audio", 16 << 20),
    "audio/mp4": ("audio", 16 << 20),
    "audio/ogg": ("audio", 16 << 20),
    "video/mp4": ("video", 16 << 20),
    "video/3gpp": ("video", 16 << 20),
    "text/plain": ("document", 100 << 20),
    "application/pdf": ("document", 100 << 20),
    "application/msword": ("document", 100 << 20),
    "application/vnd.ms-excel": ("document", 100 << 20),
    "application/vnd.ms-powerpoint": ("document", 100 << 20),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("document", 100 << 20),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", 100 << 20),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("document", 100 << 20),
}


class WaLimiter:
    """Throughput (messages per second for the phone number) and, optionally, per-user pacing."""

    def __init__(self, per_s: float, pair_per_s: float | None, pair_burst: float, enabled: bool = True) -> None:
        self.per_s, self.pair_per_s, self.pair_burst = per_s, pair_per_s, pair_burst
        self.enabled = enabled
        self.reset()

    def reset(self) -> None:
        self._overall = Bucket(self.per_s, max(1.0, self.per_s))
        self._pairs: dict[str, Bucket] = {}

    def check_overall(self) -> None:
        if self.enabled and self._overall.wait_time(time.monotonic()) > 0:
            raise GraphError(130429)
        if self.enabled:
            self._overall.take()

    def check_pair(self, wa_id: str) -> None:
        if not self.enabled or not self.pair_per_s:
            return
        bucket = self._pairs.setdefault(wa_id, Bucket(self.pair_per_s, max(1.0, self.pair_burst)))
        if bucket.wait_time(time.monotonic()) > 0:
            raise GraphError(131056)
        bucket.take()


async def _json_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return {}
    try:
        return await request.json()
    except ValueError:
        raise invalid("The request body is not valid JSON.") from None


def _json_error(e: GraphError) -> web.Response:
    return web.json_response(e.payload(), status=e.status)


class GraphApi:
    def __init__(self, wa: WaWorld, limiter: WaLimiter, webhook: WaWebhook) -> None:
        self.wa = wa
        self.limiter = limiter
        self.webhook = webhook

    def register(self, app: web.Application) -> None:
        r = app.router
        r.add_post(f"/v{VERSION}/{{object_id}}/messages", self._wrap(self.messages))
        r.add_post(f"/v{VERSION}/{{object_id}}/media", self._wrap(self.upload))
        r.add_get(f"/v{VERSION}/{{object_id}}", self._wrap(self.describe))
        r.add_post(f"/v{VERSION}/{{object_id}}", self._wrap(self.configure_phone))
        r.add_post(f"/v{VERSION}/{{object_id}}/", self._wrap(self.configure_phone))
        r.add_post(f"/v{VERSION}/{{object_id}}/subscribed_apps", self._wrap(self.subscribe_waba))
        r.add_delete(f"/v{VERSION}/{{object_id}}", self._wrap(self.delete))
        r.add_get("/wa-media/{media_id}", self._wrap(self.download))

    def _wrap(self, handler: Callable[[web.Request], Awaitable[Any]]) -> Callable[..., Any]:
        async def route(request: web.Request) -> web.StreamResponse:
            try:
                self._auth(request)
                result = await handler(request)
            except GraphError as e:
                return _json_error(e)
            if isinstance(result, web.StreamResponse):
                return result
            return web.json_response(result, dumps=lambda o: json.dumps(o, ensure_ascii=False))

        return route

    def _auth(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else request.query.get("access_token")
        if token != self.wa.config.token:
            raise bad_token()

    def _phone(self, request: web.Request) -> None:
        object_id = request.match_info["object_id"]
        if object_id != self.wa.config.phone_number_id:
            raise no_object(object_id)

    # --- messages -------------------------------------------------------------------------------------
    async def messages(self, request: web.Request) -> Any:
        self._phone(request)
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object.")
        self.wa.calls.append(("POST", request.path, body))
        if body.get("messaging_product") != "whatsapp":
            raise invalid("The parameter messaging_product is required.")
        if body.get("status") is not None:
            return self._mark_read(body)
        if body.get("recipient_type", "individual") != "individual":
            raise invalid("Param recipient_type must be individual.")
        to, recipient = body.get("to"), body.get("recipient")
        if recipient is not None and to is None:
            if not isinstance(recipient, str) or not re.fullmatch(r"[A-Z]{2}\.\w{1,64}", recipient):
                raise invalid("Param recipient must be a business-scoped user id (CC.digits).")
            found = self.wa.find(recipient)
            wa_id, to = (found.wa_id if found else recipient), recipient
        elif not isinstance(to, str | int) or not re.fullmatch(r"\+?[\d\s()-]{5,20}", str(to)):
            raise invalid("The parameter to (or recipient) is required and must be a phone number.")
        else:
            wa_id = re.sub(r"\D", "", str(to))
        kind = body.get("type", "text")
        if kind not in SEND_TYPES:
            raise invalid(f"Param type must be one of {{{', '.join(t.upper() for t in SEND_TYPES)}}}.")
        content, rendered, buttons = self._content(kind, body)
        context = body.get("context")
        reply_to = None
        if context is not None:
            if not isinstance(context, dict) or not isinstance(context.get("message_id"), str):
                raise invalid("Param context.message_id must be a string.")
            reply_to = context["message_id"]
            if (target := self.wa.by_id.get(reply_to)) is None or target.wa_id != wa_id:
                raise GraphError(131009, f"context.message_id {reply_to} is not a message in this chat.")
        self.limiter.check_overall()
        user = self.wa.users.get(wa_id)
        failure = None
        if user is None or user.unreachable:
            failure = GraphError(131026)
        elif kind != "template" and not user.window_open(self.wa.clock()):
            failure = GraphError(131047)
        if failure is not None and (self.wa.config.failures == "sync" or user is None):
            raise failure
        self.limiter.check_pair(wa_id)
        wamid = new_wamid()
        if kind == "reaction":
            self._react(wa_id, content, failure)
        else:
            msg = WaMessage(wamid, wa_id, True, kind, content, context=reply_to, rendered=rendered, buttons=buttons)
            if failure is not None:
                msg.errors = [failure.status_error()]
            self.wa.add(msg)
            if failure is not None:
                self.wa.queue_status(msg, "failed")
            else:
                self.wa.queue_status(msg, "sent")
                self.wa.queue_status(msg, "delivered")
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": str(to), "wa_id": wa_id, **({"user_id": user.bsuid} if user else {})}],
            "messages": [{"id": wamid, **({"message_status": "accepted"} if kind == "template" else {})}],
        }

    def _content(self, kind: str, body: dict[str, Any]) -> tuple[dict[str, Any], str | None, list[Any] | None]:
        if kind == "text":
            return check_text(body), None, None
        if kind == "interactive":
            return check_interactive(body, self.wa.media), None, None
        if kind == "location":
            return check_location(body), None, None
        if kind == "template":
            return check_template(body, self.wa.templates)
        if kind in MEDIA_TYPES:
            return check_media(kind, body, self.wa.media), None, None
        if kind == "reaction":
            reaction = body.get("reaction")
            if not isinstance(reaction, dict) or not isinstance(reaction.get("message_id"), str):
                raise invalid("The parameter reaction.message_id is required.")
            if not isinstance(reaction.get("emoji", ""), str):
                raise invalid("Param reaction.emoji must be a string.")
            return reaction, None, None
        raise GraphError(131051, f"Message type {kind} is not supported by the sandbox.")

    def _react(self, wa_id: str, reaction: dict[str, Any], failure: GraphError | None) -> None:
        target = self.wa.by_id.get(reaction["message_id"])
        if target is None or target.wa_id != wa_id:
            raise GraphError(131009, f"reaction.message_id {reaction['message_id']} is not in this chat.")
        if failure is None:
            if reaction.get("emoji"):
                target.reactions["bot"] = reaction["emoji"]
            else:
                target.reactions.pop("bot", None)
            self.wa.touch(target)

    def _mark_read(self, body: dict[str, Any]) -> Any:
        if body.get("status") != "read":
            raise invalid("Param status must be read.")
        msg = self.wa.by_id.get(str(body.get("message_id")))
        if msg is None or msg.from_bot:
            raise invalid(f"Param message_id {body.get('message_id')} is not a message the business received.")
        indicator = body.get("typing_indicator")
        if indicator is not None and indicator != {"type": "text"}:
            raise invalid('Param typing_indicator must be {"type": "text"}.')
        for earlier in self.wa.chats.get(msg.wa_id, []):
            if not earlier.from_bot and earlier.status != "read" and earlier.timestamp <= msg.timestamp:
                earlier.status = "read"
                self.wa.touch(earlier)
        if indicator:
            self.wa.world.publish({"type": "wa_typing", "wa_id": msg.wa_id, "until": time.time() + 25})
        return {"success": True}

    # --- webhook subscription (the bot may register its own callback URL, as in production) -------------
    async def _override(self, request: web.Request, config: Any) -> Any:
        if not isinstance(config, dict) or not isinstance(config.get("override_callback_uri"), str):
            raise invalid("Param override_callback_uri is required.")
        if not isinstance(config.get("verify_token"), str) or not config["verify_token"]:
            raise invalid("Param verify_token is required.")
        try:
            await self.webhook.verify(config["override_callback_uri"], config["verify_token"])
        except ValueError as e:  # ControlError: not loopback, or the challenge did not come back
            raise GraphError(2200, str(e)) from None
        return {"success": True}

    async def configure_phone(self, request: web.Request) -> Any:
        """POST /{phone_number_id} with webhook_configuration {override_callback_uri, verify_token}."""
        self._phone(request)
        body = await _json_body(request)
        self.wa.calls.append(("POST", request.path, body))
        if not isinstance(body, dict) or "webhook_configuration" not in body:
            raise invalid("The sandbox supports only webhook_configuration on a phone number.")
        return await self._override(request, body["webhook_configuration"])

    async def subscribe_waba(self, request: web.Request) -> Any:
        """POST /{waba_id}/subscribed_apps, optionally with override_callback_uri and verify_token."""
        if request.match_info["object_id"] != self.wa.config.business_account_id:
            raise no_object(request.match_info["object_id"])
        body = await _json_body(request)
        self.wa.calls.append(("POST", request.path, body))
        if isinstance(body, dict) and body.get("override_callback_uri"):
            return await self._override(request, body)
        return {"success": True}

    # --- media ----------------------------------------------------------------------------------------
    async def upload(self, request: web.Request) -> Any:
        self._phone(request)
        if not request.content_type.startswith("multipart/"):
            raise invalid("Upload media with multipart/form-data: file, type, messaging_product.")
        form = await request.post()
        self.wa.calls.append(("POST", request.path, {k: str(v)[:80] for k, v in form.items() if k != "file"}))
        if form.get("messaging_product") != "whatsapp":
            raise invalid("The parameter messaging_product is required.")
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise invalid("The parameter file is required.")
        mime = str(form.get("type") or upload.content_type or "").split(";")[0].strip().lower()
        if mime not in MEDIA_LIMITS:
            raise invalid(f"Param file must be a file with one of the following types: {', '.join(MEDIA_LIMITS)}.")
        data = upload.file.read()
        kind, limit = MEDIA_LIMITS[mime]
        if not data:
            raise invalid("Param file must not be empty.")
        if len(data) > limit:
            raise GraphError(131053, f"{kind} file size {len(data)} is over the limit of {limit} bytes.")
        media = WaMedia(new_media_id(), data, mime, upload.filename)
        self.wa.media[media.id] = media
        return {"id": media.id}

    async def describe(self, request: web.Request) -> Any:
        object_id = request.match_info["object_id"]
        c = self.wa.config
        if object_id == c.phone_number_id:
            return {
                "id": c.phone_number_id,
                "display_phone_number": "+" + c.display_phone_number,
                "verified_name": c.verified_name,
                "quality_rating": "GREEN",
            }
        media = self.wa.media.get(object_id)
        if media is None:
            raise no_object(object_id)
        return {
            "url": f"{request.url.origin()}/wa-media/{media.id}?hash={media.hash}",
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": len(media.data),
            "id": media.id,
            "messaging_product": "whatsapp",
        }

    async def delete(self, request: web.Request) -> Any:
        if self.wa.media.pop(request.match_info["object_id"], None) is None:
            raise no_object(request.match_info["object_id"])
        return {"success": True}

    async def download(self, request: web.Request) -> web.StreamResponse:
        media = self.wa.media.get(request.match_info["media_id"])
        if media is None or request.query.get("hash") != media.hash:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=media.data, content_type=media.mime_type)
