"""One phone, one vote across territories: the settlement on record when voting opens decides, and a phone
votes in one of the campaigns of a district whose voting overlaps. Real database (SQLite, or PostgreSQL with
QATYSU_TEST_DATABASE_URL), fake clock; the Azat and Karaozek okrugs are two okrugs of one district."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.services.budget import AlreadyVoted, BudgetService, NotEligible, VotedElsewhere
from storage.models import BudgetCampaign, DistrictVote, Resident, ResidentTerritory, Vote
from tests.support.telegram import Person, Telegram
from tests.test_budget_flow import ballot_of, move_to
from tests.test_budget_flow import campaign as flow_campaign
from tests.test_budget_service import (
    AZAT,
    AZAT_OKRUG,
    DISTRICT,
    KARAOZEK,
    PHASES,
    T0,
    Clock,
    campaign,
    projects,
    resident,
)
from tests.test_registration import KK, RU, register

M = 1_000_000
KARAOZEK_OKRUG = "114040000"
EARLY = T0 - timedelta(days=30)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(app: App, clock: Clock) -> BudgetService:
    return BudgetService(app.sessions, clock=clock, phone_key=app.services.budget.phone_key)


async def move(app: App, rid: int, kato: str, at: datetime) -> None:
    """The resident sets their settlement at ``at`` (as Settings does, with the time on record)."""
    async with app.sessions() as s, s.begin():
        r = await s.get(Resident, rid)
        r.territory_kato = kato
        s.add(ResidentTerritory(resident_id=rid, territory_kato=kato, since=at))


def later(days: float) -> dict[str, datetime]:
    """Phase times shifted by ``days``."""
    return {k: v + timedelta(days=days) for k, v in PHASES.items()}


async def test_a_settlement_changed_after_voting_opened_does_not_count(app: App, svc: BudgetService,
                                                                      clock: Clock) -> None:
    azat = await campaign(svc, territory=AZAT_OKRUG)
    kar = await campaign(svc, territory=KARAOZEK_OKRUG)
    [a_p], [k_p] = await projects(svc, clock, azat, M), await projects(svc, clock, kar, M)
    rid = await resident(app, 801, kato=None)
    await move(app, rid, AZAT, EARLY)
    clock.now = PHASES["voting_from"] + timedelta(days=1)
    await svc.cast_vote(rid, azat.id, a_p)
    await move(app, rid, KARAOZEK, clock.now)  # "settings → settlement" after voting opened
    assert await svc.eligibility(rid, kar.id) == "moved"
    with pytest.raises(NotEligible) as refused:
        await svc.cast_vote(rid, kar.id, k_p)
    assert refused.value.reason == "moved"
    assert await svc.voting_territory(rid, kar.id) == AZAT
    # Azat's campaign stays theirs (its list includes it), Karaozek's is listed but refuses them
    assert {c.id for c in await svc.campaigns_for_resident(rid)} == {azat.id, kar.id}
    # a campaign whose voting opens after the move is Karaozek's: the new settlement counts there
    kar_later = await campaign(svc, territory=KARAOZEK_OKRUG, **later(20))
    assert await svc.voting_territory(rid, kar_later.id) == KARAOZEK
    async with app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Vote)) == 1


async def test_one_campaign_is_the_residents_by_the_same_rules_as_their_list(app: App, svc: BudgetService,
                                                                             clock: Clock) -> None:
    """The ballot's screens check one campaign (campaign_for_resident) instead of loading the list: after a move,
    the earlier settlement's campaign is theirs while it votes and no longer once its voting is over."""
    azat = await campaign(svc, territory=AZAT_OKRUG)
    kar = await campaign(svc, territory=KARAOZEK_OKRUG)
    rid = await resident(app, 803, kato=None)
    await move(app, rid, AZAT, EARLY)
    clock.now = PHASES["voting_from"] + timedelta(days=1)
    await move(app, rid, KARAOZEK, clock.now)
    for now, theirs in ((clock.now, {azat.id, kar.id}), (PHASES["voting_until"] + timedelta(days=1), {kar.id})):
        clock.now = now
        assert {c.id for c in await svc.campaigns_for_resident(rid)} == theirs
        for c in (azat, kar):
            found = await svc.campaign_for_resident(rid, c.id)
            assert (found.id if found else None) == (c.id if c.id in theirs else None)
    assert await svc.campaign_for_resident(rid, kar.id + 100) is None  # no such campaign


async def test_one_phone_votes_in_one_of_the_overlapping_campaigns_of_a_district(app: App, svc: BudgetService,
                                                                                clock: Clock) -> None:
    """The settlement on record differs between two campaigns that open on different days (the resident moved
    in between): the district rule still leaves one vote, and campaigns that do not overlap are free."""
    azat = await campaign(svc, territory=AZAT_OKRUG)
    kar = await campaign(svc, territory=KARAOZEK_OKRUG, **{**PHASES, "voting_from": PHASES["voting_from"]
                                                           + timedelta(days=2)})
    whole = await campaign(svc, territory=DISTRICT)  # of the whole district: outside the rule
    kar_next = await campaign(svc, territory=KARAOZEK_OKRUG, **later(31))  # voting after Azat's closed
    [a_p], [k_p], [w_p], [n_p] = [await projects(svc, clock, c, M) for c in (azat, kar, whole, kar_next)]
    rid = await resident(app, 802, kato=None)
    await move(app, rid, AZAT, EARLY)
    await move(app, rid, KARAOZEK, PHASES["voting_from"] + timedelta(days=1))  # between the two openings
    clock.now = PHASES["voting_from"] + timedelta(days=3)
    assert await svc.eligibility(rid, azat.id) is None and await svc.eligibility(rid, kar.id) is None
    await svc.cast_vote(rid, azat.id, a_p)
    assert await svc.eligibility(rid, kar.id) == "elsewhere"
    assert (await svc.voted_elsewhere(rid, kar.id)).id == azat.id
    with pytest.raises(VotedElsewhere) as refused:
        await svc.cast_vote(rid, kar.id, k_p)
    assert refused.value.campaign_id == azat.id
    await svc.cast_vote(rid, whole.id, w_p)  # the district's own campaign: every settlement votes there
    clock.now = later(31)["voting_from"] + timedelta(hours=1)
    await svc.cast_vote(rid, kar_next.id, n_p)  # Azat's voting is over: no overlap
    async with app.sessions() as s:
        assert sorted(await s.scalars(select(Vote.campaign_id))) == sorted([azat.id, whole.id, kar_next.id])
        [row] = (await s.scalars(select(DistrictVote))).all()
        assert row.campaign_id == kar_next.id and row.district_kato == DISTRICT
        assert row.token != (await s.get(Resident, rid)).phone_hash


async def test_a_new_account_of_the_phone_cannot_vote_in_the_other_territory(app: App, svc: BudgetService,
                                                                             clock: Clock) -> None:
    """Vote in Azat, delete one's data, come back with the same phone as a resident of Karaozek."""
    residents = app.services.residents
    azat = await campaign(svc, territory=AZAT_OKRUG)
    kar = await campaign(svc, territory=KARAOZEK_OKRUG)
    [a_p], [k_p] = await projects(svc, clock, azat, M), await projects(svc, clock, kar, M)
    clock.now = PHASES["voting_from"] + timedelta(days=1)
    ids = []
    for uid, kato in ((811, AZAT), (812, KARAOZEK)):
        await residents.consent(uid, uid, "kk", "v1")
        await residents.set_territory(uid, kato)
        await residents.complete_registration(uid)
        await residents.verify_phone(uid, "+7 701 555 0202", uid)
        ids.append((await residents.get(uid)).id)
        if uid == 811:
            await svc.cast_vote(ids[0], azat.id, a_p)
            assert await residents.delete_personal_data(811)
            async with app.sessions() as s:  # the settlement history goes with the personal data
                assert await s.scalar(select(func.count()).select_from(ResidentTerritory)
                                      .where(ResidentTerritory.resident_id == ids[0])) == 0
    with pytest.raises(VotedElsewhere):
        await svc.cast_vote(ids[1], kar.id, k_p)
    # a third account of the phone, in Azat: the phone's vote there is counted, and the ballot can say so
    assert await residents.delete_personal_data(812)
    await residents.consent(813, 813, "kk", "v1")
    await residents.set_territory(813, AZAT)
    await residents.complete_registration(813)
    await residents.verify_phone(813, "+7 701 555 0202", 813)
    third = (await residents.get(813)).id
    assert await svc.eligibility(third, azat.id) is None
    standing = await svc.standing(third, azat.id)
    assert standing.earlier == 1 and standing.left == 0 and standing.mine == []
    with pytest.raises(AlreadyVoted):
        await svc.cast_vote(third, azat.id, a_p)


async def test_concurrent_votes_in_two_campaigns_of_a_district_leave_one(app: App, svc: BudgetService,
                                                                         clock: Clock) -> None:
    azat = await campaign(svc, territory=AZAT_OKRUG)
    kar = await campaign(svc, territory=KARAOZEK_OKRUG, **{**PHASES, "voting_from": PHASES["voting_from"]
                                                           + timedelta(days=2)})
    [a_p], [k_p] = await projects(svc, clock, azat, M), await projects(svc, clock, kar, M)
    clock.now = PHASES["voting_from"] + timedelta(days=3)
    for uid in range(821, 831):  # ten people, each eligible in both by their record, each tries both at once
        rid = await resident(app, uid, kato=None)
        await move(app, rid, AZAT, EARLY)
        await move(app, rid, KARAOZEK, PHASES["voting_from"] + timedelta(days=1))
        results = await asyncio.gather(svc.cast_vote(rid, azat.id, a_p), svc.cast_vote(rid, kar.id, k_p),
                                       return_exceptions=True)
        assert sorted(type(r).__name__ for r in results) == ["Receipt", "VotedElsewhere"], results
        async with app.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(Vote).where(Vote.resident_id == rid)) == 1


# -- what the resident reads (the real dispatcher) ------------------------------------------------

FLOW = {
    "kk": {"rule": "дауыс беру басталған кезде тіркелген елді мекені", "district": "Ақкөл ауданы",
           "one_phone": "бір телефон нөмірімен", "counted": "есепке алынған дауыс", "hidden": "Түбіртек жобаны",
           "phone_counted": "Осы телефон нөмірінен берілген дауыс бұл науқанда есепке алынып қойған",
           "vote": "Осыған дауыс беру", "moved": "басталғаннан кейін өзгерттіңіз",
           "record": "сол кезде тіркелген елді мекен есепке алынады"},
    "ru": {"rule": "на момент начала голосования указан населённый пункт", "district": "Аккольский район",
           "one_phone": "с одного номера телефона", "counted": "учтённый голос", "hidden": "Проект по квитанции",
           "phone_counted": "Голос с этого номера телефона в этой кампании уже учтён",
           "vote": "Голосовать за этот", "moved": "сменили населённый пункт после начала",
           "record": "указанный на момент его начала"},
}


async def voting_campaign(app: App, territory: str, title: str, project: str) -> tuple[int, int]:
    c = await flow_campaign(app, "proposals", territory=territory)
    async with app.sessions() as s, s.begin():
        (await s.get(BudgetCampaign, c.id)).title_kk = (await s.get(BudgetCampaign, c.id)).title_ru = title
    [pid] = await ballot_of(app, c, project)
    await move_to(app, c.id, "voting")
    return c.id, pid


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_card_states_the_rule_and_a_receipt_check_hides_the_project(app: App, lang: str) -> None:
    tg, w, who = Telegram(app, app.bot.session), FLOW[lang], Person(4101, lang)
    await register(tg, who, KK if lang == "kk" else RU)
    cid, pid = await voting_campaign(app, AZAT_OKRUG, "Азат 2026", "Саябақ орындықтары")
    card = (await tg.press(who, f"bd:c:{cid}"))[-1].text
    assert w["rule"] in card.lower() and w["district"] in card and w["one_phone"] in card.lower()
    await tg.press(who, f"bd:y:{pid}")
    [receipt] = await app.services.budget.my_votes((await app.services.residents.get(who.id)).id, cid)
    await tg.press(who, "bd:rc")
    checked = (await tg.text(who, receipt.code))[-1].text
    assert w["counted"] in checked and "Азат 2026" in checked and w["hidden"] in checked
    assert "Саябақ" not in checked  # whoever checks the code does not learn the project
    mine = (await tg.press(who, f"bd:mv:{cid}"))[-1].text
    assert "Саябақ орындықтары" in mine  # the voter does


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_a_new_account_of_a_phone_that_voted_is_told_so_on_the_ballot(app: App, lang: str) -> None:
    tg, w = Telegram(app, app.bot.session), FLOW[lang]
    first, second = Person(4111, lang), Person(4112, lang)
    await register(tg, first, KK if lang == "kk" else RU)  # both share the phone +7 701 123 45 67
    cid, pid = await voting_campaign(app, AZAT_OKRUG, "Азат 2026", "Саябақ орындықтары")
    await tg.press(first, f"bd:y:{pid}")
    assert await app.services.residents.delete_personal_data(first.id)
    await register(tg, second, KK if lang == "kk" else RU)
    ballot = (await tg.press(second, f"bd:b:{cid}:0"))[-1]
    assert w["phone_counted"] in ballot.text and w["vote"] not in str(ballot.buttons)
    sent = await tg.press(second, f"bd:v:{pid}")  # an old "vote" button: the same plain answer
    assert w["phone_counted"] in sent[-1].text
    async with app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Vote)) == 1


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_moving_during_voting_is_explained_and_gives_no_second_vote(app: App, lang: str) -> None:
    tg, w, who = Telegram(app, app.bot.session), FLOW[lang], Person(4121, lang)
    words = KK if lang == "kk" else RU
    azat, a_p = await voting_campaign(app, AZAT_OKRUG, "Азат 2026", "Саябақ орындықтары")
    kar, k_p = await voting_campaign(app, KARAOZEK_OKRUG, "Қараөзек 2026", "Жарықтандыру")
    await register(tg, who, words)  # Көктал, in the Azat okrug; voting had opened before (the first choice counts)
    await tg.press(who, f"bd:y:{a_p}")
    await tg.text(who, "/settings")
    await tg.click(who, "📍")
    for label in (("Ақмола", "Ақкөл", "Қараөзек ауылдық") if lang == "kk"
                  else ("Акмолинская", "Аккольский", "Караозекский")):
        await tg.click(who, label)
    saved = await tg.click(who, "Қараөзек" if lang == "kk" else "Караозек", exact=True)
    assert w["record"] in saved[0].text and "Азат 2026" in saved[0].text
    listed = (await tg.press(who, "bd:l"))[-1]
    assert "Азат 2026" in str(listed.buttons) and "Қараөзек 2026" in str(listed.buttons)
    refused = (await tg.press(who, f"bd:b:{kar}:0"))[-1].text
    assert w["moved"] in refused
    await tg.text(who, "/menu")  # the same refusal again, on a message of its own
    refused = (await tg.press(who, f"bd:y:{k_p}"))[-1].text
    assert w["moved"] in refused
    async with app.sessions() as s:
        assert list(await s.scalars(select(Vote.campaign_id))) == [azat]


async def test_district_rows_are_forgotten_once_nothing_can_collide_with_them(app: App, svc: BudgetService,
                                                                             clock: Clock) -> None:
    from bot.services.budget_district import forget_district_votes

    azat = await campaign(svc, territory=AZAT_OKRUG)
    kar = await campaign(svc, territory=KARAOZEK_OKRUG, **later(5))  # overlaps Azat's last five days
    [a_p] = await projects(svc, clock, azat, M)
    await projects(svc, clock, kar, M)
    rid = await resident(app, 841, kato=AZAT)
    clock.now = PHASES["voting_from"] + timedelta(days=1)
    await svc.cast_vote(rid, azat.id, a_p)
    for at, left in ((PHASES["voting_until"] + timedelta(days=1), 1),  # Karaozek's voting still runs
                     (later(5)["voting_until"] + timedelta(seconds=1), 0)):
        async with app.sessions() as s, s.begin():
            await forget_district_votes(s, at)
        async with app.sessions() as s:
            assert await s.scalar(select(func.count()).select_from(DistrictVote)) == left
