"""Votes carry a per-campaign voter token, not the resident's phone hash; the token is erased once the results are
final plus the retention, and the published tally and digest still verify."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.app import App
from bot.scheduler import build_scheduler
from bot.services.budget import AlreadyVoted, NoVotesLeft, canonical_json, digest_of
from bot.services.phone_key import REKEY, voter_token
from bot.services.privacy import erase_expired
from storage.models import AppSetting, BudgetCampaign, Resident, Vote
from tests.conftest import make_app
from tests.support.budget_helpers import campaign, now_utc, resident, use_clock

DAY = timedelta(days=1)


async def accepted_projects(app: App, c: BudgetCampaign, n: int = 2) -> list[int]:
    projects = await app.services.budget.import_projects(
        c.id, [{"title": f"Жоба {i}", "cost_tenge": 1_000_000 + i} for i in range(n)], actor=900001)
    return [p.id for p in projects]


async def tokens(app: App, campaign_id: int | None = None) -> list[str | None]:
    async with app.sessions() as s:
        q = select(Vote.voter_token).order_by(Vote.id)
        if campaign_id is not None:
            q = q.where(Vote.campaign_id == campaign_id)
        return list(await s.scalars(q))


async def test_a_vote_token_is_neither_the_phone_hash_nor_the_same_in_two_campaigns(app: App) -> None:
    start = now_utc() - 20 * DAY
    clock = use_clock(app, start + 12 * DAY)  # review: projects may be added to both
    first = await campaign(app, start)
    second = await campaign(app, start + 30 * DAY)  # voting of the two does not overlap
    p1, p2 = await accepted_projects(app, first), await accepted_projects(app, second)
    rid = await resident(app, 4101)
    clock.now = start + 16 * DAY
    await app.services.budget.cast_vote(rid, first.id, p1[0])
    clock.now = start + 46 * DAY
    await app.services.budget.cast_vote(rid, second.id, p2[0])
    async with app.sessions() as s:
        phone_hash = (await s.get(Resident, rid)).phone_hash
    [t1], [t2] = await tokens(app, first.id), await tokens(app, second.id)
    assert len({t1, t2, phone_hash}) == 3
    assert t1 == voter_token(b"test-key", first.id, phone_hash)


async def published(app: App) -> tuple[BudgetCampaign, object]:
    start = now_utc() - 40 * DAY
    clock = use_clock(app, start + 12 * DAY)
    c = await campaign(app, start)
    projects = await accepted_projects(app, c, 3)
    clock.now = start + 16 * DAY
    for i, uid in enumerate(range(4201, 4215)):
        await app.services.budget.cast_vote(await resident(app, uid), c.id, projects[i % 3])
    clock.now = start + 26 * DAY + timedelta(hours=1)
    await app.services.budget.publish_results(c.id, actor=900001)
    return await app.services.budget.get_campaign(c.id), clock


async def test_tokens_are_erased_after_the_retention_and_the_results_still_verify(app: App) -> None:
    c, _ = await published(app)
    days = app.settings.privacy.vote_token_retention_days
    assert days == 30
    kept = await erase_expired(app.sessions, vote_token_retention_days=days, appeal_retention_years=5,
                               now=c.published_at + (days - 1) * DAY)
    assert kept.vote_tokens == 0 and all(await tokens(app))
    erased = await erase_expired(app.sessions, vote_token_retention_days=days, appeal_retention_years=5,
                                 now=c.published_at + (days + 1) * DAY)
    assert erased.vote_tokens == 14 and await tokens(app) == [None] * 14
    # the counts recomputed from the votes left, with the published rules, give the published digest
    async with app.sessions() as s:
        counts = dict((await s.execute(select(Vote.project_id, func.count()).where(Vote.campaign_id == c.id)
                                       .group_by(Vote.project_id))).all())
    doc = c.results_json["input"]
    recomputed = canonical_json(c, ({**p, "votes": counts.get(p["id"], 0)} for p in doc["projects"]))
    assert digest_of(recomputed) == c.results_digest and sum(counts.values()) == 14
    again = await app.services.budget.tally(c.id)  # and so does the service's own tally
    assert again.digest == c.results_digest and again.to_json() == c.results_json


async def test_tokens_stay_while_an_overlapping_campaign_is_still_voting(app: App) -> None:
    c, clock = await published(app)
    later = c.published_at + 31 * DAY
    await app.services.budget.create_campaign(
        "114030000", "Тағы бір", "Ещё одна", 5_000_000, created_by=900001,
        proposals_from=c.proposals_from, proposals_until=c.proposals_until, review_until=c.review_until,
        voting_from=c.voting_from, voting_until=later + DAY, results_at=later + 2 * DAY)
    none = await erase_expired(app.sessions, vote_token_retention_days=30, appeal_retention_years=5, now=later)
    assert none.vote_tokens == 0


def test_the_erasure_is_a_scheduled_job(app: App) -> None:
    assert build_scheduler(app).get_job("privacy_erase_expired") is not None


async def test_votes_a_migration_left_are_rekeyed_once_at_start(settings, app: App) -> None:
    start = now_utc() - 20 * DAY
    clock = use_clock(app, start + 12 * DAY)
    c = await campaign(app, start)
    projects = await accepted_projects(app, c)
    rid = await resident(app, 4301)
    clock.now = start + 16 * DAY
    await app.services.budget.cast_vote(rid, c.id, projects[0])
    async with app.sessions() as s, s.begin():  # what revision 0006 leaves: the old value and the flag
        phone_hash = (await s.get(Resident, rid)).phone_hash
        await s.execute(update(Vote).values(voter_token=phone_hash))
        s.add(AppSetting(name=REKEY, value="1"))
    again, _ = await make_app(settings, territories=False)
    try:
        assert await tokens(again) == [voter_token(b"test-key", c.id, phone_hash)]
        async with again.sessions() as s:
            assert await s.get(AppSetting, REKEY) is None
        use_clock(again, start + 17 * DAY)
        # another account with the same phone is the same person: no second vote
        other = await resident(again, 4302, phone=False)
        async with again.sessions() as s, s.begin():
            await s.execute(update(Resident).where(Resident.id == rid).values(phone_hash=None))
            await s.execute(update(Resident).where(Resident.id == other).values(phone_hash=phone_hash,
                                                                                 phone_verified_at=start))
        with pytest.raises((AlreadyVoted, NoVotesLeft)):
            await again.services.budget.cast_vote(other, c.id, projects[0])
    finally:
        await again.close()
