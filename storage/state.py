"""Conversation state store: one row per chat, written before the bot answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ConversationState


@dataclass
class State:
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


class StateStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], channel: str = "telegram") -> None:
        self._sessions = sessions
        self._channel = channel

    async def get(self, chat_id: int) -> State | None:
        async with self._sessions() as s:
            row = await s.get(ConversationState, (self._channel, chat_id))
            return None if row is None else State(row.flow, row.step, dict(row.data or {}))

    async def set(self, chat_id: int, state: State) -> None:
        try:
            await self._write(chat_id, state)
        except IntegrityError:  # another worker inserted the row first: now it is an update
            await self._write(chat_id, state)

    async def _write(self, chat_id: int, state: State) -> None:
        async with self._sessions() as s, s.begin():
            row = await s.get(ConversationState, (self._channel, chat_id))
            if row is None:
                s.add(ConversationState(channel=self._channel, chat_id=chat_id, flow=state.flow,
                                        step=state.step, data=dict(state.data)))
            else:
                row.flow, row.step, row.data = state.flow, state.step, dict(state.data)

    async def clear(self, chat_id: int) -> None:
        async with self._sessions() as s, s.begin():
            await s.execute(delete(ConversationState).where(
                ConversationState.channel == self._channel, ConversationState.chat_id == chat_id))
