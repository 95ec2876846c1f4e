"""SQLAlchemy models. The schema is produced by Alembic migrations (storage/migrations)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every database. SQLite keeps no offset: values are stored in UTC and read
    back with ``tzinfo=UTC`` (PostgreSQL returns aware values already). Naive values are refused."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: give an aware one (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Territory(Base):
    """An administrative-territorial unit identified by its KATO code."""

    __tablename__ = "territory"

    kato: Mapped[str] = mapped_column(String(12), primary_key=True)
    parent_kato: Mapped[str | None] = mapped_column(
        String(12), ForeignKey("territory.kato", ondelete="RESTRICT"), index=True
    )
    level: Mapped[str] = mapped_column(String(16))
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    # Lower-cased kk and ru names for portable case-insensitive search (SQLite LIKE folds ASCII only).
    search_key: Mapped[str] = mapped_column(String(420))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    def name(self, lang: str) -> str:
        return self.name_ru if lang == "ru" else self.name_kk


class Resident(Base):
    """A person, whatever channels they write from (their accounts are in ``account``). Personal fields are
    erasable."""

    __tablename__ = "resident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    language: Mapped[str | None] = mapped_column(String(2))
    territory_kato: Mapped[str | None] = mapped_column(
        String(12), ForeignKey("territory.kato", ondelete="SET NULL"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    # Keyed hash (HMAC-SHA256) of the normalised phone: one person, one phone, across accounts and channels.
    phone_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class Account(Base):
    """One account of a resident on one channel: the platform's user id and the chat to write to. A person is
    found by (channel, account_id); their accounts on several channels share one resident once they verify the
    same phone (bot/services/residents.py). Deleted with the person's data."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("channel", "account_id", name="uq_account_channel_account"),
                      # one account per channel and person: a second Telegram account cannot take a verified phone
                      UniqueConstraint("resident_id", "channel", name="uq_account_resident_channel"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int] = mapped_column(BigInteger)  # Telegram user id, WhatsApp wa_id (digits)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)  # where the bot writes to the person on the channel
    resident_id: Mapped[int] = mapped_column(Integer, ForeignKey("resident.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the person's last message on the channel (UTC): WhatsApp lets free-form messages through for 24 hours after it
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Media(Base):
    """A photo or document under the project's own id; the platforms' file ids are a per-channel cache in
    ``media_file``. ``sha256`` is of the content when the bot had the bytes (None for a file it only relayed)."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # photo | document | voice
    mime: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MediaFile(Base):
    """The id one channel knows a media by (Telegram's file_id): sent again by that id without re-uploading."""

    __tablename__ = "media_file"
    __table_args__ = (UniqueConstraint("media_id", "channel", name="uq_media_file_media_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(Integer, ForeignKey("media.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    file_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffRole(Base):
    """A role granted in the database (config roles are added at run time, not stored). An operator or
    secretary may be limited to a territory and everything below it; NULL: the whole district."""

    __tablename__ = "staff_role"
    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_staff_role_user_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    role: Mapped[str] = mapped_column(String(16))
    territory_kato: Mapped[str | None] = mapped_column(
        String(12), ForeignKey("territory.kato", ondelete="RESTRICT")
    )
    granted_by: Mapped[int | None] = mapped_column(BigInteger)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConversationState(Base):
    """Where a chat is in a conversation, and its draft. Survives a restart."""

    __tablename__ = "conversation_state"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AppSecret(Base):
    """Legacy: before revision 0006 a phone key generated by the bot was kept here. The bot no longer reads a key
    from the database: ``qatysu keys export-legacy`` moves such a key into a key file and deletes the row."""

    __tablename__ = "app_secret"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AppSetting(Base):
    """Facts about this database the app checks at start: the fingerprint of the phone key it was created with
    (never the key), and one-off work a migration left for the app (re-keying votes)."""

    __tablename__ = "app_setting"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AppealCounter(Base):
    """The last public number given in a year. Incremented with an upsert in the transaction that
    creates the appeal, so numbers stay unique (and gapless per year) under concurrency."""

    __tablename__ = "appeal_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Appeal(Base):
    """An appeal (өтініш / обращение) of a resident to the akimat. Kind, category, status and
    direction values are plain strings; their sets and the rules live in bot/services/appeal_rules.py."""

    __tablename__ = "appeal"
    __table_args__ = (
        Index("ix_appeal_resident_received", "resident_id", "received_at"),
        Index("ix_appeal_status_due", "status", "due_on"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # public, "A-2026-000123"
    resident_id: Mapped[int] = mapped_column(Integer, ForeignKey("resident.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    territory_kato: Mapped[str | None] = mapped_column(
        String(12), ForeignKey("territory.kato", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2))  # the answer is given in it
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="received")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    registered_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    # eOtinish registration, recorded by an aide.
    registration_number: Mapped[str | None] = mapped_column(String(64))
    registration_date: Mapped[date | None] = mapped_column(Date)
    extended_until: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    forwarded_to: Mapped[str | None] = mapped_column(String(300))
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    operator_user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # The forum topic and the card message in the operator chat.
    topic_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    repeat_of_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("appeal.id", ondelete="SET NULL"), index=True
    )
    blocked_noted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic lock: two aides acting on one appeal at once cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class AppealMessage(Base):
    """One message of an appeal's conversation: ``in`` from the resident, ``out`` to the resident
    (signed as the akimat), ``note`` internal. The author is kept for the audit, never shown."""

    __tablename__ = "appeal_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(Integer, ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(8))
    text: Mapped[str | None] = mapped_column(Text)
    media_kind: Mapped[str | None] = mapped_column(String(16))  # photo, document, voice
    media_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("media.id", ondelete="SET NULL"), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    author_user_id: Mapped[int | None] = mapped_column(BigInteger)
    # The same message in the resident's chat and in the operator chat, so replies can be mapped.
    resident_chat_message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    operator_chat_message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AppealEvent(Base):
    """The history of an appeal: every action, with the status before and after it."""

    __tablename__ = "appeal_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    appeal_id: Mapped[int] = mapped_column(Integer, ForeignKey("appeal.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(16))
    status_from: Mapped[str | None] = mapped_column(String(16))
    status_to: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """One notice to one reader that the bot sends on its own initiative (an aide's reply too). Written before
    it is sent, as data: its ``kind`` and ``params``, worded in the reader's language and channel only when it
    is sent (bot/delivery/notices.py). A resident's address is looked up from the resident when the row is
    claimed (and noted in ``chat_id``); a row for staff or a group carries its ``chat_id`` from the start.

    state: pending → claimed (taken by a sender) → sending (its send begun) → sent | blocked | failed |
    cancelled; pending again after a retryable error. After a crash a row still "claimed" was never tried and
    goes back to "pending"; one still "sending" was in flight and becomes "unknown", never resent.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_ready", "state", "priority", "not_before", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    channel: Mapped[str] = mapped_column(String(16), default="telegram", server_default="telegram")
    kind: Mapped[str] = mapped_column(String(48), default="legacy", server_default="legacy")
    # a staff or group address from the start; a resident's, noted when claimed; empty once the resident
    # deleted their data (their pending rows are cancelled first)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id", ondelete="SET NULL"))
    broadcast_id: Mapped[int | None] = mapped_column(Integer, index=True)
    priority: Mapped[int] = mapped_column(Integer, default=10)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # the platform's id when it is not a number (WhatsApp's wamid): its later status (failed) is matched by it
    platform_message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# -- People's Participatory Budget (Халық араласатын бюджет) -------------------------------------------------


class BudgetCampaign(Base):
    """One participatory-budget campaign of one territory (and everything below it). Phases are given by
    times; the rules (threshold ≥ 10, votes per resident, vote changes, tie rule) are fixed at creation, so
    they are public before voting opens. Results are published as JSON with a SHA-256 digest."""

    __tablename__ = "budget_campaign"
    __table_args__ = (
        CheckConstraint("threshold >= 10", name="threshold_min"),
        CheckConstraint("votes_per_resident >= 1", name="votes_per_resident_min"),
        CheckConstraint("budget_tenge > 0", name="budget_positive"),
        CheckConstraint("tie_rule IN ('earlier_submission', 'lower_cost', 'lot_by_digest')", name="tie_rule"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title_kk: Mapped[str] = mapped_column(String(200))
    title_ru: Mapped[str] = mapped_column(String(200))
    territory_kato: Mapped[str] = mapped_column(String(12), ForeignKey("territory.kato", ondelete="RESTRICT"),
                                                index=True)
    proposals_from: Mapped[datetime] = mapped_column(UTCDateTime())
    proposals_until: Mapped[datetime] = mapped_column(UTCDateTime())
    review_until: Mapped[datetime] = mapped_column(UTCDateTime())
    voting_from: Mapped[datetime] = mapped_column(UTCDateTime())
    voting_until: Mapped[datetime] = mapped_column(UTCDateTime())
    results_at: Mapped[datetime] = mapped_column(UTCDateTime())
    budget_tenge: Mapped[int] = mapped_column(BigInteger)
    votes_per_resident: Mapped[int] = mapped_column(Integer, default=1)
    vote_change_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    threshold: Mapped[int] = mapped_column(Integer, default=10)
    tie_rule: Mapped[str] = mapped_column(String(24), default="earlier_submission")
    results_digest: Mapped[str | None] = mapped_column(String(64))
    results_json: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    def title(self, lang: str) -> str:
        return self.title_ru if lang == "ru" else self.title_kk


class BudgetProject(Base):
    """A project proposal (жобалық ұсыныс). ``author_resident_id`` is empty for projects the akimat
    prepared. Status: proposed → accepted | rejected | returned → resubmitted → …; only accepted ones are
    on the ballot."""

    __tablename__ = "budget_project"
    __table_args__ = (
        # Lets a vote reference (project, campaign) together, so a vote cannot point to another campaign's project.
        UniqueConstraint("id", "campaign_id", name="uq_budget_project_id_campaign"),
        Index("ix_budget_project_campaign_status", "campaign_id", "status"),
        CheckConstraint("cost_tenge > 0", name="cost_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, ForeignKey("budget_campaign.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    cost_tenge: Mapped[int] = mapped_column(BigInteger)
    territory_kato: Mapped[str | None] = mapped_column(
        String(12), ForeignKey("territory.kato", ondelete="SET NULL"), index=True
    )
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    photo_media_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("media.id", ondelete="SET NULL"))
    author_resident_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("resident.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    status_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(BigInteger)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Vote(Base):
    """One vote. The database holds the rules: one vote per person and project (keyed on the voter token, so
    a second Telegram account with the same phone cannot vote again), and at most ``votes_per_resident`` per
    person and campaign through ``slot`` (1..N, picked by the service): concurrent attempts collide on a
    unique constraint instead of double-voting.

    ``voter_token`` is HMAC(phone key, "vote|<campaign>|<resident phone hash>") (bot/services/phone_key.py):
    different in every campaign and from the resident's ``phone_hash``, so without the key a vote cannot be
    joined to a resident or to the same person's votes elsewhere. It is erased (NULL) once the campaign's
    results are final plus ``[privacy] vote_token_retention_days``; the counts stay."""

    __tablename__ = "vote"
    __table_args__ = (
        UniqueConstraint("campaign_id", "project_id", "voter_token", name="uq_vote_campaign_project_token"),
        UniqueConstraint("campaign_id", "voter_token", "slot", name="uq_vote_campaign_token_slot"),
        UniqueConstraint("campaign_id", "resident_id", "slot", name="uq_vote_campaign_resident_slot"),
        ForeignKeyConstraint(["project_id", "campaign_id"], ["budget_project.id", "budget_project.campaign_id"],
                             name="fk_vote_project_campaign", ondelete="RESTRICT"),
        CheckConstraint("slot >= 1", name="slot_min"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, ForeignKey("budget_campaign.id", ondelete="RESTRICT"))
    project_id: Mapped[int] = mapped_column(Integer)
    resident_id: Mapped[int] = mapped_column(Integer, ForeignKey("resident.id", ondelete="RESTRICT"), index=True)
    voter_token: Mapped[str | None] = mapped_column(String(64))
    slot: Mapped[int] = mapped_column(SmallInteger)
    receipt: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ResidentTerritory(Base):
    """When a resident's settlement was set: the settlement on record when a campaign's voting opened decides
    where they vote (:mod:`bot.services.budget`), so moving for the purpose gives no second vote. Erased with
    the resident's personal data."""

    __tablename__ = "resident_territory"
    __table_args__ = (Index("ix_resident_territory_resident_since", "resident_id", "since"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(Integer, ForeignKey("resident.id", ondelete="CASCADE"))
    territory_kato: Mapped[str] = mapped_column(String(12), ForeignKey("territory.kato", ondelete="CASCADE"))
    since: Mapped[datetime] = mapped_column(UTCDateTime())


class DistrictVote(Base):
    """One phone, one campaign at a time within a district: the campaign a phone voted in, per district and
    district-scoped phone token. The primary key holds it: two concurrent votes of one phone in two campaigns of
    the district collide here. The row moves to a later campaign only when the two campaigns' voting periods
    do not overlap (:meth:`bot.services.budget.BudgetService.cast_vote`)."""

    __tablename__ = "district_vote"

    district_kato: Mapped[str] = mapped_column(String(12), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, ForeignKey("budget_campaign.id", ondelete="CASCADE"),
                                             index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# -- Scheduled tasks: reminders and phase changes as rows, polled by a scheduler job --------------------------


class ScheduledTask(Base):
    """Something to do at a time: a meeting reminder, a campaign phase notice, the quarterly reminder to
    admins. Rows, not pickled jobs: a scheduler job polls ``due_at <= now AND done_at IS NULL``, claims a row
    by setting ``done_at`` (a guarded UPDATE, so two runs never take one row) and then acts; what it sends goes
    through the outbox with its own unique keys. ``key`` makes scheduling idempotent (``meeting:5:before:1d``).
    ``outcome`` says what happened: sent, skipped (e.g. the meeting is already past), cancelled."""

    __tablename__ = "scheduled_task"
    __table_args__ = (Index("ix_scheduled_task_due", "done_at", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# -- Akim reports and meetings ---------------------------------------------------------------------------------


class Report(Base):
    """An akim's report (әкімнің есебі) for a period such as a quarter, published by an admin."""

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    territory_kato: Mapped[str] = mapped_column(String(12), ForeignKey("territory.kato", ondelete="RESTRICT"),
                                                index=True)
    period: Mapped[str] = mapped_column(String(16))  # "2026-Q3", "2026"
    title_kk: Mapped[str] = mapped_column(String(200))
    title_ru: Mapped[str] = mapped_column(String(200))
    summary_kk: Mapped[str] = mapped_column(Text)
    summary_ru: Mapped[str] = mapped_column(Text)
    document_media_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("media.id", ondelete="SET NULL"))
    document_name: Mapped[str | None] = mapped_column(String(200))
    published_by: Mapped[int | None] = mapped_column(BigInteger)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    def title(self, lang: str) -> str:
        return self.title_ru if lang == "ru" else self.title_kk

    def summary(self, lang: str) -> str:
        return self.summary_ru if lang == "ru" else self.summary_kk


class ReportRating(Base):
    __tablename__ = "report_rating"
    __table_args__ = (UniqueConstraint("report_id", "resident_id", name="uq_report_rating_report_resident"),
                      CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(Integer, ForeignKey("report.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(Integer, ForeignKey("resident.id", ondelete="CASCADE"))
    stars: Mapped[int] = mapped_column(SmallInteger)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Meeting(Base):
    """A meeting residents should hear of in time. kind: akim_report (есеп беру кездесуі), maslikhat_session,
    community_gathering (жиын / сход), community_meeting (жиналыс / собрание)."""

    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint("kind IN ('akim_report', 'maslikhat_session', 'community_gathering', 'community_meeting')",
                        name="kind"),
        Index("ix_meeting_territory_starts", "territory_kato", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    territory_kato: Mapped[str] = mapped_column(String(12), ForeignKey("territory.kato", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int] = mapped_column(Integer, default=120)
    place: Mapped[str | None] = mapped_column(String(300))
    online_url: Mapped[str | None] = mapped_column(String(500))
    agenda_kk: Mapped[str] = mapped_column(Text)
    agenda_ru: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    def agenda(self, lang: str) -> str:
        return self.agenda_ru if lang == "ru" else self.agenda_kk


class Rsvp(Base):
    """A resident's "I'll come / I won't" for a meeting; the latest answer counts."""

    __tablename__ = "rsvp"
    __table_args__ = (UniqueConstraint("meeting_id", "resident_id", name="uq_rsvp_meeting_resident"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(Integer, ForeignKey("meeting.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(Integer, ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    coming: Mapped[bool] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Question(Base):
    """A resident's question for a meeting (asked in advance) or about a report (for the next report
    meeting). At least one of ``meeting_id`` and ``report_id`` is set."""

    __tablename__ = "question"
    __table_args__ = (CheckConstraint("meeting_id IS NOT NULL OR report_id IS NOT NULL", name="has_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("meeting.id", ondelete="CASCADE"),
                                                   index=True)
    report_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("report.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int] = mapped_column(Integer, ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# -- Secretary broadcasts ------------------------------------------------------------------------------------


class Broadcast(Base):
    """A notice from a secretary or admin to many residents. The audience is a territory and everything under
    it, optionally narrowed to one language or to those who said they will come to ``meeting_id``. Texts in kk
    and ru; with one of them empty the other goes to everyone. Its rows in the outbox carry ``broadcast_id``.

    status: draft → sending → done | stopped."""

    __tablename__ = "broadcast"
    __table_args__ = (CheckConstraint("status IN ('draft', 'sending', 'done', 'stopped')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    territory_kato: Mapped[str | None] = mapped_column(String(12), ForeignKey("territory.kato",
                                                                              ondelete="RESTRICT"))
    language: Mapped[str | None] = mapped_column(String(2))
    meeting_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("meeting.id", ondelete="SET NULL"))
    only_coming: Mapped[bool] = mapped_column(Boolean, default=False)
    text_kk: Mapped[str | None] = mapped_column(Text)
    text_ru: Mapped[str | None] = mapped_column(Text)
    media_kind: Mapped[str | None] = mapped_column(String(16))  # photo | document
    media_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("media.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    total: Mapped[int] = mapped_column(Integer, default=0)
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
