"""Rate limits, the control API over HTTP, loopback-only listening, and a real aiogram Dispatcher."""

from __future__ import annotations

import asyncio
import base64

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from sandbox import Sandbox
from sandbox.entities import parse_html, render_html
from sandbox.media import make_png

TOKEN = "123456789:SANDBOX-test-token_0"


async def test_private_chat_burst_gets_429(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    sent = 0
    with pytest.raises(TelegramRetryAfter) as caught:
        for i in range(10):
            await bot.send_message(resident["id"], f"хабар {i}")
            sent += 1
    assert sent == 3  # a short burst is allowed, then one message a second
    assert caught.value.retry_after == 1
    assert "Too Many Requests: retry after 1" in caught.value.message
    async with aiohttp.ClientSession() as http:
        url = f"{sandbox.api_base}/bot{bot.token}/sendMessage"
        async with http.post(url, json={"chat_id": resident["id"], "text": "тағы"}) as resp:
            assert resp.status == 429
            body = await resp.json()
            assert body["parameters"]["retry_after"] >= 1 and body["error_code"] == 429


async def test_group_limit_per_minute_and_switch_off(sandbox: Sandbox, bot: Bot) -> None:
    for i in range(20):
        await bot.send_message(sandbox.operator_chat_id, f"#{i}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(sandbox.operator_chat_id, "21")
    assert 1 <= caught.value.retry_after <= 3
    sandbox.rate_limits = False
    for i in range(30):
        await bot.send_message(sandbox.operator_chat_id, f"еркін {i}")


async def test_overall_limit(bot_factory) -> None:
    sb = Sandbox(TOKEN, rate_overall_per_s=5, rate_private_per_s=100, rate_private_burst=100)
    await sb.start()
    try:
        bot = bot_factory(sb)
        people = [await sb.create_user(f"Тұрғын {i}", started=True) for i in range(6)]
        for person in people[:5]:
            await bot.send_message(person["id"], "жаңалық")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(people[5]["id"], "жаңалық")
    finally:
        await sb.stop()


async def test_loopback_only() -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.com", "::"):
        with pytest.raises(ValueError, match="loopback"):
            await Sandbox(TOKEN).start(host)
    for host in ("127.0.0.2", "localhost", "::1"):
        sb = Sandbox(TOKEN)
        try:
            await sb.start(host)
        except OSError as e:  # e.g. no IPv6 on this machine
            pytest.skip(f"cannot bind {host}: {e}")
        try:
            async with aiohttp.ClientSession() as http, http.get(f"{sb.api_base}/bot{TOKEN}/getMe") as r:
                assert (await r.json())["ok"]
        finally:
            await sb.stop()
    with pytest.raises(ValueError):
        Sandbox("not-a-token")


async def test_control_api_over_http(sandbox: Sandbox, bot: Bot) -> None:
    base = f"{sandbox.api_base}/sandbox/api"
    async with aiohttp.ClientSession(headers={"X-Sandbox-Control": "1"}) as http:

        async def call(method: str, path: str, payload: dict | None = None) -> dict:
            async with http.request(method, base + path, json=payload) as resp:
                body = await resp.json()
                assert body["ok"], body
                return body["result"]

        user = await call("POST", "/users", {"first_name": "Дәурен", "language_code": "ru"})
        assert (
            user["role"] == "resident" and user["language_code"] == "ru" and user["phone"].startswith("770")
        )
        aide = await call("POST", "/users", {"first_name": "Айгүл", "role": "aide"})
        uid = user["id"]
        await call("POST", f"/users/{uid}/text", {"text": "/start"})
        update = (await bot.get_updates())[-1]
        await bot.send_message(
            uid,
            "Тіл таңдаңыз",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(text="Қазақша", callback_data="lang:kk"),
                        InlineKeyboardButton(text="Русский", callback_data="lang:ru"),
                    ]
                ]
            ),
        )
        msg = await call("GET", f"/chats/{uid}/next_bot_message?timeout=2")
        assert msg["text"] == "Тіл таңдаңыз"
        pressed = await call(
            "POST", f"/users/{uid}/press", {"message_id": msg["message_id"], "text": "Русский"}
        )
        query_id = pressed["callback_query_id"]
        assert (await call("GET", f"/callbacks/{query_id}"))["answered"] is False
        await bot.answer_callback_query(query_id, text="Готово", show_alert=True)
        answer = await call("GET", f"/callbacks/{query_id}")
        assert answer["answered"] and answer["text"] == "Готово" and answer["show_alert"]
        await call("POST", f"/users/{uid}/contact", {"own": True})
        await call("POST", f"/users/{uid}/location", {"latitude": 51.1, "longitude": 71.4})
        png = base64.b64encode(make_png()).decode()
        await call(
            "POST", f"/users/{uid}/photo", {"data_base64": "data:image/png;base64," + png, "caption": "фото"}
        )
        await call("POST", f"/users/{uid}/document", {"data_base64": png, "file_name": "a.png"})
        topic = await bot.create_forum_topic(sandbox.operator_chat_id, "Өтініш #1")
        await call(
            "POST",
            f"/users/{aide['id']}/text",
            {
                "text": "Тақырыпта",
                "chat_id": sandbox.operator_chat_id,
                "message_thread_id": topic.message_thread_id,
            },
        )
        transcript = await call("GET", f"/chats/{uid}/messages")
        kinds = [
            next(k for k in ("text", "contact", "location", "photo", "document") if k in m)
            for m in transcript
        ]
        assert kinds == ["text", "text", "contact", "location", "photo", "document"]
        assert [m["from_bot"] for m in transcript][:2] == [False, True]
        topics = await call("GET", f"/chats/{sandbox.operator_chat_id}/topics")
        assert topics[0]["name"] == "Өтініш #1"
        group_posts = await call(
            "GET", f"/chats/{sandbox.operator_chat_id}/messages?thread_id={topic.message_thread_id}"
        )
        assert group_posts[-1]["text"] == "Тақырыпта"
        state = await call("GET", "/state")
        assert {c["id"] for c in state["chats"]} == {sandbox.operator_chat_id, uid, aide["id"]}
        photo_url = transcript[4]["file_url"]
        async with http.get(sandbox.api_base + photo_url) as resp:
            assert resp.content_type == "image/png" and await resp.read() == make_png()
        await call("POST", f"/users/{uid}/block")
        assert (await call("GET", "/users"))[0]["blocked"] is True
        # mistakes answer 400 with a reason; non-JSON posts are refused (no cross-site form posts)
        async with http.post(f"{base}/users/{uid}/text", json={"text": "бұғатталған"}) as resp:
            assert resp.status == 400 and "blocked" in (await resp.json())["error"]
        async with http.post(f"{base}/users", data={"first_name": "x"}) as resp:
            assert resp.status == 415
        async with http.get(f"{base}/chats/{uid}/next_bot_message?timeout=0.1") as resp:
            assert resp.status == 408
        async with http.get(sandbox.page_url) as resp:
            page = await resp.text()
            assert resp.status == 200 and "Qatysu" in page and "/static/app.js" in page
        async with http.get(f"{sandbox.api_base}/sandbox/api/events") as resp:
            assert resp.content_type == "text/event-stream"
            assert (await resp.content.readline()) == b"event: hello\n"
    assert update.message.text == "/start"


async def test_dispatcher_echo_round_trip(sandbox: Sandbox, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(
            f"Сіз жаздыңыз: <b>{message.text}</b>",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Растау ✅", callback_data="confirm")]]
            ),
        )

    @dp.callback_query(F.data == "confirm")
    async def confirm(query: CallbackQuery) -> None:
        await query.answer("Расталды")
        await query.message.edit_text("Расталды ✅")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
    )
    try:
        person = await sandbox.create_user("Нұрлан", language_code="kk")
        await sandbox.send_text(person["id"], "Сәлем, әкімдік!")
        reply = await sandbox.wait_for_bot_message(person["id"], lambda m: "Сәлем" in m["text"])
        assert reply["html"] == "Сіз жаздыңыз: <b>Сәлем, әкімдік!</b>"
        query_id = await sandbox.press_button(person["id"], reply["message_id"], data="confirm")
        answer = await sandbox.wait_for_callback_answer(query_id)
        assert answer["text"] == "Расталды"
        edited = await sandbox.wait_until(
            lambda: (m := sandbox.message(person["id"], reply["message_id"])) and m.get("edit_date") and m
        )
        assert edited["text"] == "Расталды ✅" and "reply_markup" not in edited
        with pytest.raises(TimeoutError):
            await sandbox.wait_for_bot_message(person["id"], timeout=0.2)
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 5)


def test_entities_render_back_to_html() -> None:
    source = (
        '<b>Сәлем <i>әлем</i></b> 👍 <a href="https://gov.kz/x?a=1&amp;b=2">сілтеме</a> '
        "<code>&lt;x&gt;</code> <blockquote expandable>дәйексөз</blockquote>"
    )
    text, entities = parse_html(source)
    assert render_html(text, entities) == source.replace("<blockquote expandable>", "<blockquote expandable>")
    assert render_html("<script>", []) == "&lt;script&gt;"
    # entities offsets are UTF-16: the emoji counts twice
    text, entities = parse_html("👍<b>x</b>")
    assert entities == [{"type": "bold", "offset": 2, "length": 1}]
    text, entities = parse_html("AT&T &nbsp; &#x41;&#66")
    assert text == "AT&T &nbsp; AB" and entities == []
