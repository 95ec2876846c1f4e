"""People's Budget files and typed times: local date-times, the project CSV import, vote exports.

No Telegram and no wording. Used by the admin's chat wizard (times) and by ``qatysu`` (import, export).

Exports hold no personal data: per project the counts, per vote its id, project, receipt code and time (UTC);
the Pabulib file numbers the voters 1, 2, 3… in the order of their first vote, so nobody can be found from it.
A "voter" there is a person (one verified phone), as the service counts them.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services import spreadsheets
from bot.services.budget import (
    BudgetService,
    ProjectStatus,
    ReviewClosed,
)
from bot.services.territories import subtree
from storage.models import BudgetCampaign, BudgetProject, Territory, Vote

# -- typed times ----------------------------------------------------------------------------------

_LOCAL = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})[ ,T]+(\d{1,2})[:.](\d{2})$")


def parse_local_datetime(text: str, tz: str | ZoneInfo) -> datetime | None:
    """``01.12.2026 09:00`` (day.month.year hours:minutes, local time in ``tz``), or ISO 8601
    (``2026-12-01T09:00``, local unless it has an offset). Returns an aware UTC datetime, or None."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    text = " ".join((text or "").split())[:40]
    m = _LOCAL.match(text)
    try:
        if m:
            day, month, year, hour, minute = (int(g) for g in m.groups())
            local = datetime(year, month, day, hour, minute)
        elif re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}", text):
            local = datetime.fromisoformat(text)
        else:
            return None
    except ValueError:
        return None
    if not 2000 <= local.year <= 2200:
        return None
    aware = local if local.tzinfo else local.replace(tzinfo=zone)
    return aware.astimezone(UTC)


# -- project import -------------------------------------------------------------------------------

REQUIRED = ("title", "cost_tenge")
OPTIONAL = ("description", "territory_kato", "latitude", "longitude")
MAX_ROWS = 5000


class ProjectFileError(ValueError):
    """A bad file or row; the message names the line (``line 3: …``)."""


@dataclass
class ProjectImportReport:
    created: list[int] = field(default_factory=list)  # new project ids
    skipped: list[int] = field(default_factory=list)  # line numbers whose title the campaign already has


def _title_key(title: str) -> str:
    return " ".join(title.split()).casefold()


def read_projects_csv(path: Path | str) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a project file (UTF-8, with or without a BOM; comma or semicolon), checked one by one.
    Returns (line, values); raises ProjectFileError naming the line of the first bad row."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ProjectFileError("the file is not UTF-8 text") from None
    except OSError as exc:
        raise ProjectFileError(str(exc)) from None
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ProjectFileError(f"line 1: missing column(s) {', '.join(missing)} "
                               f"(columns: {', '.join(REQUIRED + OPTIONAL)})")
    unknown = [c for c in header if c and c not in REQUIRED + OPTIONAL]
    if unknown:
        raise ProjectFileError(f"line 1: unknown column(s) {', '.join(unknown)} "
                               f"(columns: {', '.join(REQUIRED + OPTIONAL)})")
    if len(set(header)) != len(header):
        raise ProjectFileError("line 1: a column appears twice")
    out: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise ProjectFileError(f"line {line}: {len(row)} values for {len(header)} columns")
        cells = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header) if h}
        values = _check_row(line, cells)
        key = _title_key(values["title"])
        if key in seen:
            raise ProjectFileError(f"line {line}: the title repeats line {seen[key]}")
        seen[key] = line
        out.append((line, values))
        if len(out) > MAX_ROWS:
            raise ProjectFileError(f"line {line}: more than {MAX_ROWS} projects in one file")
    return out


def _check_row(line: int, cells: dict[str, str]) -> dict[str, Any]:
    title = " ".join(cells.get("title", "").split())
    if not 1 <= len(title) <= 200:
        raise ProjectFileError(f"line {line}: title must be 1-200 characters")
    raw_cost = re.sub(r"[\s\u00a0\u202f]", "", cells.get("cost_tenge", ""))
    if not raw_cost.isdigit() or int(raw_cost) <= 0:
        raise ProjectFileError(f"line {line}: cost_tenge must be a whole positive number of tenge")
    description = cells.get("description", "")
    if len(description) > 4000:
        raise ProjectFileError(f"line {line}: description is longer than 4000 characters")
    kato = cells.get("territory_kato", "")
    if kato and not (kato.isdigit() and len(kato) == 9):
        raise ProjectFileError(f"line {line}: territory_kato must be 9 digits")
    lat_s, lon_s = cells.get("latitude", ""), cells.get("longitude", "")
    if bool(lat_s) != bool(lon_s):
        raise ProjectFileError(f"line {line}: give both latitude and longitude, or neither")
    lat = lon = None
    if lat_s:
        try:
            lat, lon = float(lat_s.replace(",", ".")), float(lon_s.replace(",", "."))
        except ValueError:
            raise ProjectFileError(f"line {line}: latitude and longitude must be numbers") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ProjectFileError(f"line {line}: latitude must be within ±90 and longitude within ±180")
    return {"title": title, "cost_tenge": int(raw_cost), "description": description or None,
            "territory_kato": kato or None, "latitude": lat, "longitude": lon}


async def import_projects_file(sessions: async_sessionmaker[AsyncSession], budget: BudgetService,
                               campaign_id: int, path: Path | str, actor: int | None) -> ProjectImportReport:
    """Import the akimat's projects of a CSV file into a campaign (straight onto the ballot), all or none.
    A row whose title the campaign already has is skipped, so running the same file twice adds nothing."""
    rows = read_projects_csv(path)
    async with sessions() as s:
        c = await s.get(BudgetCampaign, campaign_id)
        if c is None:
            raise ProjectFileError(f"campaign {campaign_id} does not exist")
        inside = await subtree(s, c.territory_kato)
        existing = {_title_key(t) for t in await s.scalars(
            select(BudgetProject.title).where(BudgetProject.campaign_id == campaign_id))}
    report = ProjectImportReport()
    new: list[dict[str, Any]] = []
    for line, values in rows:
        if values["cost_tenge"] > c.budget_tenge:
            raise ProjectFileError(f"line {line}: cost_tenge {values['cost_tenge']} is more than the campaign "
                                   f"budget {c.budget_tenge}")
        if values["territory_kato"] and values["territory_kato"] not in inside:
            raise ProjectFileError(f"line {line}: territory_kato {values['territory_kato']} is not within the "
                                   f"campaign territory {c.territory_kato}")
        if _title_key(values["title"]) in existing:
            report.skipped.append(line)
        else:
            new.append(values)
    if new:
        try:
            created = await budget.import_projects(campaign_id, new, actor)  # type: ignore[arg-type]
        except ReviewClosed as exc:
            raise ProjectFileError(f"campaign {campaign_id} is in phase {exc.phase}: projects can be added only "
                                   "before voting opens") from None
        report.created = [p.id for p in created]
    return report


# -- vote export ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectCount:
    id: int
    title: str
    cost_tenge: int
    votes: int
    eligible: bool
    winner: bool


@dataclass(frozen=True)
class VoteRow:
    id: int
    project_id: int
    receipt: str
    at: datetime  # UTC


@dataclass
class VoteExport:
    campaign: BudgetCampaign
    territory: Territory | None
    published: bool  # counts and winners are the published ones; otherwise a provisional tally
    projects: list[ProjectCount]
    votes: list[VoteRow]
    ballots: list[tuple[int, list[int]]]  # (pseudonymous voter number 1.., project ids)

    @property
    def winners(self) -> list[int]:
        return [p.id for p in self.projects if p.winner]


async def export_votes(sessions: async_sessionmaker[AsyncSession], budget: BudgetService,
                       campaign_id: int) -> VoteExport | None:
    """The campaign's counts and votes without personal data; None when there is no such campaign."""
    async with sessions() as s:
        c = await s.get(BudgetCampaign, campaign_id)
        if c is None:
            return None
        territory = await s.get(Territory, c.territory_kato)
        accepted = {pid for pid in await s.scalars(select(BudgetProject.id).where(
            BudgetProject.campaign_id == campaign_id, BudgetProject.status == ProjectStatus.ACCEPTED.value))}
        # a voter is a resident row: one phone has one (voter tokens see to it), and it outlives token erasure
        raw = (await s.execute(select(Vote.id, Vote.project_id, Vote.receipt, Vote.created_at, Vote.resident_id)
                               .where(Vote.campaign_id == campaign_id).order_by(Vote.id))).all()
    if c.results_json:
        published = True
        projects = [ProjectCount(int(r["project_id"]), str(r["title"]), int(r["cost_tenge"]), int(r["votes"]),
                                 bool(r["eligible"]), bool(r["winner"])) for r in c.results_json["rows"]]
    else:
        published = False
        tally = await budget.tally(campaign_id)
        projects = [ProjectCount(r.project_id, r.title, r.cost_tenge, r.votes, r.eligible, r.winner)
                    for r in tally.rows]
    projects.sort(key=lambda p: p.id)
    votes = [VoteRow(vid, pid, receipt, at.astimezone(UTC)) for vid, pid, receipt, at, _ in raw if pid in accepted]
    number: dict[str, int] = {}
    ballots: dict[int, list[int]] = {}
    for _, pid, _, _, person in raw:  # oldest vote first: voters numbered by their first vote
        if pid not in accepted:
            continue
        n = number.setdefault(person, len(number) + 1)
        ballots.setdefault(n, []).append(pid)
    return VoteExport(c, territory, published, projects, votes,
                      [(n, sorted(pids)) for n, pids in sorted(ballots.items())])


PROJECT_COLUMNS = ("project_id", "title", "cost_tenge", "votes", "eligible", "winner")
VOTE_COLUMNS = ("vote_id", "project_id", "receipt", "voted_at_utc")


def _project_row(p: ProjectCount) -> list[Any]:
    return [p.id, p.title, p.cost_tenge, p.votes, p.eligible, p.winner]


def _vote_row(v: VoteRow) -> list[Any]:
    return [v.id, v.project_id, v.receipt, v.at]


def csv_paths(output: Path) -> tuple[Path, Path]:
    """CSV is two files beside each other: ``NAME-projects.csv`` and ``NAME-votes.csv``."""
    stem = output.name[:-4] if output.name.lower().endswith(".csv") else output.name
    return output.with_name(f"{stem}-projects.csv"), output.with_name(f"{stem}-votes.csv")


def _sheets(data: VoteExport) -> list[spreadsheets.Sheet]:
    return [("projects", PROJECT_COLUMNS, [_project_row(p) for p in data.projects]),
            ("votes", VOTE_COLUMNS, [_vote_row(v) for v in data.votes])]


def write_votes_csv(data: VoteExport, output: Path) -> list[Path]:
    """Two CSV files (UTF-8 with a BOM for Excel, comma): counts per project, and one row per vote."""
    paths = csv_paths(output)
    for path, (_, header, rows) in zip(paths, _sheets(data), strict=True):
        spreadsheets.write_csv(path, header, rows)
    return list(paths)


def write_votes_xlsx(data: VoteExport, output: Path) -> list[Path]:
    """One workbook, two sheets: ``projects`` and ``votes`` (times are UTC wall times)."""
    spreadsheets.write_xlsx(output, _sheets(data), widths={"title": 40, "voted_at_utc": 20})
    return [output]


def _pb_text(value: object) -> str:
    return " ".join(str(value).replace(";", ",").split())


def pabulib_text(data: VoteExport, tz: str | ZoneInfo) -> str:
    """The campaign in the Pabulib ``.pb`` format (META, PROJECTS, VOTES; ``;``-separated, see pabulib.org)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    c, t = data.campaign, data.territory
    begin, end = c.voting_from.astimezone(zone), c.voting_until.astimezone(zone)
    ballot_ids = {p.id for p in data.projects}
    ballots = [(n, [pid for pid in pids if pid in ballot_ids]) for n, pids in data.ballots]
    meta: list[tuple[str, object]] = [
        ("description", f"{c.title_kk} / {c.title_ru}"),
        ("country", "Kazakhstan"),
        ("unit", t.name_ru if t else c.territory_kato),
        ("unit_kk", t.name_kk if t else c.territory_kato),
        ("kato", c.territory_kato),
        ("instance", f"{begin.year}-{c.id}"),
        ("num_projects", len(data.projects)),
        ("num_votes", len(ballots)),
        ("budget", int(c.budget_tenge)),
        ("currency", "KZT"),
        ("vote_type", "choose-1" if c.votes_per_resident == 1 else "approval"),
        ("rule", "greedy"),
        ("date_begin", begin.strftime("%d.%m.%Y")),
        ("date_end", end.strftime("%d.%m.%Y")),
        ("min_length", 1),
        ("max_length", int(c.votes_per_resident)),
        ("threshold", int(c.threshold)),
        ("tie_rule", c.tie_rule),
        ("comment", f"greedy by votes among projects with at least {c.threshold} votes (fewer may not be "
                    f"implemented); ties: {c.tie_rule}; "
                    + ("published results" if data.published else "provisional count, results not published")),
    ]
    if c.results_digest:
        meta.append(("results_sha256", c.results_digest))
    lines = ["META", "key;value", *(f"{k};{_pb_text(v)}" for k, v in meta),
             "PROJECTS", "project_id;cost;votes;name;selected",
             *(f"{p.id};{p.cost_tenge};{p.votes};{_pb_text(p.title)};{int(p.winner)}" for p in data.projects),
             "VOTES", "voter_id;vote",
             *(f"{n};{','.join(str(pid) for pid in pids)}" for n, pids in ballots if pids)]
    return "\n".join(lines) + "\n"


def write_pabulib(data: VoteExport, output: Path, tz: str | ZoneInfo) -> list[Path]:
    output.write_text(pabulib_text(data, tz), encoding="utf-8")
    return [output]

