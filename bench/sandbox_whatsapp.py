"""How fast the sandbox's WhatsApp stand-in is, so a bot benchmark through it knows what it measures:
Graph API sends per second (rate limits off, N concurrent aiohttp connections), signed webhook deliveries per
second to a trivial endpoint, and how many sends the default 80/s throughput bucket lets through in a burst.

    python -m bench.sandbox_whatsapp [--sends 2000] [--concurrency 20] [--inbound 1000] [--people 50]

Prints numbers; asserts nothing about speed."""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp
from aiohttp import web

from sandbox import Sandbox


async def sends(sb: Sandbox, total: int, concurrency: int, people: list[str]) -> tuple[float, dict[int, int]]:
    c = sb.wa_config
    codes: dict[int, int] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    url = f"{c['graph_base']}/{c['phone_number_id']}/messages"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {c['token']}"}, connector=connector) as client:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                body = {"messaging_product": "whatsapp", "to": people[i % len(people)], "text": {"body": f"№{i}"}}
                async with client.post(url, json=body) as r:
                    code = 200 if r.status == 200 else (await r.json())["error"]["code"]
                codes[code] = codes.get(code, 0) + 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, codes


async def main(args: argparse.Namespace) -> None:
    sb = Sandbox("123456:BENCH", rate_limits=False)
    await sb.start()
    received = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal received
        if request.method == "GET":
            return web.Response(text=request.query["hub.challenge"])
        await request.read()
        received += 1
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/wa", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        sb.wa.config.statuses = False
        await sb.wa_set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/wa")
        people = [(await sb.wa_create_user(f"Тұрғын {i}"))["wa_id"] for i in range(args.people)]
        start = time.perf_counter()
        for i in range(args.inbound):
            await sb.wa_send_text(people[i % len(people)], f"хабар {i}")
        await sb.wa_wait_for_webhooks_delivered(timeout=600)
        inbound_s = time.perf_counter() - start
        print(
            f"webhooks: {args.inbound} inbound messages from {args.people} people delivered in {inbound_s:.2f} s "
            f"= {args.inbound / inbound_s:.0f}/s"
        )
        seconds, codes = await sends(sb, args.sends, args.concurrency, people)
        print(
            f"sends (limits off): {args.sends} in {seconds:.2f} s = {args.sends / seconds:.0f}/s "
            f"with {args.concurrency} clients; answers {codes}"
        )
        sb.rate_limits = True
        seconds, codes = await sends(sb, 200, args.concurrency, people)
        print(f"sends (80/s bucket): 200 at once in {seconds:.2f} s; answers {codes}")
    finally:
        await runner.cleanup()
        await sb.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--inbound", type=int, default=1000)
    parser.add_argument("--people", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
