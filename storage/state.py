"""Conversation state store: one row per chat, written before the bot answers.

Plain SQL on the hot path (Core, no ORM objects for the state): one SELECT reads the sender's resident and the
chat's state together (:meth:`StateStore.sender`), one upsert writes the state. Inside a unit of work
(storage/uow.py) both run in the update's own session and transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import dialect_insert
from storage.models import Account, ConversationState, Resident, utcnow
from storage.uow import Sessions

_T = ConversationState.__table__
# the statements are built once (building one costs more than running it on SQLite), the values bound per call
_KEY = (_T.c.channel == bindparam("channel")) & (_T.c.chat_id == bindparam("chat_id"))
_READ = select(_T.c.flow, _T.c.step, _T.c.data).where(_KEY)
_CLEAR = delete(_T).where(_KEY)
_FIELDS = ("flow", "step", "data", "updated_at")
# the resident of the sender's account, if any, and the chat's state, if any: each outer-joined to one row
_SENDER = (select(Resident, _T.c.flow, _T.c.step, _T.c.data)
           .select_from(select(literal(1).label("one")).subquery("one"))
           .outerjoin(Account, (Account.channel == bindparam("account_channel"))
                      & (Account.account_id == bindparam("account_id")))
           .outerjoin(Resident, Resident.id == Account.resident_id)
           .outerjoin(_T, _KEY))


def _upsert(insert: Any) -> Any:
    stmt = insert(_T).values({c: bindparam(c, type_=_T.c[c].type) for c in ("channel", "chat_id", *_FIELDS)})
    return stmt.on_conflict_do_update(index_elements=[_T.c.channel, _T.c.chat_id],
                                      set_={f: getattr(stmt.excluded, f) for f in _FIELDS})


_UPSERT: dict[str, Any] = {}  # by dialect


@dataclass
class State:
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


class StateStore:
    """A chat is known by its channel and the channel's chat id: a Telegram chat and a WhatsApp number may carry
    the same digits."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession] | Sessions) -> None:
        self._sessions = Sessions.of(sessions)

    def unit(self):  # noqa: ANN201 - an async context manager: one unit of work (storage/uow.py)
        return self._sessions.unit()

    async def sender(self, channel: str, account_id: int, chat_id: int) -> tuple[Resident | None, State | None]:
        """The resident of the account ``account_id`` on ``channel`` (as ResidentService.get finds them) and the
        state of the chat ``chat_id`` on ``channel``, in one statement."""
        async with self._sessions() as s:
            row = (await s.execute(_SENDER, {"account_channel": channel, "account_id": account_id,
                                             "channel": channel, "chat_id": chat_id})).one()
            return row[0], None if row.flow is None else State(row.flow, row.step, dict(row.data or {}))

    async def get(self, channel: str, chat_id: int) -> State | None:
        async with self._sessions() as s:
            row = (await s.execute(_READ, {"channel": channel, "chat_id": chat_id})).first()
            return None if row is None else State(row.flow, row.step, dict(row.data or {}))

    async def set(self, channel: str, chat_id: int, state: State) -> None:
        """One statement, whoever wrote the row first: an upsert."""
        values = dict(channel=channel, chat_id=chat_id, flow=state.flow, step=state.step,
                      data=dict(state.data), updated_at=utcnow())
        async with self._sessions.write() as s:
            dialect = s.bind.dialect.name
            stmt = _UPSERT.get(dialect)
            if stmt is None:
                stmt = _UPSERT[dialect] = _upsert(dialect_insert(s))
            await s.execute(stmt, values)

    async def clear(self, channel: str, chat_id: int) -> None:
        async with self._sessions.write() as s:
            await s.execute(_CLEAR, {"channel": channel, "chat_id": chat_id})
