"""The outbox's Telegram delivery (bot/delivery/port.py): a worded notice as Bot API calls, and Telegram's
answers as the port's outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import FSInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.channels.telegram.retry import WAIT_ON_429
from bot.delivery.port import Limiter, Refused, RetryLater, Transient, Unreachable

if TYPE_CHECKING:
    from bot.services.outbox import Claimed


def _markup(payload: dict) -> InlineKeyboardMarkup | None:
    rows = payload.get("buttons") or []
    if not rows:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=b["text"], callback_data=b.get("data"), url=b.get("url")) for b in row]
        for row in rows])


async def send_payload(bot: Bot, chat_id: int, payload: dict) -> Message:
    """Send one worded notice: text, or a photo/document with the text as caption; then what follows it
    (``then``). Returns the last message sent."""
    kw = dict(reply_markup=_markup(payload), message_thread_id=payload.get("thread_id"))
    if payload.get("photo"):
        msg = await bot.send_photo(chat_id, payload["photo"], caption=payload.get("text"), **kw)
    elif payload.get("document_path"):
        doc = FSInputFile(Path(payload["document_path"]), filename=payload.get("filename"))
        msg = await bot.send_document(chat_id, doc, caption=payload.get("text"), **kw)
    elif payload.get("document"):
        msg = await bot.send_document(chat_id, payload["document"], caption=payload.get("text"), **kw)
    else:
        msg = await bot.send_message(chat_id, payload["text"], **kw)
    if payload.get("then"):
        return await send_payload(bot, chat_id, payload["then"])
    return msg


class TelegramDelivery:
    channel = "telegram"

    def __init__(self, bot: Bot, limiter: Limiter) -> None:
        self.bot, self.limiter = bot, limiter

    async def deliver(self, row: Claimed, payload: dict[str, Any]) -> int | None:
        no_wait = WAIT_ON_429.set(False)  # a 429 here puts the row back instead of sleeping in the send
        try:
            msg = await send_payload(self.bot, row.chat_id, payload)
        except TelegramRetryAfter as exc:
            raise RetryLater(exc.retry_after, f"429 retry after {exc.retry_after}") from exc
        except TelegramForbiddenError as exc:
            raise Unreachable(str(exc)) from exc
        except TelegramBadRequest as exc:
            raise Refused(str(exc)) from exc
        except (TelegramNetworkError, TelegramServerError) as exc:
            raise Transient(str(exc) or repr(exc)) from exc
        finally:
            WAIT_ON_429.reset(no_wait)
        return msg.message_id

    async def close(self) -> None:
        close = getattr(self.limiter, "close", None)
        if close is not None:
            await close()
