"""Which chat an update comes from, as coroutines.

aiogram awaits a filter that is a coroutine function, and runs any other callable, a magic filter (``F.chat.…``)
included, in a thread (``asyncio.to_thread``): a thread hop on every update for every router that looks at it.
These ask the same questions in place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram.types import CallbackQuery, Message


def chat_is(*, chat_id: int | None = None, kind: str | None = None) -> Callable[[Message], Awaitable[bool]]:
    """A message's chat is ``chat_id`` (and/or of type ``kind``)."""

    async def check(message: Message) -> bool:
        chat = message.chat
        return (chat_id is None or chat.id == chat_id) and (kind is None or chat.type == kind)

    return check


def press_in(*, chat_id: int | None = None, kind: str | None = None) -> Callable[[CallbackQuery], Awaitable[bool]]:
    """A press on a message in chat ``chat_id`` (and/or of type ``kind``); False when the message is unknown."""
    in_chat = chat_is(chat_id=chat_id, kind=kind)

    async def check(callback: CallbackQuery) -> bool:
        return callback.message is not None and await in_chat(callback.message)  # type: ignore[arg-type]

    return check
