"""The control API over HTTP (/sandbox/api/...): the same operations as Sandbox's Python methods, the
page's live event stream (Server-Sent Events), and file bytes for the page."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from .errors import ControlError

if TYPE_CHECKING:
    from .server import Sandbox

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def ok(result: Any) -> web.Response:
    return web.json_response(
        {"ok": True, "result": result}, dumps=lambda o: json.dumps(o, ensure_ascii=False)
    )


def fail(status: int, error: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error": error}, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False)
    )


def _int(value: Any, name: str, *, required: bool = False) -> int | None:
    if value is None or value == "":
        if required:
            raise ControlError(f"{name} is required")
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(f"{name} must be an integer") from None


def _bytes(body: dict[str, Any]) -> bytes | None:
    raw = body.get("data_base64")
    if raw in (None, ""):
        return None
    try:
        return base64.b64decode(str(raw).split(",", 1)[-1], validate=False)
    except (binascii.Error, ValueError):
        raise ControlError("data_base64 is not base64") from None


class ControlRoutes:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox

    def register(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/sandbox/api/state", self._wrap(self.state))
        r.add_get("/sandbox/api/users", self._wrap(self.users))
        r.add_post("/sandbox/api/users", self._wrap(self.create_user))
        r.add_get("/sandbox/api/chats", self._wrap(self.chats))
        r.add_get("/sandbox/api/chats/{chat_id}/messages", self._wrap(self.messages))
        r.add_get("/sandbox/api/chats/{chat_id}/topics", self._wrap(self.topics))
        r.add_get("/sandbox/api/chats/{chat_id}/menu", self._wrap(self.menu))
        r.add_get("/sandbox/api/chats/{chat_id}/next_bot_message", self._wrap(self.next_bot_message))
        r.add_post("/sandbox/api/users/{user_id}/{action}", self._wrap(self.user_action))
        r.add_get("/sandbox/api/callbacks/{query_id}", self._wrap(self.callback))
        r.add_get("/sandbox/api/updates", self._wrap(self.updates))
        r.add_get("/sandbox/api/calls", self._wrap(self.calls))
        r.add_post("/sandbox/api/rate_limits", self._wrap(self.rate_limits))
        r.add_get("/sandbox/api/events", self.events)
        r.add_get("/sandbox/files/{file_id}", self.file)

    def _wrap(self, handler: Callable[[web.Request], Awaitable[Any]]) -> Route:
        async def route(request: web.Request) -> web.StreamResponse:
            if request.method == "POST":
                if request.content_type != "application/json" and request.body_exists:
                    return fail(415, "send JSON (Content-Type: application/json)")
            try:
                return ok(await handler(request))
            except ControlError as e:
                return fail(400, str(e))
            except KeyError as e:
                return fail(404, str(e.args[0]) if e.args else "not found")
            except TimeoutError as e:
                return fail(408, str(e))

        return route

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        try:
            body = await request.json()
        except ValueError:
            raise ControlError("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ControlError("the body must be a JSON object")
        return body

    @staticmethod
    def _chat_id(request: web.Request) -> int:
        value = _int(request.match_info["chat_id"], "chat_id", required=True)
        assert value is not None
        return value

    # --- reads ----------------------------------------------------------------------------------------
    async def state(self, request: web.Request) -> Any:
        sb = self.sb
        return {
            "bot": sb.world.bot,
            "operator_chat_id": sb.world.operator_chat_id,
            "users": sb.users(),
            "chats": sb.chats(),
            "rate_limits": sb.limiter.enabled,
            "webhook": sb.world.webhook.url or None,
        }

    async def users(self, request: web.Request) -> Any:
        return self.sb.users(request.query.get("role"))

    async def chats(self, request: web.Request) -> Any:
        return self.sb.chats()

    async def messages(self, request: web.Request) -> Any:
        thread_id = _int(request.query.get("thread_id"), "thread_id")
        return self.sb.transcript(self._chat_id(request), thread_id)

    async def topics(self, request: web.Request) -> Any:
        return self.sb.topics(self._chat_id(request))

    async def menu(self, request: web.Request) -> Any:
        return self.sb.menu(self._chat_id(request), _int(request.query.get("user_id"), "user_id"))

    async def next_bot_message(self, request: web.Request) -> Any:
        timeout = min(60.0, float(request.query.get("timeout", "5")))
        thread_id = _int(request.query.get("thread_id"), "thread_id")
        return await self.sb.wait_for_bot_message(
            self._chat_id(request), timeout=timeout, thread_id=thread_id
        )

    async def callback(self, request: web.Request) -> Any:
        return self.sb.callback_answer(request.match_info["query_id"])

    async def updates(self, request: web.Request) -> Any:
        return {
            "pending": self.sb.pending_updates(),
            "webhook": self.sb.world.webhook.api(len(self.sb.world.pending), self.sb.world.allowed_updates),
        }

    async def calls(self, request: web.Request) -> Any:
        return [{"method": m, "params": p} for m, p in self.sb.api.calls]

    async def rate_limits(self, request: web.Request) -> Any:
        body = await self._body(request)
        self.sb.rate_limits = bool(body.get("enabled", self.sb.limiter.enabled))  # Telegram's and WhatsApp's
        self.sb.world.publish({"type": "chats"})
        return {"enabled": self.sb.limiter.enabled}

    # --- actions --------------------------------------------------------------------------------------
    async def create_user(self, request: web.Request) -> Any:
        b = await self._body(request)
        return await self.sb.create_user(
            str(b.get("first_name") or ""),
            last_name=b.get("last_name"),
            username=b.get("username") or None,
            language_code=b.get("language_code", "kk") or None,
            role=b.get("role", "resident"),
            user_id=_int(b.get("id"), "id"),
            phone=b.get("phone") or None,
            started=bool(b.get("started")),
            operator_member=b.get("operator_member"),
            operator_admin=bool(b.get("operator_admin")),
        )

    async def user_action(self, request: web.Request) -> Any:
        user_id = _int(request.match_info["user_id"], "user_id", required=True)
        assert user_id is not None
        b = await self._body(request)
        action = request.match_info["action"]
        sb = self.sb
        where = {"chat_id": _int(b.get("chat_id"), "chat_id")}
        topic = _int(b.get("message_thread_id"), "message_thread_id")
        reply = _int(b.get("reply_to_message_id"), "reply_to_message_id")
        if action == "text":
            return await sb.send_text(
                user_id, str(b.get("text") or ""), **where, message_thread_id=topic, reply_to_message_id=reply
            )
        if action == "contact":
            return await sb.send_contact(
                user_id,
                own=bool(b.get("own", True)),
                phone_number=b.get("phone_number"),
                first_name=b.get("first_name"),
                last_name=b.get("last_name"),
                contact_user_id=_int(b.get("contact_user_id"), "contact_user_id"),
                **where,
            )
        if action == "location":
            lat, lon = b.get("latitude", 51.128207), b.get("longitude", 71.430411)
            try:
                lat, lon = float(lat), float(lon)
            except (TypeError, ValueError):
                raise ControlError("latitude and longitude must be numbers") from None
            return await sb.send_location(user_id, lat, lon, **where, message_thread_id=topic)
        if action == "photo":
            return await sb.send_photo(
                user_id,
                _bytes(b),
                caption=b.get("caption"),
                **where,
                message_thread_id=topic,
                reply_to_message_id=reply,
            )
        if action == "document":
            return await sb.send_document(
                user_id,
                _bytes(b),
                file_name=str(b.get("file_name") or "өтініш.pdf"),
                mime_type=b.get("mime_type"),
                caption=b.get("caption"),
                **where,
                message_thread_id=topic,
                reply_to_message_id=reply,
            )
        if action == "press":
            message_id = _int(b.get("message_id"), "message_id", required=True)
            assert message_id is not None
            return {
                "callback_query_id": await sb.press_button(
                    user_id, message_id, **where, data=b.get("data"), text=b.get("text")
                )
            }
        if action == "edit":
            message_id = _int(b.get("message_id"), "message_id", required=True)
            assert message_id is not None
            return await sb.edit_text(user_id, message_id, str(b.get("text") or ""), **where)
        if action == "block":
            return await sb.block(user_id)
        if action == "unblock":
            return await sb.unblock(user_id)
        raise KeyError(f"no action {action}")

    # --- live stream and files ------------------------------------------------------------------------
    async def events(self, request: web.Request) -> web.StreamResponse:
        world = self.sb.world
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        queue = world.subscribe()
        try:
            await response.write(b"event: hello\ndata: {}\n\n")
            while not world.closing:
                try:
                    async with asyncio.timeout(15):
                        event = await queue.get()
                except TimeoutError:
                    await response.write(b": ping\n\n")
                    continue
                if event.get("type") == "closing":
                    break
                data = json.dumps(event, ensure_ascii=False)
                await response.write(f"data: {data}\n\n".encode())
        except ConnectionResetError:
            pass
        finally:
            world.unsubscribe(queue)
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    async def file(self, request: web.Request) -> web.StreamResponse:
        stored = self.sb.world.files.get(request.match_info["file_id"])
        if stored is None:
            return fail(404, "no such file")
        if stored.kind == "photos":
            data = stored.data
            kind = {b"\x89P": "image/png", b"GI": "image/gif", b"RI": "image/webp"}.get(
                data[:2], "image/jpeg"
            )
            return web.Response(body=data, content_type=kind)
        name = quote(stored.file_name or "file")
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{name}"}
        return web.Response(body=stored.data, content_type="application/octet-stream", headers=headers)
