"""Helpers for the report, meeting and reminder tests: residents made through the services, a settable clock,
local Kazakhstan times, outbox rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import App
from storage.models import Meeting, OutboxMessage, Resident
from tests.support.notices import address

ALMATY = ZoneInfo("Asia/Almaty")
DISTRICT, AZAT_OKRUG, KOKTAL, KARAOZEK_OKRUG, KARAOZEK = "114000000", "114030000", "114033200", "114040000", "114043100"


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Kazakhstan wall-clock time, as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=ALMATY).astimezone(UTC)


class Clock:
    """One clock for the services that read the time (meetings, reports, scheduled tasks, outbox)."""

    def __init__(self, app: App, now: datetime) -> None:
        self.now = now
        read: Callable[[], datetime] = lambda: self.now  # noqa: E731
        app.services.meetings.clock = read
        app.services.reports.clock = read
        app.services.tasks.clock = read
        app.outbox._clock = read  # type: ignore[attr-defined]

    def set(self, now: datetime) -> None:
        self.now = now


async def resident(app: App, user_id: int, kato: str = KOKTAL, lang: str = "kk", *,
                   notifications: bool = True) -> Resident:
    r = app.services.residents
    await r.consent(user_id, user_id, lang, app.settings.privacy.consent_version)
    await r.set_territory(user_id, kato)
    if not notifications:
        await r.set_notifications(user_id, False)
    await r.complete_registration(user_id)
    found = await r.get(user_id)
    assert found is not None
    return found


async def meeting(app: App, starts_at: datetime, kato: str = DISTRICT, kind: str = "akim_report",
                  **kw: object) -> Meeting:
    params: dict = dict(place="Әкімдік, мәжіліс залы", agenda_kk="Әкімнің есебі", agenda_ru="Отчёт акима")
    params.update(kw)
    return await app.services.meetings.create(kind=kind, territory_kato=kato, starts_at=starts_at, **params)


async def outbox(app: App, chat_id: int | None = None) -> list[OutboxMessage]:
    """The outbox rows (to ``chat_id`` only, if given), each with ``chat_id`` the chat it goes to: a resident's
    row names no chat until it is sent, so it is looked up here (on the detached copies, never saved)."""
    async with app.sessions() as s:
        rows = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    for row in rows:
        if row.chat_id is None:
            row.chat_id = await address(app, row)
    return [r for r in rows if chat_id is None or r.chat_id == chat_id]
