"""The sandbox answers only its own loopback address and its own page: a DNS-rebinding page (Host:
evil.example) and a cross-site page reach neither the Bot API nor the control API, while the bot's own
client and the page keep working."""

from __future__ import annotations

import aiohttp
from aiogram import Bot

from sandbox import Sandbox

TOKEN = "123456789:SANDBOX-test-token_0"
CONTROL = {"X-Sandbox-Control": "1"}


async def test_foreign_host_is_refused_everywhere(sandbox: Sandbox, bot: Bot) -> None:
    person = await sandbox.create_user("Әлия", started=True)
    rebound = {"Host": f"evil.example:{sandbox.api_base.rsplit(':', 1)[1]}"}
    async with aiohttp.ClientSession() as http:
        for method, path, payload in (
            ("GET", f"/bot{TOKEN}/getMe", None),
            ("POST", f"/bot{TOKEN}/sendMessage", {"chat_id": person["id"], "text": "rebound"}),
            ("GET", "/sandbox/api/state", None),
            ("POST", "/sandbox/api/users", {"first_name": "Зиянкес"}),
            ("POST", f"/sandbox/api/users/{person['id']}/text", {"text": "rebound"}),
            ("GET", "/", None),
        ):
            async with http.request(
                method, sandbox.api_base + path, json=payload, headers={**rebound, **CONTROL}
            ) as resp:
                assert resp.status == 421, (method, path)
    assert [u["first_name"] for u in sandbox.users()] == ["Әлия"]
    assert sandbox.transcript(person["id"]) == []
    # the bot's own client (no Origin) and the page's address under "localhost" still work
    assert (await bot.get_me()).username == sandbox.bot_user["username"]
    port = sandbox.api_base.rsplit(":", 1)[1]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.api_base}/", headers={"Host": f"localhost:{port}"}) as resp:
            assert resp.status == 200


async def test_cross_origin_requests_are_refused(sandbox: Sandbox) -> None:
    person = await sandbox.create_user("Дәурен", started=True)
    base = f"{sandbox.api_base}/sandbox/api"
    own = {"Origin": sandbox.api_base}
    async with aiohttp.ClientSession() as http:
        refused = [
            # another site's page, with the right Host (a plain cross-site request to 127.0.0.1)
            ("POST", f"{base}/users", {"Origin": "http://evil.example", **CONTROL}),
            ("POST", f"{base}/users", {"Origin": "null", **CONTROL}),
            ("POST", f"{base}/users", {"Sec-Fetch-Site": "cross-site", **CONTROL}),
            # a form or fetch without the page's marker header
            ("POST", f"{base}/users", own),
            ("POST", f"{base}/users", {}),
            ("POST", f"{base}/users/{person['id']}/block", {"Origin": "http://evil.example"}),
            # the Bot API from a browser page on another site (the sandbox token is well known)
            ("POST", f"{sandbox.api_base}/bot{TOKEN}/sendMessage", {"Origin": "http://evil.example"}),
            ("GET", f"{sandbox.api_base}/bot{TOKEN}/getUpdates", {"Sec-Fetch-Site": "cross-site"}),
        ]
        for method, url, headers in refused:
            payload = {"first_name": "Зиянкес", "chat_id": person["id"], "text": "x"}
            async with http.request(method, url, json=payload, headers=headers) as resp:
                assert resp.status == 403, (method, url, headers)
        assert [u["first_name"] for u in sandbox.users()] == ["Дәурен"]
        assert not sandbox.users()[0]["blocked"] and sandbox.transcript(person["id"]) == []
        # the page itself: its own origin and the marker header
        page = {**own, "Sec-Fetch-Site": "same-origin", **CONTROL}
        async with http.post(f"{base}/users", json={"first_name": "Айгүл"}, headers=page) as resp:
            assert resp.status == 200 and (await resp.json())["result"]["first_name"] == "Айгүл"
        async with http.get(f"{base}/state", headers={"Sec-Fetch-Site": "same-origin"}) as resp:
            assert resp.status == 200
