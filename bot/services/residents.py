"""Residents: consent, language, territory, verified phone, notifications, their data and its erasure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import accounts, phone_key, privacy
from bot.services.audit import audit
from bot.services.territories import subtree
from storage.models import Account, Resident, ResidentTerritory, utcnow


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
    """Residents found by (channel, account id). Every method taking ``user_id`` takes the account's ``channel``
    too (by default the service's own, Telegram)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], phone_key: bytes, channel: str = "telegram"):
        self._sessions = sessions
        self._key = phone_key
        self.channel = channel

    def phone_hash(self, phone: str) -> str:
        return phone_key.phone_hash(self._key, normalize_phone(phone))

    async def get(self, user_id: int, channel: str | None = None) -> Resident | None:
        async with self._sessions() as s:
            return await accounts.resident_of(s, channel or self.channel, user_id)

    async def get_by_id(self, resident_id: int) -> Resident | None:
        async with self._sessions() as s:
            r = await s.get(Resident, resident_id)
            return None if r is None or r.deleted_at is not None else r

    async def chat_of(self, resident_id: int, channel: str | None = None) -> int | None:
        """Where to write to the resident on ``channel`` (None: no account there)."""
        async with self._sessions() as s:
            return await accounts.chat_of(s, resident_id, channel or self.channel)

    async def set_reachable(self, resident_id: int, reachable: bool) -> None:
        async with self._sessions() as s, s.begin():
            r = await s.get(Resident, resident_id)
            if r is not None:
                r.reachable = reachable

    async def consent(self, user_id: int, chat_id: int, language: str, version: str,
                      channel: str | None = None) -> Resident:
        """Create (or refresh) the resident with the consent given now: a new account makes a new resident."""
        now, ch = utcnow(), channel or self.channel
        try:
            async with self._sessions() as s, s.begin():
                acc = await accounts.account(s, ch, user_id)
                if acc is None:  # made with the consent's fields: one INSERT, no UPDATE after it
                    r = Resident(notifications=True, reachable=True, created_at=now, language=language,
                                 consent_version=version, consent_at=now)
                    s.add(r)
                    await s.flush()
                    acc = Account(channel=ch, account_id=user_id, chat_id=chat_id, resident_id=r.id, created_at=now)
                    s.add(acc)
                else:
                    r = await s.get(Resident, acc.resident_id)
                    assert r is not None
                r.language, r.consent_version, r.consent_at, acc.chat_id = language, version, now, chat_id
                await s.flush()
                audit(s, "resident.consent", actor=user_id, object_type="resident", object_id=r.id,
                      version=version)
        except IntegrityError:  # a concurrent first message made the row: retry once as an update
            return await self.consent(user_id, chat_id, language, version, ch)
        return r

    async def decline_consent(self, user_id: int, version: str, channel: str | None = None) -> None:
        """A resident did not agree to a new version of the consent text: recorded with the version and time; what
        they agreed to before stays as it was."""
        async with self._sessions() as s, s.begin():
            r = await accounts.resident_of(s, channel or self.channel, user_id)
            if r is not None:
                audit(s, "resident.consent_declined", actor=user_id, object_type="resident", object_id=r.id,
                      version=version)

    async def _update(self, user_id: int, channel: str | None, **values: object) -> Resident | None:
        """One UPDATE of the resident's row: nothing to undo half-way, so no savepoint inside a unit of work."""
        async with self._sessions() as s:
            r = await accounts.resident_of(s, channel or self.channel, user_id)
            if r is None:
                return None
            for k, v in values.items():
                setattr(r, k, v)
            await s.commit()
            return r

    async def set_language(self, user_id: int, language: str, channel: str | None = None) -> Resident | None:
        return await self._update(user_id, channel, language=language)

    async def set_territory(self, user_id: int, kato: str, channel: str | None = None) -> Resident | None:
        """Set the settlement and record since when (the settlement on record when a campaign's voting opens
        decides where the resident votes)."""
        now = utcnow()
        async with self._sessions() as s, s.begin():
            r = await accounts.resident_of(s, channel or self.channel, user_id)
            if r is None:
                return None
            if r.territory_kato != kato or not await s.scalar(
                    select(ResidentTerritory.id).where(ResidentTerritory.resident_id == r.id).limit(1)):
                s.add(ResidentTerritory(resident_id=r.id, territory_kato=kato, since=now))
            r.territory_kato = kato
            return r

    async def set_notifications(self, user_id: int, on: bool, channel: str | None = None) -> Resident | None:
        return await self._update(user_id, channel, notifications=on)

    async def complete_registration(self, user_id: int, channel: str | None = None) -> Resident | None:
        async with self._sessions() as s:
            r = await accounts.resident_of(s, channel or self.channel, user_id)
            if r is not None and r.registered_at is None:
                r.registered_at = utcnow()
                await s.commit()
            return r

    async def verify_phone(self, user_id: int, phone: str, contact_user_id: int | None,
                           name: str | None = None, channel: str | None = None, *, _again: bool = True) -> Resident:
        """Store the phone the person proved is theirs (Telegram's contact button); refuse someone else's contact.
        A phone another resident verified from another channel joins this account to that resident (one person,
        one vote: bot/services/accounts.py); from the same channel it is PhoneTaken."""
        if contact_user_id != user_id:
            raise NotOwnContact
        normalized, ch = normalize_phone(phone), channel or self.channel
        digest = self.phone_hash(normalized)
        try:
            async with self._sessions() as s, s.begin():
                acc = await accounts.account(s, ch, user_id)
                if acc is None:
                    raise LookupError("resident not found")
                r = await s.get(Resident, acc.resident_id, with_for_update=True)
                assert r is not None
                other = await s.scalar(select(Resident).where(Resident.phone_hash == digest, Resident.id != r.id)
                                       .with_for_update())
                if other is not None:
                    try:
                        r = await accounts.join(s, acc, r, other)
                    except accounts.CannotJoin:
                        raise PhoneTaken from None
                    audit(s, "resident.account_joined", actor=user_id, object_type="resident", object_id=r.id,
                          channel=ch)
                else:
                    r.phone, r.phone_hash, r.phone_verified_at = normalized, digest, utcnow()
                if name and (other is None or not r.name):  # a joined resident keeps the name on record
                    r.name = name[:200]
                audit(s, "resident.phone_verified", actor=user_id, object_type="resident", object_id=r.id)
        except IntegrityError as exc:  # a concurrent claim of the phone (or of the resident's channel) won
            if not _again:
                raise PhoneTaken from exc
            # the phone may have been verified meanwhile from another channel: then this account joins it
            return await self.verify_phone(user_id, phone, contact_user_id, name, ch, _again=False)
        return r

    async def link_phone(self, user_id: int, chat_id: int, phone: str, channel: str) -> Resident | None:
        """A first message from a channel that vouches for the sender's own number (WhatsApp): when a resident
        verified that number on another channel, this account joins them now (their appeals, one vote); None
        when the account exists already or nobody holds the number."""
        try:
            digest = self.phone_hash(phone)
        except ValueError:
            return None
        try:
            async with self._sessions() as s, s.begin():
                if await accounts.account(s, channel, user_id) is not None:
                    return None
                r = await s.scalar(select(Resident).where(Resident.phone_hash == digest, Resident.deleted_at.is_(None))
                                   .with_for_update())
                if r is None or await accounts.chat_of(s, r.id, channel) is not None:
                    return None
                s.add(Account(channel=channel, account_id=user_id, chat_id=chat_id, resident_id=r.id,
                              created_at=utcnow()))
                await s.flush()
                audit(s, "resident.account_joined", actor=user_id, object_type="resident", object_id=r.id,
                      channel=channel)
        except IntegrityError:  # a concurrent first message made the account
            return await self.get(user_id, channel)
        return r

    async def channels(self, resident_id: int | None) -> list[str]:
        """The channels the resident has an account on, oldest first."""
        if resident_id is None:
            return []
        async with self._sessions() as s:
            return list(await s.scalars(select(Account.channel).where(Account.resident_id == resident_id)
                                        .order_by(Account.id)))

    async def last_inbound(self, chat_id: int, channel: str = "whatsapp") -> datetime | None:
        """When the person in this chat last wrote on the channel (for WhatsApp's 24-hour window)."""
        async with self._sessions() as s:
            return await s.scalar(select(Account.last_inbound_at).where(Account.channel == channel,
                                                                         Account.chat_id == chat_id))

    async def touch_inbound(self, user_id: int, at: datetime, channel: str) -> bool:
        """Record the person's latest message on the channel (the 24-hour window); False when they have no account
        there yet."""
        async with self._sessions() as s, s.begin():
            acc = await accounts.account(s, channel, user_id)
            if acc is None:
                return False
            if acc.last_inbound_at is None or acc.last_inbound_at < at:
                acc.last_inbound_at = at
            return True

    async def my_data(self, user_id: int, channel: str | None = None) -> ResidentData | None:
        ch = channel or self.channel
        async with self._sessions() as s:
            acc = await accounts.account(s, ch, user_id)
            r = None if acc is None else await s.get(Resident, acc.resident_id)
        if acc is None or r is None:
            return None
        return ResidentData(r.language, r.territory_kato, r.name, r.phone, r.consent_version, r.consent_at,
                            r.notifications, r.registered_at, r.created_at, acc.account_id, acc.chat_id, r.id)

    async def linked(self, resident_id: int) -> privacy.Linked:
        """Appeals, votes, questions, RSVPs and proposals linked to the resident (the newest of each, counted)."""
        return await privacy.linked(self._sessions, resident_id)

    async def delete_personal_data(self, user_id: int, channel: str | None = None) -> bool:
        """Erase personal data and every link to the person, on every channel (bot/services/privacy.py says what
        is kept). The row stays, emptied, as the anonymous owner of the person's counted votes."""
        async with self._sessions() as s, s.begin():
            r = await accounts.resident_of(s, channel or self.channel, user_id, lock=True)
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
        notifications. Residents marked unreachable (they blocked the bot) are left out. Each is reached through
        their account on the service's channel (the one the outbox delivers on)."""
        q = select(Resident.id, Account.chat_id, Resident.language).join(
            Account, (Account.resident_id == Resident.id) & (Account.channel == self.channel)).where(
            Resident.registered_at.is_not(None), Resident.deleted_at.is_(None), Account.chat_id.is_not(None),
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
