"""Helpers for the People's Budget admin tests: residents made through the services (each with its own phone),
a campaign whose phases sit around a controllable clock, and a clock shared by the budget and task services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import App
from storage.models import BudgetCampaign

AZAT_OKRUG, AZAT, KOKTAL, KARAOZEK = "114030000", "114033100", "114033200", "114043100"
M = 1_000_000


class Clock:
    """The time the budget service and the task runner see (the outbox keeps the real clock)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def use_clock(app: App, now: datetime) -> Clock:
    clock = Clock(now)
    app.services.budget.now = clock  # type: ignore[method-assign]
    app.services.tasks.clock = clock
    return clock


async def resident(app: App, uid: int, lang: str = "kk", *, kato: str = AZAT, notifications: bool = True,
                   phone: bool = True) -> int:
    """A registered resident with a distinct verified phone; returns the resident id."""
    rs = app.services.residents
    await rs.consent(uid, uid, lang, app.settings.privacy.consent_version)
    await rs.set_territory(uid, kato)
    await rs.complete_registration(uid)
    if phone:
        await rs.verify_phone(uid, f"+7 701 {uid % 10_000_000:07d}", uid)
    if not notifications:
        await rs.set_notifications(uid, False)
    r = await rs.get(uid)
    assert r is not None
    return r.id


def phases(start: datetime) -> dict[str, datetime]:
    """Proposals for 10 days from ``start``, review 5 days, voting 10 days, results a day later."""
    return {"proposals_from": start, "proposals_until": start + timedelta(days=10),
            "review_until": start + timedelta(days=15), "voting_from": start + timedelta(days=15),
            "voting_until": start + timedelta(days=25), "results_at": start + timedelta(days=26)}


async def campaign(app: App, start: datetime, *, territory: str = AZAT_OKRUG, budget: int = 10 * M,
                   **kw) -> BudgetCampaign:
    return await app.services.budget.create_campaign(territory, "Азат бюджеті", "Бюджет Азата", budget,
                                                     created_by=900001, **{**phases(start), **kw})


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
