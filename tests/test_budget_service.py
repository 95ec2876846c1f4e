"""BudgetService on a real database (SQLite, or PostgreSQL with QATYSU_TEST_DATABASE_URL), no Telegram.

Time comes from a fixed fake clock. The campaign used throughout is of the Azat rural okrug (tests/data):
proposals 1–11 June 2025, review until 21 June, voting 21 June – 1 July, results planned on 5 July.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.app import App
from bot.services.budget import (
    AlreadyVoted,
    BudgetService,
    InvalidCampaign,
    InvalidProject,
    NotEligible,
    NotOnBallot,
    NoVotesLeft,
    Phase,
    ProjectNotFound,
    ProposalsClosed,
    ResultsAlreadyPublished,
    ReviewClosed,
    ThresholdTooLow,
    TransitionNotAllowed,
    VoteChangeNotAllowed,
    VoteNotFound,
    VotingClosed,
    WrongCampaign,
    WrongPhase,
    canonical_json,
    digest_of,
    format_receipt,
    rank_projects,
)
from storage.models import Account, AuditLog, BudgetCampaign, Resident, Vote

AZAT, KOKTAL, KARAOZEK = "114033100", "114033200", "114043100"  # two villages of the Azat okrug; another okrug
AZAT_OKRUG, DISTRICT = "114030000", "114000000"
ADMIN = 700001
T0 = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)
PHASES = {
    "proposals_from": T0,
    "proposals_until": T0 + timedelta(days=10),
    "review_until": T0 + timedelta(days=20),
    "voting_from": T0 + timedelta(days=20),
    "voting_until": T0 + timedelta(days=30),
    "results_at": T0 + timedelta(days=34),
}
DRAFT_AT = T0 - timedelta(days=1)
PROPOSALS_AT = T0 + timedelta(days=1)
REVIEW_AT = T0 + timedelta(days=15)
VOTING_AT = T0 + timedelta(days=25)
CLOSED_AT = T0 + timedelta(days=31)
M = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = DRAFT_AT

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(app: App, clock: Clock) -> BudgetService:
    return BudgetService(app.sessions, clock=clock, phone_key=app.services.budget.phone_key)


async def campaign(svc: BudgetService, *, territory: str = AZAT_OKRUG, budget: int = 10 * M, **kw) -> BudgetCampaign:
    return await svc.create_campaign(territory, "Азат бюджеті", "Бюджет Азата", budget, created_by=ADMIN,
                                     **{**PHASES, **kw})


async def resident(app: App, uid: int, *, kato: str | None = AZAT, phone_hash: str | None = "auto",
                   registered: bool = True, consent: bool = True) -> int:
    """A resident row written directly (the fast way; the registration itself is tested elsewhere)."""
    now = datetime(2025, 5, 1, tzinfo=UTC)
    h = hashlib.sha256(f"phone-{uid}".encode()).hexdigest() if phone_hash == "auto" else phone_hash
    async with app.sessions() as s, s.begin():
        r = Resident(language="kk", territory_kato=kato,
                     phone_hash=h, phone_verified_at=now if h else None, consent_version="v1" if consent else None,
                     consent_at=now if consent else None, registered_at=now if registered else None, created_at=now)
        s.add(r)
        await s.flush()
        s.add(Account(channel="telegram", account_id=uid, chat_id=uid, resident_id=r.id, created_at=now))
        return r.id


async def projects(svc: BudgetService, clock: Clock, c: BudgetCampaign, *costs: int) -> list[int]:
    """Akimat-prepared accepted projects, submitted one minute apart (so earlier_submission is defined)."""
    ids = []
    for i, cost in enumerate(costs):
        [p] = await svc.import_projects(c.id, [{"title": f"Жоба {chr(65 + i)}", "cost_tenge": cost}], ADMIN)
        ids.append(p.id)
        clock.now += timedelta(minutes=1)
    return ids


_next_uid = iter(range(10_000, 1_000_000))


async def votes(app: App, svc: BudgetService, c: BudgetCampaign, project_id: int, n: int) -> None:
    """``n`` distinct new residents vote for the project."""
    for _ in range(n):
        await svc.cast_vote(await resident(app, next(_next_uid)), c.id, project_id)


# -- campaigns ----------------------------------------------------------------------------------


async def test_threshold_below_ten_refused_by_service_and_database(app: App, svc: BudgetService) -> None:
    with pytest.raises(ThresholdTooLow) as e:
        await campaign(svc, threshold=9)
    assert e.value.field == "threshold"
    c = await campaign(svc, threshold=50)  # a territory may set a higher threshold (Aktobe, Kokshetau)
    assert c.threshold == 50
    async with app.sessions() as s:
        with pytest.raises(IntegrityError):
            async with s.begin():
                (await s.get(BudgetCampaign, c.id)).threshold = 9


@pytest.mark.parametrize("bad", [
    {"proposals_until": T0},  # empty proposals phase
    {"review_until": T0 + timedelta(days=5)},  # review ends before proposals do
    {"voting_from": T0 + timedelta(days=19)},  # voting opens during the review
    {"voting_until": T0 + timedelta(days=20)},  # empty voting phase
    {"results_at": T0 + timedelta(days=29)},  # results before voting ends
    {"voting_from": datetime(2025, 6, 21, 4, 0)},  # naive
])
async def test_inconsistent_phases_refused(svc: BudgetService, bad: dict) -> None:
    with pytest.raises(InvalidCampaign) as e:
        await campaign(svc, **bad)
    assert e.value.field == "phases"


@pytest.mark.parametrize("bad", [{"budget": 0}, {"votes_per_resident": 0}, {"tie_rule": "coin"},
                                 {"territory": "999999999"}])
async def test_bad_settings_refused(svc: BudgetService, bad: dict) -> None:
    with pytest.raises(InvalidCampaign):
        await campaign(svc, **bad)


async def test_phases(app: App, svc: BudgetService, clock: Clock) -> None:
    c = await campaign(svc)
    expected = [(DRAFT_AT, Phase.DRAFT), (T0, Phase.PROPOSALS), (PROPOSALS_AT, Phase.PROPOSALS),
                (PHASES["proposals_until"], Phase.REVIEW), (REVIEW_AT, Phase.REVIEW),
                (PHASES["voting_from"], Phase.VOTING), (VOTING_AT, Phase.VOTING),
                (PHASES["voting_until"], Phase.CLOSED), (PHASES["results_at"], Phase.CLOSED)]
    assert [svc.phase(c, at) for at, _ in expected] == [ph for _, ph in expected]
    got = await svc.get_campaign(c.id)
    assert got.proposals_from == T0 and got.proposals_from.tzinfo is not None
    clock.now = CLOSED_AT
    await svc.publish_results(c.id, ADMIN)
    assert svc.phase(await svc.get_campaign(c.id), CLOSED_AT) is Phase.RESULTS
    audit = await _audit(app)
    assert ("budget.campaign_create", ADMIN) in audit and ("budget.results_publish", ADMIN) in audit


async def test_campaigns_for_a_territory_include_those_above(svc: BudgetService) -> None:
    okrug, district = await campaign(svc), await campaign(svc, territory=DISTRICT)
    other = await campaign(svc, territory="114040000")  # another okrug
    assert {c.id for c in await svc.campaigns_for(AZAT)} == {okrug.id, district.id}
    assert {c.id for c in await svc.campaigns_for(KARAOZEK)} == {other.id, district.id}
    assert {c.id for c in await svc.campaigns_for(DISTRICT)} == {district.id}


# -- proposals and review -----------------------------------------------------------------------


async def test_proposal_rules_and_review_path(app: App, svc: BudgetService, clock: Clock) -> None:
    c = await campaign(svc)
    rid = await resident(app, 501, kato=KOKTAL, phone_hash=None)  # a phone is not needed to propose
    with pytest.raises(ProposalsClosed):
        await svc.submit_proposal(rid, c.id, "Балалар алаңы", 3 * M)
    clock.now = PROPOSALS_AT
    with pytest.raises(InvalidProject) as e:
        await svc.submit_proposal(rid, c.id, "Балалар алаңы", 0)
    assert e.value.field == "cost_tenge"
    with pytest.raises(InvalidProject):
        await svc.submit_proposal(rid, c.id, "Балалар алаңы", 11 * M)  # more than the whole budget
    with pytest.raises(InvalidProject) as e:
        await svc.submit_proposal(rid, c.id, "Балалар алаңы", 3 * M, territory_kato=KARAOZEK)
    assert e.value.field == "territory_kato"
    with pytest.raises(NotEligible) as ne:
        await svc.submit_proposal(await resident(app, 502, kato=KARAOZEK), c.id, "Жарық", M)
    assert ne.value.reason == "territory"
    with pytest.raises(NotEligible) as ne:
        await svc.submit_proposal(await resident(app, 503, registered=False), c.id, "Жарық", M)
    assert ne.value.reason == "not_registered"

    p = await svc.submit_proposal(rid, c.id, "Балалар алаңы", 3 * M, description="Мектеп жанында",
                                  latitude=51.97, longitude=70.94,
                                  photo_media_id=await app.services.media.adopt("telegram", "photo", "AgAD"))
    assert (p.status, p.author_resident_id, p.territory_kato, p.submitted_at) == ("proposed", rid, AZAT_OKRUG,
                                                                                  PROPOSALS_AT)
    with pytest.raises(InvalidProject):
        await svc.review(p.id, "return", "  ", ADMIN)  # a return needs a reason
    clock.now = REVIEW_AT
    p = await svc.review(p.id, "return", "Смета керек", ADMIN)
    assert (p.status, p.status_reason) == ("returned", "Смета керек")
    with pytest.raises(TransitionNotAllowed):
        await svc.review(p.id, "accept", None, ADMIN)
    with pytest.raises(ProjectNotFound):  # not the author
        await svc.resubmit_proposal(await resident(app, 504), p.id, cost_tenge=2 * M)
    p = await svc.resubmit_proposal(rid, p.id, cost_tenge=2 * M)
    assert (p.status, p.cost_tenge, p.submitted_at) == ("resubmitted", 2 * M, REVIEW_AT)
    p = await svc.review(p.id, "accept", None, ADMIN)
    assert p.status == "accepted" and p.reviewed_by == ADMIN
    assert [x.id for x in (await svc.ballot(c.id)).projects] == [p.id]

    clock.now = PROPOSALS_AT
    other = await svc.submit_proposal(rid, c.id, "Орындық", M)
    clock.now = VOTING_AT
    with pytest.raises(ReviewClosed):  # the ballot is fixed once voting opens
        await svc.review(other.id, "accept", None, ADMIN)
    actions = [a for a, _ in await _audit(app)]
    assert {"budget.review_return", "budget.review_accept", "budget.proposal_resubmit"} <= set(actions)


async def test_import_and_ballot_pages(app: App, svc: BudgetService, clock: Clock) -> None:
    c = await campaign(svc)
    rows = [{"title": f"Жоба {i}", "cost_tenge": (i + 1) * 100_000, "territory_kato": AZAT} for i in range(12)]
    with pytest.raises(InvalidProject):  # all or nothing
        await svc.import_projects(c.id, [*rows, {"title": "", "cost_tenge": 1}], ADMIN)
    imported = await svc.import_projects(c.id, rows, ADMIN)
    assert all(p.status == "accepted" and p.author_resident_id is None for p in imported)
    await svc.import_projects(c.id, [{"title": "Қаралмаған", "cost_tenge": 5}], ADMIN, accepted=False)
    first, last = await svc.ballot(c.id, 0, 5), await svc.ballot(c.id, 2, 5)
    assert (first.total, first.pages, len(first.projects), len(last.projects)) == (12, 3, 5, 2)
    assert [p.id for p in first.projects] == [p.id for p in imported[:5]]
    past = await svc.ballot(c.id, 3, 5)  # past the end (the ballot shrank since the button was drawn)
    assert (past.total, past.projects) == (12, [])
    assert ("budget.projects_import", ADMIN) in await _audit(app)


# -- votes --------------------------------------------------------------------------------------


async def test_ten_distinct_voters_make_a_project_eligible_nine_do_not(app: App, svc: BudgetService,
                                                                      clock: Clock) -> None:
    c = await campaign(svc)
    ten, nine = await projects(svc, clock, c, M, M)
    clock.now = VOTING_AT
    await votes(app, svc, c, ten, 10)
    await votes(app, svc, c, nine, 9)
    rows = {r.project_id: r for r in (await svc.tally(c.id)).rows}
    assert (rows[ten].votes, rows[ten].eligible, rows[ten].winner) == (10, True, True)
    assert (rows[nine].votes, rows[nine].eligible, rows[nine].winner, rows[nine].reason) == (
        9, False, False, "below_threshold")


@pytest.mark.parametrize(("per_resident", "spread"), [(1, 1), (1, 4), (2, 4)])
async def test_concurrent_attempts_by_one_resident(app: App, svc: BudgetService, clock: Clock, per_resident: int,
                                                   spread: int) -> None:
    """A hundred simultaneous attempts (a double-tapping user, a script) over ``spread`` projects leave
    exactly ``per_resident`` votes; every other attempt gets a typed refusal."""
    c = await campaign(svc, votes_per_resident=per_resident)
    ids = await projects(svc, clock, c, *([M] * spread))
    rid = await resident(app, 501)
    clock.now = VOTING_AT
    results = await asyncio.gather(*(svc.cast_vote(rid, c.id, ids[i % spread]) for i in range(100)),
                                   return_exceptions=True)
    ok = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(ok) == per_resident
    assert all(isinstance(r, AlreadyVoted | NoVotesLeft) for r in refused), {type(r) for r in refused}
    async with app.sessions() as s:
        stored = list(await s.scalars(select(Vote).where(Vote.campaign_id == c.id)))
    assert len(stored) == per_resident and len({v.project_id for v in stored}) == per_resident
    assert sorted(v.slot for v in stored) == list(range(1, per_resident + 1))


async def test_a_second_account_with_the_same_phone_gets_no_vote(app: App, svc: BudgetService,
                                                                 clock: Clock) -> None:
    """Resident A votes, erases their data (the row keeps no phone) and comes back through a new Telegram
    account with the same phone: the same phone hash, so no second vote."""
    residents = app.services.residents
    c = await campaign(svc)
    a_project, b_project = await projects(svc, clock, c, M, M)
    clock.now = VOTING_AT
    ids = []
    for uid in (601, 602):
        await residents.consent(uid, uid, "kk", "v1")
        await residents.set_territory(uid, AZAT)
        await residents.complete_registration(uid)
        await residents.verify_phone(uid, "+7 701 555 0101", uid)
        ids.append((await residents.get(uid)).id)
        if uid == 601:
            await svc.cast_vote(ids[0], c.id, a_project)
            assert await residents.delete_personal_data(601)
    first, second = ids
    with pytest.raises(AlreadyVoted):
        await svc.cast_vote(second, c.id, a_project)
    with pytest.raises(NoVotesLeft):
        await svc.cast_vote(second, c.id, b_project)
    assert await svc.voters(c.id) == [first]


async def test_the_database_refuses_a_second_vote_of_one_phone(app: App, svc: BudgetService, clock: Clock) -> None:
    """Whatever the service does, two vote rows of one phone hash for one project, or in one slot, cannot
    both be stored, even under two resident rows."""
    c = await campaign(svc, votes_per_resident=2)
    p, q = await projects(svc, clock, c, M, M)
    a, b = await resident(app, 601, phone_hash="h" * 64), await resident(app, 602, phone_hash=None)
    async with app.sessions() as s, s.begin():
        s.add(Vote(campaign_id=c.id, project_id=p, resident_id=a, voter_token="h" * 64, slot=1, receipt="R1"))
    for project, slot in ((p, 2), (q, 1)):
        async with app.sessions() as s:
            with pytest.raises(IntegrityError):
                async with s.begin():
                    s.add(Vote(campaign_id=c.id, project_id=project, resident_id=b, voter_token="h" * 64, slot=slot,
                               receipt=f"R{project}{slot}"))
    other = await campaign(svc)
    [foreign] = await projects(svc, clock, other, M)
    async with app.sessions() as s:  # a vote cannot point to another campaign's project
        with pytest.raises(IntegrityError):
            async with s.begin():
                s.add(Vote(campaign_id=c.id, project_id=foreign, resident_id=b, voter_token="x" * 64, slot=1,
                           receipt="R9"))


async def test_three_votes_per_resident(app: App, svc: BudgetService, clock: Clock) -> None:
    c = await campaign(svc, votes_per_resident=3)
    ids = await projects(svc, clock, c, M, M, M, M)
    rid = await resident(app, 501)
    clock.now = VOTING_AT
    receipts = [await svc.cast_vote(rid, c.id, p) for p in ids[:3]]
    assert len({r.code for r in receipts}) == 3
    assert [r.votes_left for r in receipts] == [2, 1, 0]
    with pytest.raises(NoVotesLeft):
        await svc.cast_vote(rid, c.id, ids[3])
    standing = await svc.standing(rid, c.id)
    assert standing.left == 0 and standing.earlier == 0
    assert [r.project_id for r in standing.mine] == ids[:3]
    assert [r.project_id for r in await svc.my_votes(rid, c.id)] == ids[:3]


async def test_repeated_vote_for_one_project_refused(app: App, svc: BudgetService, clock: Clock) -> None:
    c = await campaign(svc, votes_per_resident=3)
    p, _ = await projects(svc, clock, c, M, M)
    rid = await resident(app, 501)
    clock.now = VOTING_AT
    await svc.cast_vote(rid, c.id, p)
    with pytest.raises(AlreadyVoted):
        await svc.cast_vote(rid, c.id, p)
    assert (await svc.standing(rid, c.id)).left == 2


async def test_vote_change_allowed(app: App, svc: BudgetService, clock: Clock) -> None:
    c = await campaign(svc, vote_change_allowed=True)
    p, q, r = await projects(svc, clock, c, M, M, M)
    rid = await resident(app, 501)
    clock.now = VOTING_AT
    old = await svc.cast_vote(rid, c.id, p)
    clock.now += timedelta(hours=1)
    with pytest.raises(VoteNotFound):
        await svc.change_vote(rid, c.id, q, r)
    new = await svc.change_vote(rid, c.id, p, q)
    assert (new.project_id, new.at) == (q, clock.now) and new.code != old.code
    assert await svc.check_receipt(old.code) is None
    assert (await svc.check_receipt(format_receipt(new.code).lower())).at == clock.now
    with pytest.raises(NoVotesLeft):  # a change is not an extra vote
        await svc.cast_vote(rid, c.id, p)
    clock.now = CLOSED_AT
    with pytest.raises(VotingClosed):
        await svc.change_vote(rid, c.id, q, r)


async def test_vote_change_forbidden(app: App, svc: BudgetService, clock: Clock) -> None:
    c = await campaign(svc)  # Astana: one project, irrevocable
    p, q = await projects(svc, clock, c, M, M)
    rid = await resident(app, 501)
    clock.now = VOTING_AT
    await svc.cast_vote(rid, c.id, p)
    with pytest.raises(VoteChangeNotAllowed):
        await svc.change_vote(rid, c.id, p, q)
    assert [v.project_id for v in await svc.my_votes(rid, c.id)] == [p]


@pytest.mark.parametrize("at", [DRAFT_AT, PROPOSALS_AT, REVIEW_AT, PHASES["voting_until"], CLOSED_AT])
async def test_voting_outside_the_phase_refused(app: App, svc: BudgetService, clock: Clock, at: datetime) -> None:
    c = await campaign(svc)
    [p] = await projects(svc, clock, c, M)
    rid = await resident(app, 501)
    clock.now = at
    with pytest.raises(VotingClosed) as e:
        await svc.cast_vote(rid, c.id, p)
    assert e.value.phase is svc.phase(c, at)


async def test_project_of_another_campaign_or_not_accepted_refused(app: App, svc: BudgetService,
                                                                   clock: Clock) -> None:
    c, other = await campaign(svc), await campaign(svc)
    [foreign] = await projects(svc, clock, other, M)
    [pending] = await svc.import_projects(c.id, [{"title": "Қаралмаған", "cost_tenge": M}], ADMIN, accepted=False)
    rid = await resident(app, 501)
    clock.now = VOTING_AT
    with pytest.raises(WrongCampaign):
        await svc.cast_vote(rid, c.id, foreign)
    with pytest.raises(NotOnBallot):
        await svc.cast_vote(rid, c.id, pending.id)
    with pytest.raises(ProjectNotFound):
        await svc.cast_vote(rid, c.id, 999_999)


@pytest.mark.parametrize(("kw", "reason"), [
    ({"kato": KARAOZEK}, "territory"),  # another okrug of the same district
    ({"kato": DISTRICT}, "territory"),  # above the campaign territory is not in it
    ({"kato": None}, "territory"),
    ({"phone_hash": None}, "no_phone"),
    ({"registered": False}, "not_registered"),
    ({"consent": False}, "no_consent"),
])
async def test_ineligible_residents_refused(app: App, svc: BudgetService, clock: Clock, kw: dict,
                                            reason: str) -> None:
    c = await campaign(svc)
    [p] = await projects(svc, clock, c, M)
    rid = await resident(app, 501, **kw)
    clock.now = VOTING_AT
    with pytest.raises(NotEligible) as e:
        await svc.cast_vote(rid, c.id, p)
    assert e.value.reason == reason
    assert await svc.eligibility(rid, c.id) == reason


async def test_residents_below_the_territory_vote_and_deleted_do_not(app: App, svc: BudgetService,
                                                                     clock: Clock) -> None:
    c = await campaign(svc, territory=DISTRICT)
    [p] = await projects(svc, clock, c, M)
    clock.now = VOTING_AT
    receipt = await svc.cast_vote(await resident(app, 501, kato=KARAOZEK), c.id, p)  # a village two levels down
    check = await svc.check_receipt(receipt.code)
    assert (check.campaign_id, check.at) == (c.id, VOTING_AT)
    assert "Жоба A" not in repr(check) and not {"project_id", "project_title"} & set(vars(check))  # not the project
    assert check.at.tzinfo is not None
    assert await svc.check_receipt("NO-SUCH-CODE") is None
    await app.services.residents.delete_personal_data(501)
    with pytest.raises(NotEligible):
        await svc.cast_vote(await resident(app, 502, phone_hash=None), c.id, p)


# -- tally --------------------------------------------------------------------------------------


async def test_greedy_winners_within_the_budget(app: App, svc: BudgetService, clock: Clock) -> None:
    c = await campaign(svc, budget=10 * M)
    a, b, c_, d = await projects(svc, clock, c, 6 * M, 5 * M, 3 * M, 1 * M)
    clock.now = VOTING_AT
    for project, n in ((a, 30), (b, 25), (c_, 20), (d, 9)):
        await votes(app, svc, c, project, n)
    result = await svc.tally(c.id)
    got = [(r.project_id, r.votes, r.eligible, r.winner, r.reason, r.rank) for r in result.rows]
    assert got == [(a, 30, True, True, None, 1), (b, 25, True, False, "over_budget", 2),
                   (c_, 20, True, True, None, 3), (d, 9, False, False, "below_threshold", 4)]
    assert [r.project_id for r in result.winners] == [a, c_] and result.spent_tenge == 9 * M


@pytest.mark.parametrize("rule", ["earlier_submission", "lower_cost", "lot_by_digest"])
async def test_tie_rules(app: App, svc: BudgetService, clock: Clock, rule: str) -> None:
    """Two projects with the same votes, only one fits: the published rule decides."""
    c = await campaign(svc, budget=10 * M, tie_rule=rule)
    early_dear, late_cheap, third = await projects(svc, clock, c, 6 * M, 5 * M, 4 * M)
    clock.now = VOTING_AT
    await votes(app, svc, c, early_dear, 12)
    await votes(app, svc, c, late_cheap, 12)
    await votes(app, svc, c, third, 11)
    result = await svc.tally(c.id)
    if rule == "earlier_submission":
        first = early_dear
    elif rule == "lower_cost":
        first = late_cheap
    else:  # a lot nobody could know before the votes were in: recomputed here from the published digest
        first = min((early_dear, late_cheap), key=lambda i: hashlib.sha256(f"{result.digest}:{i}".encode()).digest())
    second = late_cheap if first == early_dear else early_dear
    assert [r.project_id for r in result.rows] == [first, second, third]
    assert [r.winner for r in result.rows] == [True, False, True]  # 6M + 5M do not fit in 10M; 4M still fits
    assert result.rows[1].reason == "over_budget"


async def test_digest_is_stable_recomputable_and_follows_the_votes(app: App, svc: BudgetService,
                                                                   clock: Clock) -> None:
    c = await campaign(svc, vote_change_allowed=True)
    p, q = await projects(svc, clock, c, 2 * M, 3 * M)
    clock.now = VOTING_AT
    await votes(app, svc, c, p, 10)
    await votes(app, svc, c, q, 11)
    first, again = await svc.tally(c.id), await svc.tally(c.id)
    assert first.digest == again.digest == digest_of(first.canonical)
    assert first.digest == hashlib.sha256(first.canonical.encode()).hexdigest()
    doc = json.loads(first.canonical)
    assert doc == json.loads(canonical_json(c, doc["projects"]))
    assert {k: doc[k] for k in ("threshold", "tie_rule", "budget_tenge", "votes_per_resident")} == {
        "threshold": 10, "tie_rule": "earlier_submission", "budget_tenge": 10 * M, "votes_per_resident": 1}
    assert [(x["id"], x["winner"]) for x in rank_projects(doc, first.digest)] == [(q, True), (p, True)]

    async with app.sessions() as s:
        voter = await s.scalar(select(Vote.resident_id).where(Vote.project_id == p).limit(1))
    await svc.change_vote(voter, c.id, p, q)
    changed = await svc.tally(c.id)
    assert changed.digest != first.digest
    assert {r.project_id: (r.votes, r.eligible) for r in changed.rows} == {p: (9, False), q: (12, True)}


async def test_publish_results_and_voters(app: App, svc: BudgetService, clock: Clock) -> None:
    c = await campaign(svc)
    p, q = await projects(svc, clock, c, 2 * M, 3 * M)
    clock.now = VOTING_AT
    await votes(app, svc, c, p, 10)
    with pytest.raises(WrongPhase):
        await svc.publish_results(c.id, ADMIN)
    clock.now = CLOSED_AT
    result = await svc.publish_results(c.id, ADMIN)
    with pytest.raises(ResultsAlreadyPublished):
        await svc.publish_results(c.id, ADMIN)
    stored = await svc.get_campaign(c.id)
    assert (stored.results_digest, stored.published_at) == (result.digest, CLOSED_AT)
    assert stored.results_json["digest"] == result.digest
    assert digest_of(canonical_json(stored, stored.results_json["input"]["projects"])) == result.digest
    assert [r["project_id"] for r in stored.results_json["rows"] if r["winner"]] == [p]
    voters = await svc.voters(c.id)
    async with app.sessions() as s:
        assert len(voters) == 10 == await s.scalar(select(func.count(func.distinct(Vote.resident_id))))


async def _audit(app: App) -> list[tuple[str, int | None]]:
    async with app.sessions() as s:
        return [(a.action, a.actor_user_id) for a in await s.scalars(select(AuditLog).order_by(AuditLog.id))]
