"""Babel catalogs from ``locales/`` and per-locale formatting of dates, times, tenge and plurals.

Source strings (msgids) are English and never shown: every text a person reads comes from the
kk or ru catalog. Placeholders use ``{name}`` and are filled with ``str.format``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
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
        return text.format(**kwargs) if kwargs else text

    gettext = _

    def ngettext(self, singular: str, plural: str, n: int, **kwargs: object) -> str:
        return self._tr.ngettext(singular, plural, n).format(n=n, **kwargs)

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
