"""The WhatsApp chat on the sandbox page in a real browser (Debian's chromium driven by Playwright): a person
is added as a WhatsApp resident, writes, sees a small bot's answer with reply buttons, presses one, picks a
row from a list sheet, and sees a template message marked as such. Screenshots go to artifacts/."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from aiohttp import web

pytest.importorskip("playwright.async_api", reason="pip install playwright")

from playwright.async_api import async_playwright, expect  # noqa: E402

from sandbox import Sandbox  # noqa: E402
from sandbox.media import make_png  # noqa: E402
from tests.sandbox.test_sandbox_page import ARGS, ARTIFACTS, CHROMIUM  # noqa: E402

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)")


class EchoBot:
    """Answers a text with reply buttons, a button with a list, a list row with plain text — over the Graph
    API, from its own webhook endpoint."""

    def __init__(self, sb: Sandbox) -> None:
        c = sb.wa_config
        self.sb = sb
        self.client = httpx.AsyncClient(base_url=c["graph_base"], headers={"Authorization": f"Bearer {c['token']}"})
        self.path = f"/{c['phone_number_id']}/messages"

    async def send(self, to: str, kind: str, content: dict[str, Any], **extra: Any) -> None:
        body = {"messaging_product": "whatsapp", "to": to, "type": kind, kind: content, **extra}
        r = await self.client.post(self.path, json=body)
        assert r.status_code == 200, r.text

    async def on_message(self, m: dict[str, Any]) -> None:
        to = m["from"]
        if m["type"] == "text":
            buttons = [
                {"type": "reply", "reply": {"id": "register", "title": "Тіркеу ✅"}},
                {"type": "reply", "reply": {"id": "cancel", "title": "Бас тарту"}},
            ]
            body = {"text": f"Сіз жаздыңыз: *{m['text']['body']}*\nӨтінішіңіз тіркелсін бе?"}
            await self.send(to, "interactive", {"type": "button", "body": body, "action": {"buttons": buttons}})
        elif m["type"] == "interactive" and m["interactive"]["type"] == "button_reply":
            rows = [{"id": f"v{i}", "title": f"Ауыл {i}", "description": "Ауылдық округ"} for i in range(1, 5)]
            action = {"button": "Ауылдар", "sections": [{"title": "Абай ауданы", "rows": rows}]}
            await self.send(to, "interactive", {"type": "list", "body": {"text": "Ауылды таңдаңыз"}, "action": action})
        elif m["type"] == "interactive":
            await self.send(to, "text", {"body": f"Таңдалды: {m['interactive']['list_reply']['title']}"})

    async def webhook(self, request: web.Request) -> web.Response:
        if request.method == "GET":
            return web.Response(text=request.query["hub.challenge"])
        value = json.loads(await request.read())["entry"][0]["changes"][0]["value"]
        for m in value.get("messages", []):
            await self.on_message(m)
        return web.Response(text="ok")


async def test_whatsapp_chat_in_the_browser(sandbox: Sandbox) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=20_000)
    sandbox.wa_set_templates(
        [
            {
                "name": "meeting_reminder",
                "language": "kk",
                "category": "UTILITY",
                "components": [{"type": "BODY", "text": "Құрметті тұрғын! {{1}} күні сағат {{2}}-де жиналыс."}],
            }
        ]
    )
    echo = EchoBot(sandbox)
    app = web.Application()
    app.router.add_route("*", "/wa", echo.webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    dialogs: list[str] = []
    try:
        await sandbox.wa_set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/wa")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="kk-KZ")
                page.on("dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
                await page.goto(sandbox.page_url)
                await expect(page.locator("#conn-text")).to_have_text("Қосылды")
                await page.locator("#wa-add-name").fill("Гүлнар")
                await page.locator("#wa-add-button").click()
                await expect(page.locator("#wa-title")).to_have_text("Гүлнар")
                await expect(page.locator("#wa-sub")).to_contain_text("терезе жабық")
                [person] = sandbox.wa_users()
                assert person["language"] == "kk" and person["name"] == "Гүлнар"

                await page.locator("#wa-text").fill("Көшедегі шам жанбайды")
                await page.locator("#wa-text").press("Enter")
                reply = page.locator(".wa-msg.in").filter(has_text="Өтінішіңіз тіркелсін бе?")
                await expect(reply.locator("strong")).to_have_text("Көшедегі шам жанбайды")
                await expect(page.locator("#wa-sub")).to_contain_text("терезе ашық")
                await reply.locator(".wa-reply", has_text="Тіркеу ✅").click()
                await expect(page.locator(".wa-msg.out").last).to_contain_text("Тіркеу ✅")

                await page.locator(".wa-list-open", has_text="Ауылдар").click()
                sheet = page.locator("#wa-sheet")
                await expect(sheet.locator(".wa-section-title")).to_have_text("Абай ауданы")
                await page.screenshot(path=str(ARTIFACTS / "sandbox-whatsapp-list.png"))
                await sheet.locator(".wa-row", has_text="Ауыл 3").click()
                await sheet.locator(".wa-sheet-send").click()
                await expect(page.locator(".wa-msg.in .wa-text").last).to_have_text("Таңдалды: Ауыл 3")

                # a voice note, a location and a photo from the composer reach the bot as WhatsApp sends them
                await page.locator("#wa-voice").click()
                await expect(page.locator(".wa-msg.out .wa-voice")).to_have_count(1)
                await page.locator("#wa-location").click()
                await expect(page.locator(".wa-msg.out .wa-map")).to_have_count(1)
                await page.locator("#wa-file").set_input_files(
                    files=[{"name": "shamdar.png", "mimeType": "image/png", "buffer": make_png(40, 30)}]
                )
                await expect(page.locator(".wa-msg.out img.wa-img")).to_have_count(1)
                await sandbox.wa_wait_for_webhooks_delivered()
                sent = [m["type"] for m in sandbox.wa_messages(person["wa_id"]) if not m["from_bot"]][-3:]
                assert sent == ["audio", "location", "image"]

                # outside the window only a template gets through, and the page marks it
                sandbox.wa_age_window(person["wa_id"], 25)
                await expect(page.locator("#wa-sub")).to_contain_text("терезе жабық")
                params = [{"type": "text", "text": "12 мамыр"}, {"type": "text", "text": "15:00"}]
                template = {"name": "meeting_reminder", "language": {"code": "kk"}}
                template["components"] = [{"type": "body", "parameters": params}]
                await echo.send(person["wa_id"], "template", template)
                bubble = page.locator(".wa-bubble.template")
                await expect(bubble.locator(".wa-template-tag")).to_contain_text("meeting_reminder")
                await expect(bubble.locator(".wa-text")).to_have_text(
                    "Құрметті тұрғын! 12 мамыр күні сағат 15:00-де жиналыс."
                )
                await page.screenshot(path=str(ARTIFACTS / "sandbox-whatsapp.png"))
            finally:
                await browser.close()
    finally:
        await echo.client.aclose()
        await runner.cleanup()
    assert dialogs == []
