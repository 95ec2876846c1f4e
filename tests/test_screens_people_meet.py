"""Details people noticed in the sandbox: an old button leaves its message as it was, a report period reads as
words, staff choosing a territory are not asked for "their own" place, a meeting's date may come with its time,
a long button label is cut at a word."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import App
from bot.flows.base import clip
from bot.flows.common import period_name
from tests.conftest import SECRETARY
from tests.support.civic import DISTRICT
from tests.support.telegram import Person, Telegram
from tests.test_registration import KK, RU, register


@pytest.mark.parametrize("words,code,hint", [(KK, "kk", "алдыңғы қадамнан"), (RU, "ru", "с прошлого шага")])
async def test_an_old_button_keeps_the_message_it_is_on(app: App, tg: Telegram, words, code: str, hint: str) -> None:
    who = Person(801, code)
    await tg.text(who, "/start")
    await tg.click(who, words["lang"])
    await tg.click(who, words["agree"])
    screen = tg.last(who.id)  # the settlement question, with its buttons
    assert words["where"] in screen.text
    sent = await tg.press(who, "consent:yes", on=screen)  # a button of an earlier step, pressed there
    assert hint in sent[0].text and sent[0].message_id != screen.message_id  # said in a new message
    assert tg.session.messages[(who.id, screen.message_id)].text == screen.text  # the pressed one is left as it was
    assert words["where"] in sent[-1].text


@pytest.mark.parametrize("code,quarter,year", [("kk", "2026 жылғы 3-тоқсан", "2026 жыл"),
                                               ("ru", "3-й квартал 2026 года", "2026 год")])
def test_a_report_period_reads_as_words(app: App, code: str, quarter: str, year: str) -> None:
    tr = app.i18n(code)
    assert period_name(tr, "2026-Q3") == quarter
    assert period_name(tr, "2026") == year


async def test_residents_see_the_period_in_words(app: App, tg: Telegram) -> None:
    who = Person(802, "ru")
    await register(tg, who, RU)
    await app.services.reports.publish(territory_kato=DISTRICT, period="2026-Q3", title_kk="Есеп", title_ru="Отчёт",
                                       summary_kk="Қысқаша", summary_ru="Кратко")
    sent = await tg.click(who, "Отчёты")
    assert any(b["text"].startswith("3-й квартал 2026 года · Отчёт") for b in sent[-1].buttons)
    sent = await tg.click(who, "Отчёт", exact=False)
    assert "3-й квартал 2026 года" in sent[-1].text and "2026-Q3" not in sent[-1].text


@pytest.mark.parametrize("code,found,yours", [("kk", "Біреуін таңдаңыз", "Өзіңіздікін"),
                                              ("ru", "Выберите одну", "Выберите свой")])
async def test_staff_search_does_not_ask_for_their_own_place(app: App, tg: Telegram, code: str, found: str,
                                                             yours: str) -> None:
    sec = Person(SECRETARY, code)
    await tg.text(sec, "/meeting")
    await tg.click(sec, "Жаңа кездесу" if code == "kk" else "Новая встреча")
    await tg.click(sec, "Әкімнің есеп беру кездесуі" if code == "kk" else "Отчётная встреча акима")
    sent = await tg.text(sec, "Ақкөл" if code == "kk" else "Аккол")
    assert found in sent[-1].text and yours not in sent[-1].text
    # a resident at registration is still asked for their own place
    who = Person(803, code)
    await tg.text(who, "/start")
    await tg.click(who, "Қазақша" if code == "kk" else "Русский")
    await tg.click(who, "Келісемін" if code == "kk" else "Даю согласие")
    sent = await tg.text(who, "Көктал" if code == "kk" else "Коктал")
    assert yours in sent[-1].text


async def test_a_meeting_date_may_come_with_its_time(app: App, tg: Telegram) -> None:
    sec = Person(SECRETARY, "ru")
    await tg.text(sec, "/meeting")
    await tg.click(sec, "Новая встреча")
    await tg.click(sec, "Отчётная встреча акима")
    await tg.click(sec, "Акмолинская")
    await tg.click(sec, "Аккольский")
    await tg.click(sec, "Здесь")
    day = (datetime.now(UTC) + timedelta(days=20)).astimezone(app.i18n.tz).date()
    sent = await tg.text(sec, f"{day:%d.%m.%Y} 15:30")
    assert "Где?" in sent[-1].text  # straight to the place: the time came with the date
    # a date that does not exist is refused with an example in the form asked for
    await tg.text(sec, "/cancel")
    await tg.text(sec, "/meeting")
    await tg.click(sec, "Новая встреча")
    await tg.click(sec, "Отчётная встреча акима")
    await tg.click(sec, "Акмолинская")
    await tg.click(sec, "Аккольский")
    await tg.click(sec, "Здесь")
    sent = await tg.text(sec, "31.02.2027")
    today = datetime.now(UTC).astimezone(app.i18n.tz).date()
    assert f"например {today:%d.%m.%Y}" in sent[0].text and "В какой день" in sent[-1].text


def test_a_long_label_is_cut_at_a_word_with_an_ellipsis() -> None:
    label = "Аккольский район: бюджет народного участия на 2027 год"
    cut = clip(label, 40)
    assert len(cut) <= 40 and cut.endswith("…") and cut[:-1] in label and not cut[:-1].endswith(" ")
    assert label.startswith(cut[:-1]) and label[len(cut) - 1] == " "  # cut where a word ends
    assert clip("Short", 40) == "Short"
