"""Wrong input at every step gets a hint and the same question; /cancel and back work everywhere."""

from __future__ import annotations

import pytest

from bot.app import App
from tests.support.telegram import Person, Telegram
from tests.test_registration import KK, RU, register

PHOTO = {"photo": [{"file_id": "ph1", "file_unique_id": "u1", "width": 90, "height": 90}]}
STICKER = {"sticker": {"file_id": "st1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
                       "is_animated": False, "is_video": False}}
LOCATION = {"location": {"latitude": 51.99, "longitude": 70.94}}


async def to_step(tg: Telegram, who: Person, step: str) -> None:
    await tg.text(who, "/start")
    if step == "language":
        return
    await tg.click(who, "Қазақша")
    if step == "consent":
        return
    await tg.click(who, "Келісемін")
    if step == "territory":
        return
    await tg.text(who, "Көктал")
    await tg.click(who, "Көктал")


QUESTION = {"language": "Тілді таңдаңыз", "consent": "Келісесіз бе", "territory": "Қай жерде тұрасыз",
            "phone": "Телефон нөміріңізді"}
BAD_INPUTS = {
    "text": lambda tg, who: tg.text(who, "сәлем"),
    "photo": lambda tg, who: tg.send(who, **PHOTO),
    "sticker": lambda tg, who: tg.send(who, **STICKER),
    "location": lambda tg, who: tg.send(who, **LOCATION),
    "forged button": lambda tg, who: tg.press(who, "t:p:999999999"),
    "stale button": lambda tg, who: tg.press(who, "lang:ru"),
    "unknown command": lambda tg, who: tg.text(who, "/frobnicate"),
}


# at the language step "lang:ru" is the right answer, not a stale button
CASES = [(step, bad) for step in QUESTION for bad in BAD_INPUTS if (step, bad) != ("language", "stale button")]


@pytest.mark.parametrize("step,bad", CASES)
async def test_bad_input_gets_a_hint_and_the_question_again(app: App, tg: Telegram, step: str, bad: str) -> None:
    who = Person(600 + list(QUESTION).index(step), "kk")
    await to_step(tg, who, step)
    sent = await BAD_INPUTS[bad](tg, who)
    assert len(sent) >= 1, "no answer"
    texts = " ".join(s.text for s in sent)
    if step == "territory" and bad == "text":
        assert "ештеңе табылмады" in texts  # typing searches here
    elif step == "phone" and bad == "text":
        assert "Нөмірді қолмен жазбаңыз" in texts
    else:
        assert QUESTION[step] in texts, texts
        assert len(sent) >= 2 or step == "language", "a hint comes before the question"
    assert (await app.services.residents.get(who.id)) is None or \
        (await app.services.residents.get(who.id)).registered_at is None


@pytest.mark.parametrize("step", list(QUESTION))
async def test_cancel_at_every_step(app: App, tg: Telegram, step: str) -> None:
    who = Person(620, "kk")
    await to_step(tg, who, step)
    sent = await tg.text(who, "/cancel")
    assert "Тіркелу тоқтатылды" in sent[-1].text
    assert sent[-1].markup == {"remove_keyboard": True}
    sent = await tg.text(who, "/start")
    assert "Тілді таңдаңыз" in sent[-1].text


async def test_back_walks_back_through_the_steps(tg: Telegram) -> None:
    who = Person(630, "ru")
    await to_step(tg, who, "phone")
    sent = await tg.text(who, "« Артқа")
    assert "Қай жерде тұрасыз" in sent[-1].text
    assert "Көктал" in str(sent[-1].buttons)  # the list the village was chosen from
    sent = await tg.click(who, "Артқа")
    assert "Азат ауылдық округі" in str(sent[-1].buttons)
    sent = await tg.click(who, "Артқа")
    assert "Ақкөл ауданы" in str(sent[-1].buttons)
    sent = await tg.click(who, "Артқа")
    assert "Ақмола облысы" in str(sent[-1].buttons)
    sent = await tg.click(who, "Артқа")  # top of the tree → back to consent
    assert "Келісесіз бе" in sent[-1].text
    sent = await tg.click(who, "Артқа")
    assert "Тілді таңдаңыз" in sent[-1].text


async def test_cancel_button_in_settings_returns_to_menu(tg: Telegram) -> None:
    who = Person(631, "ru")
    await register(tg, who, RU)
    await tg.click(who, "Настройки")
    await tg.click(who, "Населённый пункт")
    sent = await tg.click(who, "Отмена")
    assert "Главное меню" in sent[-1].text


async def test_html_in_search_is_escaped(tg: Telegram) -> None:
    who = Person(640, "kk")
    await to_step(tg, who, "territory")
    sent = await tg.text(who, "<b>Көк</i> & <script>")
    assert "&lt;b&gt;Көк&lt;/i&gt; &amp; &lt;script&gt;" in sent[0].text


async def test_very_long_text_is_bounded(tg: Telegram) -> None:
    who = Person(641, "kk")
    await to_step(tg, who, "territory")
    sent = await tg.text(who, "ә" * 4096)
    assert all(len(s.text) < 1000 for s in sent)


async def test_edited_message_gets_a_hint(tg: Telegram) -> None:
    sent = await tg.edited(Person(642, "ru"), "исправил")
    assert "Исправленные сообщения я не читаю" in sent[0].text


async def test_private_menu_sections_with_nothing_yet_answer_politely(tg: Telegram) -> None:
    who = Person(650, "kk")
    await register(tg, who, KK)
    for label, empty in (("Әкімнің есептері", "әлі жарияланған жоқ"), ("Кездесулер", "кездесу жоспарланбаған")):
        sent = await tg.click(who, label)
        assert empty in sent[0].text
        assert "Басты мәзір" in sent[-1].text


async def test_forged_callbacks_after_registration(tg: Telegram) -> None:
    who = Person(651, "ru")
    await register(tg, who, RU)
    for data in ("m:nothing", "s:del:yes", "t:p:114033100", "x" * 64, "consent:yes"):
        sent = await tg.press(who, data)
        assert sent and "Главное меню" in sent[-1].text
    assert tg.app  # the resident is untouched
    r = await tg.app.services.residents.get(who.id)
    assert r is not None and r.deleted_at is None and r.territory_kato == "114033200"


async def test_deep_link_is_kept_through_registration(tg: Telegram) -> None:
    who = Person(652, "kk")
    sent = await tg.text(who, "/start vote_12")
    assert "Тілді таңдаңыз" in sent[-1].text
    await tg.click(who, "Қазақша")
    await tg.click(who, "Келісемін")
    await tg.text(who, "Көктал")
    await tg.click(who, "Көктал")
    sent = await tg.text(who, "Өткізіп жіберу")
    assert "ешбір науқанға апармайды" in sent[1].text  # there is no campaign 12
    sent = await tg.text(who, "/start meeting_abc")
    assert "сілтеме енді жарамсыз" in sent[-1].text
