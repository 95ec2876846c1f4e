"""WhatsApp's delivery of notices outside the 24-hour window: the kind's template in the reader's language, or
waiting for the window, then undeliverable; WhatsApp's error codes as the outbox's outcomes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from pywa_async.errors import WhatsAppError

from bot.channels.whatsapp import templates
from bot.channels.whatsapp.delivery import RECHECK_SECONDS, WhatsAppDelivery
from bot.delivery.port import Deferred, Refused, RetryLater, Transient, Unreachable
from bot.delivery.ratelimit import RateLimiter
from bot.i18n import I18n
from bot.services.outbox import Claimed

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
I18N = I18n("kk", "Asia/Almaty")


class FakeCloud:
    def __init__(self, error: dict | None = None) -> None:
        self.templates: list[tuple[str, str, str, list]] = []
        self.error = error

    async def send_template(self, to, name=None, language=None, params=None, **_):
        if self.error is not None:
            raise WhatsAppError.from_dict(self.error)
        self.templates.append((to, name, language.value, params))


def delivery(cloud: FakeCloud, seen: datetime | None, names=None) -> WhatsAppDelivery:
    async def last_inbound(chat_id: int) -> datetime | None:
        return seen

    channel = SimpleNamespace(wa=cloud, i18n=I18N)  # only the template path is taken: the window is closed
    return WhatsAppDelivery(channel, RateLimiter(80, 1, 20), last_inbound,  # type: ignore[arg-type]
                            templates.configured() if names is None else names, wait_hours=72, clock=lambda: NOW)


def row(kind: str = "meeting_reminder", lang: str = "ru", queued: datetime = NOW) -> Claimed:
    return Claimed(1, 77015551234, kind, {}, 1, 5, None, "whatsapp", lang, queued)


REMINDER = {"text": "⏰ <b>Через 2 часа</b>\n\nСобрание жителей\n12 декабря, 10:00", "buttons": [[{"text": "Приду",
                                                                                                  "data": "mt:g:1"}]]}


async def test_outside_the_window_a_notice_goes_as_its_kinds_template_with_the_notice_as_its_parameter() -> None:
    cloud = FakeCloud()
    await delivery(cloud, seen=NOW - timedelta(hours=30)).deliver(row(), REMINDER)
    [(to, name, lang, params)] = cloud.templates
    assert (to, name, lang) == ("77015551234", "qatysu_meeting_reminder", "ru")
    text = params[0]["parameters"][0]["text"]
    assert text == "⏰ *Через 2 часа* · Собрание жителей · 12 декабря, 10:00"  # one paragraph, WhatsApp's marks
    assert "\n" not in text


async def test_a_person_who_never_wrote_gets_the_template_too() -> None:
    cloud = FakeCloud()
    await delivery(cloud, seen=None).deliver(row(lang="kk"), REMINDER)
    assert cloud.templates[0][1:3] == ("qatysu_meeting_reminder", "kk")


async def test_with_no_template_configured_a_notice_waits_for_the_window_then_is_undeliverable() -> None:
    cloud = FakeCloud()
    with pytest.raises(Deferred) as waiting:
        await delivery(cloud, seen=None, names={}).deliver(row(), REMINDER)
    assert waiting.value.seconds == RECHECK_SECONDS and "24-hour window" in waiting.value.reason
    with pytest.raises(Refused, match="undeliverable"):
        await delivery(cloud, seen=None, names={}).deliver(row(queued=NOW - timedelta(hours=73)), REMINDER)
    assert cloud.templates == []


async def test_a_notice_too_long_for_a_template_waits_for_the_window() -> None:
    with pytest.raises(Deferred, match="too long"):
        await delivery(FakeCloud(), seen=None).deliver(row("broadcast"), {"text": "сөз " * 400})


@pytest.mark.parametrize(("code", "outcome"), [(130429, RetryLater), (131056, RetryLater), (131026, Unreachable),
                                               (131000, Transient), (131047, Deferred), (132001, Refused),
                                               (100, Refused)])
async def test_whatsapps_error_codes_become_the_outboxs_outcomes(code: int, outcome: type) -> None:
    cloud = FakeCloud({"code": code, "message": "error", "type": "OAuthException"})
    with pytest.raises(outcome) as raised:
        await delivery(cloud, seen=None).deliver(row(), REMINDER)
    if code == 131056:  # one person's pace: the rest of the number goes on
        assert raised.value.whole_channel is False


def test_the_deploy_file_holds_every_template_in_both_languages_as_generated() -> None:
    path = Path(__file__).resolve().parents[1] / "deploy" / "whatsapp-templates.json"
    stored = json.loads(path.read_text(encoding="utf-8"))["templates"]
    assert stored == templates.definitions(I18N), "regenerate: python -m bot.channels.whatsapp.templates"
    assert {(t["name"], t["language"]) for t in stored} == {
        (templates.name_of(k), lang) for k in templates.KINDS for lang in ("kk", "ru")}
    for t in stored:
        [body] = t["components"]
        assert body["text"].count("{{1}}") == 1 and len(body["text"]) - 5 + templates.PARAM_LIMIT <= 1024
        assert "{{1}}" not in body["text"].split("\n")[0]  # a fixed first line says what it is about
