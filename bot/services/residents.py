"""Residents: consent, language, territory, verified phone, notifications, their data and its erasure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import phone_key, privacy
from bot.services.audit import audit
from bot.services.territories import subtree
from storage.models import Resident, ResidentTerritory, utcnow


class PhoneTaken(Exception):
    """The phone is already verified by another account."""


class NotOwnContact(Exception):
    """A contact that is not the sender's own: only Telegram's contact button proves the number."""


def normalize_phone(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits.startswith("8"):  # domestic 8 7xx → +7 7xx
        digits = "7" + digits[1:]
    if not 10 <= len(digits) <= 15:
        raise ValueError("not a phone number")
    return "+" + digits


@dataclass(frozen=True)
class ResidentData:
    """Everything stored about one resident, for "my data"."""

    language: str | None
    territory_kato: str | None
    name: str | None
    phone: str | None
    consent_version: str | None
    consent_at: datetime | None
    notifications: bool
    registered_at: datetime | None
    created_at: datetime
    user_id: int | None
    chat_id: int | None
    resident_id: int


@dataclass(frozen=True)
class Recipient:
    resident_id: int
    chat_id: int
    language: str


class ResidentService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], phone_key: bytes, channel: str = "telegram"):
        self._sessions = sessions
        self._key = phone_key
        self.channel = channel

    def phone_hash(self, phone: str) -> str:
        return phone_key.phone_hash(self._key, normalize_phone(phone))

    async def get(self, user_id: int) -> Resident | None:
        async with self._sessions() as s:
            return await s.scalar(select(Resident).where(Resident.channel == self.channel,
                                                         Resident.user_id == user_id))

    async def get_by_id(self, resident_id: int) -> Resident | None:
        async with self._sessions() as s:
            r = await s.get(Resident, resident_id)
            return None if r is None or r.deleted_at is not None else r

    async def set_reachable(self, resident_id: int, reachable: bool) -> None:
        async with self._sessions() as s, s.begin():
            r = await s.get(Resident, resident_id)
            if r is not None:
                r.reachable = reachable

    async def consent(self, user_id: int, chat_id: int, language: str, version: str) -> Resident:
        """Create (or refresh) the resident with the consent given now."""
        now = utcnow()
        try:
            async with self._sessions() as s, s.begin():
                r = await s.scalar(select(Resident).where(Resident.channel == self.channel,
                                                          Resident.user_id == user_id))
                if r is None:
                    r = Resident(channel=self.channel, user_id=user_id, chat_id=chat_id, notifications=True,
                                 reachable=True, created_at=now)
                    s.add(r)
                r.language, r.consent_version, r.consent_at, r.chat_id = language, version, now, chat_id
                await s.flush()
                audit(s, "resident.consent", actor=user_id, object_type="resident", object_id=r.id,
                      version=version)
        except IntegrityError:  # a concurrent first message made the row: retry once as an update
            return await self.consent(user_id, chat_id, language, version)
        return r

    async def decline_consent(self, user_id: int, version: str) -> None:
        """A resident did not agree to a new version of the consent text: recorded with the version and time; what
        they agreed to before stays as it was."""
        async with self._sessions() as s, s.begin():
            r = await s.scalar(select(Resident).where(Resident.channel == self.channel, Resident.user_id == user_id))
            if r is not None:
                audit(s, "resident.consent_declined", actor=user_id, object_type="resident", object_id=r.id,
                      version=version)

    async def _update(self, user_id: int, **values: object) -> Resident | None:
        async with self._sessions() as s, s.begin():
            r = await s.scalar(select(Resident).where(Resident.channel == self.channel,
                                                      Resident.user_id == user_id))
            if r is None:
                return None
            for k, v in values.items():
                setattr(r, k, v)
            return r

    async def set_language(self, user_id: int, language: str) -> Resident | None:
        return await self._update(user_id, language=language)

    async def set_territory(self, user_id: int, kato: str) -> Resident | None:
        """Set the settlement and record since when (the settlement on record when a campaign's voting opens
        decides where the resident votes)."""
        now = utcnow()
        async with self._sessions() as s, s.begin():
            r = await s.scalar(select(Resident).where(Resident.channel == self.channel,
                                                      Resident.user_id == user_id))
            if r is None:
                return None
            if r.territory_kato != kato or not await s.scalar(
                    select(ResidentTerritory.id).where(ResidentTerritory.resident_id == r.id).limit(1)):
                s.add(ResidentTerritory(resident_id=r.id, territory_kato=kato, since=now))
            r.territory_kato = kato
            return r

    async def set_notifications(self, user_id: int, on: bool) -> Resident | None:
        return await self._update(user_id, notifications=on)

    async def complete_registration(self, user_id: int) -> Resident | None:
        r = await self.get(user_id)
        if r is None or r.registered_at is not None:
            return r
        return await self._update(user_id, registered_at=utcnow())

    async def verify_phone(self, user_id: int, phone: str, contact_user_id: int | None,
                           name: str | None = None) -> Resident:
        """Store the phone shared with Telegram's contact button; refuse someone else's contact."""
        if contact_user_id != user_id:
            raise NotOwnContact
        normalized = normalize_phone(phone)
        digest = self.phone_hash(normalized)
        try:
            async with self._sessions() as s, s.begin():
                other = await s.scalar(select(Resident.id).where(Resident.phone_hash == digest,
                                                                 Resident.user_id != user_id))
                if other is not None:
                    raise PhoneTaken
                r = await s.scalar(select(Resident).where(Resident.channel == self.channel,
                                                          Resident.user_id == user_id))
                if r is None:
                    raise LookupError("resident not found")
                r.phone, r.phone_hash, r.phone_verified_at = normalized, digest, utcnow()
                if name:
                    r.name = name[:200]
                audit(s, "resident.phone_verified", actor=user_id, object_type="resident", object_id=r.id)
        except IntegrityError as exc:  # the unique constraint caught a concurrent claim
            raise PhoneTaken from exc
        return r

    async def my_data(self, user_id: int) -> ResidentData | None:
        r = await self.get(user_id)
        if r is None:
            return None
        return ResidentData(r.language, r.territory_kato, r.name, r.phone, r.consent_version, r.consent_at,
                            r.notifications, r.registered_at, r.created_at, r.user_id, r.chat_id, r.id)

    async def linked(self, resident_id: int) -> privacy.Linked:
        """Appeals, votes, questions, RSVPs and proposals linked to the resident (the newest of each, counted)."""
        return await privacy.linked(self._sessions, resident_id)

    async def delete_personal_data(self, user_id: int) -> bool:
        """Erase personal data and every link to the person (bot/services/privacy.py says what is kept). The row
        stays, emptied, as the anonymous owner of the person's counted votes."""
        async with self._sessions() as s, s.begin():
            r = await s.scalar(select(Resident).where(Resident.channel == self.channel,
                                                      Resident.user_id == user_id))
            if r is None:
                return False
            await s.execute(delete(ResidentTerritory).where(ResidentTerritory.resident_id == r.id))
            await privacy.erase_person(s, r, utcnow())
            audit(s, "resident.deleted", object_type="resident", object_id=r.id)
        return True

    async def audience(self, territory_kato: str | None, *, language: str | None = None,
                       resident_ids: Iterable[int] | None = None, notifications_only: bool = True,
                       default_language: str = "kk") -> list[Recipient]:
        """Registered residents who can hear a notice: of ``territory_kato`` and everything below it (None: all),
        optionally only those speaking ``language`` or among ``resident_ids``; by default only those who allow
        notifications. Residents marked unreachable (they blocked the bot) are left out."""
        q = select(Resident.id, Resident.chat_id, Resident.language).where(
            Resident.registered_at.is_not(None), Resident.deleted_at.is_(None), Resident.chat_id.is_not(None),
            Resident.reachable.is_(True))
        if notifications_only:
            q = q.where(Resident.notifications.is_(True))
        if language is not None:
            q = q.where(func.coalesce(Resident.language, default_language) == language)
        async with self._sessions() as s:
            if territory_kato is not None:
                q = q.where(Resident.territory_kato.in_(await subtree(s, territory_kato)))
            if resident_ids is not None:
                q = q.where(Resident.id.in_(list(resident_ids)))
            rows = await s.execute(q.order_by(Resident.id))
            return [Recipient(r, c, lang or default_language) for r, c, lang in rows.all()]
