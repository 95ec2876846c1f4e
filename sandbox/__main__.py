"""python -m sandbox [--token T] [--port P] [--no-rate-limits] [--wa-templates FILE] [--wa-webhook URL]: run the
sandbox (Telegram Bot API and WhatsApp Cloud API stand-ins, and the page) until Ctrl+C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .server import Sandbox


async def _main(args: argparse.Namespace) -> None:
    sandbox = Sandbox(args.token, rate_limits=not args.no_rate_limits, forum=not args.no_forum)
    await sandbox.start(args.host, args.port)
    await sandbox.create_user("Айгүл", last_name="Серікқызы", role="aide", language_code="kk", started=True)
    await sandbox.create_user(
        "Ерлан", last_name="Дәулетов", role="secretary", language_code="ru", started=True
    )
    print(f"Bot API:  {sandbox.api_base}  (TelegramAPIServer.from_base)")
    print(f"Token:    {args.token}")
    if args.wa_templates:
        print(f"WhatsApp templates: {len(sandbox.wa_load_templates(args.wa_templates))} from {args.wa_templates}")
    if args.wa_webhook:
        await sandbox.wa_set_webhook(args.wa_webhook)  # the bot must already answer the handshake
    wa = sandbox.wa_config
    print(f"WhatsApp: graph base {wa['graph_base']}  phone_number_id {wa['phone_number_id']}")
    print(f"          token {wa['token']}  app secret {wa['app_secret']}  verify token {wa['verify_token']}")
    print(f"Page:     {sandbox.page_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--token", default="123456789:SANDBOX-local-token")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--no-forum", action="store_true")
    parser.add_argument("--wa-templates", help="JSON file of approved WhatsApp templates")
    parser.add_argument("--wa-webhook", help="the bot's WhatsApp webhook URL (loopback) to subscribe at start")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
