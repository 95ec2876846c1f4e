"""Secrets the akimat may leave unconfigured: generated once, kept in the database."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AppSecret


async def get_or_create_secret(sessions: async_sessionmaker[AsyncSession], name: str) -> str:
    async with sessions() as s:
        row = await s.get(AppSecret, name)
        if row is not None:
            return row.value
    try:
        async with sessions() as s, s.begin():
            s.add(AppSecret(name=name, value=secrets.token_hex(32)))
    except IntegrityError:  # another process made it first
        pass
    async with sessions() as s:
        row = await s.get(AppSecret, name)
        assert row is not None
        return row.value
