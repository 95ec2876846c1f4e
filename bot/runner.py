"""Long polling: build the app, set the command menus, start the outbox sender and the scheduler, poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.app import App, build_app
from bot.channels.telegram.commands import set_command_menus
from bot.channels.telegram.costs import settle
from bot.config import Settings
from bot.scheduler import build_scheduler

log = logging.getLogger("qatysu")


async def serve(app: App, *, handle_signals: bool = True) -> None:
    """Everything one bot process runs, until polling stops."""
    me = await app.bot.get_me()
    log.info("running as @%s against %s", me.username, app.settings.telegram.api_base)
    if app.whatsapp is not None:  # the WhatsApp webhook beside Telegram's polling
        url = await app.whatsapp.start()
        log.info("WhatsApp webhook listening on %s", url)
        if app.whatsapp_subscribe is not None:
            await app.whatsapp_subscribe(url)
    await set_command_menus(app.bot, app.i18n, app.services.roles)
    await app.bot.delete_webhook(drop_pending_updates=False)
    stop = asyncio.Event()
    sender = asyncio.create_task(app.sender.run_forever(stop), name="outbox-sender")
    scheduler = build_scheduler(app)
    scheduler.start()
    await app.desk.catch_up()
    try:
        await app.dp.start_polling(app.bot, handle_signals=handle_signals, close_bot_session=False)
    finally:
        if app.whatsapp is not None:
            await app.whatsapp.stop()
        stop.set()
        scheduler.shutdown(wait=False)
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        log.info("stopped")


async def run(settings: Settings) -> int:
    app = await build_app(settings)
    settle()  # start-up done: frozen out of the collector's way
    try:
        await serve(app)
    finally:
        await app.close()
    return 0
