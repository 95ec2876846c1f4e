"""Settings: ``config.toml`` overridden by ``QATYSU_<SECTION>__<KEY>`` environment variables."""

from __future__ import annotations

import os
import re
from datetime import date, time
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

TELEGRAM_API = "https://api.telegram.org"


class ConfigError(Exception):
    """The configuration cannot be used; the message says why and never repeats a secret."""


def check_api_base(value: str) -> str:
    """A Bot API server address: http(s), a host, maybe a port and a path prefix, nothing else. The bot's URLs
    are ``<api_base>/bot<token>/<method>``, so an address that is not one would carry the token into an error."""
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a port that is not a number from 0 to 65535
    except ValueError:
        parts, port = None, None
    ok = (parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname) and value == value.strip()
          and not any(c.isspace() for c in value) and not parts.query and not parts.fragment
          and not parts.username and not parts.password and ":" not in parts.path and port != 0)
    if not ok:
        raise ValueError("must be the address of a Bot API server, like https://api.telegram.org or "
                         "http://127.0.0.1:8081 (http or https, a host, an optional port; no token, query or spaces)")
    return value.rstrip("/")


class TelegramSettings(BaseModel):
    token: SecretStr | None = None
    api_base: str = TELEGRAM_API
    operator_chat_id: int | None = None
    # "polling" (`qatysu run`, one process) or "webhook" (`qatysu web`: Telegram POSTs updates to webhook_url,
    # which a load balancer passes to webhook_host:webhook_port; see bot/channels/telegram/web.py)
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None  # the public https address Telegram posts to; its path is the route served
    webhook_secret: SecretStr | None = None  # sent back in X-Telegram-Bot-Api-Secret-Token; 1-256 of A-Za-z0-9_-
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(8080, ge=0, le=65535)

    @field_validator("webhook_url", "webhook_secret", mode="before")
    @classmethod
    def _blank_hook_is_none(cls, v: object) -> object:
        return None if v in ("", None) else v

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, v: str | None) -> str | None:
        if v is not None:
            parts = urlsplit(v)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
                raise ValueError("must be the bot's public address, like https://bot.example.kz/telegram")
        return v

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", v.get_secret_value()):
            raise ValueError("must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return v

    @field_validator("token", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if v in ("", None) else v

    @field_validator("api_base")
    @classmethod
    def _api_base(cls, v: str) -> str:
        return check_api_base(v)


class DatabaseSettings(BaseModel):
    url: str = "sqlite+aiosqlite:///qatysu.db"


class RedisSettings(BaseModel):
    url: str | None = None


class RolesSettings(BaseModel):
    admins: list[int] = Field(default_factory=list)
    operators: list[int] = Field(default_factory=list)
    secretaries: list[int] = Field(default_factory=list)


class LocaleSettings(BaseModel):
    default: str = "kk"
    timezone: str = "Asia/Almaty"

    @field_validator("default")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in ("kk", "ru"):
            raise ValueError("locale.default must be kk or ru")
        return v


class PrivacySettings(BaseModel):
    # the consent text changed: 2026-12-05 what deletion keeps, third parties, withdrawal; 2026-12-06 "your account ID
    # in the messenger" instead of "your Telegram ID" (a resident may write from another channel)
    consent_version: str = "2026-12-06"
    # The secret key of the keyed hash of phone numbers, never kept in the database. Give it here (or in
    # QATYSU_PRIVACY__PHONE_HASH_KEY) or, better, as a file made by `qatysu keys create --output PATH`.
    phone_hash_key: SecretStr | None = None
    phone_hash_key_file: Path | None = None
    # A vote keeps its voter token (which stops a second vote by the same phone) this many days after the
    # campaign's results are published; then the token is erased and only the counted vote stays.
    vote_token_retention_days: int = Field(30, ge=0, le=3650)
    # Appeals of residents who deleted their data are kept as the akimat's record this many years after they
    # were closed (or last answered, or received), then deleted.
    appeal_retention_years: int = Field(5, ge=1, le=75)

    @field_validator("phone_hash_key", "phone_hash_key_file", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if v in ("", None) else v


class LimitsSettings(BaseModel):
    search_query_max: int = 64
    text_max: int = 4000
    flood_messages: int = Field(8, ge=1)
    flood_seconds: float = Field(4, gt=0)


class AppealsSettings(BaseModel):
    answer_days: int = Field(15, ge=1)
    forward_days: int = Field(3, ge=1)
    max_extension_months: int = Field(2, ge=0)
    repeat_window_days: int = Field(30, ge=0)
    work_start: time = time(9, 0)
    work_end: time = time(18, 0)
    extra_days_off: list[date] = Field(default_factory=list)
    extra_working_days: list[date] = Field(default_factory=list)
    digest_time: time = time(9, 0)
    categories: list[str] = Field(default_factory=lambda: [
        "housing", "roads", "water", "heating_gas", "electricity_lighting", "waste", "landscaping", "transport",
        "land", "healthcare", "education", "social_support", "mobile_internet", "other"])


class DeliverySettings(BaseModel):
    overall_per_second: float = Field(25, gt=0)
    private_per_second: float = Field(1, gt=0)
    group_per_minute: float = Field(20, gt=0)
    max_attempts: int = Field(5, ge=1)


OFFSET_UNITS = {"d": 86400, "h": 3600, "m": 60}


def offset_seconds(offset: str) -> int:
    """"7d", "1h", "30m" → seconds. Raises ValueError on anything else."""
    offset = offset.strip()
    if len(offset) < 2 or offset[-1] not in OFFSET_UNITS or not offset[:-1].isdigit() or int(offset[:-1]) < 1:
        raise ValueError(f"{offset!r}: a reminder offset is a whole number with d, h or m, e.g. 7d, 1h, 30m")
    return int(offset[:-1]) * OFFSET_UNITS[offset[-1]]


class MeetingsSettings(BaseModel):
    # Residents may send questions for a meeting from this many days before it until it starts.
    questions_open_days: int = Field(30, ge=0, le=365)
    # Reminders before a meeting: "7d", "1d", "1h", "30m".
    reminder_offsets: list[str] = Field(default_factory=lambda: ["7d", "1d", "1h"])
    # When admins hear, on the first working day of a quarter, which territories have no report meeting yet.
    quarterly_reminder_time: time = time(10, 0)

    @field_validator("reminder_offsets")
    @classmethod
    def _offsets(cls, v: list[str]) -> list[str]:
        out = []
        for o in v:
            offset_seconds(o)
            if o.strip() not in out:
                out.append(o.strip())
        return out


class SandboxSettings(BaseModel):
    # Used only when no token is configured: `qatysu run` then starts the local sandbox.
    host: str = "127.0.0.1"
    port: int = Field(8081, ge=0, le=65535)
    database_url: str = "sqlite+aiosqlite:///qatysu-sandbox.db"


class WhatsAppSettings(BaseModel):
    """A WhatsApp Business number on the Cloud API (README "WhatsApp"). Off until ``phone_number_id`` and
    ``token`` are set; the sandbox (``qatysu run`` with no tokens) fills them for its own stand-in."""

    phone_number_id: str | None = None  # the business number's id in the Meta app, not the number itself
    token: SecretStr | None = None  # a system user's access token with whatsapp_business_messaging
    app_secret: SecretStr | None = None  # signs every webhook (X-Hub-Signature-256); unsigned ones are refused
    verify_token: SecretStr | None = None  # echoed once in the webhook handshake
    api_base: str = "https://graph.facebook.com"
    api_version: str = "23.0"
    webhook_path: str = "/whatsapp"  # where Meta posts, behind TLS (nginx passes it to webhook_host:port)
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(8081, ge=0, le=65535)
    per_second: float = Field(80, gt=0)  # the number's throughput (Meta's default 80 messages a second)
    # a notice that can go neither free-form nor as a template waits this long for the person to write, then
    # it is undeliverable (shown on the appeal card and the broadcast report)
    wait_hours: float = Field(72, gt=0)
    # approved message templates for notices outside the 24-hour window: {notice kind: {language: name}};
    # deploy/whatsapp-templates.json holds them, ready to submit for approval
    templates: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("phone_number_id", "token", "app_secret", "verify_token", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if v in ("", None) else v

    @property
    def enabled(self) -> bool:
        return bool(self.phone_number_id and self.token)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="QATYSU_", env_nested_delimiter="__", extra="ignore", toml_file=None
    )

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    roles: RolesSettings = Field(default_factory=RolesSettings)
    locale: LocaleSettings = Field(default_factory=LocaleSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    appeals: AppealsSettings = Field(default_factory=AppealsSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    meetings: MeetingsSettings = Field(default_factory=MeetingsSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = config_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def config_path() -> Path | None:
    """``QATYSU_CONFIG`` if set (a file that must exist; empty counts as not set), else ``./config.toml`` when it
    exists."""
    explicit = os.environ.get("QATYSU_CONFIG")
    if explicit:
        path = Path(explicit)
        if not explicit.strip() or not path.is_file():
            raise ConfigError(f"QATYSU_CONFIG names {explicit!r}, which is not a file. Point it at your config.toml "
                              "(copy config.example.toml), or unset it to use ./config.toml.")
        return path
    default = Path("config.toml")
    return default if default.exists() else None


def load_settings(**overrides: object) -> Settings:
    """The settings, or :class:`ConfigError` with a message fit to print: what is wrong and where, no values."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                 for e in exc.errors(include_url=False, include_input=False, include_context=False)]
        raise ConfigError("The configuration is not valid:\n" + "\n".join(lines)) from None
    except (OSError, ValueError) as exc:  # an unreadable file, TOML that does not parse
        # a TOML or OS error's own words name a line and column, never the file's contents
        raise ConfigError(f"The configuration file {config_path()} cannot be read: {type(exc).__name__}: {exc}") \
            from None
