"""Getting updates: getUpdates offset/limit/timeout/allowed_updates, conflicts, and webhook delivery."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiohttp import web

from sandbox import Sandbox


async def test_offset_confirms_and_drops_older_updates(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    for text in ("бір", "екі", "үш"):
        await sandbox.send_text(resident["id"], text)
    first = await bot.get_updates()
    assert [u.message.text for u in first] == ["бір", "екі", "үш"]
    ids = [u.update_id for u in first]
    assert ids == list(range(ids[0], ids[0] + 3))
    again = await bot.get_updates()  # nothing confirmed yet: the same three
    assert [u.update_id for u in again] == ids
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    # the offset confirmed ids[0]: it is gone even for a call without offset
    assert [u.update_id for u in await bot.get_updates()] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[1:2]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[2:]
    assert [u.update_id for u in await bot.get_updates()] == ids[2:]
    assert await bot.get_updates(offset=ids[2] + 1) == []
    assert sandbox.pending_updates() == []


async def test_long_poll_returns_when_an_update_arrives(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    assert not poll.done()
    await sandbox.send_text(resident["id"], "/start vote_5")
    updates = await asyncio.wait_for(poll, 5)
    assert loop.time() - started < 2
    message = updates[0].message
    assert message.text == "/start vote_5"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]
    assert message.from_user.id == resident["id"] and message.chat.type == "private"
    # an empty long poll ends after its timeout with []
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=1) == []
    assert loop.time() - started >= 1


async def test_second_poller_terminates_the_first(sandbox: Sandbox, bot: Bot, bot_factory) -> None:
    other = bot_factory(sandbox)
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(other.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 5)
    assert await second == []


async def test_allowed_updates_filter_new_updates(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    await sandbox.send_text(resident["id"], "көрінбейді")
    msg = await bot.send_message(
        resident["id"], "Таңдаңыз", reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    )
    await sandbox.press_button(resident["id"], msg.message_id)
    updates = await bot.get_updates()
    assert [u.event_type for u in updates] == ["callback_query"]
    query = updates[0].callback_query
    assert (
        query.data == "a"
        and query.message.message_id == msg.message_id
        and query.from_user.id == resident["id"]
    )
    await bot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=[])  # [] = all usual types again
    await sandbox.block(resident["id"])
    blocked = (await bot.get_updates())[0].my_chat_member
    assert blocked.old_chat_member.status == "member" and blocked.new_chat_member.status == "kicked"
    assert blocked.chat.id == resident["id"] and blocked.from_user.id == resident["id"]


async def test_user_edits_contacts_and_locations(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    sent = await sandbox.send_text(resident["id"], "Көше шамы жанбайды")
    await sandbox.edit_text(resident["id"], sent["message_id"], "Көше шамы жанбайды, Абай 5")
    await sandbox.send_contact(resident["id"])
    await sandbox.send_contact(resident["id"], own=False, phone_number="+77015556677", first_name="Мама")
    await sandbox.send_location(resident["id"], 43.238949, 76.889709)
    updates = await bot.get_updates()
    edited = updates[1].edited_message
    assert edited.message_id == sent["message_id"] and edited.text.endswith("Абай 5") and edited.edit_date
    own, other = updates[2].message.contact, updates[3].message.contact
    assert own.user_id == resident["id"] and own.phone_number == resident["phone"]
    assert other.user_id is None and other.phone_number == "+77015556677"
    assert updates[4].message.location.latitude == pytest.approx(43.238949)


async def webhook_receiver(reply: dict | None = None):
    received: list[tuple[dict, str | None]] = []
    arrived = asyncio.Event()

    async def handle(request: web.Request) -> web.Response:
        received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        arrived.set()
        if reply is not None and len(received) == 1:
            return web.json_response(reply)
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/hook", received, arrived


async def test_webhook_delivery_with_secret(sandbox: Sandbox, bot: Bot, resident: dict) -> None:
    reply = {"method": "sendMessage", "chat_id": resident["id"], "text": "Webhook жауабы"}
    runner, url, received, arrived = await webhook_receiver(reply)
    try:
        await sandbox.send_text(resident["id"], "webhook-қа дейін")
        assert await bot.set_webhook(url, secret_token="s3cr3t_token-1", drop_pending_updates=True)
        info = await bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0
        with pytest.raises(
            TelegramConflictError, match="can't use getUpdates method while webhook is active"
        ):
            await bot.get_updates()
        await sandbox.send_text(resident["id"], "сәлем, webhook")
        await asyncio.wait_for(arrived.wait(), 5)
        update, secret = received[0]
        assert secret == "s3cr3t_token-1"
        assert update["message"]["text"] == "сәлем, webhook"
        # the reply carried a method: Telegram executes it
        answer = await sandbox.wait_for_bot_message(resident["id"])
        assert answer["text"] == "Webhook жауабы"
        await sandbox.wait_for_updates_consumed()
        assert (await bot.get_webhook_info()).pending_update_count == 0
        assert await bot.delete_webhook()
        assert await bot.get_updates() == []
    finally:
        await runner.cleanup()


async def test_webhook_must_be_loopback_and_failures_are_retried(
    sandbox: Sandbox,
    bot: Bot,
    resident: dict,
) -> None:
    with pytest.raises(TelegramBadRequest, match="bad webhook"):
        await bot.set_webhook("https://example.com/hook")
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="бад секрет")
    runner, url, received, arrived = await webhook_receiver()
    port = int(url.split(":")[2].split("/")[0])
    await runner.cleanup()  # nobody listens now: delivery fails and is kept
    await bot.set_webhook(url)
    await sandbox.send_text(resident["id"], "кейін жеткізіледі")
    await sandbox.wait_until(lambda: sandbox.world.webhook.last_error_message, what="a delivery error")
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1 and info.last_error_message
    app = web.Application()
    got: list[dict] = []

    async def handle(request: web.Request) -> web.Response:
        got.append(json.loads(await request.text()))
        return web.Response()

    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await sandbox.wait_for_updates_consumed(timeout=10)
        assert got[0]["message"]["text"] == "кейін жеткізіледі"
    finally:
        await runner.cleanup()
