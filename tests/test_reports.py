"""Akim's reports: an admin publishes one with a document; residents read, download, ask and rate; admins
read and export the questions."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.app import App
from bot.cli import main
from bot.services import quarters
from storage.models import Question, Report, ReportRating
from tests.conftest import ADMIN, SECRETARY
from tests.support.civic import DISTRICT, KARAOZEK_OKRUG, meeting, resident
from tests.support.telegram import Person, Telegram
from tests.test_registration import KK, RU, register

ADMIN_WORDS = {
    "kk": {"oblast": "Ақмола", "district": "Ақкөл", "here": "Осы жер", "period": "қай кезеңге",
           "title_kk": "атауын қазақша", "title_ru": "атауын орысша", "summary_kk": "мазмұнын қазақша",
           "summary_ru": "мазмұнды орысша", "file": "файл етіп", "photo": "фото етіп емес",
           "check": "есепті тексеріңіз",
           "publish": "Жариялау", "published": "Есеп жарияланды", "bad_period": "Кезеңді тоқсан түрінде"},
    "ru": {"oblast": "Акмолинская", "district": "Аккольский", "here": "Здесь", "period": "За какой период",
           "title_kk": "название отчёта на казахском", "title_ru": "название отчёта на русском",
           "summary_kk": "содержание отчёта на казахском", "summary_ru": "содержание на русском",
           "file": "отчёт файлом", "photo": "а не фотографией", "check": "Проверьте отчёт",
           "publish": "Опубликовать", "published": "Отчёт опубликован", "bad_period": "Напишите период"},
}
DOCUMENT = {"file_id": "BQACAgIAAxkBAAIBR2ReportFile", "file_unique_id": "AgADreport", "file_name": "esep-2026.pdf"}


async def publish_in_chat(tg: Telegram, code: str) -> None:
    w = ADMIN_WORDS[code]
    admin = Person(ADMIN, code)
    sent = await tg.text(admin, "/report")
    await tg.click(admin, w["oblast"])
    await tg.click(admin, w["district"])
    sent = await tg.click(admin, w["here"])
    assert w["period"] in sent[-1].text
    sent = await tg.text(admin, "2026-Q5")
    assert w["bad_period"] in sent[0].text
    current = quarters.recent(datetime.now(UTC).astimezone(tg.app.i18n.tz).date())[0]
    sent = await tg.click(admin, current)
    assert w["title_kk"] in sent[-1].text
    await tg.text(admin, "Ақкөл ауданы әкімінің есебі")
    sent = await tg.text(admin, "Отчёт акима Аккольского района")
    assert w["summary_kk"] in sent[-1].text
    sent = await tg.text(admin, "Жолдар жөнделді, 3 мектеп салынды.")
    assert w["summary_ru"] in sent[-1].text
    sent = await tg.text(admin, "Отремонтированы дороги, построены 3 школы. <script>")
    assert w["file"] in sent[-1].text
    sent = await tg.send(admin, photo=[{"file_id": "P", "file_unique_id": "p", "width": 1, "height": 1}])
    assert w["photo"] in sent[0].text
    sent = await tg.send(admin, document=DOCUMENT)
    assert w["check"] in sent[-1].text and "esep-2026.pdf" in sent[-1].text and "&lt;script&gt;" in sent[-1].text
    sent = await tg.click(admin, w["publish"])
    assert w["published"] in sent[-1].text and "/start report_1" in sent[-1].text


@pytest.mark.parametrize("words,code", [(KK, "kk"), (RU, "ru")])
async def test_admin_publishes_and_a_resident_reads_downloads_asks_and_rates(app: App, tg: Telegram, words,
                                                                             code: str) -> None:
    await publish_in_chat(tg, code)
    async with app.sessions() as s:
        report = await s.scalar(select(Report))
    assert report is not None and report.territory_kato == DISTRICT and report.published_by == ADMIN
    assert await app.services.media.file_id(report.document_media_id, "telegram") == DOCUMENT["file_id"]
    assert report.document_name == "esep-2026.pdf"
    who = Person(801, code)
    await register(tg, who, words)
    sent = await tg.click(who, "Әкімнің есептері" if code == "kk" else "Отчёты акима")
    title = "Ақкөл ауданы әкімінің есебі" if code == "kk" else "Отчёт акима Аккольского района"
    assert any(title in b["text"] for b in sent[-1].buttons)
    sent = await tg.click(who, title)
    assert ("Жолдар жөнделді" if code == "kk" else "Отремонтированы дороги") in sent[-1].text
    before = len(tg.session.calls)
    await tg.click(who, "Есеп құжаты" if code == "kk" else "Документ отчёта")
    docs = [c for c in tg.session.calls[before:] if c.method == "sendDocument"]
    assert len(docs) == 1 and docs[0].params["document"] == DOCUMENT["file_id"]
    await tg.click(who, "Есеп беру кездесуіне сұрақ қою" if code == "kk" else "Вопрос на отчётную встречу")
    sent = await tg.text(who, "Мектеп қашан ашылады?")
    assert ("Келесі есеп беру кездесуі" if code == "kk" else "на ближайшую отчётную встречу") in sent[0].text
    await tg.click(who, "⭐⭐⭐⭐", exact=True)
    sent = await tg.click(who, "⭐⭐⭐⭐⭐", exact=True)
    assert ("Сіздің бағаңыз: ⭐⭐⭐⭐⭐" if code == "kk" else "Ваша оценка: ⭐⭐⭐⭐⭐") in sent[-1].text
    async with app.sessions() as s:
        ratings = list(await s.scalars(select(ReportRating)))
        question = await s.scalar(select(Question))
    assert [(r.stars, r.report_id) for r in ratings] == [(5, report.id)]  # one rating, changed
    assert question is not None and question.report_id == report.id and question.meeting_id is None
    assert question.language == code
    # the akim's report meeting planned later takes the questions that waited for it
    m = await meeting(app, datetime.now(UTC) + timedelta(days=12))
    async with app.sessions() as s:
        assert (await s.get(Question, question.id)).meeting_id == m.id


@pytest.mark.parametrize("code,text", [("kk", "тек әкімдік әкімшілеріне"), ("ru", "только для администраторов")])
async def test_a_secretary_or_a_resident_cannot_publish(app: App, tg: Telegram, code: str, text: str) -> None:
    sent = await tg.text(Person(SECRETARY, code), "/report")
    assert text in sent[-1].text
    who = Person(802, code)
    await register(tg, who, KK if code == "kk" else RU)
    sent = await tg.text(who, "/report")
    assert ("әкімдік қызметкерлеріне" if code == "kk" else "только для сотрудников") in sent[0].text
    sent = await tg.text(Person(SECRETARY, code), "/questions")
    assert text in sent[-1].text
    async with app.sessions() as s:
        assert await s.scalar(select(Report)) is None


async def _report(app: App, kato: str = DISTRICT) -> Report:
    return await app.services.reports.publish(
        territory_kato=kato, period="2026-Q3", title_kk="Есеп", title_ru="Отчёт", summary_kk="Қысқаша",
        summary_ru="Кратко", document_media_id=await app.services.media.adopt("telegram", "document", "DOC"),
        document_name="r.pdf", published_by=ADMIN)


async def test_a_question_goes_to_the_next_report_meeting_and_reports_list_newest_first(app: App,
                                                                                        tg: Telegram) -> None:
    who = Person(803, "ru")
    await register(tg, who, RU)
    older = await _report(app)
    m = await meeting(app, datetime.now(UTC) + timedelta(days=20))
    await meeting(app, datetime.now(UTC) + timedelta(days=40))  # a later one does not take it
    newer = await _report(app)
    sent = await tg.click(who, "Отчёты акима")
    assert [b["callback_data"] for b in sent[-1].buttons][:2] == [f"rp:o:{newer.id}", f"rp:o:{older.id}"]
    await tg.press(who, f"rp:o:{older.id}")
    await tg.click(who, "Вопрос на отчётную встречу")
    sent = await tg.text(who, "ok")
    assert "Слишком коротко" in sent[0].text
    sent = await tg.text(who, "Когда отремонтируют дорогу?")
    assert "будет передан на отчётную встречу" in sent[0].text
    async with app.sessions() as s:
        q = await s.scalar(select(Question))
    assert q.meeting_id == m.id and q.report_id == older.id


async def test_forged_report_buttons_are_refused(app: App, tg: Telegram) -> None:
    who = Person(804, "kk")
    await register(tg, who, KK)
    elsewhere = await _report(app, KARAOZEK_OKRUG)
    mine = await _report(app)
    await tg.click(who, "Әкімнің есептері")
    for data in (f"rp:o:{elsewhere.id}", f"rp:s:{elsewhere.id}:5", f"rp:doc:{elsewhere.id}", f"rp:q:{elsewhere.id}",
                 "rp:o:99999"):
        sent = await tg.press(who, data)
        assert "елді мекеніңізге қатысты емес" in sent[0].text
    for data in (f"rp:s:{mine.id}:9", f"rp:s:{mine.id}:0", "rp:s:x:5", "rp:o:-1"):
        sent = await tg.press(who, data)
        assert sent
    async with app.sessions() as s:
        assert list(await s.scalars(select(ReportRating))) == []
        assert list(await s.scalars(select(Question))) == []
    sent = await tg.text(who, f"/start report_{mine.id}")  # a poster's QR code lands on the report
    assert "Қысқаша" in sent[-1].text and any(b["callback_data"] == f"rp:doc:{mine.id}" for b in sent[-1].buttons)
    sent = await tg.text(who, f"/start report_{elsewhere.id}")
    assert "елді мекеніңізге қатысты емес" in sent[0].text and "Қысқаша" not in sent[-1].text


@pytest.mark.parametrize("code", ["kk", "ru"])
async def test_admin_reads_the_questions_and_exports_them_without_personal_data(
        app: App, tg: Telegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    m = await meeting(app, datetime.now(UTC) + timedelta(days=10))
    kk_person = await resident(app, 811, lang="kk")
    ru_person = await resident(app, 812, lang="ru")
    await app.services.residents.verify_phone(811, "+77017778899", 811, name="Айгүл Сәрсенова")
    await app.services.meetings.ask(m.id, kk_person.id, "=HYPERLINK(\"x\") жол жөндеу қашан?", "kk")
    await app.services.meetings.ask(m.id, ru_person.id, "Когда построят школу?", "ru")
    admin = Person(ADMIN, code)
    sent = await tg.text(admin, "/questions")
    assert any(b["text"].endswith(": 2") for b in sent[-1].buttons)
    sent = await tg.click(admin, ": 2")
    assert "Когда построят школу?" in sent[-1].text
    assert ("Көктал" if code == "kk" else "Коктал") in sent[-1].text  # the asker's settlement, not their name
    assert ("2 сұрақ" if code == "kk" else "2 вопроса") in sent[-1].text
    assert f"--meeting {m.id}" in sent[-1].text
    before = len(tg.session.calls)
    await tg.click(admin, "Excel")
    assert [c.method for c in tg.session.calls[before:] if c.method.startswith("send")] == ["sendDocument"]

    monkeypatch.setenv("QATYSU_DATABASE__URL", app.settings.database.url)
    monkeypatch.setenv("QATYSU_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    out_csv, out_xlsx = tmp_path / "q.csv", tmp_path / "q.xlsx"
    assert await asyncio.to_thread(main, ["export", "questions", "--meeting", str(m.id), "--output",
                                          str(out_csv)]) == 0
    assert await asyncio.to_thread(main, ["export", "questions", "--meeting", str(m.id), "--format", "xlsx",
                                          "--output", str(out_xlsx)]) == 0
    assert await asyncio.to_thread(main, ["export", "questions", "--meeting", "999"]) == 1
    assert await asyncio.to_thread(main, ["export", "questions"]) == 2
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8-sig")))
    assert [r["language"] for r in rows] == ["kk", "ru"]
    assert rows[0]["text"].startswith("'=HYPERLINK")  # never a formula in a spreadsheet
    assert rows[1]["territory_name_ru"] == "Коктал" and rows[1]["created_at"].endswith("+00:00")
    raw = out_csv.read_text(encoding="utf-8-sig") + str([c.value for r in load_workbook(out_xlsx).active.iter_rows()
                                                         for c in r])
    assert "Когда построят школу?" in raw
    for personal in ("7017778899", "Айгүл", "Сәрсенова"):
        assert personal not in raw
