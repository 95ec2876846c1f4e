"""The People's Budget from the command line: ``qatysu budget create``, ``qatysu import projects`` and
``qatysu export votes`` (CSV, XLSX, Pabulib), with no personal data in the files. The Pabulib file is read back
with a small reader written here from the format (pabulib.org) and the winners recomputed from it."""

from __future__ import annotations

import asyncio
import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.services.budget import BudgetService
from bot.services.budget_io import parse_local_datetime
from bot.services.residents import ResidentService
from storage.db import make_engine, make_session_factory
from storage.models import AuditLog, BudgetCampaign, BudgetProject, Resident, ScheduledTask, Vote

DATA = Path(__file__).parent / "data"
YEAR = datetime.now(UTC).year + 5
TZ = ZoneInfo("Asia/Almaty")
M = 1_000_000
TIMES = ["--proposals-from", f"01.12.{YEAR} 09:00", "--proposals-until", f"15.12.{YEAR} 18:00",
         "--voting-from", f"20.12.{YEAR} 09:00", "--voting-until", f"30.12.{YEAR} 18:00",
         "--results-at", f"31.12.{YEAR} 10:00"]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    monkeypatch.setenv("QATYSU_DATABASE__URL", database_url)
    monkeypatch.setenv("QATYSU_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    assert main(["import", "territories", str(DATA / "territories.csv")]) == 0
    return database_url


def create(capsys: pytest.CaptureFixture[str], *extra: str, budget: str = "10000000") -> int:
    code = main(["budget", "create", "--title-kk", "Азат бюджеті", "--title-ru", "Бюджет Азата",
                 "--territory", "114030000", *TIMES, "--budget", budget, "--actor", "900001", *extra])
    out = capsys.readouterr().out
    assert code == 0, out
    return int(re.search(r"campaign (\d+) created", out).group(1))


def run(url: str, work):
    async def go():
        engine = make_engine(url)
        try:
            return await work(make_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_parse_local_datetime() -> None:
    expected = datetime(2026, 12, 1, 9, tzinfo=TZ).astimezone(UTC)
    assert parse_local_datetime("01.12.2026 09:00", "Asia/Almaty") == expected
    assert parse_local_datetime(" 1.2.2027   7:05 ", TZ) == datetime(2027, 2, 1, 7, 5, tzinfo=TZ).astimezone(UTC)
    assert parse_local_datetime("2026-12-01T09:00+00:00", TZ) == datetime(2026, 12, 1, 9, tzinfo=UTC)
    for bad in ("", "01.12.2026", "31.02.2026 09:00", "01.12.2026 25:00", "tomorrow", "01.12.1900 09:00"):
        assert parse_local_datetime(bad, TZ) is None, bad


def test_budget_create_schedules_the_phases_and_refuses_bad_settings(env: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    cid = create(capsys, "--votes-per-resident", "3", "--allow-change", "--threshold", "50", "--tie-rule",
                 "lot_by_digest")

    async def check(sessions):
        async with sessions() as s:
            c = await s.get(BudgetCampaign, cid)
            tasks = {t.key: t.due_at for t in await s.scalars(select(ScheduledTask))}
            audit = [(a.action, a.actor_user_id) for a in await s.scalars(select(AuditLog))]
        return c, tasks, audit

    c, tasks, audit = run(env, check)
    assert c.proposals_from == datetime(YEAR, 12, 1, 9, tzinfo=TZ).astimezone(UTC)
    assert c.review_until == c.voting_from == datetime(YEAR, 12, 20, 9, tzinfo=TZ).astimezone(UTC)
    assert (c.votes_per_resident, c.vote_change_allowed, c.threshold, c.tie_rule) == (3, True, 50, "lot_by_digest")
    assert tasks == {f"budget:{cid}:proposals_open": c.proposals_from, f"budget:{cid}:voting_open": c.voting_from,
                     f"budget:{cid}:voting_closing": c.voting_until - timedelta(days=1),
                     f"budget:{cid}:results": c.results_at}
    assert ("budget.campaign_create", 900001) in audit

    base = ["budget", "create", "--title-kk", "А", "--title-ru", "Б", "--territory", "114030000", "--budget", "5",
            "--actor", "1"]
    assert main([*base, *TIMES, "--threshold", "9"]) == 1
    assert "2030" in capsys.readouterr().err  # names the Concept ... until 2030
    swapped = list(TIMES)
    swapped[7], swapped[9] = swapped[9], swapped[7]  # voting ends after the results
    assert main([*base, *swapped]) == 1
    assert "not in order" in capsys.readouterr().err
    assert main([*base[:7], "999999999", *base[8:], *TIMES]) == 1
    assert "not loaded" in capsys.readouterr().err
    bad = list(TIMES)
    bad[1] = "next week"
    assert main([*base, *bad]) == 2
    assert "--proposals-from" in capsys.readouterr().err
    past = [t.replace(str(YEAR), str(YEAR - 10)) for t in TIMES]
    assert main([*base, *past]) == 1
    assert "already past" in capsys.readouterr().err
    assert len(run(env, check)[1]) == 4  # nothing else was created


def test_import_projects_names_bad_lines_and_is_idempotent(env: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    cid = create(capsys)
    good = tmp_path / "projects.csv"
    good.write_text("title,description,cost_tenge,territory_kato,latitude,longitude\n"
                    "Балалар алаңы,\"Көктал, мектеп жанында\",3 000 000,114033200,52.0,70.9\n"
                    "Көше жарығы,,1500000,,,\n", encoding="utf-8-sig")
    assert main(["import", "projects", str(good), "--campaign", str(cid), "--actor", "900001"]) == 0
    assert "2 created, 0 skipped" in capsys.readouterr().out
    assert main(["import", "projects", str(good), "--campaign", str(cid)]) == 0
    out = capsys.readouterr().out
    assert "0 created, 2 skipped" in out and "lines 2, 3" in out

    cases = [
        ("title,cost_tenge\nЖаңа,1000\nАртық,20000000\n", "line 3: cost_tenge 20000000 is more than the campaign"),
        ("title,cost_tenge,territory_kato\nЖаңа,1000,114043100\n", "line 2: territory_kato 114043100 is not within"),
        ("title,cost_tenge,latitude\nЖаңа,1000,52\n", "line 2: give both latitude"),
        ("title,cost\nЖаңа,1000\n", "line 1: missing column(s) cost_tenge"),
        ("title;cost_tenge\nЖаңа;\n", "line 2: cost_tenge must be a whole positive number"),
        ("title,cost_tenge\nЖаңа,1000\nжаңа ,2000\n", "line 3: the title repeats line 2"),
    ]
    for text, message in cases:
        bad = tmp_path / "bad.csv"
        bad.write_text(text, encoding="utf-8")
        assert main(["import", "projects", str(bad), "--campaign", str(cid)]) == 1
        assert message in capsys.readouterr().err, text
    assert main(["import", "projects", str(good), "--campaign", "999"]) == 1
    assert "campaign 999 does not exist" in capsys.readouterr().err
    assert main(["import", "projects", str(good)]) == 2

    async def check(sessions):
        async with sessions() as s:
            projects = list(await s.scalars(select(BudgetProject).order_by(BudgetProject.id)))
            imports = [a.actor_user_id for a in await s.scalars(
                select(AuditLog).where(AuditLog.action == "budget.projects_import"))]
        return projects, imports

    projects, imports = run(env, check)
    assert [(p.title, p.cost_tenge, p.territory_kato, p.status, p.description) for p in projects] == [
        ("Балалар алаңы", 3 * M, "114033200", "accepted", "Көктал, мектеп жанында"),
        ("Көше жарығы", 1_500_000, "114030000", "accepted", None)]
    assert (projects[0].latitude, projects[0].longitude) == (52.0, 70.9)
    assert imports == [900001]


def _campaign_with_votes(env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> tuple[int, dict]:
    """Budget 10M, two votes per person, threshold 10: A (6M) 12 votes, B (5M) 11, C (3M) 10, D (1M) 3.
    Greedy: A wins, B does not fit, C fits, D is below the threshold. The results are published."""
    cid = create(capsys, "--votes-per-resident", "2")
    f = tmp_path / "p.csv"
    f.write_text("title,cost_tenge\nA; playground,6000000\nB,5000000\nC,3000000\nD,1000000\n", encoding="utf-8")
    assert main(["import", "projects", str(f), "--campaign", str(cid)]) == 0

    async def vote(sessions):
        async with sessions() as s:
            c = await s.get(BudgetCampaign, cid)
            a, b, c_, d = [p.id for p in await s.scalars(select(BudgetProject).where(BudgetProject.campaign_id == cid)
                                                          .order_by(BudgetProject.id))]
        now = [c.voting_from + timedelta(hours=1)]
        budget = BudgetService(sessions, clock=lambda: now[0], phone_key=b"test-key")
        residents = ResidentService(sessions, b"test-key")
        for uid in range(7000, 7005):  # residents who do not vote: resident ids and voter numbers differ
            await residents.consent(uid, uid, "kk", "v1")
        ballots = [[a, b]] * 11 + [[a, c_]] + [[c_]] * 9 + [[d]] * 3
        for i, projects in enumerate(reversed(ballots)):
            uid = 7100 + i
            await residents.consent(uid, uid, "ru", "v1")
            await residents.set_territory(uid, "114033100")
            await residents.complete_registration(uid)
            await residents.verify_phone(uid, f"+7 702 {uid:07d}", uid)
            rid = (await residents.get(uid)).id
            for pid in projects:
                await budget.cast_vote(rid, cid, pid)
        now[0] = c.voting_until + timedelta(hours=1)
        result = await budget.publish_results(cid, 900001)
        async with sessions() as s:
            secrets = {"phones": [r.phone for r in await s.scalars(select(Resident)) if r.phone],
                       "hashes": [v.voter_token for v in await s.scalars(select(Vote))]
                       + [r.phone_hash for r in await s.scalars(select(Resident)) if r.phone_hash],
                       "resident_ids": {v.resident_id for v in await s.scalars(select(Vote))}}
        return {"ids": (a, b, c_, d), "winners": [r.project_id for r in result.winners], "digest": result.digest,
                **secrets}

    return cid, run(env, vote)


def read_pabulib(text: str) -> tuple[dict[str, str], dict[str, dict[str, str]], dict[str, list[str]]]:
    """META as key → value, PROJECTS by project_id, VOTES as voter_id → project ids (pabulib.org format)."""
    meta: dict[str, str] = {}
    projects: dict[str, dict[str, str]] = {}
    votes: dict[str, list[str]] = {}
    section, header = "", []
    reader = csv.reader(text.splitlines(), delimiter=";")
    for row in reader:
        if not row:
            continue
        if row[0].strip().lower() in ("meta", "projects", "votes"):
            section, header = row[0].strip().lower(), next(reader)
            continue
        assert len(row) == len(header), row
        record = dict(zip(header, row, strict=True))
        if section == "meta":
            meta[record["key"]] = record["value"]
        elif section == "projects":
            projects[record["project_id"]] = record
        else:
            votes[record["voter_id"]] = record["vote"].split(",")
    return meta, projects, votes


def greedy(meta: dict[str, str], projects: dict[str, dict[str, str]], threshold: int) -> list[int]:
    """Winners: by votes (most first), at or over the threshold, while the cost fits the remaining budget."""
    remaining = int(meta["budget"])
    winners = []
    for pid, p in sorted(projects.items(), key=lambda kv: -int(kv[1]["votes"])):
        if int(p["votes"]) >= threshold and int(p["cost"]) <= remaining:
            winners.append(int(pid))
            remaining -= int(p["cost"])
    return winners


def test_pabulib_export_parses_back_and_gives_the_published_winners(env: str, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    cid, facts = _campaign_with_votes(env, capsys, tmp_path)
    a, b, c, d = facts["ids"]
    assert facts["winners"] == [a, c]
    out = tmp_path / "azat.pb"
    assert main(["export", "votes", "--campaign", str(cid), "--format", "pabulib", "--output", str(out)]) == 0
    assert "published results" in capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    meta, projects, votes = read_pabulib(text)
    assert (meta["country"], meta["unit"], meta["vote_type"], meta["rule"]) == (
        "Kazakhstan", "Азатский сельский округ", "approval", "greedy")
    assert (meta["budget"], meta["num_projects"], meta["num_votes"], meta["max_length"]) == ("10000000", "4", "24", "2")
    assert (meta["date_begin"], meta["date_end"]) == (f"20.12.{YEAR}", f"30.12.{YEAR}")
    assert meta["description"] == "Азат бюджеті / Бюджет Азата" and meta["results_sha256"] == facts["digest"]
    assert projects[str(a)]["name"] == "A, playground"  # a ";" never breaks the columns
    assert {pid: int(p["votes"]) for pid, p in projects.items()} == {str(a): 12, str(b): 11, str(c): 10, str(d): 3}
    counted: dict[str, int] = {}
    for ballot in votes.values():
        assert 1 <= len(ballot) <= 2
        for pid in ballot:
            counted[pid] = counted.get(pid, 0) + 1
    assert counted == {pid: int(p["votes"]) for pid, p in projects.items()}
    assert sorted(int(v) for v in votes) == list(range(1, 25))  # pseudonyms, not resident ids
    assert {int(v) for v in votes} != facts["resident_ids"]
    assert greedy(meta, projects, int(meta["threshold"])) == facts["winners"]
    assert [int(pid) for pid, p in projects.items() if p["selected"] == "1"] == sorted(facts["winners"])
    for secret in facts["phones"] + facts["hashes"]:
        assert secret not in text


def test_csv_and_xlsx_exports_hold_counts_and_votes_without_personal_data(env: str, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import load_workbook

    cid, facts = _campaign_with_votes(env, capsys, tmp_path)
    a, b, c, d = facts["ids"]
    assert main(["export", "votes", "--campaign", str(cid), "--output", str(tmp_path / "azat.csv")]) == 0
    assert "azat-projects.csv" in capsys.readouterr().out
    with open(tmp_path / "azat-projects.csv", encoding="utf-8-sig", newline="") as fp:
        projects = list(csv.DictReader(fp))
    with open(tmp_path / "azat-votes.csv", encoding="utf-8-sig", newline="") as fp:
        votes = list(csv.DictReader(fp))
    assert [(int(p["project_id"]), int(p["votes"]), p["eligible"], p["winner"]) for p in projects] == [
        (a, 12, "true", "true"), (b, 11, "true", "false"), (c, 10, "true", "true"), (d, 3, "false", "false")]
    assert list(votes[0]) == ["vote_id", "project_id", "receipt", "voted_at_utc"] and len(votes) == 36
    assert all(v["voted_at_utc"].endswith("+00:00") for v in votes)
    assert {int(v["project_id"]) for v in votes} == {a, b, c, d}

    xlsx = tmp_path / "azat.xlsx"
    assert main(["export", "votes", "--campaign", str(cid), "--format", "xlsx", "--output", str(xlsx)]) == 0
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["projects", "votes"]
    rows = list(wb["projects"].iter_rows(values_only=True))
    assert rows[0] == ("project_id", "title", "cost_tenge", "votes", "eligible", "winner")
    assert [r[3] for r in rows[1:]] == [12, 11, 10, 3] and [r[5] for r in rows[1:]] == [True, False, True, False]
    assert wb["votes"].max_row == 37 and isinstance(wb["votes"]["D2"].value, datetime)

    files = [(tmp_path / n).read_text(encoding="utf-8-sig") for n in ("azat-projects.csv", "azat-votes.csv")]
    files.append(str([list(r) for ws in wb for r in ws.iter_rows(values_only=True)]))
    for content in files:
        for secret in facts["phones"] + facts["hashes"]:
            assert secret not in content
    assert main(["export", "votes", "--campaign", "999", "--output", str(tmp_path / "x.csv")]) == 1
    assert "does not exist" in capsys.readouterr().err

    async def exports(sessions):
        async with sessions() as s:
            return [a.details["format"] for a in await s.scalars(
                select(AuditLog).where(AuditLog.action == "budget.votes_export").order_by(AuditLog.id))]

    assert run(env, exports) == ["csv", "xlsx"]
