"""Long polling: build the app, set the command menus, poll until stopped."""

from __future__ import annotations

import logging

from bot.app import build_app
from bot.commands import set_command_menus
from bot.config import Settings

log = logging.getLogger("qatysu")


async def run(settings: Settings) -> int:
    app = await build_app(settings)
    try:
        me = await app.bot.get_me()
        log.info("running as @%s against %s", me.username, settings.telegram.api_base)
        await set_command_menus(app.bot, app.i18n, app.services.roles)
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.dp.start_polling(app.bot, handle_signals=True)
    finally:
        await app.close()
    return 0
