"""send.py against the sandbox's strict Cloud API stand-in: every narrow message shape goes through as the
Graph API takes it; the marks a person typed stay plain; the webhook payload parser keeps what it should."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels.narrow import Message as M
from bot.channels.narrow import NarrowRenderer, Option, Words
from bot.channels.plain import plain
from bot.channels.whatsapp import events
from bot.channels.whatsapp.client import make_client
from bot.channels.whatsapp.media import WhatsAppMediaStore
from bot.channels.whatsapp.send import send_message, send_voice
from bot.config import WhatsAppSettings
from bot.flows.base import Button, Request, Screen
from sandbox import Sandbox
from sandbox.media import make_png

WA_ID = "77015550001"


@pytest.fixture
async def wa_sandbox() -> AsyncIterator[tuple[Sandbox, object]]:
    sb = Sandbox("123456789:SANDBOX-test-token_0")
    await sb.start()
    c = sb.wa_config
    wa = make_client(WhatsAppSettings(phone_number_id=c["phone_number_id"], token=c["token"],
                                      api_base=c["api_base"], api_version=c["api_version"]))
    await sb.wa_create_user("Сәуле", WA_ID)
    await sb.wa_send_text(WA_ID, "Сәлем")  # opens the 24-hour window
    try:
        yield sb, wa
    finally:
        await wa.api._session.aclose()
        await sb.stop()


def sent(sb: Sandbox) -> list[dict]:
    return [m for m in sb.wa_messages(WA_ID) if m["from_bot"]]


async def test_every_narrow_shape_goes_through_the_cloud_api(wa_sandbox) -> None:
    sb, wa = wa_sandbox
    opts = tuple(Option(f"o:{i}", f"Нұсқа {i}", "толығырақ") for i in range(5))
    ids = [await send_message(wa, WA_ID, m) for m in (
        M("text", "*Сәлем*"), M("buttons", "Таңдаңыз", opts[:3]), M("list", "Тізім", opts, "Таңдау"),
        M("location_request", "Орналасқан жеріңізді жіберіңіз"))]
    ids.append(await send_message(wa, WA_ID, M("photo", "сурет"), media=make_png()))
    ids.append(await send_message(wa, WA_ID, M("document", ""), media=b"%PDF-1.4\n%%EOF\n", filename="есеп.pdf"))
    ids.append(await send_voice(wa, WA_ID, b"OggS" + b"\x00" * 60))
    msgs = sent(sb)
    assert [m["id"] for m in msgs] == ids and all(m["status"] != "failed" for m in msgs)
    assert [m["type"] for m in msgs] == ["text", "interactive", "interactive", "interactive", "image", "document",
                                         "audio"]
    assert msgs[1]["interactive"]["type"] == "button" and msgs[2]["interactive"]["type"] == "list"
    assert msgs[3]["interactive"]["type"] == "location_request_message"
    assert msgs[4]["image"]["caption"] == "сурет" and msgs[5]["document"]["filename"] == "есеп.pdf"
    assert sb.wa_media(msgs[4]["image"]["id"]) == make_png()


async def test_a_paged_screen_renders_within_whatsapp_limits_and_is_accepted(wa_sandbox) -> None:
    sb, wa = wa_sandbox
    screen = Screen("<b>Елді мекен</b> таңдаңыз",
                    [[Button(f"Ауыл {i} ұзын атауы бар елді мекен", f"t:{i}")] for i in range(25)],
                    request=None)
    r = NarrowRenderer(Words("Таңдау", "Тағы ›", "Немесе:"))
    for page in range(r.pages(screen)):
        for m in r.render(screen, page):
            await send_message(wa, WA_ID, m)
    loc = Screen("Қай жерде?", request=Request("location", "📍 Жіберу", (("Өткізіп жіберу",),)))
    for m in r.render(loc):
        await send_message(wa, WA_ID, m)
    assert all(m["status"] != "failed" for m in sent(sb)) and len(sent(sb)) >= 4


async def test_media_store_downloads_and_uploads(wa_sandbox) -> None:
    sb, wa = wa_sandbox
    store = WhatsAppMediaStore(wa)
    media_id = await store.upload(make_png(), "photo", "image/png")
    assert await store.download(media_id) == make_png()


def test_typed_marks_are_shown_not_applied() -> None:
    assert plain("<b>Өтініш</b>: *жол* _жоқ_ ~x~ `y` snake_case") == "*Өтініш*: ∗жол∗ ＿жоқ＿ ∼x∼ ˋyˋ snake_case"
    assert plain('<a href="https://a.kz/x_y">сайт</a>') == "сайт (https://a.kz/x_y)"


def test_payload_parser_keeps_only_this_numbers_messages_and_sane_fields() -> None:
    def change(pid, messages):
        return {"field": "messages", "value": {"metadata": {"phone_number_id": pid}, "messages": messages,
                                               "statuses": [{"id": "wamid.s", "status": "failed",
                                                             "recipient_id": WA_ID, "timestamp": "1",
                                                             "errors": [{"code": 131047, "title": "Re-engage"}]}]}}
    good = {"from": WA_ID, "id": "wamid.1", "timestamp": "1700000000", "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": "tx:Өткізіп жіберу", "title": "x"}}}
    bad = [{"from": "not-a-number", "id": "wamid.2", "type": "text", "text": {"body": "x"}}, "junk",
           {"from": WA_ID, "type": "text"}]
    payload = {"object": "whatsapp_business_account",
               "entry": [{"changes": [change("111", [good, *bad]), change("999", [good])]}]}
    inbound, statuses = events.parse(payload, "111")
    assert [m.wamid for m in inbound] == ["wamid.1"]
    assert statuses[0].errors == ((131047, "Re-engage"),) and statuses[0].status == "failed"
    ev = events.to_event(inbound[0])
    assert ev.kind == "text" and ev.text == "Өткізіп жіберу" and ev.channel == "whatsapp" and ev.phone == "+" + WA_ID
    phone = events.Inbound("wamid.3", int(WA_ID), "interactive", {"button_reply": {"id": "rq:phone"}}, inbound[0].at)
    assert events.to_event(phone).contact.phone == "+" + WA_ID
    voice = events.Inbound("wamid.4", int(WA_ID), "audio", {"id": "123", "voice": True}, inbound[0].at)
    assert events.to_event(voice).kind == "voice"
    assert events.parse({"object": "page"}) == ([], [])
