"""Last resort: log the failure with its context and tell the person something went wrong."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.types import ErrorEvent

from bot.channels.telegram.render import answer_press
from bot.i18n import I18n, pick_language

log = logging.getLogger("qatysu.errors")


def make_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router


async def on_error(event: ErrorEvent, bot: Bot, i18n: I18n) -> bool:
    upd = event.update
    user = None
    chat_id = None
    if upd.message:
        user, chat_id = upd.message.from_user, upd.message.chat.id
    elif upd.callback_query:
        user = upd.callback_query.from_user
        chat_id = upd.callback_query.message.chat.id if upd.callback_query.message else user.id
    elif upd.edited_message:
        user, chat_id = upd.edited_message.from_user, upd.edited_message.chat.id
    log.error("update %s from user %s in chat %s failed: %r", upd.update_id, user.id if user else None,
              chat_id, event.exception, exc_info=event.exception)
    if chat_id is None:
        return True
    tr = i18n(pick_language(None, user.language_code if user else None, i18n.default))
    try:
        if upd.callback_query:
            await answer_press(upd.callback_query)  # a press too old to answer still gets the message
        await bot.send_message(chat_id, tr._("Sorry, something went wrong. Please try again, or send /menu."))
    except Exception:  # noqa: BLE001 - telling the user is best effort
        log.warning("could not tell chat %s about the failure", chat_id)
    return True
