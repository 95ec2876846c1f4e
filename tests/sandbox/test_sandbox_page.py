"""The page in a real browser: Debian's chromium driven by Playwright. A person adds a resident, talks to an
echo bot, presses its inline button and sees the result. Screenshots go to artifacts/ (gitignored).

Needs `apt-get install chromium` (/usr/bin/chromium) and `pip install playwright` (no `playwright install`:
the system browser is used). Skipped only when one of them is missing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

pytest.importorskip("playwright.async_api", reason="pip install playwright")

from aiogram import Bot, Dispatcher, F  # noqa: E402
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message  # noqa: E402
from playwright.async_api import async_playwright, expect  # noqa: E402

from sandbox import Sandbox  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium)"
)


def echo_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(
            f"Сіз жаздыңыз: <b>{message.text}</b>\n<i>Өтінішіңіз тіркелсін бе?</i>",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(text="Тіркеу ✅", callback_data="register"),
                        InlineKeyboardButton(text="egov.kz", url="https://egov.kz"),
                    ]
                ]
            ),
        )

    @dp.callback_query(F.data == "register")
    async def register(query: CallbackQuery) -> None:
        await query.answer("Өтініш №17 тіркелді")
        await query.message.edit_text("Өтініш <b>№17</b> тіркелді ✅", parse_mode="HTML")

    return dp


async def test_page_conversation_with_inline_button(sandbox: Sandbox, bot: Bot) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    expect.set_options(timeout=20_000)  # a loaded CI machine is slower than a person
    dp = echo_dispatcher()
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
    )
    dialogs: list[str] = []
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="kk-KZ")
                page.on("dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
                await page.goto(sandbox.page_url)
                await expect(page.locator("#conn-text")).to_have_text("Қосылды")
                await expect(page.locator(".section-title").first).to_have_text("Тұрғындар")

                form = page.locator("#add-person")
                await form.locator("input[name=first_name]").fill("Әлия")
                await form.locator("input[name=last_name]").fill("Серікова")
                await form.locator("select[name=language_code]").select_option("kk")
                await form.locator("button[type=submit]").click()
                await expect(page.locator("#header-title")).to_have_text("Әлия Серікова")
                person = sandbox.users()[0]
                assert person["first_name"] == "Әлия" and person["language_code"] == "kk"

                await page.locator("#start-button").click()  # БАСТАУ sends /start
                await expect(page.locator(".msg.bot .text").first).to_contain_text("Сіз жаздыңыз: /start")
                await page.locator("#text-input").fill("Көшедегі шам жанбайды")
                await page.locator("#text-input").press("Enter")
                reply = page.locator(".msg.bot").filter(has_text="Көшедегі шам жанбайды")
                await expect(reply.locator("strong")).to_have_text("Көшедегі шам жанбайды")
                await expect(reply.locator("a.ik-button")).to_have_attribute("href", "https://egov.kz")

                # what the bot sent is shown as text, never run as markup
                await bot.send_message(
                    person["id"],
                    '&lt;img src=x onerror="alert(1)"&gt; <a href="https://gov.kz">gov.kz</a>',
                    parse_mode="HTML",
                )
                await expect(page.locator(".msg.bot .text").last).to_contain_text(
                    '<img src=x onerror="alert(1)">'
                )
                assert await page.locator(".messages img[src=x]").count() == 0

                await reply.locator("button.ik-button", has_text="Тіркеу ✅").click()
                await expect(page.locator(".toast")).to_contain_text("Өтініш №17 тіркелді")
                await expect(
                    page.locator(".msg.bot").filter(has_text="тіркелді ✅").locator("strong")
                ).to_have_text("№17")
                answered = [c for c in sandbox.world.callbacks.values() if c.answered]
                assert len(answered) == 1 and answered[0].data == "register"
                await page.screenshot(path=str(ARTIFACTS / "sandbox-page.png"))

                # the operator group: an aide writes in a topic the bot opened
                aide = await sandbox.create_user("Айгүл", last_name="Серікқызы", role="aide")
                topic = await bot.create_forum_topic(sandbox.operator_chat_id, "Өтініш №17 · Абай 5")
                await bot.send_message(
                    sandbox.operator_chat_id,
                    "<b>Жаңа өтініш</b>\nКөшедегі шам жанбайды",
                    parse_mode="HTML",
                    message_thread_id=topic.message_thread_id,
                )
                await page.locator(".chat-item.indent", has_text="Өтініш №17").click()
                await expect(page.locator("#sender-select")).to_contain_text("Айгүл Серікқызы")
                await page.locator("#text-input").fill("Қабылдадым, ертең барамыз")
                await page.locator("#send-button").click()
                await expect(page.locator(".msg.out .text")).to_have_text("Қабылдадым, ертең барамыз")
                posted = next(
                    m
                    for m in sandbox.transcript(sandbox.operator_chat_id, topic.message_thread_id)
                    if not m["from_bot"]
                )
                assert posted["from"]["id"] == aide["id"] and posted["text"] == "Қабылдадым, ертең барамыз"

                await expect(page.locator(".msg.bot").last).to_contain_text("Сіз жаздыңыз: Қабылдадым")
                await page.locator(".lang-switch button[data-lang=ru]").click()
                await expect(page.locator(".section-title").first).to_have_text("Жители")
                await page.screenshot(path=str(ARTIFACTS / "sandbox-group-ru.png"))
            finally:
                await browser.close()
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 5)
    assert dialogs == []
