"""Statistics for admins: the export rows, CSV and XLSX files, the CLI with its audit trace, the chart, /stats.

The data set is built through AppealService with a fixed clock (times given in Kazakhstan, UTC+5):

    a1 roads,       Azat      16 Jun 03:00 (15 Jun 22:00 UTC), taken and answered 17 Jun 10:00 (31 h), rated 5
    a2 water,       Azat      16 Jun 10:00, taken and answered 10 Jul 10:00 (576 h; due 8 Jul: late), rated 2
    a3 water,       Karaozek  16 Jun 10:00, extended to 31 Jul, answered 20 Jul (816 h, on time), closed, rated 4
    a4 roads,       Karaozek  16 Jun 10:00, rejected
    a5 housing,     Karaozek  18 Jun 10:00, received
    a6 housing,     Azat      18 Jun 10:00, eOtinish number recorded, taken (and taken over 10 Jul): in progress
    a7 landscaping, no place  18 Jun 10:00, an anonymous message whose text starts with "="
    a8 roads,       Azat      18 Jun 10:00, a repeat of a1

So: 8 appeals; received 3, in progress 1, answered 2, closed 1, rejected 1; roads 3, water 2, housing 2,
landscaping 1; Azat 4, Karaozek 3, no place 1; 3 answered, median 576 h (24 days), 2 of 3 on time (67%);
mean rating 11/3 = 3.7 of 3 ratings.
"""

from __future__ import annotations

import asyncio
import csv
import io
import struct
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot import charts
from bot.app import App
from bot.channels.telegram import render
from bot.channels.telegram.commands import staff_commands
from bot.cli import main
from bot.flows.base import Screen
from bot.services.appeal_export import COLUMNS, PERSONAL_COLUMNS, export_rows, write_csv, write_xlsx
from bot.services.appeals import AppealService, AppealStats
from bot.services.calendar import WorkCalendar
from bot.services.roles import Role
from storage.models import Appeal, AuditLog
from tests.conftest import ADMIN, OPERATOR
from tests.support.telegram import Person, Telegram
from tests.test_appeals_service import AZAT, AZAT_OKRUG, KARAOZEK, Clock, make_resident

OP1, OP2 = 700001, 700002
FORMULA_TEXT = "=HYPERLINK(\"http://x\") көшеде қоқыс жиналып қалды, шығарып әкетуді сұраймыз"


@dataclass
class DataSet:
    a: dict[int, Appeal]
    names: dict[int, str]  # appeal → the resident's name
    phones: dict[int, str]  # appeal → the resident's phone
    texts: dict[int, str]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(app: App, clock: Clock) -> AppealService:
    return AppealService(app.sessions, WorkCalendar(), clock=clock)


@pytest.fixture
async def data(app: App, svc: AppealService, clock: Clock) -> DataSet:
    r1 = await make_resident(app, 511, name="Айгүл Сәрсенова")
    r2 = await make_resident(app, 512, name="Ерлан Қасымов")
    res = app.services.residents
    phone = {r1: (await res.get(511)).phone, r2: (await res.get(512)).phone}
    name = {r1: "Айгүл Сәрсенова", r2: "Ерлан Қасымов"}
    a: dict[int, Appeal] = {}
    owner: dict[int, int] = {}

    async def new(i: int, rid: int, kind: str, category: str, territory: str | None, text: str, **kw) -> None:
        a[i] = await svc.create(rid, kind, category, territory, text, "kk" if i % 2 else "ru", **kw)
        owner[i] = rid

    clock.at(2025, 6, 16, 3, 0)
    await new(1, r1, "complaint", "roads", AZAT, "Яма на дороге у школы")
    clock.at(2025, 6, 16, 10, 0)  # Monday; due 8 July
    await new(2, r2, "complaint", "water", AZAT, "Нет воды в колонке")
    await new(3, r1, "complaint", "water", KARAOZEK, "Ржавая вода из крана")
    await new(4, r2, "complaint", "roads", KARAOZEK, "Не чистят снег на трассе")
    await svc.reject(a[4].id, "Не относится к компетенции", OP1)
    clock.at(2025, 6, 17, 10, 0)
    await svc.take(a[1].id, OP1)
    await svc.answer(a[1].id, "Яму засыпали", OP1)
    await svc.rate(a[1].id, r1, 5)
    clock.at(2025, 6, 18, 10, 0)
    await new(5, r1, "complaint", "housing", KARAOZEK, "Протекает крыша дома")
    await new(6, r2, "complaint", "housing", AZAT, "Сломан лифт в подъезде")
    await svc.record_registration(a[6].id, "ЖТ-2025-0006", date(2025, 6, 18), OP2)
    await svc.take(a[6].id, OP2)
    await new(7, r1, "message", "landscaping", None, FORMULA_TEXT, anonymous=True)
    await new(8, r1, "complaint", "roads", AZAT, "Яма на дороге у школы снова")
    await svc.extend(a[3].id, date(2025, 7, 31), "Лабораторный анализ", OP2)
    clock.at(2025, 7, 10, 10, 0)
    await svc.take(a[2].id, OP2)
    await svc.answer(a[2].id, "Колонку починили", OP2)
    await svc.take(a[6].id, OP1)  # taken over by another aide: taken_at stays the first take
    await svc.rate(a[2].id, r2, 2)
    clock.at(2025, 7, 20, 10, 0)
    await svc.take(a[3].id, OP2)
    await svc.answer(a[3].id, "Трубы заменены", OP2)
    await svc.close(a[3].id, OP2)
    await svc.rate(a[3].id, r1, 4)
    a = {i: await svc.get(x.id) for i, x in a.items()}
    return DataSet(a, {i: name[owner[i]] for i in a}, {i: phone[owner[i]] for i in a},
                   {i: x.text for i, x in a.items()})


def by_number(rows: list[dict]) -> dict[str, dict]:
    return {r["number"]: r for r in rows}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- the rows -----------------------------------------------------------------------------------


async def test_rows_carry_the_lifecycle_in_utc(app: App, data: DataSet) -> None:
    rows = await export_rows(app.sessions, with_personal_data=False)
    assert [r["number"] for r in rows] == [data.a[i].number for i in range(1, 9)]  # oldest first
    assert all(tuple(r) == COLUMNS for r in rows)
    r = by_number(rows)
    a1, a2, a3, a4, a5, a6, a7, a8 = (r[data.a[i].number] for i in range(1, 9))
    assert a1["received_at"] == utc(2025, 6, 15, 22, 0)  # 03:00 in Kazakhstan
    assert a1["taken_at"] == a1["answered_at"] == utc(2025, 6, 17, 5, 0)
    assert (a1["status"], a1["kind"], a1["category"], a1["rating"]) == ("answered", "complaint", "roads", 5)
    assert (a1["territory_kato"], a1["territory_name_kk"], a1["territory_name_ru"]) == (AZAT, "Азат", "Азат")
    assert a3["territory_name_kk"] == "Қараөзек" and a3["territory_name_ru"] == "Караозек"
    assert a1["answered_on_time"] is True and a2["answered_on_time"] is False and a3["answered_on_time"] is True
    assert a3["extended_until"] == date(2025, 7, 31) and a3["closed_at"] == utc(2025, 7, 20, 5, 0)
    assert a3["due_on"] == date(2025, 7, 8) and a3["registered_on"] == date(2025, 6, 16)
    assert a4["rejected"] is True and a4["status"] == "rejected" and a4["taken_at"] is None
    assert not any(x["rejected"] for x in (a1, a2, a3, a5, a6, a7, a8))
    assert a5["answered_on_time"] is None and a5["answered_at"] is None and a5["status"] == "received"
    assert a6["registration_number"] == "ЖТ-2025-0006" and a6["registration_date"] == date(2025, 6, 18)
    assert a6["taken_at"] == utc(2025, 6, 18, 5, 0) and a6["status"] == "in_progress"
    assert a7["anonymous"] is True and a7["territory_kato"] is None and a7["territory_name_kk"] is None
    assert a8["repeat_of"] == data.a[1].number and a1["repeat_of"] is None
    assert {x["reopened_count"] for x in rows} == {0}


async def test_personal_data_only_when_asked(app: App, data: DataSet) -> None:
    plain = await export_rows(app.sessions, with_personal_data=False)
    flat = repr(plain)
    for i in range(1, 9):
        assert data.texts[i] not in flat
        assert data.phones[i] not in flat
    assert "Айгүл" not in flat and "Қасымов" not in flat
    assert not set(PERSONAL_COLUMNS) & set(plain[0])

    full = by_number(await export_rows(app.sessions, with_personal_data=True))
    assert all(tuple(r) == COLUMNS + PERSONAL_COLUMNS for r in full.values())
    for i in (1, 2, 3, 4, 5, 6, 8):
        row = full[data.a[i].number]
        assert (row["resident_name"], row["phone"], row["text"]) == (data.names[i], data.phones[i], data.texts[i])
    anonymous = full[data.a[7].number]
    assert anonymous["resident_name"] is None and anonymous["phone"] is None  # anonymity holds in every export
    assert anonymous["text"] == FORMULA_TEXT


async def test_territory_and_since_filters(app: App, data: DataSet) -> None:
    okrug = await export_rows(app.sessions, with_personal_data=False, territory_kato=AZAT_OKRUG)
    assert {r["number"] for r in okrug} == {data.a[i].number for i in (1, 2, 6, 8)}
    # a day starts at midnight in Kazakhstan: a1, received at 03:00 local (22:00 UTC the day before), counts
    day = await export_rows(app.sessions, with_personal_data=False, since=date(2025, 6, 16))
    assert len(day) == 8
    later = await export_rows(app.sessions, with_personal_data=False, since=date(2025, 6, 17))
    assert {r["number"] for r in later} == {data.a[i].number for i in (5, 6, 7, 8)}
    both = await export_rows(app.sessions, with_personal_data=False, since=date(2025, 6, 17), territory_kato=KARAOZEK)
    assert [r["number"] for r in both] == [data.a[5].number]


# -- the files ----------------------------------------------------------------------------------


async def test_csv_has_a_bom_and_a_fixed_header(app: App, data: DataSet, tmp_path: Path) -> None:
    rows = await export_rows(app.sessions, with_personal_data=True)
    path = tmp_path / "appeals.csv"
    assert write_csv(rows, path) == 8
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and not raw.startswith(b"\xef\xbb\xbf\xef\xbb\xbf")
    read = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert read[0] == list(COLUMNS + PERSONAL_COLUMNS)
    got = {r[0]: dict(zip(read[0], r, strict=True)) for r in read[1:]}
    assert len(got) == 8
    a1, a3, a7 = got[data.a[1].number], got[data.a[3].number], got[data.a[7].number]
    assert a1["received_at"] == "2025-06-15T22:00:00+00:00" and a1["answered_on_time"] == "true"
    assert a1["resident_name"] == "Айгүл Сәрсенова" and a3["territory_name_kk"] == "Қараөзек"
    assert a3["extended_until"] == "2025-07-31" and a3["rejected"] == "false"
    assert got[data.a[5].number]["answered_on_time"] == "" and a7["phone"] == ""
    assert a7["text"] == "'" + FORMULA_TEXT  # never a formula in a spreadsheet

    empty = tmp_path / "empty.csv"
    assert write_csv([], empty, with_personal_data=False) == 0
    assert empty.read_bytes().decode("utf-8-sig").strip() == ",".join(COLUMNS)


async def test_xlsx_round_trips_with_real_datetimes(app: App, data: DataSet, tmp_path: Path) -> None:
    rows = await export_rows(app.sessions, with_personal_data=True)
    path = tmp_path / "appeals.xlsx"
    assert write_xlsx(rows, path) == 8
    ws = load_workbook(path).active
    assert ws.freeze_panes == "A2"
    values = list(ws.iter_rows(values_only=True))
    assert list(values[0]) == list(COLUMNS + PERSONAL_COLUMNS)
    assert ws["A1"].font.b and ws.column_dimensions["A"].width >= 12
    got = {v[0]: dict(zip(values[0], v, strict=True)) for v in values[1:]}
    assert len(got) == 8
    for row in rows:
        back = got[row["number"]]
        for col in COLUMNS + PERSONAL_COLUMNS:
            want, have = row[col], back[col]
            if isinstance(want, datetime):
                assert isinstance(have, datetime) and have.tzinfo is None
                assert have == want.astimezone(UTC).replace(tzinfo=None), col
            elif isinstance(want, date):
                assert isinstance(have, datetime) and have.date() == want, col  # Excel keeps dates as datetimes
            else:
                assert have == want, col
    a7 = next(c for c in ws["A"] if c.value == data.a[7].number).row
    text_cell = ws.cell(row=a7, column=len(COLUMNS) + 3)
    assert text_cell.value == FORMULA_TEXT and text_cell.data_type == "s"

    empty = tmp_path / "empty.xlsx"
    write_xlsx([], empty, with_personal_data=False)
    assert list(load_workbook(empty).active.iter_rows(values_only=True)) == [tuple(COLUMNS)]


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    monkeypatch.setenv("QATYSU_DATABASE__URL", database_url)
    monkeypatch.setenv("QATYSU_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    return database_url


async def export_audits(app: App) -> list[AuditLog]:
    async with app.sessions() as s:
        return list(await s.scalars(select(AuditLog).where(AuditLog.action == "appeals.export_personal")))


async def test_cli_exports_and_audits_personal_data(env: str, app: App, data: DataSet, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "plain.csv"
    assert await asyncio.to_thread(main, ["export", "appeals", "--format", "csv", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "8 appeals written" in printed and "no personal data" in printed
    text = out.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(COLUMNS) and len(text.splitlines()) == 9
    assert "Айгүл" not in text and data.texts[1] not in text
    assert await export_audits(app) == []

    out = tmp_path / "full.xlsx"
    argv = ["export", "appeals", "--format", "xlsx", "--output", str(out), "--with-personal-data",
            "--territory", AZAT_OKRUG, "--since", "2025-06-17"]
    assert await asyncio.to_thread(main, argv) == 0
    printed = capsys.readouterr().out
    assert "2 appeals written" in printed and "WITH personal data" in printed
    values = list(load_workbook(out).active.iter_rows(values_only=True))
    assert values[0][-3:] == PERSONAL_COLUMNS
    assert {v[0] for v in values[1:]} == {data.a[6].number, data.a[8].number}
    assert "Ерлан Қасымов" in {v[-3] for v in values[1:]}
    [trace] = await export_audits(app)
    assert trace.details["rows"] == 2 and trace.details["format"] == "xlsx"
    assert trace.details["territory"] == AZAT_OKRUG and trace.details["since"] == "2025-06-17"
    assert trace.object_id == "full.xlsx"

    # the default name, in the working directory
    monkeypatch.chdir(tmp_path)
    assert await asyncio.to_thread(main, ["export", "appeals"]) == 0
    assert await asyncio.to_thread(lambda: list(tmp_path.glob("appeals-*.csv")))
    assert await asyncio.to_thread(main, ["export", "appeals", "--territory", "999999999"]) == 1
    assert "999999999 is not loaded" in capsys.readouterr().err
    assert len(await export_audits(app)) == 1


# -- the chart ----------------------------------------------------------------------------------

KK_LABELS = {"title": "Барлығы 8 өтініш", "by_category": "Тақырыбы бойынша", "by_status": "Мәртебесі бойынша",
             "categories": {"roads": "Жолдар", "water": "Су", "housing": "Тұрғын үй-коммуналдық шаруашылық",
                            "landscaping": "Абаттандыру"},
             "statuses": {"received": "қабылданды", "in_progress": "орындалуда", "answered": "жауап берілді",
                          "closed": "жабылды", "rejected": "қабылданбады"}}


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", png[16:24])


async def test_chart_is_a_small_png_with_every_kazakh_letter(svc: AppealService, data: DataSet) -> None:
    st = await svc.stats()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a warning: make it fail
        png = charts.appeals_chart(st, {**KK_LABELS, "title": "әғқңөұүһі ӘҒҚҢӨҰҮҺІ"})
    assert png_size(png) == (900, 600)
    assert len(png) < 200_000
    # the check above can fail: a letter DejaVu Sans lacks is reported
    with pytest.warns(UserWarning, match="missing from font"):
        charts.appeals_chart(st, {**KK_LABELS, "title": "漢"})
    other = AppealStats(total=1, by_status={"received": 1}, by_category={"water": 1}, by_territory={}, answered=0,
                        median_hours_to_answer=None, answered_on_time_share=None, rating_count=0, rating_mean=None)
    assert charts.appeals_chart(other, KK_LABELS) != charts.appeals_chart(st, KK_LABELS)


# -- /stats in the chat -------------------------------------------------------------------------


@pytest.mark.parametrize("lang,expected", [
    ("kk", ["Барлығы 8 өтініш", "<b>Мәртебесі бойынша</b>", "<b>Тақырыбы бойынша</b>",
            "<b>Елді мекендер бойынша</b>", "• түсті: 3", "• орындалуда: 1", "• жауап берілді: 2", "• жабылды: 1",
            "• қабылданбады: 1", "• Жолдар: 3", "• Су: 2", "• Азат: 4", "• Қараөзек: 3",
            "• Елді мекен көрсетілмеген: 1", "576 сағат (24 тәулік)", "3 өтініштің 67%", "5-тен 3,7 (3 баға)"]),
    ("ru", ["Всего обращений: 8", "<b>По статусу</b>", "<b>По темам</b>", "<b>По населённым пунктам</b>",
            "• поступило: 3", "• в работе: 1", "• ответ дан: 2", "• закрыто: 1",
            "• отклонено: 1", "• Дороги: 3", "• Вода: 2", "• Азат: 4", "• Караозек: 3",
            "• Населённый пункт не указан: 1", "Медианное время ответа: 576 ч (24 сут.)",
            "Отвечено в срок: 67\u00a0% из 3", "Средняя оценка: 3,7 из 5 (оценок: 3)"]),
])
async def test_admin_gets_numbers_and_a_chart(tg: Telegram, svc: AppealService, data: DataSet,
                                              monkeypatch: pytest.MonkeyPatch, lang: str, expected: list[str]) -> None:
    drawn: list[tuple[AppealStats, dict, bytes]] = []
    real = charts.appeals_chart

    def spy(stats: AppealStats, labels: dict) -> bytes:
        drawn.append((stats, labels, real(stats, labels)))
        return drawn[-1][2]

    monkeypatch.setattr(charts, "appeals_chart", spy)
    sent = await tg.text(Person(ADMIN, lang), "/stats")
    [photo_call] = [c for c in tg.session.calls if c.method == "sendPhoto"]
    assert photo_call.params["chat_id"] == ADMIN and str(photo_call.params["photo"]).startswith("attach://")
    assert [m.kind for m in sent] == ["sendPhoto"]
    caption = sent[0].text
    for part in expected:
        assert part in caption, part
    assert "Айгүл" not in caption and "Яма" not in caption
    [(stats, labels, png)] = drawn
    assert png_size(png) == (900, 600)
    assert labels["title"] == expected[0]
    assert labels["categories"]["roads"] == {"kk": "Жолдар", "ru": "Дороги"}[lang]
    assert stats == await svc.stats()
    assert png == real(await svc.stats(), labels)  # the photo sent is the chart of these numbers


async def test_long_text_goes_before_the_photo(app: App, tg: Telegram) -> None:
    png = charts.appeals_chart(AppealStats(1, {"received": 1}, {"water": 1}, {}, 0, None, None, 0, None), {})
    await render.send(app.bot, ADMIN, [Screen("ә" * 1500, photo=png), Screen("қысқа", photo=png)])
    sent = [(c.method, c.params.get("caption") or c.params.get("text")) for c in tg.session.calls
            if c.method in ("sendMessage", "sendPhoto")]
    assert sent == [("sendMessage", "ә" * 1500), ("sendPhoto", None), ("sendPhoto", "қысқа")]


async def test_no_appeals_no_chart(tg: Telegram) -> None:
    sent = await tg.text(Person(ADMIN, "ru"), "/stats")
    assert [m.text for m in sent] == ["Обращений пока нет."]
    assert "sendPhoto" not in tg.methods()


@pytest.mark.parametrize("who,refusal", [(Person(801, "ru"), "только для сотрудников"),
                                         (Person(OPERATOR, "kk"), "тек әкімдік әкімшілеріне")])
async def test_stats_is_refused_to_residents_and_operators(tg: Telegram, data: DataSet, who: Person,
                                                           refusal: str) -> None:
    sent = await tg.text(who, "/stats")
    assert len(sent) == 1 and refusal in sent[0].text
    assert "8" not in sent[0].text and "sendPhoto" not in tg.methods()


def test_stats_is_in_the_admin_menu_only(app: App) -> None:
    admin = {c.command: c.description for c in staff_commands(app.i18n, "ru", {Role.ADMIN})}
    assert admin["stats"] == "Статистика обращений"
    kk = {c.command: c.description for c in staff_commands(app.i18n, "kk", {Role.ADMIN})}
    assert kk["stats"] == "Өтініштер статистикасы"
    assert "stats" not in {c.command for c in staff_commands(app.i18n, "ru", {Role.OPERATOR, Role.SECRETARY})}
