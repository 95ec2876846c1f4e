"""Kazakh case endings put on numbers, times, dates and names by bot.i18n, as a Kazakh reader expects them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.i18n import KK_MONTHS, I18n, kk_case

# every final digit: the ending follows the last word one says (бір, екі, үш, төрт, бес, алты, жеті, сегіз, тоғыз)
DIGITS = [(1, "1-ге", "1-ден", "1-де"), (2, "2-ге", "2-ден", "2-де"), (3, "3-ке", "3-тен", "3-те"),
          (4, "4-ке", "4-тен", "4-те"), (5, "5-ке", "5-тен", "5-те"), (6, "6-ға", "6-дан", "6-да"),
          (7, "7-ге", "7-ден", "7-де"), (8, "8-ге", "8-ден", "8-де"), (9, "9-ға", "9-дан", "9-да"),
          (0, "0-ге", "0-ден", "0-де")]
# tens (он, жиырма, отыз, қырық, елу, алпыс, жетпіс, сексен, тоқсан), hundreds, thousands and more
ROUND = [(10, "10-ға", "10-нан", "10-да"), (20, "20-ға", "20-дан", "20-да"), (30, "30-ға", "30-дан", "30-да"),
         (40, "40-қа", "40-тан", "40-та"), (50, "50-ге", "50-ден", "50-де"), (60, "60-қа", "60-тан", "60-та"),
         (70, "70-ке", "70-тен", "70-те"), (80, "80-ге", "80-нен", "80-де"), (90, "90-ға", "90-нан", "90-да"),
         (100, "100-ге", "100-ден", "100-де"), (300, "300-ге", "300-ден", "300-де"),
         (1000, "1000-ға", "1000-нан", "1000-да"), (5000, "5000-ға", "5000-нан", "5000-да"),
         (1_000_000, "1000000-ға", "1000000-нан", "1000000-да")]
# compound numbers end in their last spoken word
COMPOUND = [(11, "11-ге", "11-ден", "11-де"), (23, "23-ке", "23-тен", "23-те"), (46, "46-ға", "46-дан", "46-да"),
            (140, "140-қа", "140-тан", "140-та"), (1500, "1500-ге", "1500-ден", "1500-де"),
            (2026, "2026-ға", "2026-дан", "2026-да"), (4000, "4000-ға", "4000-нан", "4000-да")]


@pytest.mark.parametrize("n,dat,abl,loc", DIGITS + ROUND + COMPOUND)
def test_numbers_take_the_ending_of_their_last_spoken_word(n: int, dat: str, abl: str, loc: str) -> None:
    assert (kk_case(n, "dat"), kk_case(n, "abl"), kk_case(n, "loc")) == (dat, abl, loc)


def test_a_number_printed_with_group_spaces_keeps_them() -> None:
    tr = I18n()("kk")
    assert kk_case(tr.number(1000), "abl") == "1\u00a0000-нан"
    assert kk_case(tr.number(2500), "dat") == "2\u00a0500-ге"


MONTHS = {"қаңтар": ("қаңтарға", "қаңтардан", "қаңтарда"), "ақпан": ("ақпанға", "ақпаннан", "ақпанда"),
          "наурыз": ("наурызға", "наурыздан", "наурызда"), "сәуір": ("сәуірге", "сәуірден", "сәуірде"),
          "мамыр": ("мамырға", "мамырдан", "мамырда"), "маусым": ("маусымға", "маусымнан", "маусымда"),
          "шілде": ("шілдеге", "шілдеден", "шілдеде"), "тамыз": ("тамызға", "тамыздан", "тамызда"),
          "қыркүйек": ("қыркүйекке", "қыркүйектен", "қыркүйекте"), "қазан": ("қазанға", "қазаннан", "қазанда"),
          "қараша": ("қарашаға", "қарашадан", "қарашада"),
          "желтоқсан": ("желтоқсанға", "желтоқсаннан", "желтоқсанда")}


@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_of_a_printed_date_takes_its_ending(month: int) -> None:
    tr = I18n()("kk")
    printed = tr.date(date(2027, month, 12))
    name = KK_MONTHS[month - 1]
    assert printed == f"12 {name} 2027"
    dat, abl, loc = MONTHS[name]
    assert kk_case(printed, "dat") == f"2027 жылғы 12 {dat}"
    assert kk_case(printed, "abl") == f"2027 жылғы 12 {abl}"
    assert kk_case(printed, "loc") == f"2027 жылғы 12 {loc}"


def test_date_with_time_declines_the_time() -> None:
    tr = I18n()("kk")
    printed = tr.datetime(datetime(2027, 3, 12, 13, 0, tzinfo=UTC))  # 18:00 in Almaty
    assert printed == "12 наурыз 2027, 18:00"
    assert kk_case(printed, "dat") == "2027 жылғы 12 наурыз, сағат 18:00-ге"
    assert kk_case("12 наурыз 2027, 18:30", "abl") == "2027 жылғы 12 наурыз, сағат 18:30-дан"
    assert kk_case("12 наурыз 2027, 9:45", "loc") == "2027 жылғы 12 наурыз, сағат 9:45-те"


@pytest.mark.parametrize("word,case,out", [("Ақсу", "dat", "Ақсуға"), ("Алматы", "gen", "Алматының"),
                                           ("Көкшетау", "loc", "Көкшетауда"), ("Түркістан", "abl", "Түркістаннан"),
                                           ("Шымкент", "dat", "Шымкентке"), ("Өскемен", "gen", "Өскеменнің"),
                                           ("Тараз", "ins", "Таразбен"), ("Орал", "acc", "Оралды")])
def test_names_take_endings_by_vowel_harmony(word: str, case: str, out: str) -> None:
    assert kk_case(word, case) == out


def test_a_dash_for_a_missing_value_stays_a_dash() -> None:
    assert kk_case("—", "dat") == "—"


def test_kazakh_text_asks_for_a_case_by_the_placeholder_name_and_russian_gets_the_plain_value() -> None:
    i18n = I18n()
    kk, ru = i18n("kk"), i18n("ru")
    until = kk.datetime(datetime(2027, 9, 12, 13, 0, tzinfo=UTC))
    text = kk._("Voting is open until {until}! Choose the projects for {place}.", until=until, place="Ақсу")
    assert "2027 жылғы 12 қыркүйек, сағат 18:00-ге дейін" in text
    assert "{" not in text
    text = ru._("Voting is open until {until}! Choose the projects for {place}.", until=ru.datetime(
        datetime(2027, 9, 12, 13, 0, tzinfo=UTC)), place="Аксу")
    assert "до 12 сентября 2027, 18:00" in text
    assert kk._("Please type a number from 1 to {max}.", max=6).startswith("1-ден 6-ға дейінгі")
