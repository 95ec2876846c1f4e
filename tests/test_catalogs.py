"""Every text exists in kk and ru, translated, not fuzzy, with the same placeholders; formats per locale."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import I18n, pick_language

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
# a Kazakh msgstr may ask for a value in a case: {until_dat} is {until} put in the dative by bot.i18n.kk_case
KK_CASE_SUFFIX = re.compile(r"_(?:dat|abl|loc|gen|acc|ins)\}")
TAG = re.compile(r"</?[a-z-]+>")
CYR = "А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі"
# a word mixing Latin and Cyrillic letters (e.g. Latin "i" or "a" standing in for і, а), or a Latin/Cyrillic
# look-alike of a Kazakh letter (ä, ğ, ö, ü, ı; Cyrillic ё/э in Kazakh words are fine)
LOOKALIKES = re.compile(rf"(?=\w*[A-Za-z])(?=\w*[{CYR}])\w+|[ÄäĞğŊŋÖöŪūÜüİı]")


def catalog(lang: str):
    with open(ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po", "rb") as fp:
        return read_po(fp, locale=lang)


def placeholders(text: str, lang: str) -> list[str]:
    found = PLACEHOLDER.findall(text)
    return [KK_CASE_SUFFIX.sub("}", p) for p in found] if lang == "kk" else found


def template_ids() -> set[str | tuple[str, ...]]:
    with open(ROOT / "locales" / "messages.pot", "rb") as fp:
        return {m.id for m in read_po(fp) if m.id}


def test_template_is_up_to_date(tmp_path: Path) -> None:
    out = tmp_path / "fresh.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_",
                    "-k", "N_", "-k", "ngettext:1,2", "--no-location", "--omit-header", "-o", str(out), "bot"],
                   cwd=ROOT, check=True, capture_output=True)
    with open(out, "rb") as fp:
        fresh = {m.id for m in read_po(fp) if m.id}
    assert fresh == template_ids(), "run the extract command in README (texts changed in the code)"


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_message_translated_not_fuzzy_same_placeholders(lang: str) -> None:
    cat = catalog(lang)
    ids = template_ids()
    problems = []
    assert len(ids) > 50
    for msg in cat:
        if not msg.id:
            continue
        source = msg.id if isinstance(msg.id, str) else msg.id[0]
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        if msg.fuzzy:
            problems.append(f"fuzzy: {source!r}")
        for s in strings:
            if not s:
                problems.append(f"untranslated: {source!r}")
            elif sorted(placeholders(s, lang)) != sorted(PLACEHOLDER.findall(source)):
                problems.append(f"placeholders differ: {source!r} → {s!r}")
            elif sorted(TAG.findall(s)) != sorted(TAG.findall(source)):
                problems.append(f"HTML tags differ: {source!r} → {s!r}")
    missing = ids - {m.id for m in cat if m.id}
    problems += [f"missing: {m!r}" for m in sorted(missing)]
    assert not problems, "\n".join(problems)


def test_kazakh_uses_kazakh_letters_not_lookalikes() -> None:
    for msg in catalog("kk"):
        for string in (msg.string if isinstance(msg.string, tuple) else (msg.string,)):
            text = TAG.sub("", re.sub(r"/[a-z]+|\{[a-z_]*\}|Telegram|Qatysu|config\.toml|ID|TELEGRAM_ID|"
                                      r"admin|operator|secretary", "", string or ""))
            assert not LOOKALIKES.search(text), f"look-alike letter in {string!r}"


def test_pick_language() -> None:
    assert pick_language("ru", "kk") == "ru"
    assert pick_language(None, "ru-RU") == "ru"
    assert pick_language(None, "en") == "kk"
    assert pick_language(None, None, default="ru") == "ru"


def test_formats_per_locale() -> None:
    i18n = I18n()
    kk, ru = i18n("kk"), i18n("ru")
    assert kk.date(date(2026, 3, 22)) == "22 наурыз 2026"
    assert ru.date(date(2026, 3, 22)) == "22 марта 2026"
    # 10:30 UTC is 15:30 in Almaty (UTC+5)
    assert kk.datetime(datetime(2026, 11, 21, 10, 30, tzinfo=UTC)) == "21 қараша 2026, 15:30"
    assert kk.tenge(1250000) == "1\u00a0250\u00a0000\u00a0₸"
    assert ru.tenge(1250000) == "1\u00a0250\u00a0000\u00a0₸"


@pytest.mark.parametrize("n,word", [(1, "нашёлся 1 населённый пункт"), (3, "нашлось 3 населённых пункта"),
                                    (5, "нашлось 5 населённых пунктов"), (11, "нашлось 11 населённых пунктов"),
                                    (21, "нашёлся 21 населённый пункт")])
def test_russian_plurals(n: int, word: str) -> None:
    tr = I18n()("ru")
    text = tr.ngettext("Found {n} place for «{query}». Choose yours:",
                       "Found {n} places for «{query}». Choose yours:", n, query="ко")
    assert word in text


def test_kazakh_plural_keeps_the_noun_singular() -> None:
    tr = I18n()("kk")
    text = tr.ngettext("Found {n} place for «{query}». Choose yours:",
                       "Found {n} places for «{query}». Choose yours:", 5, query="кө")
    assert "5 елді мекен табылды" in text


# --- grammar around placeholders ------------------------------------------------------------------------------
# Kazakh: a word right after a value that needs the value in a case (a postposition governing the dative or the
# ablative, or a verb of time wanting the locative), or an ending glued to the value ("{min}-ден", "{n}ға").
KK_GOVERNED = re.compile(
    r"\{([a-z_]+)\}(?:\s+(?:дейін|дейінгі|шейін|бастап|кейін|кейінгі|соң|бұрын|бері|арқылы|қарай|гөрі|"
    r"өтетін|өтеді|басталады|басталғанда|басталатын|аяқталады|аяқталғанда|ашылады|жабылады)(?![а-яәғқңөұүһі])"
    r"|-(?:ға|ге|қа|ке|на|не|да|де|та|те|нда|нде|дан|ден|тан|тен|нан|нен|ның|нің|дың|дің|тың|тің|ны|ні|ды|ді|"
    r"ты|ті|мен|бен|пен|ші|шы|інші|ыншы|сы|сі|ы|і|лар|лер|дар|дер|тар|тер)(?![а-яәғқңөұүһі])"
    r"|[а-яәғқңөұүһі])")
DECLINED = re.compile(r"_(?:dat|abl|loc|gen|acc|ins)$")
# Russian: a count right before a noun needs the noun's plural form, so the entry must be a plural one
RU_COUNTS = {"n", "min", "max", "count", "total", "threshold", "days", "hours", "minutes", "shown", "left", "kk",
             "ru", "coming", "not_coming", "questions", "answered", "votes"}
RU_NOT_NOUNS = {"и", "или", "из", "в", "во", "на", "до", "от", "по", "с", "а", "но", "либо", "не",
                "ч", "мин", "сут"}  # abbreviations do not change with the number
RU_BEFORE_WORD = re.compile(r"\{([a-z_]+)\}\s+([а-яё]+)")


def kazakh_case_problems(cat) -> list[str]:
    problems = []
    for msg in cat:
        for s in (msg.string if isinstance(msg.string, tuple) else (msg.string,)):
            for m in KK_GOVERNED.finditer(s or ""):
                if not DECLINED.search(m.group(1)):
                    problems.append(f"{m.group(0)!r} needs {{{m.group(1)}_dat}}/_abl/_loc…: {s!r}")
    return problems


def russian_count_problems(cat) -> list[str]:
    problems = []
    for msg in cat:
        if isinstance(msg.id, tuple):
            continue
        for m in RU_BEFORE_WORD.finditer(msg.string or ""):
            if m.group(1) in RU_COUNTS and m.group(2) not in RU_NOT_NOUNS:
                problems.append(f"{m.group(0)!r} needs a plural entry (ngettext): {msg.string!r}")
    return problems


def test_kazakh_puts_no_case_ending_or_postposition_on_a_plain_placeholder() -> None:
    problems = kazakh_case_problems(catalog("kk"))
    assert not problems, "\n".join(problems)


def test_russian_count_before_a_noun_is_a_plural_entry() -> None:
    problems = russian_count_problems(catalog("ru"))
    assert not problems, "\n".join(problems)


def test_the_grammar_checks_catch_what_they_are_for() -> None:
    from babel.messages.catalog import Catalog
    kk = Catalog(locale="kk")
    for text in ("Ұсыныстар {until} дейін қабылданады.", "Дауыс беру {until} аяқталады.", "{min}-ден {max}-ға",
                 "{n}ға", "{when} өтетін кездесу"):
        kk.add(text, text)
    assert len(kazakh_case_problems(kk)) == 6
    ok = Catalog(locale="kk")
    for text in ("Ұсыныстар {until_dat} дейін қабылданады.", "{min_abl} {max_dat} дейін", "{n}-қадам",
                 "{year} жылғы {quarter}-тоқсан", "Мерзімі: {until}."):
        ok.add(text, text)
    assert kazakh_case_problems(ok) == []
    ru = Catalog(locale="ru")
    ru.add("a", "Здесь {n} символов")
    ru.add("b", "не набрал хотя бы {threshold} голосов")
    ru.add("c", "от {min} до {max}; получателей: {n}")
    ru.add(("d", "ds"), ("{n} голос", "{n} голоса", "{n} голосов"))
    assert len(russian_count_problems(ru)) == 2


def test_kazakh_noun_after_a_count_stays_singular() -> None:
    """«5 тұрғын», not «5 тұрғындар»: a Kazakh noun after a number takes no plural ending."""
    plural_after_count = re.compile(r"\{(?:n|min|max|count|total|days|threshold|left|shown)\}\s+[а-яәғқңөұүһі]+"
                                    r"(?:лар|лер|дар|дер|тар|тер)(?:ға|ге|да|де|дан|ден|ды|ді|дың|дің|ы|і)?\b")
    problems = [s for msg in catalog("kk") for s in (msg.string if isinstance(msg.string, tuple) else (msg.string,))
                if plural_after_count.search(s or "")]
    assert not problems, "\n".join(problems)
    assert plural_after_count.search("Келемін деген {n} тұрғындарға хабарланады.")
