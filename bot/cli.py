"""``qatysu``: run the bot, migrate the database, import territories, manage staff roles."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import Settings, load_settings
from bot.services.roles import Role
from bot.services.territories import ImportError_, TerritoryService
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade

NO_TOKEN = """No Telegram bot token is configured.

Set it in config.toml (copy config.example.toml):
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
    db = sub.add_parser("db", help="database")
    db.add_argument("action", choices=["upgrade"])
    imp = sub.add_parser("import", help="import data")
    imp.add_argument("what", choices=["territories"])
    imp.add_argument("file", type=Path)
    roles = sub.add_parser("roles", help="staff roles")
    roles.add_argument("action", choices=["grant", "revoke", "list"])
    roles.add_argument("user_id", type=int, nargs="?")
    roles.add_argument("role", choices=[r.value for r in Role], nargs="?")
    return p


async def _with_db(settings: Settings, work):
    engine = make_engine(settings.database.url)
    try:
        await upgrade(engine)
        return await work(make_session_factory(engine))
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    if args.cmd == "run":
        from bot.runner import run

        if settings.telegram.token is None:
            print(NO_TOKEN, file=sys.stderr)
            return 2
        return asyncio.run(run(settings))
    if args.cmd == "db":
        asyncio.run(_with_db(settings, lambda _s: asyncio.sleep(0)))
        print("database is up to date")
        return 0
    if args.cmd == "import":
        try:
            report = asyncio.run(_with_db(settings, lambda s: TerritoryService(s).import_csv(args.file)))
        except ImportError_ as exc:
            print(f"{args.file}: {exc}", file=sys.stderr)
            return 1
        print(f"territories: {report.created} created, {report.updated} updated, {report.unchanged} unchanged")
        return 0
    return _roles(settings, args)


def _roles(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import make_role_service

    def service(s):
        return make_role_service(settings, s)

    if args.action == "list":
        entries = asyncio.run(_with_db(settings, lambda s: service(s).list()))
        for e in entries:
            print(f"{e.user_id}\t{e.role.value}\t{e.source}")
        if not entries:
            print("no staff roles")
        return 0
    if args.user_id is None or args.role is None:
        print(f"usage: qatysu roles {args.action} USER_ID {{admin,operator,secretary}}", file=sys.stderr)
        return 2
    role = Role(args.role)
    if args.action == "grant":
        done = asyncio.run(_with_db(settings, lambda s: service(s).grant(args.user_id, role)))
        print(f"granted {role.value} to {args.user_id}" if done else f"{args.user_id} already has {role.value}")
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
