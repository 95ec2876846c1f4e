"""Wording a resident or an aide reads: one word per meaning, true legal statements, Russian counts that agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import I18n

ROOT = Path(__file__).resolve().parent.parent
# the consent, data-deletion and "my data" texts are worded under another issue (personal data)
PERSONAL_DATA_TEXTS = ("<b>Consent to the processing", "Delete all your personal data", "<b>What we keep about you",
                       "Your data has been deleted", "We keep no data")


def entries(lang: str) -> list[tuple[str, str]]:
    """(English source, translation) of every entry; a plural entry gives one pair per form."""
    with open(ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po", "rb") as fp:
        cat = read_po(fp, locale=lang)
    out = []
    for m in cat:
        if not m.id:
            continue
        source = m.id if isinstance(m.id, str) else " / ".join(m.id)
        if source.startswith(PERSONAL_DATA_TEXTS):
            continue
        for s in (m.string if isinstance(m.string, tuple) else (m.string,)):
            out.append((source, s))
    return out


@pytest.fixture(scope="module")
def kk():
    return I18n()("kk")


@pytest.fixture(scope="module")
def ru():
    return I18n()("ru")


# --- terms --------------------------------------------------------------------------------------------------------

def test_the_request_kind_is_aryz_and_every_text_naming_it_says_so(kk) -> None:
    assert kk._("📨 Request") == "📨 Арыз"
    naming = [(src, s) for src, s in entries("kk") if re.search(r"\brequests?\b", src, re.I)]
    assert len(naming) >= 3
    for src, s in naming:
        assert "арыз" in s.lower(), f"{src!r} → {s!r}"


def test_notifications_setting_is_khabarlamalar_not_the_word_for_a_notice(kk) -> None:
    for src, s in entries("kk"):
        if "notification" in src.lower():
            assert s.lower().count("хабарлама") >= src.lower().count("notification"), f"{src!r} → {s!r}"
            if "notice" not in src.lower():
                assert "хабарландыру" not in s.lower(), f"{src!r} → {s!r}"
    assert kk._("🔔 Turn notifications on") == "🔔 Хабарламаларды қосу"


def test_received_and_accepted_are_different_words(kk, ru) -> None:
    assert (kk._("received"), ru._("received")) == ("түсті", "поступило")
    assert kk._("accepted") == "қабылданды"


def test_returned_for_changes_is_one_word_in_kazakh() -> None:
    for src, s in entries("kk"):
        assert "өңдеуге" not in s, f"{src!r} → {s!r}"
        if "for changes" in src:
            assert "пысықтауға" in s.lower(), f"{src!r} → {s!r}"


@pytest.mark.parametrize("lang,short", [("kk", r"Халық бюджет"), ("ru", r"Народн\w+ бюджет")])
def test_peoples_budget_short_name_only_on_buttons(lang: str, short: str) -> None:
    for src, s in entries(lang):
        if re.search(short, s):
            assert len(s) <= 25 and not s.rstrip().endswith((".", "?", ":", "!")), f"{src!r} → {s!r}"


def test_the_aide_has_one_name_in_the_bot_and_on_the_sandbox_page(kk, ru) -> None:
    page = (ROOT / "sandbox" / "static" / "i18n.js").read_text(encoding="utf-8")
    role_labels = re.findall(r'roleAide: "([^"]+)"', page)
    assert role_labels == ["Оператор", "Оператор"]
    assert 'aide: "оператор"' in page and "Көмекші" not in page and "Помощник" not in page
    assert kk._("Aide: {who}", who="А").startswith("Оператор:") and ru._("Aide: {who}", who="А").startswith("Оператор:")
    assert kk._("operator") == ru._("operator") == "оператор"


# --- what the law says ----------------------------------------------------------------------------------------------

def test_anonymous_appeal_is_taken_into_account_not_considered(kk) -> None:
    text = kk._("⚠️ An anonymous appeal gets no formal answer (Administrative Procedural Code, art. 88); the akimat "
                "reads it as information. In an emergency call 112 (police: 102).")
    assert "назарға алады" in text and "қарайды" not in text


def test_ten_vote_floor_is_from_the_concept_not_a_law() -> None:
    for lang, concept, law in (("kk", "Тұжырымдама", "Заң"), ("ru", "Концепци", "закон")):
        floor = [(src, s) for src, s in entries(lang) if "10" in src and "threshold" in src.lower()]
        assert floor
        for src, s in floor:
            assert concept.lower() in s.lower() and law.lower() not in s.lower(), f"{src!r} → {s!r}"


def test_help_gives_the_usual_answer_term(kk, ru) -> None:
    msgid = next(src for src, _s in entries("kk") if src.startswith("Qatysu connects you"))
    assert "әдетте 15 жұмыс күні" in kk._(msgid)
    assert "как правило, 15 рабочих дней" in ru._(msgid)


def test_the_name_is_asked_plainly_and_revoking_is_not_getting(kk) -> None:
    assert "жүгінсін" not in kk._("How should the akimat address you? Type your first and last name.")
    assert kk._("Take a role") == "Рөлді алып тастау"


# --- Russian --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,words", [(1, "1 символ,"), (3, "3 символа,"), (21, "21 символ,"), (25, "25 символов,"),
                                     (112, "112 символов,")])
def test_russian_character_count_agrees_with_the_number(ru, n: int, words: str) -> None:
    text = ru.ngettext("That is {n} character; the limit is {max}. Please shorten it.",
                       "That is {n} characters; the limit is {max}. Please shorten it.", n, max=500)
    assert f"В тексте {words} а можно не больше 500" in text


@pytest.mark.parametrize("n,words", [(10, "10 голосов"), (21, "21 голос"), (22, "22 голоса")])
def test_russian_vote_floor_agrees_with_the_number(ru, n: int, words: str) -> None:
    text = ru.ngettext("No project got at least {threshold} vote, so none can be implemented this time.",
                       "No project got at least {threshold} votes, so none can be implemented this time.", n,
                       threshold=n)
    assert f"минимума в {words}," in text


def test_a_count_and_another_number_in_one_text(ru, kk) -> None:
    """The count chooses the form; another number shown in the same text keeps its own value."""
    text = ru.ngettext("You can add up to {max} photo or document and a location (the 📎 button). Added: {n}. When "
                       "ready, press «Continue».", "You can add up to {max} photos or documents and a location (the 📎 "
                       "button). Added: {n}. When ready, press «Continue».", 5, max=5, n=2)
    assert "до 5 фото или документов" in text and "Добавлено: 2." in text
    text = kk.ngettext("Please write the reason in {min} to {max} character.",
                       "Please write the reason in {min} to {max} characters.", 500, min=3, max=500)
    assert text == "Себебін 3-тен 500 таңбаға дейін жазыңыз."


def test_russian_buttons_and_labels(ru) -> None:
    assert ru._("✅ I agree") == "✅ Даю согласие" and ru._("I do not agree") == "Не даю согласия"
    assert "«Даю согласие»" in ru._("Without consent the bot cannot keep your appeals or votes. If you change your "
                                    "mind, press «I agree».")
    assert "\nГолос отдан: 1 мая" in ru._("✅ The code <code>{code}</code> is a counted vote.\nCampaign: {campaign}\n"
                                          "Given: {date}\nThe receipt does not show the project: only the voter sees "
                                          "it, in «🧾 My votes».", code="X", campaign="К", date="1 мая")


def test_russian_says_characters_one_way_and_gives_russian_examples() -> None:
    for src, s in entries("ru"):
        assert not re.search(r"\bзнак(ов|а)?\b", s), f"{src!r} → {s!r}"
        if src.startswith("Usage: /forward"):
            assert not re.search("[әғқңөұүһі]", s.lower()), s
