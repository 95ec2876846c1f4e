"""A person registers by clicking in the sandbox page, with the real bot behind it (Debian's chromium,
driven by Playwright). The screenshot goes to artifacts/ (gitignored). Needs `apt-get install chromium`
and `pip install playwright` (the test extras); skipped only when the browser is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright.async_api", reason="pip install playwright")

from playwright.async_api import async_playwright, expect  # noqa: E402

from tests.e2e.conftest import Live  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)")


async def test_register_by_clicking_in_the_page(live: Live) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=20_000)  # a loaded CI machine is slower than a person
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 860}, locale="kk-KZ")
            await page.goto(live.sb.page_url)
            await expect(page.locator("#conn-text")).to_have_text("Қосылды")
            await page.locator(".chat-item", has_text="Айгүл").first.click()
            await page.locator("#start-button").click()
            bot_msgs = page.locator(".msg.bot")
            await expect(bot_msgs.last).to_contain_text("Тілді таңдаңыз")
            await page.locator("button.ik-button", has_text="Қазақша").last.click()
            await expect(bot_msgs.last).to_contain_text("Дербес деректерді өңдеуге келісім")
            await page.locator("button.ik-button", has_text="Келісемін").last.click()
            await expect(bot_msgs.last).to_contain_text("Қай жерде тұрасыз")
            await page.locator("#text-input").fill("Қарас")
            await page.locator("#text-input").press("Enter")
            await expect(bot_msgs.last).to_contain_text("«Қарас»")
            await page.locator("button.ik-button", has_text="Қарасай").last.click()
            await expect(bot_msgs.last).to_contain_text("Телефон нөміріңізді")
            await page.locator(".rk-button.special").click()  # Telegram's own contact button
            await expect(page.locator(".msg.bot").filter(has_text="Тіркелу аяқталды")).to_have_count(1)
            await expect(bot_msgs.last).to_contain_text("Басты мәзір")
            await page.screenshot(path=str(ARTIFACTS / "registration-kk.png"))
        finally:
            await browser.close()
    r = await live.app.services.residents.get(live.people.residents[0])
    assert r is not None and r.registered_at is not None and r.phone and r.language == "kk"
