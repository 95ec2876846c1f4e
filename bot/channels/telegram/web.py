"""``qatysu web``: updates by webhook. Telegram POSTs each update to ``telegram.webhook_url`` (behind a load
balancer, to one of several replicas listening on ``webhook_host:webhook_port``).

* The path of ``webhook_url`` takes the updates; a request without the right ``X-Telegram-Bot-Api-Secret-Token``
  is refused (401) before anything is read into the bot.
* An update is answered after it is handled: 200 when done, 500 when its handling failed in a way Telegram should
  retry (it delivers the update again, to whichever replica). The next update of the chat comes only then.
* ``/healthz``: the process is alive. ``/readyz``: the database answers, Redis answers (when configured) and the
  database's migrations are the code's head; 503 otherwise and while stopping, so the balancer sends elsewhere.
* SIGTERM or SIGINT: no new update is taken (503: Telegram delivers it again, to another replica), the updates in
  hand are finished (at most ``DRAIN_SECONDS``), then the process ends. The webhook stays set for the others.

No scheduler and no outbox sender run here: that is the worker's part (``qatysu run`` does everything in one
process with long polling).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import io
import json
import logging
import signal
from urllib.parse import urlsplit

from aiogram.types import Update
from aiohttp import web
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.app import App
from bot.channels.telegram.commands import set_command_menus
from bot.channels.telegram.costs import settle
from storage.migrate import alembic_config

log = logging.getLogger("qatysu.web")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DRAIN_SECONDS = 25.0


class NotMigrated(RuntimeError):
    pass


def code_heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config("")).get_heads())


async def database_heads(app: App) -> set[str]:
    async with app.engine.connect() as conn:
        return await conn.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))


class Webhook:
    def __init__(self, app: App) -> None:
        self.app = app
        tg = app.settings.telegram
        if not tg.webhook_url or tg.webhook_secret is None:
            raise ValueError("telegram.mode = \"webhook\" needs telegram.webhook_url and telegram.webhook_secret")
        self.path = urlsplit(tg.webhook_url).path or "/"
        self.secret = tg.webhook_secret.get_secret_value().encode()
        self.stopping = False
        self.in_hand = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.heads = code_heads()

    def routes(self) -> web.Application:
        w = web.Application(client_max_size=2 * 1024 * 1024)
        w.router.add_post(self.path, self.on_update)
        w.router.add_get("/healthz", self.healthz)
        w.router.add_get("/readyz", self.readyz)
        return w

    async def on_update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            log.warning("refused a webhook request without the secret token from %s", request.remote)
            return web.Response(status=401, text="unauthorized")
        if self.stopping:
            return web.Response(status=503, text="stopping")  # Telegram delivers it again, elsewhere
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.app.bot})
        except (ValueError, json.JSONDecodeError):
            return web.Response(status=400, text="not an update")
        self.in_hand += 1
        self.idle.clear()
        try:
            await self.app.dp.feed_update(self.app.bot, update)
        except Exception:  # the errors router answers the person; what escapes it is worth a second delivery
            log.exception("update %s failed: Telegram will deliver it again", update.update_id)
            return web.Response(status=500, text="failed")
        finally:
            self.in_hand -= 1
            if self.in_hand == 0:
                self.idle.set()
        return web.json_response({})

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(self, _request: web.Request) -> web.Response:
        checks: dict[str, str] = {}
        try:
            async with self.app.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            heads = await database_heads(self.app)
            checks["database"] = "ok"
            checks["migrations"] = "ok" if heads == self.heads else f"database at {sorted(heads)}, code at " \
                                                                     f"{sorted(self.heads)}"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["database"] = f"unreachable: {type(exc).__name__}"
        if self.app.redis is not None:
            try:
                await self.app.redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:  # noqa: BLE001
                checks["redis"] = f"unreachable: {type(exc).__name__}"
        if self.stopping:
            checks["process"] = "stopping"
        ok = all(v == "ok" for v in checks.values())
        return web.json_response({"ready": ok, **checks}, status=200 if ok else 503)

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:  # noqa: ASYNC109 - a shutdown bound
        self.stopping = True
        try:
            await asyncio.wait_for(self.idle.wait(), timeout)
        except TimeoutError:
            log.warning("%s updates still in hand after %s s: stopping anyway (Telegram delivers them again)",
                        self.in_hand, timeout)


def dump_tasks() -> None:
    out = io.StringIO()
    for task in asyncio.all_tasks():
        task.print_stack(limit=12, file=out)
    log.warning("tasks now:\n%s", out.getvalue())


async def serve_web(app: App, stop: asyncio.Event | None = None, *, handle_signals: bool = True) -> None:
    """Listen, set the webhook, serve until ``stop`` (or SIGTERM/SIGINT), then drain and close."""
    tg = app.settings.telegram
    hook = Webhook(app)
    stop = stop or asyncio.Event()
    if handle_signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGUSR1, dump_tasks)  # `kill -USR1`: what the updates in hand wait on
    runner = web.AppRunner(hook.routes(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, tg.webhook_host, tg.webhook_port)
    await site.start()
    port = runner.addresses[0][1] if runner.addresses else tg.webhook_port
    log.info("listening on %s:%s for %s", tg.webhook_host, port, hook.path)
    try:
        me = await app.bot.get_me()
        await set_command_menus(app.bot, app.i18n, app.services.roles)
        await app.bot.set_webhook(tg.webhook_url, secret_token=tg.webhook_secret.get_secret_value(),
                                  allowed_updates=app.dp.resolve_used_update_types(), drop_pending_updates=False)
        log.info("webhook set for @%s: %s", me.username, tg.webhook_url)
        await stop.wait()
        log.info("stopping: finishing %s updates in hand", hook.in_hand)
        await hook.drain()
    finally:
        hook.stopping = True
        with contextlib.suppress(Exception):
            await runner.cleanup()
        log.info("stopped")


async def run_web(settings) -> int:
    from bot.app import build_app
    from storage.db import make_engine

    engine = make_engine(settings.database.url)
    try:
        async with engine.connect() as conn:
            heads = await conn.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))
    finally:
        await engine.dispose()
    if heads != code_heads():
        raise NotMigrated(f"the database is at {sorted(heads) or 'no revision'}, the code at {sorted(code_heads())}:"
                          " run `qatysu db upgrade` once before starting the web replicas")
    app = await build_app(settings, migrate=False)
    settle()  # start-up done: frozen out of the collector's way (bot/channels/telegram/costs.py)
    try:
        await serve_web(app)
    finally:
        await app.close()
    return 0
