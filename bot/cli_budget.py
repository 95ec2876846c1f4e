"""``qatysu budget create``, ``qatysu import projects`` and ``qatysu export votes``: the People's Budget
from the command line (bot/cli.py hands these over)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from bot.services.budget import (
    MIN_THRESHOLD,
    BudgetService,
    InvalidCampaign,
    ThresholdTooLow,
    TieRule,
)
from bot.services.budget_io import (
    ProjectFileError,
    export_votes,
    import_projects_file,
    parse_local_datetime,
    write_pabulib,
    write_votes_csv,
    write_votes_xlsx,
)
from bot.services.budget_notices import schedule_phases
from bot.services.tasks import TaskService

TIMES = ("proposals_from", "proposals_until", "voting_from", "voting_until", "results_at")
LAW = (f"the threshold may not be below {MIN_THRESHOLD}: under the Concept for the Development of Local "
       "Self-Government in the Republic of Kazakhstan until 2030, a project that fewer than ten residents voted "
       "for may not be implemented")


def add_budget_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("budget", help="People's Budget campaigns",
                       description="Create a People's Budget campaign; times are local (locale.timezone), typed "
                                   "as \"01.12.2026 09:00\" or ISO 8601. The review of proposals runs from "
                                   "--proposals-until to --voting-from. Residents are told of each phase.")
    b.add_argument("action", choices=["create"])
    b.add_argument("--title-kk", required=True)
    b.add_argument("--title-ru", required=True)
    b.add_argument("--territory", required=True, metavar="KATO")
    for name in TIMES:
        b.add_argument("--" + name.replace("_", "-"), required=True, metavar="\"DD.MM.YYYY HH:MM\"")
    b.add_argument("--budget", required=True, type=int, metavar="TENGE")
    b.add_argument("--votes-per-resident", type=int, default=1)
    b.add_argument("--allow-change", action="store_true", help="a resident may move a vote while voting is open")
    b.add_argument("--threshold", type=int, default=MIN_THRESHOLD,
                   help=f"fewer votes than this: may not be implemented (at least {MIN_THRESHOLD})")
    b.add_argument("--tie-rule", choices=[r.value for r in TieRule], default=TieRule.EARLIER_SUBMISSION.value)
    b.add_argument("--actor", required=True, type=int, metavar="USER_ID", help="the admin's Telegram ID (audit log)")


def create_campaign(settings: Settings, args: argparse.Namespace, with_db) -> int:
    tz = settings.locale.timezone
    times: dict[str, datetime] = {}
    for name in TIMES:
        raw = getattr(args, name)
        when = parse_local_datetime(raw, tz)
        if when is None:
            print(f"--{name.replace('_', '-')}: {raw!r} is not a date and time like \"01.12.2026 09:00\"",
                  file=sys.stderr)
            return 2
        times[name] = when
    if args.threshold < MIN_THRESHOLD:
        print(f"--threshold {args.threshold}: {LAW}", file=sys.stderr)
        return 1
    if times["proposals_until"] <= datetime.now(UTC):
        print("--proposals-until is already past: a campaign must still be ahead", file=sys.stderr)
        return 1

    async def work(sessions):
        budget = BudgetService(sessions)
        c = await budget.create_campaign(
            args.territory, args.title_kk, args.title_ru, args.budget, proposals_from=times["proposals_from"],
            proposals_until=times["proposals_until"], review_until=times["voting_from"],
            voting_from=times["voting_from"], voting_until=times["voting_until"], results_at=times["results_at"],
            votes_per_resident=args.votes_per_resident, vote_change_allowed=args.allow_change,
            threshold=args.threshold, tie_rule=args.tie_rule, created_by=args.actor)
        scheduled = await schedule_phases(TaskService(sessions), c)
        return c, scheduled

    try:
        c, scheduled = asyncio.run(with_db(settings, work))
    except ThresholdTooLow:
        print(f"--threshold {args.threshold}: {LAW}", file=sys.stderr)
        return 1
    except InvalidCampaign as exc:
        message = {
            "phases": "phase times are not in order: proposals-from < proposals-until <= voting-from < "
                      "voting-until <= results-at",
            "territory_kato": f"territory {args.territory} is not loaded (see `qatysu import territories`)",
            "title": "both titles are needed",
            "budget_tenge": "--budget must be a positive number of tenge",
            "votes_per_resident": "--votes-per-resident must be at least 1",
        }.get(exc.field, str(exc))
        print(message, file=sys.stderr)
        return 1
    print(f"campaign {c.id} created: {c.title_kk} / {c.title_ru}, territory {c.territory_kato}, "
          f"budget {c.budget_tenge} tenge, threshold {c.threshold}, {c.votes_per_resident} vote(s) per resident, "
          f"vote change {'allowed' if c.vote_change_allowed else 'not allowed'}, tie rule {c.tie_rule}")
    print(f"{scheduled} phase notices scheduled (times in UTC): "
          + ", ".join(f"{k} {v.astimezone(UTC):%Y-%m-%d %H:%M}" for k, v in times.items()))
    return 0


def import_projects(settings: Settings, args: argparse.Namespace, with_db) -> int:
    if args.campaign is None:
        print("usage: qatysu import projects FILE.csv --campaign ID [--actor USER_ID]", file=sys.stderr)
        return 2

    async def work(sessions):
        return await import_projects_file(sessions, BudgetService(sessions), args.campaign, args.file, args.actor)

    try:
        report = asyncio.run(with_db(settings, work))
    except ProjectFileError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    print(f"projects: {len(report.created)} created, {len(report.skipped)} skipped (title already in the campaign)"
          + (f": lines {', '.join(str(n) for n in report.skipped)}" if report.skipped else ""))
    return 0


def export_campaign_votes(settings: Settings, args: argparse.Namespace, with_db, os_user: str | None) -> int:
    from bot.services.audit import audit

    if args.campaign is None:
        print("usage: qatysu export votes --campaign ID --format csv|xlsx|pabulib [--output PATH]", file=sys.stderr)
        return 2
    ext = {"csv": "csv", "xlsx": "xlsx", "pabulib": "pb"}[args.format]
    output: Path = args.output or Path(f"campaign-{args.campaign}-votes.{ext}")
    where = str(output.resolve())

    async def work(sessions):
        data = await export_votes(sessions, BudgetService(sessions), args.campaign)
        if data is not None:
            async with sessions() as s, s.begin():
                audit(s, "budget.votes_export", object_type="budget_campaign", object_id=args.campaign,
                      format=args.format, output=where, projects=len(data.projects),
                      votes=len(data.votes), published=data.published, os_user=os_user)
        return data

    data = asyncio.run(with_db(settings, work))
    if data is None:
        print(f"campaign {args.campaign} does not exist", file=sys.stderr)
        return 1
    try:
        if args.format == "csv":
            paths = write_votes_csv(data, output)
        elif args.format == "xlsx":
            paths = write_votes_xlsx(data, output)
        else:
            paths = write_pabulib(data, output, settings.locale.timezone)
    except OSError as exc:
        print(f"{output}: {exc}", file=sys.stderr)
        return 1
    state = "published results" if data.published else "results not published yet: a provisional count"
    print(f"{len(data.projects)} projects and {len(data.votes)} votes written to "
          f"{', '.join(str(p) for p in paths)} ({state}; times in UTC; no personal data)")
    return 0
