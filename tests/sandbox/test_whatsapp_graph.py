"""The WhatsApp Cloud API stand-in over HTTP: what a send is refused for and with which of Meta's codes (the
bot's adapter maps them to retry, template or unreachable), the 24-hour window, templates, throughput, and
media going up and coming back."""

from __future__ import annotations

import hashlib
from typing import Any

import aiohttp
import pytest

from sandbox import Sandbox

BUTTONS = {
    "type": "button",
    "body": {"text": "Өтінішіңізді тіркейік пе?"},
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "yes", "title": "Иә"}},
            {"type": "reply", "reply": {"id": "no", "title": "Жоқ"}},
        ]
    },
}
TEMPLATES = [
    {
        "name": "meeting_reminder",
        "language": "kk",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "{{1}} күні сағат {{2}}-де жиналыс болады."}],
    }
]


class Graph:
    def __init__(self, sb: Sandbox, session: aiohttp.ClientSession) -> None:
        self.c = sb.wa_config
        self.s = session

    async def send(self, body: dict[str, Any], *, token: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token or self.c['token']}"}
        url = f"{self.c['graph_base']}/{self.c['phone_number_id']}/messages"
        async with self.s.post(url, json={"messaging_product": "whatsapp", **body}, headers=headers) as r:
            return r.status, await r.json()


@pytest.fixture
async def graph(sandbox: Sandbox):
    async with aiohttp.ClientSession() as session:
        yield Graph(sandbox, session)


@pytest.fixture
async def aliya(sandbox: Sandbox) -> str:
    user = await sandbox.wa_create_user("Әлия", "77011234567")
    await sandbox.wa_send_text(user["wa_id"], "Сәлем")  # opens her 24-hour window
    return user["wa_id"]


def code(answer: dict[str, Any]) -> int:
    return answer["error"]["code"]


async def test_text_goes_through_and_reaches_the_chat(sandbox: Sandbox, graph: Graph, aliya: str) -> None:
    status, answer = await graph.send({"to": "+" + aliya, "type": "text", "text": {"body": "Қош келдіңіз"}})
    assert status == 200
    [contact] = answer["contacts"]
    assert contact["input"] == "+" + aliya and contact["wa_id"] == aliya and contact["user_id"].startswith("KZ.")
    assert answer["messages"][0]["id"].startswith("wamid.")
    seen = await sandbox.wa_wait_for_bot_message(aliya)
    assert seen["text"]["body"] == "Қош келдіңіз" and seen["id"] == answer["messages"][0]["id"]


async def test_a_business_scoped_user_id_addresses_the_person_too(sandbox: Sandbox, graph: Graph, aliya: str) -> None:
    bsuid = sandbox.wa_users()[0]["bsuid"]
    body = {"recipient": bsuid, "type": "text", "text": {"body": "Сәлем"}}
    status, answer = await graph.send(body)
    assert status == 200 and answer["contacts"][0]["wa_id"] == aliya
    assert (await sandbox.wa_wait_for_bot_message(aliya))["text"]["body"] == "Сәлем"


async def test_bad_token_is_refused_with_code_190(graph: Graph, aliya: str) -> None:
    status, answer = await graph.send({"to": aliya, "text": {"body": "x"}}, token="EAAwrong")
    assert status == 401 and code(answer) == 190 and answer["error"]["type"] == "OAuthException"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"type": "text", "text": {"body": "x" * 4097}}, 131009),
        ({"type": "text", "text": {}}, 100),
        ({"type": "interactive", "interactive": {**BUTTONS, "body": {"text": "x" * 1025}}}, 131009),
        (
            {
                "type": "interactive",
                "interactive": {
                    **BUTTONS,
                    "action": {
                        "buttons": [{"type": "reply", "reply": {"id": str(i), "title": f"B{i}"}} for i in range(4)]
                    },
                },
            },
            131009,
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    **BUTTONS,
                    "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "x" * 21}}]},
                },
            },
            131009,
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    **BUTTONS,
                    "action": {
                        "buttons": [
                            {"type": "reply", "reply": {"id": "a", "title": "Бір"}},
                            {"type": "reply", "reply": {"id": "a", "title": "Екі"}},
                        ]
                    },
                },
            },
            131009,
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": "Ауылды таңдаңыз"},
                    "action": {
                        "button": "Ауылдар",
                        "sections": [
                            {"title": "А", "rows": [{"id": f"a{i}", "title": f"Ауыл {i}"} for i in range(6)]},
                            {"title": "Б", "rows": [{"id": f"b{i}", "title": f"Ауыл {i}"} for i in range(5)]},
                        ],
                    },
                },
            },
            131009,
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": "Ауылды таңдаңыз"},
                    "action": {"button": "Ауылдар", "sections": [{"rows": [{"id": "a", "title": "x" * 25}]}]},
                },
            },
            131009,
        ),
        ({"type": "image", "image": {"id": "404404"}}, 131053),
        ({"type": "image", "image": {"link": "https://example.org/a.jpg", "caption": "x" * 1025}}, 131009),
        ({"type": "location", "location": {"latitude": "north", "longitude": 71.4}}, 100),
        ({"type": "sticker_pack", "text": {"body": "x"}}, 100),
    ],
    ids=[
        "text-too-long",
        "text-without-body",
        "button-body-too-long",
        "four-buttons",
        "button-title-21",
        "duplicate-button-ids",
        "eleven-rows",
        "row-title-25",
        "unknown-media-id",
        "caption-too-long",
        "latitude-not-a-number",
        "unknown-type",
    ],
)
async def test_invalid_sends_answer_meta_codes(graph: Graph, aliya: str, body: dict, expected: int) -> None:
    status, answer = await graph.send({"to": aliya, **body})
    assert status == 400
    assert code(answer) == expected
    assert answer["error"]["error_data"]["messaging_product"] == "whatsapp"
    assert answer["error"]["error_data"]["details"]


async def test_a_full_list_of_ten_rows_is_accepted(sandbox: Sandbox, graph: Graph, aliya: str) -> None:
    interactive = {
        "type": "list",
        "header": {"type": "text", "text": "Санаттар"},
        "body": {"text": "Өтініш санатын таңдаңыз"},
        "footer": {"text": "Qatysu"},
        "action": {
            "button": "Таңдау",
            "sections": [{"title": "Санаттар", "rows": [{"id": f"c{i}", "title": f"Санат {i}"} for i in range(10)]}],
        },
    }
    status, answer = await graph.send({"to": aliya, "type": "interactive", "interactive": interactive})
    assert status == 200
    chosen = await sandbox.wa_choose_row(aliya, answer["messages"][0]["id"], "c7")
    assert chosen["interactive"] == {"type": "list_reply", "list_reply": {"id": "c7", "title": "Санат 7"}}


async def test_free_form_outside_the_window_fails_but_a_template_goes(
    sandbox: Sandbox, graph: Graph, aliya: str
) -> None:
    sandbox.wa_set_templates(TEMPLATES)
    sandbox.wa_age_window(aliya, 25)
    status, answer = await graph.send({"to": aliya, "text": {"body": "Еске салу"}})
    assert status == 400 and code(answer) == 131047
    template = {
        "name": "meeting_reminder",
        "language": {"code": "kk"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "12 мамыр"}, {"type": "text", "text": "15:00"}]}
        ],
    }
    status, answer = await graph.send({"to": aliya, "type": "template", "template": template})
    assert status == 200
    seen = await sandbox.wa_wait_for_bot_message(aliya)
    assert seen["type"] == "template" and seen["rendered"] == "12 мамыр күні сағат 15:00-де жиналыс болады."
    sandbox.wa_age_window(aliya, 23)
    assert (await graph.send({"to": aliya, "text": {"body": "Еске салу"}}))[0] == 200


async def test_a_person_who_never_wrote_gets_only_templates(sandbox: Sandbox, graph: Graph) -> None:
    silent = await sandbox.wa_create_user("Болат", "77019876543", language="ru")
    status, answer = await graph.send({"to": silent["wa_id"], "text": {"body": "Здравствуйте"}})
    assert status == 400 and code(answer) == 131047


async def test_template_must_exist_and_take_its_parameter_count(sandbox: Sandbox, graph: Graph, aliya: str) -> None:
    sandbox.wa_set_templates(TEMPLATES)
    one_param = {"type": "body", "parameters": [{"type": "text", "text": "12 мамыр"}]}
    missing = {"name": "meeting_reminder", "language": {"code": "ru"}, "components": [one_param]}
    status, answer = await graph.send({"to": aliya, "type": "template", "template": missing})
    assert status == 400 and code(answer) == 132001
    short = {"name": "meeting_reminder", "language": {"code": "kk"}, "components": [one_param]}
    status, answer = await graph.send({"to": aliya, "type": "template", "template": short})
    assert status == 400 and code(answer) == 132000
    newline = {"type": "body", "parameters": [{"type": "text", "text": "12\nмамыр"}, {"type": "text", "text": "15"}]}
    bad = {"name": "meeting_reminder", "language": {"code": "kk"}, "components": [newline]}
    status, answer = await graph.send({"to": aliya, "type": "template", "template": bad})
    assert status == 400 and code(answer) == 132018


async def test_unknown_or_unreachable_person_is_undeliverable(sandbox: Sandbox, graph: Graph, aliya: str) -> None:
    status, answer = await graph.send({"to": "77000000099", "text": {"body": "x"}})
    assert status == 400 and code(answer) == 131026
    sandbox.wa_set_unreachable(aliya)
    status, answer = await graph.send({"to": aliya, "text": {"body": "x"}})
    assert status == 400 and code(answer) == 131026


async def test_throughput_limit_answers_130429(graph: Graph, aliya: str, sandbox: Sandbox) -> None:
    sandbox.wa_limiter.per_s = 5
    sandbox.wa_limiter.reset()
    codes = [
        code(a) if s != 200 else 200
        for s, a in [await graph.send({"to": aliya, "text": {"body": str(i)}}) for i in range(8)]
    ]
    assert codes[:5] == [200] * 5 and 130429 in codes[5:]
    sandbox.rate_limits = False
    assert (await graph.send({"to": aliya, "text": {"body": "ok"}}))[0] == 200


async def test_pair_pacing_answers_131056_when_configured(graph: Graph, aliya: str, sandbox: Sandbox) -> None:
    sandbox.wa_limiter.pair_per_s, sandbox.wa_limiter.pair_burst = 1 / 6, 2
    sandbox.wa_limiter.reset()
    results = [await graph.send({"to": aliya, "text": {"body": str(i)}}) for i in range(3)]
    assert [r[0] for r in results[:2]] == [200, 200]
    assert code(results[2][1]) == 131056


async def test_mark_as_read_marks_the_persons_message(sandbox: Sandbox, graph: Graph, aliya: str) -> None:
    inbound = sandbox.wa_messages(aliya)[-1]
    status, answer = await graph.send({"status": "read", "message_id": inbound["id"]})
    assert status == 200 and answer == {"success": True}
    assert sandbox.wa_messages(aliya)[-1]["status"] == "read"
    status, answer = await graph.send({"status": "read", "message_id": "wamid.nope"})
    assert status == 400 and code(answer) == 100


async def test_media_upload_describe_and_download(sandbox: Sandbox, graph: Graph, aliya: str) -> None:
    c = sandbox.wa_config
    auth = {"Authorization": f"Bearer {c['token']}"}
    pdf = b"%PDF-1.4 report"
    form = aiohttp.FormData()
    form.add_field("file", pdf, filename="есеп.pdf", content_type="application/pdf")
    form.add_field("type", "application/pdf")
    form.add_field("messaging_product", "whatsapp")
    async with graph.s.post(f"{c['graph_base']}/{c['phone_number_id']}/media", data=form, headers=auth) as r:
        assert r.status == 200
        media_id = (await r.json())["id"]
    status, _ = await graph.send(
        {"to": aliya, "type": "document", "document": {"id": media_id, "filename": "есеп.pdf", "caption": "Есеп"}}
    )
    assert status == 200
    # What the person sent comes back the same way.
    voice = await sandbox.wa_send_voice(aliya, b"OggS-voice-bytes")
    for mid, data in ((media_id, pdf), (voice["audio"]["id"], b"OggS-voice-bytes")):
        async with graph.s.get(f"{c['graph_base']}/{mid}", headers=auth) as r:
            info = await r.json()
        assert info["sha256"] == hashlib.sha256(data).hexdigest() and info["file_size"] == len(data)
        async with graph.s.get(info["url"]) as r:
            assert r.status == 401  # the download needs the token too
        async with graph.s.get(info["url"], headers=auth) as r:
            assert await r.read() == data
    assert voice["audio"]["voice"] is True and voice["audio"]["mime_type"].startswith("audio/ogg")


async def test_template_quick_reply_comes_back_with_its_payload(sandbox: Sandbox, graph: Graph, aliya: str) -> None:
    sandbox.wa_set_templates(
        [
            {
                "name": "vote_open",
                "language": "ru",
                "components": [
                    {"type": "BODY", "text": "Открыто голосование: {{1}}"},
                    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Открыть"}]},
                ],
            }
        ]
    )
    sandbox.wa_age_window(aliya, 30)
    body = {"type": "body", "parameters": [{"type": "text", "text": "Парк у школы"}]}
    wrong = {
        "type": "button",
        "sub_type": "quick_reply",
        "index": "1",
        "parameters": [{"type": "payload", "payload": "x"}],
    }
    template = {"name": "vote_open", "language": {"code": "ru"}, "components": [body, wrong]}
    status, answer = await graph.send({"to": aliya, "type": "template", "template": template})
    assert status == 400 and code(answer) == 132000
    template["components"][1] = {**wrong, "index": "0", "parameters": [{"type": "payload", "payload": "vote:7"}]}
    status, answer = await graph.send({"to": aliya, "type": "template", "template": template})
    assert status == 200
    sent = await sandbox.wa_wait_for_bot_message(aliya)
    assert sent["template_buttons"] == [{"text": "Открыть", "payload": "vote:7"}]
    pressed = await sandbox.wa_press_template_button(aliya, sent["id"], 0)
    assert pressed["type"] == "button" and pressed["button"] == {"payload": "vote:7", "text": "Открыть"}
    assert pressed["context"]["id"] == sent["id"]
    assert sandbox.wa_users()[0]["window_open"]  # pressing counts as the person writing


async def test_the_stand_in_stays_local(sandbox: Sandbox, graph: Graph, aliya: str) -> None:
    """The Graph routes and the WhatsApp control routes sit behind the sandbox's Host/Origin guard."""
    c = sandbox.wa_config
    url = f"{c['graph_base']}/{c['phone_number_id']}/messages"
    body = {"messaging_product": "whatsapp", "to": aliya, "text": {"body": "x"}}
    auth = {"Authorization": f"Bearer {c['token']}"}
    async with graph.s.post(url, json=body, headers={**auth, "Host": "evil.example"}) as r:
        assert r.status == 421
    async with graph.s.post(url, json=body, headers={**auth, "Origin": "https://evil.example"}) as r:
        assert r.status == 403
    users = f"{c['api_base']}/sandbox/api/wa/users"
    async with graph.s.post(users, json={"name": "Ерлан"}) as r:
        assert r.status == 403  # no X-Sandbox-Control header
    async with graph.s.post(users, json={"name": "Ерлан"}, headers={"X-Sandbox-Control": "1"}) as r:
        assert r.status == 200 and (await r.json())["result"]["name"] == "Ерлан"
    async with graph.s.post(url, data=b"{not json", headers={**auth, "Content-Type": "application/json"}) as r:
        assert r.status == 400 and code(await r.json()) == 100
