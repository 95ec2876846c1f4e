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
TAG = re.compile(r"</?[a-z-]+>")
CYR = "А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі"
# a word mixing Latin and Cyrillic letters (e.g. Latin "i" or "a" standing in for і, а), or a Latin/Cyrillic
# look-alike of a Kazakh letter (ä, ğ, ö, ü, ı; Cyrillic ё/э in Kazakh words are fine)
LOOKALIKES = re.compile(rf"(?=\w*[A-Za-z])(?=\w*[{CYR}])\w+|[ÄäĞğŊŋÖöŪūÜüİı]")


def catalog(lang: str):
    with open(ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po", "rb") as fp:
        return read_po(fp, locale=lang)


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
            elif sorted(PLACEHOLDER.findall(s)) != sorted(PLACEHOLDER.findall(source)):
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
