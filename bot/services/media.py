"""Media under the project's own ids. A photo or document that arrives on a channel becomes a ``media`` row; the id
the channel knows it by (Telegram's file_id) is cached in ``media_file`` per channel, so the domain tables hold only
media ids and a channel renders a media by looking its own file id up (or uploading it, once it has the bytes)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Media, MediaFile, utcnow

KINDS = ("photo", "document")
FILE_ID_MAX = 255


class MediaService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def adopt(self, channel: str, kind: str, file_id: str, *, mime: str | None = None,
                    size: int | None = None) -> int | None:
        """A file received on ``channel``: its media id (a new row each time: two people's files never share one,
        so erasing one person's media touches no one else's). None for a kind or an id that cannot be kept."""
        if kind not in KINDS or not file_id or len(file_id) > FILE_ID_MAX:
            return None
        async with self._sessions() as s, s.begin():
            return await adopt(s, channel, kind, file_id, mime=mime, size=size)

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
                row.file_id = file_id[:FILE_ID_MAX]

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
