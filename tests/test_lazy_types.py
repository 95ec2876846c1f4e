"""aiogram's types are built on first use (bot/channels/telegram/lazy_types.py): every one of them must still
build, or an update of a kind the tests never send would fail in production."""

from __future__ import annotations

import aiogram.methods
import aiogram.types
from pydantic import BaseModel


def test_every_telegram_type_and_method_builds_when_first_used() -> None:
    unbuilt = []
    for module in (aiogram.types, aiogram.methods):
        for name in module.__all__:
            cls = getattr(module, name)
            if isinstance(cls, type) and issubclass(cls, BaseModel) and cls.model_rebuild(raise_errors=False) is False:
                unbuilt.append(name)
    assert unbuilt == []


def test_a_rich_update_is_read() -> None:
    update = aiogram.types.Update.model_validate({"update_id": 7, "callback_query": {
        "id": "q", "chat_instance": "c", "data": "m:help", "from": {"id": 5, "is_bot": False, "first_name": "Ә"},
        "message": {"message_id": 3, "date": 1, "chat": {"id": 5, "type": "private"},
                    "photo": [{"file_id": "f", "file_unique_id": "u", "width": 9, "height": 9}],
                    "reply_markup": {"inline_keyboard": [[{"text": "❓", "callback_data": "m:help"}]]}}}})
    assert update.callback_query.message.photo[0].file_id == "f"
    assert update.callback_query.message.reply_markup.inline_keyboard[0][0].callback_data == "m:help"
