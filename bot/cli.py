"""``qatysu``: run the bot, migrate the database, import territories, manage staff roles, export appeals."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

from bot import logs
from bot.cli_budget import add_budget_parser, create_campaign, export_campaign_votes, import_projects
from bot.cli_keys import add_keys_parser, run_keys
from bot.cli_questions import export_questions
from bot.config import ConfigError, Settings, load_settings
from bot.services.roles import Role
from bot.services.territories import ImportError_, TerritoryService
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade

log = logging.getLogger("qatysu")

NO_TOKEN = """No Telegram bot token is configured: starting the local sandbox instead.

To run against Telegram, set the token in config.toml (copy config.example.toml):
    [telegram]
    token = "123456:ABC..."
or in the environment:
    export QATYSU_TELEGRAM__TOKEN=123456:ABC...
Get a token from @BotFather in Telegram.
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qatysu", description="Qatysu: residents and their akimat, in one chat.")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="run the bot (long polling against telegram.api_base)")
    sub.add_parser("web", help="serve updates by webhook (telegram.mode = \"webhook\"); no scheduler, no outbox; "
                               "run `qatysu db upgrade` first")
    db = sub.add_parser("db", help="database")
    db.add_argument("action", choices=["upgrade"])
    imp = sub.add_parser("import", help="import data")
    imp.add_argument("what", choices=["territories", "projects"])
    imp.add_argument("file", type=Path)
    imp.add_argument("--campaign", type=int, help="projects: the campaign to add them to")
    imp.add_argument("--actor", type=int, metavar="USER_ID", help="projects: the admin's Telegram ID (audit log)")
    roles = sub.add_parser("roles", help="staff roles")
    roles.add_argument("action", choices=["grant", "revoke", "list"])
    roles.add_argument("user_id", type=int, nargs="?")
    roles.add_argument("role", choices=[r.value for r in Role], nargs="?")
    roles.add_argument("--territory", metavar="KATO",
                       help="grant: limit an operator or secretary to this territory and everything below it")
    roles.add_argument("--by", type=int, metavar="USER_ID", help="grant: the admin who grants (recorded)")
    exp = sub.add_parser("export", help="export data",
                         description="One row per appeal with its lifecycle; timestamps in UTC (ISO 8601 in CSV). "
                                     "Names, phones and texts only with --with-personal-data, which is audited.")
    exp.add_argument("what", choices=["appeals", "votes", "questions"])
    exp.add_argument("--format", choices=["csv", "xlsx", "pabulib"], default="csv",
                     help="votes: csv writes NAME-projects.csv and NAME-votes.csv; xlsx two sheets; pabulib a .pb")
    exp.add_argument("--output", type=Path, help="the file to write (default: appeals-YYYYMMDD.FORMAT, "
                                                 "campaign-ID-votes.FORMAT)")
    exp.add_argument("--campaign", type=int, help="votes: the People's Budget campaign")
    exp.add_argument("--meeting", type=int, help="questions: those sent for this meeting")
    exp.add_argument("--report", type=int, help="questions: those sent about this report")
    exp.add_argument("--with-personal-data", action="store_true",
                     help="add the resident's name, phone and the text (recorded in the audit log)")
    exp.add_argument("--territory", metavar="KATO", help="only this territory and everything below it")
    exp.add_argument("--since", metavar="YYYY-MM-DD", type=_iso_date,
                     help="only appeals received on or after this day (Kazakhstan time)")
    add_budget_parser(sub)
    add_keys_parser(sub)
    _add_worker_parser(sub)
    return p


def _add_worker_parser(sub) -> None:
    sub.add_parser("worker", help="background work only: the outbox sender and the scheduled jobs (one worker "
                                  "at a time runs the jobs, under a lease); no updates")


def _worker(settings: Settings) -> int:
    """``qatysu worker``: needs a token (it sends to Telegram); never the sandbox."""
    if settings.telegram.token is None:
        print("qatysu worker: no Telegram bot token is configured ([telegram] token or QATYSU_TELEGRAM__TOKEN)",
              file=sys.stderr)
        return 2
    from bot.worker import run_worker

    return _serve("worker", lambda: run_worker(settings))


def _web(settings: Settings) -> int:
    from bot.channels.telegram.web import NotMigrated, run_web

    tg = settings.telegram
    if tg.token is None or tg.mode != "webhook" or not tg.webhook_url or tg.webhook_secret is None:
        print("qatysu web: set telegram.token, telegram.mode = \"webhook\", telegram.webhook_url and "
              "telegram.webhook_secret (see config.example.toml); `qatysu run` polls instead", file=sys.stderr)
        return 2
    return _serve("web", lambda: run_web(settings), (NotMigrated,))


def _serve(cmd: str, start: Callable[[], Coroutine[Any, Any, int]],
           refusals: tuple[type[Exception], ...] = ()) -> int:
    """Run a long-lived command: a refusal to start (the phone key, migrations) is said in one line with exit 2;
    any other error goes to the log (which never shows the token) with exit 1, not as an interpreter traceback."""
    from bot.services.phone_key import PhoneKeyError

    try:
        return asyncio.run(start())
    except (PhoneKeyError, *refusals) as exc:
        print(f"qatysu {cmd}: it does not start: {exc}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001
        log.exception("qatysu %s stopped on an error", cmd)
        return 1


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from None


async def _with_db(settings: Settings, work):
    engine = make_engine(settings.database.url)
    try:
        await upgrade(engine)
        return await work(make_session_factory(engine))
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.configure()
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"qatysu: {exc}", file=sys.stderr)
        return 2
    token = settings.telegram.token
    logs.configure(secrets=[token.get_secret_value()] if token else [])
    if args.cmd == "run":
        if token is None:
            from bot.sandbox_mode import run_sandbox

            print(NO_TOKEN, file=sys.stderr)
            return _serve("run", lambda: run_sandbox(settings))
        from bot.runner import run

        return _serve("run", lambda: run(settings))
    if args.cmd == "worker":
        return _worker(settings)
    if args.cmd == "web":
        return _web(settings)
    if args.cmd == "db":
        asyncio.run(_with_db(settings, lambda _s: asyncio.sleep(0)))
        print("database is up to date")
        return 0
    if args.cmd == "import" and args.what == "projects":
        return import_projects(settings, args, _with_db)
    if args.cmd == "keys":
        return run_keys(settings, args, _with_db)
    if args.cmd == "budget":
        return create_campaign(settings, args, _with_db)
    if args.cmd == "export" and args.what == "questions":
        if args.format == "pabulib":
            print("--format pabulib is for `qatysu export votes`", file=sys.stderr)
            return 2
        return export_questions(settings, args, _with_db)
    if args.cmd == "export" and args.what == "votes":
        return export_campaign_votes(settings, args, _with_db, _os_user())
    if args.cmd == "import":
        try:
            report = asyncio.run(_with_db(settings, lambda s: TerritoryService(s).import_csv(args.file)))
        except ImportError_ as exc:
            print(f"{args.file}: {exc}", file=sys.stderr)
            return 1
        print(f"territories: {report.created} created, {report.updated} updated, {report.unchanged} unchanged")
        return 0
    if args.cmd == "export":
        if args.format == "pabulib":
            print("--format pabulib is for `qatysu export votes`", file=sys.stderr)
            return 2
        return _export(settings, args)
    return _roles(settings, args)


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.appeal_export import export_rows, write_csv, write_xlsx
    from bot.services.audit import audit
    from storage.models import Territory

    output = args.output or Path(f"appeals-{date.today():%Y%m%d}.{args.format}")
    personal = args.with_personal_data

    async def work(sessions):
        if args.territory is not None:
            async with sessions() as s:
                if await s.get(Territory, args.territory) is None:
                    return None
        rows = await export_rows(sessions, with_personal_data=personal, territory_kato=args.territory,
                                 since=args.since, tz=settings.locale.timezone)
        if personal:  # the trace is written before the file: no personal data leaves without one
            async with sessions() as s, s.begin():
                audit(s, "appeals.export_personal", object_type="export", object_id=output.name,
                      rows=len(rows), format=args.format, output=str(output.resolve()), territory=args.territory,
                      since=args.since.isoformat() if args.since else None, os_user=_os_user())
        return rows

    rows = asyncio.run(_with_db(settings, work))
    if rows is None:
        print(f"territory {args.territory} is not loaded (see `qatysu import territories`)", file=sys.stderr)
        return 1
    try:
        (write_xlsx if args.format == "xlsx" else write_csv)(rows, output, with_personal_data=personal)
    except OSError as exc:
        print(f"{output}: {exc}", file=sys.stderr)
        return 1
    print(f"{len(rows)} appeals written to {output} (timestamps in UTC)")
    print("WITH personal data (names, phones, texts); the export is recorded in the audit log" if personal
          else "no personal data (add --with-personal-data for names, phones and texts)")
    return 0


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return None


def _roles(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import make_role_service

    def service(s):
        return make_role_service(settings, s)

    if args.action == "list":
        entries = asyncio.run(_with_db(settings, lambda s: service(s).list()))
        for e in entries:
            where = e.territory_kato or "everywhere"
            by = f"granted by {e.granted_by}" if e.granted_by else ("config.toml" if e.source == "config" else "-")
            when = f"{e.granted_at:%Y-%m-%d %H:%M} UTC" if e.granted_at else "-"
            print(f"{e.user_id}\t{e.role.value}\t{e.source}\t{where}\t{by}\t{when}")
        if not entries:
            print("no staff roles")
        return 0
    if args.user_id is None or args.role is None:
        print(f"usage: qatysu roles {args.action} USER_ID {{admin,operator,secretary}}", file=sys.stderr)
        return 2
    role = Role(args.role)
    if args.action == "grant":
        from bot.services.roles import RoleError

        where = f" in {args.territory} and below" if args.territory else ""
        try:
            done = asyncio.run(_with_db(settings, lambda s: service(s).grant(args.user_id, role, by=args.by,
                                                                             territory=args.territory)))
        except RoleError as exc:
            print(f"not granted: {exc}", file=sys.stderr)
            return 1
        print(f"granted {role.value}{where} to {args.user_id}" if done
              else f"{args.user_id} already has {role.value}{where}")
        return 0
    done = asyncio.run(_with_db(settings, lambda s: service(s).revoke(args.user_id, role)))
    if done:
        print(f"revoked {role.value} from {args.user_id}")
        return 0
    in_config = service(None).in_config(args.user_id, role)
    print(f"{args.user_id} has no {role.value} role in the database"
          + (" (it is set in config.toml: remove it there)" if in_config else ""), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
