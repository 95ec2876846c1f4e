"""Babel catalogs from ``locales/`` and per-locale formatting of dates, times, tenge and plurals.

Source strings (msgids) are English and never shown: every text a person reads comes from the
kk or ru catalog. Placeholders use ``{name}`` and are filled with ``str.format``.

Kazakh puts a case ending on the value itself ("12 наурызға дейін", "3-тен"), and the ending follows the
value's last sound. A Kazakh msgstr asks for it by a suffix on the placeholder's name: ``{until_dat}``,
``{min_abl}``, ``{when_loc}`` (also ``_gen``, ``_acc``, ``_ins``) is ``{until}``, ``{min}``, ``{when}`` put in
that case by :func:`kk_case`; the code passes only the plain value. Russian needs no such thing: numbers
before nouns go through ``ngettext``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from string import Formatter
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from babel.support import Translations

LANGUAGES = ("kk", "ru")
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (module-level constants)."""
    return message


def pick_language(saved: str | None, telegram_code: str | None, default: str = "kk") -> str:
    """The resident's saved choice, else Telegram's language_code when kk or ru, else the default."""
    if saved in LANGUAGES:
        return saved
    code = (telegram_code or "").split("-")[0].lower()
    if code in LANGUAGES:
        return code
    return default


# --- Kazakh case endings --------------------------------------------------------------------------------------

CASES = ("dat", "abl", "loc", "gen", "acc", "ins")
_BACK, _FRONT = set("аоұыя"), set("әөүіеэ")
_VOWELS = _BACK | _FRONT | {"ю"}
_CYRILLIC = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі")
_NASAL, _SONORANT, _VOICED = set("мнң"), set("лрйуи"), set("зж")
# ending by case and by the value's final sound: (back, front) pairs
_ENDINGS = {
    "dat": {"vowel": ("ға", "ге"), "nasal": ("ға", "ге"), "sonorant": ("ға", "ге"), "voiced": ("ға", "ге"),
            "voiceless": ("қа", "ке")},
    "abl": {"vowel": ("дан", "ден"), "nasal": ("нан", "нен"), "sonorant": ("дан", "ден"), "voiced": ("дан", "ден"),
            "voiceless": ("тан", "тен")},
    "loc": {"vowel": ("да", "де"), "nasal": ("да", "де"), "sonorant": ("да", "де"), "voiced": ("да", "де"),
            "voiceless": ("та", "те")},
    "gen": {"vowel": ("ның", "нің"), "nasal": ("ның", "нің"), "sonorant": ("дың", "дің"), "voiced": ("дың", "дің"),
            "voiceless": ("тың", "тің")},
    "acc": {"vowel": ("ны", "ні"), "nasal": ("ды", "ді"), "sonorant": ("ды", "ді"), "voiced": ("ды", "ді"),
            "voiceless": ("ты", "ті")},
    "ins": {"vowel": ("мен", "мен"), "nasal": ("мен", "мен"), "sonorant": ("мен", "мен"), "voiced": ("бен", "бен"),
            "voiceless": ("пен", "пен")},
}
_UNITS = ("нөл", "бір", "екі", "үш", "төрт", "бес", "алты", "жеті", "сегіз", "тоғыз")
_TENS = ("", "он", "жиырма", "отыз", "қырық", "елу", "алпыс", "жетпіс", "сексен", "тоқсан")
# the word for a round number, while it is not a round number of the next unit
_BIG = (("жүз", 1000), ("мың", 10**6), ("миллион", 10**9), ("миллиард", 10**12))
KK_MONTHS = ("қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан",
             "қараша", "желтоқсан")
_DATE = re.compile(rf"^(\d{{1,2}}) ({'|'.join(KK_MONTHS)}) (\d{{4}})(?:, (\d{{1,2}}:\d{{2}}))?$")
_TIME = re.compile(r"^\d{1,2}:(\d{2})$")
_NUMBER = re.compile(r"^\d[\d\s\u00a0\u202f]*$")


def kk_number_word(n: int) -> str:
    """The last word one says reading ``n`` aloud in Kazakh (3 → "үш", 40 → "қырық", 1000 → "мың")."""
    n = abs(n)
    if n == 0 or n % 10:
        return _UNITS[n % 10]
    if n % 100:
        return _TENS[n % 100 // 10]
    for word, next_unit in _BIG:
        if n % next_unit:
            return word
    return "триллион"


def kk_ending(word: str, case: str) -> str:
    """The ``case`` ending that follows ``word`` (vowel harmony by its last clear vowel, form by its last sound)."""
    letters = [c for c in word.lower() if c.isalpha()]
    vowels = [c for c in letters if c in _BACK or c in _FRONT]
    front = bool(vowels) and vowels[-1] in _FRONT
    last = letters[-1] if letters else "а"
    kind = ("vowel" if last in _VOWELS else "nasal" if last in _NASAL else "sonorant" if last in _SONORANT
            else "voiced" if last in _VOICED else "voiceless")
    return _ENDINGS[case][kind][front]


def kk_case(value: object, case: str) -> str:
    """``value`` (a number, a time, a date as :meth:`Translator.date`/``datetime`` print it, or a word) in the
    Kazakh ``case`` (dat, abl, loc, gen, acc, ins): 3 → "3-тен" (abl), "12 наурыз 2027" → "2027 жылғы
    12 наурызға" (dat), "12 наурыз 2027, 18:30" → "2027 жылғы 12 наурыз, сағат 18:30-да" (loc), "Ақсу" →
    "Ақсуға" (dat). A value with no letter or digit ("—") is left as it is."""
    if case not in CASES:
        raise ValueError(f"unknown case {case!r}")
    text = str(value).strip()
    if not any(c.isalnum() for c in text):
        return text
    if m := _DATE.match(text):
        day, month, year, clock = m.groups()
        head = f"{year} жылғы {day} {month}"
        if clock:
            return f"{head}, сағат {kk_case(clock, case)}"
        return head + kk_ending(month, case)
    if m := _TIME.match(text):
        minutes = int(m.group(1))
        return f"{text}-{kk_ending(kk_number_word(minutes), case)}"
    if _NUMBER.match(text):
        digits = int("".join(c for c in text if c.isdigit()))
        return f"{text}-{kk_ending(kk_number_word(digits), case)}"
    if text[-1].lower() in _CYRILLIC:
        return text + kk_ending(text, case)
    return f"{text}-{kk_ending(text, case)}"


@lru_cache(maxsize=2048)
def _case_fields(text: str) -> tuple[tuple[str, str, str], ...]:
    """The ``{name_case}`` fields of ``text`` as (field, name, case)."""
    out = []
    for _literal, field, _spec, _conv in Formatter().parse(text):
        base, _, case = (field or "").rpartition("_")
        if base and case in CASES:
            out.append((field, base, case))
    return tuple(out)


def _declined(lang: str, text: str, kwargs: dict[str, object]) -> dict[str, object]:
    """``kwargs`` plus every ``{name_case}`` field of ``text`` made from ``name``'s value (Kazakh only)."""
    extra = {field: kk_case(kwargs[base], case) if lang == "kk" else kwargs[base]
             for field, base, case in _case_fields(text) if field not in kwargs and base in kwargs}
    return {**kwargs, **extra} if extra else kwargs


class CatalogMissing(RuntimeError):
    pass


class Translator:
    """Texts and formats of one language."""

    def __init__(self, lang: str, translations: Translations, tz: ZoneInfo) -> None:
        self.lang = lang
        self._tr = translations
        self.tz = tz

    def _(self, message: str, **kwargs: object) -> str:  # noqa: N802 - gettext convention
        text = self._tr.gettext(message)
        return text.format(**_declined(self.lang, text, kwargs)) if kwargs else text

    gettext = _

    def ngettext(self, singular: str, plural: str, n: int, /, **kwargs: object) -> str:
        """The form for ``n``; ``{n}`` is ``n`` unless another value is given for it (a text counting one thing
        and showing another number)."""
        text = self._tr.ngettext(singular, plural, n)
        return text.format(**_declined(self.lang, text, {"n": n, **kwargs}))

    def date(self, d: date | datetime) -> str:
        if isinstance(d, datetime):
            d = self.local(d).date()
        return format_date(d, "d MMMM y", locale=self.lang)

    def time(self, t: time | datetime) -> str:
        if isinstance(t, datetime):
            t = self.local(t).time()
        return format_time(t, "HH:mm", locale=self.lang)

    def datetime(self, dt: datetime) -> str:
        return f"{self.date(dt)}, {self.time(dt)}"

    def local(self, dt: datetime) -> datetime:
        return dt.astimezone(self.tz) if dt.tzinfo else dt.replace(tzinfo=self.tz)

    def tenge(self, amount: int | float | Decimal) -> str:
        return f"{format_decimal(amount, format='#,##0', locale=self.lang)}\u00a0₸"

    def number(self, n: int) -> str:
        return format_decimal(n, format="#,##0", locale=self.lang)


class I18n:
    def __init__(self, default: str = "kk", tz: str = "Asia/Almaty", path: Path = LOCALES_DIR) -> None:
        self.default = default
        self.tz = ZoneInfo(tz)
        self._translators: dict[str, Translator] = {}
        for lang in LANGUAGES:
            mo = path / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
            if not mo.exists():
                raise CatalogMissing(
                    f"{mo} is missing: compile the catalogs with `pybabel compile -d locales` "
                    "(the set-up commands in README do it)"
                )
            with mo.open("rb") as fp:
                self._translators[lang] = Translator(lang, Translations(fp, domain=DOMAIN), self.tz)

    def __call__(self, lang: str | None) -> Translator:
        return self._translators.get(lang or self.default, self._translators[self.default])
