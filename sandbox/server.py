"""Sandbox: a strict local stand-in for Telegram — the Bot API on loopback, a control API and a web page."""

from __future__ import annotations

import re
from typing import Any, Self

from aiohttp import web

from . import guard, page
from .actions import Actions
from .botapi import BotApi, is_loopback_host
from .control import ControlRoutes
from .ratelimit import RateLimiter
from .state import World
from .webhook import WebhookDelivery
from .whatsapp.actions import WaActions
from .whatsapp.control import WaControlRoutes
from .whatsapp.graph import GraphApi, WaLimiter
from .whatsapp.state import WaConfig, WaWorld
from .whatsapp.webhook import WaWebhook

MAX_REQUEST_BYTES = 60 * 1024 * 1024


class Sandbox(Actions, WaActions):
    """Start it, point aiogram at `api_base` with TelegramAPIServer.from_base, then act as people through
    the methods inherited from Actions (create_user, send_text, press_button, ...) or the page.
    The same server is a WhatsApp Cloud API stand-in: point the WhatsApp client at `wa_config["graph_base"]`
    and act through the wa_* methods (WaActions)."""

    def __init__(
        self,
        token: str,
        *,
        operator_chat_id: int = -1001000000001,
        operator_chat_title: str = "Qatysu — операторлар",
        forum: bool = True,
        rate_overall_per_s: float = 30,
        rate_private_per_s: float = 1,
        rate_group_per_min: float = 20,
        rate_limits: bool = True,
        rate_private_burst: int = 3,
        bot_first_name: str = "Qatysu",
        bot_username: str = "qatysu_sandbox_bot",
        wa: WaConfig | None = None,
        wa_rate_per_s: float = 80,
        wa_pair_per_s: float | None = None,
        wa_pair_burst: int = 45,
    ) -> None:
        """WhatsApp: `wa` holds the token, phone number id, app secret, verify token, webhook URL and failure
        mode (WaConfig's defaults otherwise); `wa_rate_per_s` is the throughput (130429 beyond it);
        `wa_pair_per_s` turns on per-person pacing (131056), e.g. 1/6 with a burst of `wa_pair_burst`.
        `rate_limits=False` turns off both Telegram's and WhatsApp's limits."""
        if not re.fullmatch(r"\d{1,20}:[A-Za-z0-9_-]{1,100}", token or ""):
            raise ValueError("token must look like a Telegram bot token: <digits>:<letters, digits, _ or ->")
        if operator_chat_id >= 0:
            raise ValueError("operator_chat_id must be negative, like a supergroup's (-100...)")
        bot = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.token = token
        self.world = World(bot, operator_chat_id, operator_chat_title, forum)
        self.limiter = RateLimiter(
            overall_per_s=rate_overall_per_s,
            private_per_s=rate_private_per_s,
            group_per_min=rate_group_per_min,
            private_burst=rate_private_burst,
            enabled=rate_limits,
        )
        self.api = BotApi(self.world, token, self.limiter)
        self.webhook = WebhookDelivery(self.world, self.api)
        self.wa = WaWorld(self.world, wa or WaConfig())
        self.wa_limiter = WaLimiter(wa_rate_per_s, wa_pair_per_s, wa_pair_burst, enabled=rate_limits)
        self.wa_webhook = WaWebhook(self.wa)
        self.wa_graph = GraphApi(self.wa, self.wa_limiter, self.wa_webhook)
        self._runner: web.AppRunner | None = None
        self._base: str | None = None
        self._hosts: frozenset[str] = frozenset()  # Host values naming this sandbox, set once it listens

    # --- lifecycle ------------------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=[guard.middleware(lambda: self._hosts)])
        app.router.add_route("*", "/bot{token}/{method}", self.api.handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self.api.download)
        control = ControlRoutes(self)
        control.register(app)
        self.wa_graph.register(app)
        WaControlRoutes(self).register(app, control._wrap)
        page.register(app)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on a loopback address only (127.0.0.0/8, ::1, localhost); port 0 picks a free port."""
        if not is_loopback_host(host):
            raise ValueError(f"the sandbox listens on loopback only (127.0.0.0/8, ::1, localhost), not {host!r}")
        if self._runner is not None:
            raise RuntimeError("the sandbox is already started")
        bind = "127.0.0.1" if host.lower() == "localhost" else host.strip("[]")
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, bind, port)
        await site.start()
        self._runner = runner
        address: Any = runner.addresses[0]
        url_host = f"[{bind}]" if ":" in bind else bind
        self._base = f"http://{url_host}:{address[1]}"
        self._hosts = guard.own_hosts(bind, address[1])
        self.webhook.start()
        self.wa_webhook.start()
        if self.wa.config.webhook_url:
            await self.wa_set_webhook(self.wa.config.webhook_url)

    async def stop(self) -> None:
        if self._runner is None:
            return
        world = self.world
        world.closing = True
        world.publish({"type": "closing"})
        await self.webhook.stop()
        await self.wa_webhook.stop()
        await self._runner.cleanup()
        self._runner = None
        self._hosts = frozenset()

    async def __aenter__(self) -> Self:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- addresses ------------------------------------------------------------------------------------
    @property
    def api_base(self) -> str:
        """E.g. http://127.0.0.1:PORT — pass it to TelegramAPIServer.from_base."""
        if self._base is None:
            raise RuntimeError("the sandbox is not started")
        return self._base

    @property
    def page_url(self) -> str:
        return self.api_base + "/"

    @property
    def operator_chat_id(self) -> int:
        return self.world.operator_chat_id

    @property
    def bot_user(self) -> dict[str, Any]:
        return dict(self.world.bot)

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        """Every Bot API call so far as (method, raw parameters)."""
        return list(self.api.calls)

    @property
    def rate_limits(self) -> bool:
        return self.limiter.enabled

    @rate_limits.setter
    def rate_limits(self, enabled: bool) -> None:
        self.limiter.enabled = enabled
        self.limiter.reset()
        self.wa_limiter.enabled = enabled
        self.wa_limiter.reset()
