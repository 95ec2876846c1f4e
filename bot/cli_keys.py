"""``qatysu keys create`` and ``qatysu keys export-legacy``: the phone key in a file of its own (bot/cli.py hands
these over). Nothing here prints a key."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import Settings
from bot.services.phone_key import PhoneKeyError, create_key_file, export_legacy_key


def add_keys_parser(sub: argparse._SubParsersAction) -> None:
    k = sub.add_parser("keys", help="the phone key (kept outside the database)",
                       description="create: write a new random phone key to a new file readable by its owner only "
                                   "(0600); an existing file is never overwritten. export-legacy: move the key an "
                                   "older version kept in the database to such a file, then delete it there.")
    k.add_argument("action", choices=["create", "export-legacy"])
    k.add_argument("--output", type=Path, required=True, metavar="PATH", help="the key file to write")


def run_keys(settings: Settings, args: argparse.Namespace, with_db) -> int:  # noqa: ANN001 - cli.py's helper
    hint = (f"Now name it in config.toml:\n    [privacy]\n    phone_hash_key_file = \"{args.output.resolve()}\"\n"
            "Keep it out of the database's backups, and back it up separately: without it no phone can be "
            "checked against this database.")
    try:
        if args.action == "create":
            create_key_file(args.output)
            print(f"a new phone key is in {args.output} (permissions 0600).\n{hint}")
            return 0
        asyncio.run(with_db(settings, lambda sessions: export_legacy_key(sessions, args.output)))
    except PhoneKeyError as exc:
        print(f"qatysu keys {args.action}: {exc}", file=sys.stderr)
        return 1
    print(f"the phone key was moved from the database to {args.output} (permissions 0600).\n{hint}")
    return 0
