"""People's Budget phases by themselves: scheduled tasks tell the territory's residents in their language, the
results are published at their time and reach every voter and resident once; late runs after downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import App
from bot.services.budget_notices import schedule_phases
from storage.models import AuditLog, BudgetCampaign, OutboxMessage
from tests.support.budget_helpers import AZAT_OKRUG, KARAOZEK, KOKTAL, Clock, M, campaign, resident, use_clock
from tests.support.notices import worded
from tests.support.telegram import Person, Telegram

T0 = datetime(2030, 3, 1, 4, 0, tzinfo=UTC)
START = T0 + timedelta(hours=1)  # proposals open; see tests/support/budget_helpers.py phases()


async def _rows(app: App, prefix: str) -> dict[int, OutboxMessage]:
    """Outbox rows whose key starts with ``prefix``, by resident id."""
    async with app.sessions() as s:
        rows = await s.scalars(select(OutboxMessage).where(OutboxMessage.key.startswith(prefix)))
        return {r.resident_id: r for r in rows}


async def _setup(app: App) -> tuple[BudgetCampaign, dict[str, int], Clock]:
    clock = use_clock(app, T0)
    c = await campaign(app, START)
    assert await schedule_phases(app.services.tasks, c) == 4
    assert await schedule_phases(app.services.tasks, c) == 0  # idempotent
    people = {"kk": await resident(app, 6001, "kk"), "ru": await resident(app, 6002, "ru", kato=KOKTAL),
              "quiet": await resident(app, 6003, "kk", notifications=False),
              "outside": await resident(app, 6004, "ru", kato=KARAOZEK)}
    return c, people, clock


async def test_phase_notices_reach_the_territory_in_each_language_once(app: App) -> None:
    c, people, clock = await _setup(app)
    tasks = app.services.tasks
    assert await tasks.run_due() == 0  # nothing is due before proposals open
    expected = {
        "proposals_open": (c.proposals_from, "Ұсыныстар", "Предложения принимаются"),
        "voting_open": (c.voting_from, "Дауыс беру", "Голосование открыто"),
        "voting_closing": (c.voting_until - timedelta(days=1), "аяқталады", "заканчивается"),
    }
    for kind, (at, kk, ru) in expected.items():
        clock.now = at + timedelta(minutes=1)
        assert await tasks.run_due() == 1
        rows = await _rows(app, f"budget:{c.id}:{kind}:")
        assert set(rows) == {people["kk"], people["ru"]}  # not the one who turned notices off, not outside
        said = {who: await worded(app, rows[people[who]]) for who in ("kk", "ru")}
        assert kk in said["kk"]["text"] and "Азат бюджеті" in said["kk"]["text"]
        assert ru in said["ru"]["text"] and "Бюджет Азата" in said["ru"]["text"]
        assert said["kk"]["buttons"] == [[{"text": said["kk"]["buttons"][0][0]["text"], "data": f"bd:c:{c.id}"}]]
        assert (await tasks.get(f"budget:{c.id}:{kind}")).outcome == "sent"
        # run again, and the handler re-run by hand (as after a crash): nothing is sent twice
        assert await tasks.run_due() == 0
        task = await tasks.get(f"budget:{c.id}:{kind}")
        await tasks.handlers[task.kind](task, clock.now)
        assert len(await _rows(app, f"budget:{c.id}:{kind}:")) == 2
    rows = await _rows(app, f"budget:{c.id}:voting_open:")
    assert "У каждого жителя 1 голос." in (await worded(app, rows[people["ru"]]))["text"]


async def test_results_are_published_and_reach_voters_and_residents_once(app: App, tg: Telegram) -> None:
    c, people, clock = await _setup(app)
    budget, tasks = app.services.budget, app.services.tasks
    [winner, loser] = [p.id for p in await budget.import_projects(
        c.id, [{"title": "Балалар алаңы", "cost_tenge": 4 * M}, {"title": "Орындықтар", "cost_tenge": M}], 900001)]
    clock.now = c.voting_from + timedelta(hours=1)
    voters = [await resident(app, 6100 + i, "ru" if i % 2 else "kk", notifications=i != 0) for i in range(11)]
    for rid in voters[:10]:
        await budget.cast_vote(rid, c.id, winner)
    await budget.cast_vote(voters[10], c.id, loser)
    await budget.cast_vote(people["quiet"], c.id, loser)
    await app.services.residents.set_territory(6105, KARAOZEK)  # moved away after voting: still told
    clock.now = c.results_at
    await tasks.run_due()  # the closing notice (late) is skipped, the results are published
    assert (await tasks.get(f"budget:{c.id}:voting_closing")).outcome == "skipped"
    assert (await tasks.get(f"budget:{c.id}:results")).outcome == "published"
    stored = await budget.get_campaign(c.id)
    assert stored.published_at == c.results_at and stored.results_digest == (await budget.tally(c.id)).digest
    assert [r["project_id"] for r in stored.results_json["rows"] if r["winner"]] == [winner]
    async with app.sessions() as s:
        publish = (await s.scalars(select(AuditLog).where(AuditLog.action == "budget.results_publish"))).one()
    assert publish.actor_user_id is None  # the system

    rows = await _rows(app, f"budget:{c.id}:results:")
    # every voter (also the one with notices off and the one who moved), and the territory's residents who allow
    # notices; not the non-voter outside, not the quiet non-voter... who did vote here, so is told
    assert set(rows) == {*voters, people["kk"], people["ru"], people["quiet"]}
    assert people["outside"] not in rows
    await tasks.run_due()
    task = await tasks.get(f"budget:{c.id}:results")
    await tasks.handlers[task.kind](task, clock.now)
    assert len(await _rows(app, f"budget:{c.id}:results:")) == len(rows)

    await app.sender.run_once()
    kk_msg, ru_msg = tg.last(6001), tg.last(6002)
    assert "Дауыс беру нәтижелері шықты" in kk_msg.text and "Балалар алаңы: 10 дауыс" in kk_msg.text
    assert "Итоги голосования подведены" in ru_msg.text and "Балалар алаңы: 10 голосов" in ru_msg.text
    assert "Орындықтар" not in ru_msg.text  # 2 votes: below the threshold of 10
    assert "12 голосов" in ru_msg.text
    assert ru_msg.buttons[0]["callback_data"] == kk_msg.buttons[0]["callback_data"] == f"bd:res:{c.id}"
    sent = await tg.press(Person(6002, "ru"), f"bd:res:{c.id}", ru_msg)  # the resident side opens the results
    shown = " ".join(m.text for m in sent)
    assert "Бюджет Азата" in shown and "Балалар алаңы" in shown


async def test_a_late_run_still_does_its_work_once_and_skips_what_is_over(app: App) -> None:
    c, people, clock = await _setup(app)
    tasks = app.services.tasks
    clock.now = c.voting_from + timedelta(days=2)  # the bot was down
    await tasks.run_due()
    assert (await tasks.get(f"budget:{c.id}:proposals_open")).outcome == "skipped"  # proposals are over
    assert (await tasks.get(f"budget:{c.id}:voting_open")).outcome == "sent"  # late, but voting is on
    assert set(await _rows(app, f"budget:{c.id}:voting_open:")) == {people["kk"], people["ru"]}
    assert await _rows(app, f"budget:{c.id}:proposals_open:") == {}
    clock.now = c.voting_until + timedelta(hours=1)  # down again
    await tasks.run_due()
    assert (await tasks.get(f"budget:{c.id}:voting_closing")).outcome == "skipped"  # voting is already over
    assert await _rows(app, f"budget:{c.id}:voting_closing:") == {}
    assert (await tasks.get(f"budget:{c.id}:results")).done_at is None  # not due yet
    clock.now = c.results_at + timedelta(days=3)
    await tasks.run_due()
    assert (await tasks.get(f"budget:{c.id}:results")).outcome == "published"
    no_winner = (await worded(app, (await _rows(app, f"budget:{c.id}:results:"))[people["ru"]]))["text"]
    assert "ни один проект не будет реализован" in no_winner and "0 голосов" in no_winner


async def test_short_voting_gets_no_closing_notice_and_a_removed_campaign_is_skipped(app: App) -> None:
    use_clock(app, T0)
    c = await app.services.budget.create_campaign(
        AZAT_OKRUG, "Қысқа", "Короткая", M, proposals_from=START, proposals_until=START + timedelta(days=1),
        review_until=START + timedelta(days=2), voting_from=START + timedelta(days=2),
        voting_until=START + timedelta(days=2, hours=12), results_at=START + timedelta(days=3))
    assert await schedule_phases(app.services.tasks, c) == 3
    assert {t.key.rsplit(":", 1)[1] for t in await app.services.tasks.pending(f"budget:{c.id}:")} == {
        "proposals_open", "voting_open", "results"}
    await app.services.tasks.schedule("budget:999:results", "budget_results", T0, ref_id=999)
    await app.services.tasks.run_due()
    assert (await app.services.tasks.get("budget:999:results")).outcome == "skipped"
