"""The channel port: Telegram behind it, and the narrow profile (what a WhatsApp adapter will need)."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.channels.base import NARROW, TELEGRAM, Channel
from bot.channels.narrow import ANSWER, PAGE, PHONE, Message, NarrowRenderer, Option, Words, check, refusals
from bot.channels.plain import plain
from bot.channels.telegram.channel import TelegramChannel
from bot.flows.base import Button, Request, Screen
from tests.support import narrow
from tests.support.telegram import Person, Telegram

WORDS = Words(choose="Таңдау", more="Тағы ›", or_choose="Немесе таңдаңыз:")


def test_html_becomes_whatsapp_marks_and_typed_text_comes_back_as_typed() -> None:
    text = plain('<b>A-2026-000123</b> <i>жаңа </i>\n&lt;script&gt; &amp; <a href="https://osm.org/?a=1&amp;b=2">Карта</a>'
                 ' <code>KZ-1</code>')
    assert text == "*A-2026-000123* _жаңа_ \n<script> & Карта (https://osm.org/?a=1&b=2) ```KZ-1```"


def test_sixteen_categories_become_a_paged_list_whose_rows_tell_long_labels_apart() -> None:
    labels = [f"Жолдар мен көшелер, аула №{i}" for i in range(16)]  # alike for their first 20 characters
    screen = Screen("<b>Санатты таңдаңыз:</b>", [[Button(x, f"ap:c:{i}")] for i, x in enumerate(labels)])
    r = NarrowRenderer(WORDS)
    assert r.pages(screen) == 2
    first, second = r.render(screen, 0), r.render(screen, 1)
    assert [m.kind for m in first] == ["list"] and first[0].body == "*Санатты таңдаңыз:*"
    rows = first[0].options
    assert len(rows) == 10 and rows[-1] == Option(PAGE.pack(1), "Тағы ›")
    assert all(len(o.title) <= 20 for o in rows) and rows[0].title.endswith("…")
    assert {o.description for o in rows[:9]} == {f"көшелер, аула №{i}" for i in range(9)}  # the rest of each label
    assert [o.id for o in second[0].options] == [f"ap:c:{i}" for i in range(9, 16)]
    assert check(screen, r) == []


def test_three_short_options_are_buttons_and_a_long_text_is_split_before_them() -> None:
    text = "\n\n".join(["Абзац " + "сөз " * 60] * 8)  # about 2 000 characters: beside buttons at most 1 024
    screen = Screen(text, [[Button("Иә", "y"), Button("Жоқ", "n")], [Button("« Артқа", "back")]], notice="Жазылды")
    out = NarrowRenderer(WORDS).render(screen)
    assert [m.kind for m in out] == ["text", "text", "buttons"] and out[0].body == "Жазылды"
    assert [o.title for o in out[-1].options] == ["Иә", "Жоқ", "« Артқа"]
    assert refusals(out) == [] and len(out[-1].body) <= NARROW.options_text


def test_requests_for_the_phone_and_a_location_take_a_narrow_shape() -> None:
    r = NarrowRenderer(WORDS)
    phone = r.render(Screen("Нөміріңізді жіберіңіз.", request=Request("phone", "📱 Нөмірімді жіберу",
                                                                     (("Өткізу", "« Артқа"),))))
    assert [(o.id, o.title) for o in phone[0].options] == [
        (PHONE, "📱 Нөмірімді жіберу"), (ANSWER + "Өткізу", "Өткізу"), (ANSWER + "« Артқа", "« Артқа")]
    place = r.render(Screen("Қай жерде?", request=Request("location", "📍 Орынды жіберу", (("Өткізу", "« Артқа"),))))
    assert [m.kind for m in place] == ["location_request", "buttons"] and place[1].body == WORDS.or_choose


def test_what_a_narrow_channel_refuses_is_named() -> None:
    alike = "Халық араласатын бюджет: 2026 жылғы көктемгі ұсыныстар мен дауыс беру, Азат ауылдық округі "
    screen = Screen("Таңдаңыз:", [[Button(alike + "1", "a")], [Button(alike + "1", "b")]])
    assert any("read alike" in p for p in check(screen, NarrowRenderer(WORDS)))
    too_many = [Message("buttons", "x", tuple(Option(str(i), str(i)) for i in range(4))),
                Message("list", "y" * 1025, (Option("a", "a" * 21),)), Message("text", "")]
    problems = refusals(too_many)
    assert len(problems) == 4, problems


async def test_telegram_is_a_channel_and_keeps_its_shapes(app: App) -> None:
    channel = TelegramChannel(app.bot)
    assert isinstance(channel, Channel) and channel.capabilities == TELEGRAM
    (call,) = channel.render(5, Screen("Нөмір?", request=Request("phone", "📱", (("Skip", "« Back"),))))
    kb = call.reply_markup.model_dump(exclude_none=True)["keyboard"]
    assert kb == [[{"text": "📱", "request_contact": True}], [{"text": "Skip"}, {"text": "« Back"}]]


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_a_journey_is_checked_against_the_narrow_profile(tg: Telegram, lang: str) -> None:
    """The dispatcher-level tests run through the narrow renderer too (tests/conftest.py): a journey counts."""
    before = narrow.SEEN[0]
    who = Person(4401, "kk", "Әлия")
    await tg.text(who, "/start")
    await tg.click(who, "Қазақша" if lang == "kk" else "Русский")
    assert narrow.SEEN[0] - before >= 2 and narrow.PROBLEMS == []
