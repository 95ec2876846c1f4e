"""The voting journey of the People's Budget: a campaign in its voting phase, projects on the ballot, and a
resident who opens the budget section, the campaign, the ballot, and votes (button presses only)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.services.budget import BudgetService
from storage.db import make_engine, make_session_factory
from storage.models import Vote, utcnow

ROOT = "110000000"  # the sample's oblast: every settlement of the sample is inside it
PROJECTS = [("Балалар ойын алаңы", 4_000_000), ("Көше жарығы", 2_500_000), ("Спорт алаңы", 6_000_000),
            ("Саябақтағы орындықтар", 900_000), ("Пандустар", 1_200_000)]


async def prepare_database(url: str) -> int:
    """A campaign whose voting opened a day ago, with five projects on the ballot. Returns its id."""
    engine = make_engine(url)
    try:
        now = utcnow()
        earlier = BudgetService(make_session_factory(engine), clock=lambda: now - timedelta(days=5))  # review phase
        c = await earlier.create_campaign(
            ROOT, "Бенчмарк бюджеті", "Бюджет бенчмарка", 20_000_000,
            proposals_from=now - timedelta(days=30), proposals_until=now - timedelta(days=20),
            review_until=now - timedelta(days=2), voting_from=now - timedelta(days=1),
            voting_until=now + timedelta(days=20), results_at=now + timedelta(days=25))
        await earlier.import_projects(c.id, [{"title": t, "cost_tenge": cost} for t, cost in PROJECTS], actor=1)
        return c.id
    finally:
        await engine.dispose()


async def votes(url: str) -> int:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(Vote)) or 0)
    finally:
        await engine.dispose()


async def voting(d, p) -> None:  # noqa: ANN001 - bench.journeys.Driver, Person (imported there)
    from bench.journeys import find

    def starts(prefix: str):
        return lambda b: b["callback_data"].startswith(prefix)

    await d.press(p, "m:budget", expect="data:bd:c:")
    await d.press(p, find(d, p, starts("bd:c:")) or "bd:c:?", expect="data:bd:b:")
    await d.press(p, find(d, p, starts("bd:b:")) or "bd:b:?", expect="data:bd:v:")
    await d.press(p, find(d, p, starts("bd:v:")) or "bd:v:?", expect="data:bd:y:")
    await d.press(p, find(d, p, starts("bd:y:")) or "bd:y:?", expect="data:bd:mv:")
