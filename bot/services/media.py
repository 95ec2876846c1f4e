"""Media under the project's own ids. A photo or document that arrives on a channel becomes a ``media`` row; the id
the channel knows it by (Telegram's file_id) is cached in ``media_file`` per channel, so the domain tables hold only
media ids and a channel renders a media by looking its own file id up (or uploading it, once it has the bytes).

Across channels (``for_channel``): a media received on one channel and shown on another is downloaded from a
channel that has it and uploaded to the other through each channel's ``MediaStore`` (its platform code lives in
its package: bot/channels/*/media.py); the new id is cached, and uploaded again once older than the store's
``max_age`` (WhatsApp keeps uploads for 30 days). A channel that keeps an id only once it sent the file itself
(Telegram) gets the bytes to send."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Media, MediaFile, utcnow
from storage.uow import Sessions

KINDS = ("photo", "document", "voice")
FILE_ID_MAX = 255
log = logging.getLogger("qatysu.media")


class MediaStore(Protocol):
    """One channel's files: download by its id, upload bytes for a new id."""

    channel: str
    max_age: timedelta | None  # an id older than this is uploaded again (None: ids do not expire)

    async def download(self, file_id: str) -> bytes: ...

    async def upload(self, data: bytes, kind: str, mime: str | None) -> str | None:
        """The new id; None when the channel cannot upload without sending (the caller sends the bytes)."""


class MediaService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession] | Sessions) -> None:
        self._sessions = Sessions.of(sessions)
        self.stores: dict[str, MediaStore] = {}

    def add_store(self, store: MediaStore) -> None:
        self.stores[store.channel] = store

    async def for_channel(self, media_id: int | None, channel: str) -> str | bytes | None:
        """What ``channel`` sends the media as: its own (fresh) id, or an id it got by uploading the bytes from
        another channel, or those bytes when it cannot upload; None when no channel can give it."""
        if media_id is None:
            return None
        async with self._sessions.unit() as s:  # the reads only: any download comes after
            media = await s.get(Media, media_id)
            rows = list(await s.scalars(select(MediaFile).where(MediaFile.media_id == media_id)))
        if media is None:
            return None
        own = next((r for r in rows if r.channel == channel), None)
        target = self.stores.get(channel)
        if own is not None and (target is None or target.max_age is None or utcnow() - own.created_at < target.max_age):
            return own.file_id
        for row in sorted(rows, key=lambda r: r.channel == channel):  # another channel first, then a stale own id
            source = self.stores.get(row.channel)
            if source is None:
                continue
            try:
                data = await source.download(row.file_id)
            except Exception:  # noqa: BLE001 - expired or gone there: try another channel
                log.warning("media %s could not be downloaded from %s", media_id, row.channel, exc_info=True)
                continue
            new = await target.upload(data, media.kind, media.mime) if target is not None else None
            if new is None:
                return data
            await self.remember(media_id, channel, new)
            return new
        return own.file_id if own is not None else None

    async def adopt(self, channel: str, kind: str, file_id: str, *, mime: str | None = None,
                    size: int | None = None) -> int | None:
        """A file received on ``channel``: its media id (a new row each time: two people's files never share one,
        so erasing one person's media touches no one else's). None for a kind or an id that cannot be kept."""
        if kind not in KINDS or not file_id or len(file_id) > FILE_ID_MAX:
            return None
        async with self._sessions() as s, s.begin():
            return await adopt(s, channel, kind, file_id, mime=mime, size=size)

    async def carry(self, file_id: str, source: str, channel: str) -> str | bytes | None:
        """A file ``source`` knows by ``file_id`` as ``channel`` sends it: the id itself on its own channel, else its
        bytes, downloaded (the channel uploads them); None when it cannot be downloaded."""
        if channel == source:
            return file_id
        store = self.stores.get(source)
        if store is None:
            return None
        try:
            return await store.download(file_id)
        except Exception:  # noqa: BLE001 - gone there: the caller says it without the file
            log.warning("a %s file could not be downloaded for %s", source, channel, exc_info=True)
            return None

    async def file_id(self, media_id: int | None, channel: str) -> str | None:
        """The id ``channel`` knows the media by; None when it has none cached (or no media)."""
        if media_id is None:
            return None
        async with self._sessions() as s:
            return await s.scalar(select(MediaFile.file_id).where(MediaFile.media_id == media_id,
                                                                  MediaFile.channel == channel))

    async def remember(self, media_id: int, channel: str, file_id: str) -> None:
        """Cache the id a channel gave the media once it was uploaded there."""
        async with self._sessions() as s, s.begin():
            row = await s.scalar(select(MediaFile).where(MediaFile.media_id == media_id,
                                                         MediaFile.channel == channel))
            if row is None:
                s.add(MediaFile(media_id=media_id, channel=channel, file_id=file_id[:FILE_ID_MAX], created_at=utcnow()))
            else:
                row.file_id, row.created_at = file_id[:FILE_ID_MAX], utcnow()

    async def get(self, media_id: int) -> Media | None:
        async with self._sessions() as s:
            return await s.get(Media, media_id)


async def adopt(s: AsyncSession, channel: str, kind: str, file_id: str, *, mime: str | None = None,
                size: int | None = None) -> int:
    now = utcnow()
    m = Media(kind=kind, mime=mime, size=size, created_at=now)
    s.add(m)
    await s.flush()
    s.add(MediaFile(media_id=m.id, channel=channel, file_id=file_id[:FILE_ID_MAX], created_at=now))
    return m.id


async def checked(s: AsyncSession, media_id: object, telegram_file_id: object, error: Exception,
                  kind: str = "photo") -> int | None:
    """A media id given with a row (raises ``error`` when there is no such media), or a Telegram file id an
    imported row names, kept as a new media; None without either."""
    if media_id:
        if not isinstance(media_id, int) or await s.get(Media, media_id) is None:
            raise error
        return media_id
    if telegram_file_id:
        return await adopt(s, "telegram", kind, str(telegram_file_id)[:FILE_ID_MAX])
    return None


async def forget(s: AsyncSession, media_ids: Iterable[int | None]) -> None:
    """Delete media and every channel's file id of them (the caller has unlinked them), in the caller's
    transaction."""
    ids = sorted({m for m in media_ids if m is not None})
    if ids:
        await s.execute(delete(MediaFile).where(MediaFile.media_id.in_(ids)))
        await s.execute(delete(Media).where(Media.id.in_(ids)))
