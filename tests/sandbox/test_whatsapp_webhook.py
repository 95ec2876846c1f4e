"""WhatsApp webhooks from the stand-in to the bot: the verification handshake, Meta's payload signed with the
app secret, one person's events in order, retries after a failure, status updates — and pywa_async, the
library the bot's adapter uses, talking to the stand-in both ways."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import httpx
import pytest
from aiohttp import web

from sandbox import ControlError, Sandbox
from sandbox.whatsapp import WaConfig
from tests.sandbox.conftest import TOKEN, FakeWaBot


async def test_handshake_must_echo_the_challenge(sandbox: Sandbox) -> None:
    liar = FakeWaBot("another-verify-token")
    await liar.start()
    try:
        with pytest.raises(ControlError, match="verification failed"):
            await sandbox.wa_set_webhook(liar.url)
        assert sandbox.wa_config["webhook_url"] == ""
    finally:
        await liar.stop()
    with pytest.raises(ControlError, match="loopback"):
        await sandbox.wa_set_webhook("https://bot.example.org/wa")


async def test_inbound_messages_are_signed_meta_payloads(sandbox: Sandbox, wa_bot: FakeWaBot) -> None:
    user = await sandbox.wa_create_user("Әлия Серікова", "+7 701 123 45 67")
    wa_id = user["wa_id"]
    await sandbox.wa_send_text(wa_id, "Жол бұзылған")
    await sandbox.wa_send_image(wa_id, caption="Суреті")
    await sandbox.wa_send_location(wa_id, 43.25, 76.95)
    await sandbox.wa_send_voice(wa_id)
    await sandbox.wa_send_document(wa_id, filename="арыз.pdf")
    await sandbox.wa_wait_for_webhooks_delivered()
    secret = sandbox.wa.config.app_secret.encode()
    for post in wa_bot.posts:
        assert post["signature"] == "sha256=" + hmac.new(secret, post["raw"], hashlib.sha256).hexdigest()
    first = wa_bot.posts[0]["json"]
    assert first["object"] == "whatsapp_business_account"
    value = first["entry"][0]["changes"][0]["value"]
    assert first["entry"][0]["changes"][0]["field"] == "messages"
    assert value["metadata"]["phone_number_id"] == sandbox.wa_config["phone_number_id"]
    bsuid = user["bsuid"]
    assert value["contacts"] == [{"profile": {"name": "Әлия Серікова"}, "wa_id": "77011234567", "user_id": bsuid}]
    messages = wa_bot.messages()
    assert [m["type"] for m in messages] == ["text", "image", "location", "audio", "document"]
    assert all(m["from"] == "77011234567" and m["id"].startswith("wamid.") for m in messages)
    assert messages[0]["text"] == {"body": "Жол бұзылған"}
    assert messages[1]["image"]["caption"] == "Суреті" and messages[1]["image"]["id"]
    assert messages[2]["location"] == {"latitude": 43.25, "longitude": 76.95}
    assert messages[3]["audio"]["voice"] is True
    assert messages[4]["document"]["filename"] == "арыз.pdf"


async def test_a_failed_delivery_is_retried_and_order_is_kept(sandbox: Sandbox, wa_bot: FakeWaBot) -> None:
    wa_bot.answers = [500, 503]
    wa_id = (await sandbox.wa_create_user("Болат"))["wa_id"]
    for text in ("бір", "екі", "үш"):
        await sandbox.wa_send_text(wa_id, text)
    await sandbox.wa_wait_for_webhooks_delivered()
    bodies = [m["text"]["body"] for m in wa_bot.messages()]
    assert bodies == ["бір", "бір", "бір", "екі", "үш"]  # the first one twice refused, then accepted
    assert not sandbox.wa.undeliverable


async def test_button_reply_and_statuses_reach_the_bot(sandbox: Sandbox, wa_bot: FakeWaBot) -> None:
    wa_id = (await sandbox.wa_create_user("Дана"))["wa_id"]
    await sandbox.wa_send_text(wa_id, "Сәлем")
    c = sandbox.wa_config
    async with httpx.AsyncClient(base_url=c["graph_base"], headers={"Authorization": f"Bearer {c['token']}"}) as s:
        buttons = [{"type": "reply", "reply": {"id": "vote:5:yes", "title": "Қолдаймын"}}]
        body = {"type": "button", "body": {"text": "Жобаға дауыс беріңіз"}, "action": {"buttons": buttons}}
        r = await s.post(
            f"/{c['phone_number_id']}/messages",
            json={"messaging_product": "whatsapp", "to": wa_id, "type": "interactive", "interactive": body},
        )
    wamid = r.json()["messages"][0]["id"]
    await sandbox.wa_press_reply(wa_id, wamid, "vote:5:yes")
    await sandbox.wa_wait_for_webhooks_delivered()
    reply = wa_bot.messages()[-1]
    assert reply["interactive"] == {"type": "button_reply", "button_reply": {"id": "vote:5:yes", "title": "Қолдаймын"}}
    assert reply["context"]["id"] == wamid
    assert [(s["id"], s["status"]) for s in wa_bot.statuses()] == [
        (wamid, "sent"),
        (wamid, "delivered"),
        (wamid, "read"),
    ]


async def test_meta_style_failures_come_as_failed_statuses() -> None:
    sb = Sandbox(TOKEN, wa=WaConfig(failures="webhook"))
    await sb.start()
    fake = FakeWaBot(sb.wa.config.verify_token)
    await fake.start()
    try:
        await sb.wa_set_webhook(fake.url)
        wa_id = (await sb.wa_create_user("Ерлан"))["wa_id"]
        c = sb.wa_config
        async with httpx.AsyncClient(base_url=c["graph_base"], headers={"Authorization": f"Bearer {c['token']}"}) as s:
            r = await s.post(
                f"/{c['phone_number_id']}/messages",
                json={"messaging_product": "whatsapp", "to": wa_id, "text": {"body": "Жиналыс ертең"}},
            )
        assert r.status_code == 200  # accepted, then reported as failed
        await sb.wa_wait_for_webhooks_delivered()
        [failed] = fake.statuses()
        assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131047
        assert failed["id"] == r.json()["messages"][0]["id"]
    finally:
        await fake.stop()
        await sb.stop()


async def test_pywa_async_talks_to_the_stand_in(sandbox: Sandbox) -> None:
    """The bot's library, unchanged: its Graph API session pointed at the sandbox, its webhook handlers
    behind a small aiohttp endpoint that checks the signature the way pywa does."""
    pywa_async = pytest.importorskip("pywa_async")
    from pywa_async import types

    c = sandbox.wa_config
    wa = pywa_async.WhatsApp(
        phone_id=c["phone_number_id"],
        token=c["token"],
        session=httpx.AsyncClient(),
        verify_token=c["verify_token"],
        app_secret=c["app_secret"],
        api_version=c["api_version"],
        server=None,
    )
    wa.api._session.base_url = c["graph_base"]
    got: list[str] = []

    @wa.on_message()
    async def on_message(_: pywa_async.WhatsApp, msg: types.Message) -> None:
        got.append(msg.text or "")
        await msg.reply_text(
            f"Алдық: {msg.text}",
            buttons=[types.Button(title="Тіркеу", callback_data="register")],
            quote=True,
        )

    @wa.on_callback_button()
    async def on_button(_: pywa_async.WhatsApp, btn: types.CallbackButton) -> None:
        got.append(btn.data)
        await btn.reply_text("Өтініш тіркелді")

    async def challenge(request: web.Request) -> web.Response:
        text, status = await wa.webhook_challenge_handler(
            vt=request.query.get("hub.verify_token"), ch=request.query.get("hub.challenge")
        )
        return web.Response(text=text or "", status=status)

    async def update(request: web.Request) -> web.Response:
        raw = await request.read()
        refused = await wa.webhook_update_validator(raw, request.headers.get("X-Hub-Signature-256"))
        if refused:
            return web.Response(text=refused[0], status=refused[1])
        text, status = await wa.webhook_update_handler(raw)
        return web.Response(text=text, status=status)

    app = web.Application()
    app.router.add_get("/wa", challenge)
    app.router.add_post("/wa", update)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        # the bot registers its callback itself through the Graph API, as it would in production
        done = await wa.api.set_phone_alternate_callback_url(
            override_callback_uri=f"http://127.0.0.1:{runner.addresses[0][1]}/wa",
            verify_token=c["verify_token"],
            phone_id=c["phone_number_id"],
        )
        assert done["success"] is True and sandbox.wa_config["webhook_url"].endswith("/wa")
        wa_id = (await sandbox.wa_create_user("Гүлнар", "77021112233"))["wa_id"]
        await sandbox.wa_send_text(wa_id, "Көше шамы жанбайды")
        answer = await sandbox.wa_wait_for_bot_message(wa_id)
        assert answer["interactive"]["body"]["text"] == "Алдық: Көше шамы жанбайды"
        assert answer["context"]["id"] == sandbox.wa_messages(wa_id)[0]["id"]
        await sandbox.wa_press_reply(wa_id, answer["id"], "register")
        done = await sandbox.wa_wait_for_bot_message(wa_id)
        assert done["text"]["body"] == "Өтініш тіркелді"
        assert got == ["Көше шамы жанбайды", "register"]
        sent = await wa.send_message(wa_id, "Тікелей хабар")
        assert sent.id == (await sandbox.wa_wait_for_bot_message(wa_id))["id"]
    finally:
        await runner.cleanup()
        await wa.api._session.aclose()
        await asyncio.sleep(0)


async def test_the_bot_can_subscribe_through_the_graph_api(sandbox: Sandbox) -> None:
    fake = FakeWaBot("bot-chosen-token")
    await fake.start()
    c = sandbox.wa_config
    try:
        async with httpx.AsyncClient(base_url=c["graph_base"], headers={"Authorization": f"Bearer {c['token']}"}) as s:
            config = {"override_callback_uri": fake.url, "verify_token": "wrong-token"}
            r = await s.post(f"/{c['phone_number_id']}", json={"webhook_configuration": config})
            assert r.status_code == 400 and r.json()["error"]["code"] == 2200
            assert sandbox.wa_config["webhook_url"] == ""
            config["verify_token"] = "bot-chosen-token"
            r = await s.post(f"/{c['business_account_id']}/subscribed_apps", json=config)
            assert r.json() == {"success": True}
        assert sandbox.wa_config["webhook_url"] == fake.url
        await sandbox.wa_send_text((await sandbox.wa_create_user("Асель"))["wa_id"], "Сәлем")
        await sandbox.wa_wait_for_webhooks_delivered()
        assert [m["text"]["body"] for m in fake.messages()] == ["Сәлем"]
    finally:
        await fake.stop()
