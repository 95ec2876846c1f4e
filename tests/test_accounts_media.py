"""Identity and media across channels: a person is found by (channel, account id); accounts on two channels with
the same verified phone are one person with one vote; media live under the project's ids with a per-channel cache
of platform file ids; the migration moves today's Telegram ids there; deleting one's data erases every account."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from bot.app import App
from bot.flows.base import Event
from bot.services.budget import AlreadyVoted, NoVotesLeft
from bot.services.residents import PhoneTaken
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Account, AppealMessage, Media, MediaFile, Report, Resident, Vote
from storage.state import State
from tests.support.budget_helpers import KOKTAL, campaign, now_utc, use_clock
from tests.support.telegram import Person, Telegram
from tests.test_appeals_flow import filed
from tests.test_personal_data import find_anywhere
from tests.test_registration import KK, register

PHONE = "+7 701 123 45 67"
WA = "whatsapp"


async def whatsapp_resident(app: App, wa_id: int, phone: str | None = PHONE) -> None:
    """A WhatsApp account going through registration (consent, settlement) and sharing its phone."""
    rs = app.services.residents
    await rs.consent(wa_id, wa_id, "ru", app.settings.privacy.consent_version, WA)
    await rs.set_territory(wa_id, KOKTAL, WA)
    await rs.complete_registration(wa_id, WA)
    if phone is not None:
        await rs.verify_phone(wa_id, phone, wa_id, channel=WA)


async def count(app: App, model) -> int:
    async with app.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model)) or 0


async def test_a_person_is_found_by_channel_and_account_id(app: App, tg: Telegram) -> None:
    who = Person(7010001, "kk")
    await register(tg, who, KK)
    rs = app.services.residents
    telegram = await rs.get(who.id)
    assert telegram is not None and await rs.get(who.id, "telegram") is not None
    assert await rs.get(who.id, WA) is None  # the same number on another channel is another account
    # the engine looks the sender up by the event's channel: the WhatsApp account is not registered yet
    screens = await app.conversations.handle(Event(kind="text", text="Сәлем", user_id=who.id, chat_id=8_000_001,
                                                   channel=WA))
    assert "қош келдіңіз" in screens[-1].text and "Добро пожаловать" in screens[-1].text
    screens = await app.conversations.handle(Event(kind="text", text="Сәлем", user_id=who.id, chat_id=who.id))
    assert "Басты мәзір" in screens[-1].text or "мәзір" in screens[-1].text.lower()
    await whatsapp_resident(app, who.id, phone="+7 702 000 00 01")
    other = await rs.get(who.id, WA)
    assert other is not None and other.id != telegram.id


async def test_a_telegram_chat_and_a_whatsapp_number_with_the_same_digits_keep_their_own_conversations(
        app: App, tg: Telegram) -> None:
    who = Person(77011234568, "kk")  # a Telegram id with the digits of a Kazakh number
    await tg.text(who, "/start")
    await tg.click(who, "Қазақша")  # the Telegram chat is at the consent, in Kazakh
    telegram = await app.conversations.store.get("telegram", who.id)
    # the number writes on WhatsApp: a newcomer greeted in both languages, not the Telegram chat's consent
    screens = await app.conversations.handle(Event(kind="text", text="Сәлем", user_id=who.id, chat_id=who.id,
                                                   channel=WA, language_code="ru"))
    assert "қош келдіңіз" in screens[-1].text and "Добро пожаловать" in screens[-1].text
    assert await app.conversations.store.get("telegram", who.id) == telegram
    whatsapp = await app.conversations.store.get(WA, who.id)
    assert whatsapp is not None and whatsapp != telegram


async def test_a_whatsapp_account_with_the_phone_of_a_telegram_resident_is_the_same_person_with_one_vote(
        app: App, tg: Telegram) -> None:
    who = Person(7010002, "kk", first_name="Айгүл")
    start = now_utc() - timedelta(days=16)
    clock = use_clock(app, start + timedelta(days=11))
    c = await campaign(app, start)
    [p1, p2] = await app.services.budget.import_projects(
        c.id, [{"title": "Жол", "cost_tenge": 1_000_000}, {"title": "Саябақ", "cost_tenge": 2_000_000}], 900001)
    await register(tg, who, KK)
    tg_resident = await app.services.residents.get(who.id)
    clock.now = start + timedelta(days=16)
    await app.services.budget.cast_vote(tg_resident.id, c.id, p1.id)

    await whatsapp_resident(app, 99_770_001)
    wa = await app.services.residents.get(99_770_001, WA)
    assert wa is not None and wa.id == tg_resident.id  # one person
    assert wa.language == "kk" and wa.territory_kato == KOKTAL  # what the person chose first stays
    assert await count(app, Resident) == 1 and await count(app, Account) == 2
    with pytest.raises((AlreadyVoted, NoVotesLeft)):
        await app.services.budget.cast_vote(wa.id, c.id, p2.id)
    assert await count(app, Vote) == 1
    # and a second Telegram account with the same phone is still refused
    rs = app.services.residents
    await rs.consent(7010003, 7010003, "kk", "v1")
    with pytest.raises(PhoneTaken):
        await rs.verify_phone(7010003, PHONE, 7010003)
    assert (await rs.get(7010003)).id != tg_resident.id


async def test_what_the_newer_account_did_before_joining_moves_to_the_person(app: App, tg: Telegram) -> None:
    who = Person(7010004, "kk")
    await register(tg, who, KK)
    older = await app.services.residents.get(who.id)
    await whatsapp_resident(app, 99_770_002, phone=None)
    newer = await app.services.residents.get(99_770_002, WA)
    assert newer.id != older.id
    a = await app.services.appeals.create(newer.id, "message", "roads", KOKTAL, "Жолда шұңқыр бар", "ru")
    await app.services.residents.verify_phone(99_770_002, PHONE, 99_770_002, channel=WA)
    assert (await app.services.appeals.get(a.id)).resident_id == older.id
    async with app.sessions() as s:
        assert await s.get(Resident, newer.id) is None  # the row the newer account made is gone
        assert {acc.channel for acc in await s.scalars(select(Account).where(Account.resident_id == older.id))} \
            == {"telegram", WA}


async def test_two_accounts_verifying_one_phone_at_once_end_as_one_resident(app: App) -> None:
    rs = app.services.residents
    for round_ in range(3):
        tg_id, wa_id, phone = 7020000 + round_, 99_780_000 + round_, f"+7 705 000 00 {round_:02d}"
        await rs.consent(tg_id, tg_id, "kk", "v1")
        await whatsapp_resident(app, wa_id, phone=None)
        results = await asyncio.gather(rs.verify_phone(tg_id, phone, tg_id),
                                       rs.verify_phone(wa_id, phone, wa_id, channel=WA), return_exceptions=True)
        assert [r for r in results if isinstance(r, BaseException)] == []
        a, b = await rs.get(tg_id), await rs.get(wa_id, WA)
        assert a.id == b.id and a.phone == f"+770500000{round_:02d}"
    async with app.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Resident)) == 3


async def test_deleting_ones_data_from_one_channel_erases_every_account_and_the_media(app: App,
                                                                                      tg: Telegram) -> None:
    who = Person(5550123990, "kk", first_name="Зарина")
    await filed(app, tg, who)  # registration with the phone, then a complaint with a photo ("photo-1")
    await whatsapp_resident(app, 99_790_001, phone="+77011234567")
    person = await app.services.residents.get(who.id)
    assert (await app.services.residents.get(99_790_001, WA)).id == person.id
    async with app.sessions() as s:
        [media_id] = [m for m in await s.scalars(select(AppealMessage.media_id)) if m]
        assert await s.scalar(select(MediaFile.file_id).where(MediaFile.media_id == media_id)) == "photo-1"
    assert await find_anywhere(app, ["99790001", "photo-1"], {99_790_001})
    await app.conversations.store.set(WA, 99_790_001, State("appeal", "text", {"text": "Шұңқыр"}))  # a draft

    assert await app.services.residents.delete_personal_data(99_790_001, WA)
    assert await app.conversations.store.get(WA, 99_790_001) is None
    assert await app.services.residents.get(who.id) is None and await app.services.residents.get(99_790_001, WA) is None
    assert await find_anywhere(app, [str(who.id), "99790001", "photo-1"], {who.id, 99_790_001}) == []
    assert await count(app, Account) == 0 and await count(app, Media) == 0 and await count(app, MediaFile) == 0


async def test_deleting_ones_data_cancels_the_rows_to_their_whatsapp_chat_and_not_another_channels(
        app: App) -> None:
    from dataclasses import replace

    from tests.support.notices import rows, text

    await whatsapp_resident(app, 99_790_002, phone="+77011234502")
    mine = replace(text("wa:mine", 99_790_002, {"text": "Хабар"}), channel=WA)
    other = text("tg:other", 99_790_002, {"text": "Хабар"})  # a Telegram chat with the same digits: someone else
    await app.outbox.enqueue([mine, other])
    assert await app.services.residents.delete_personal_data(99_790_002, WA)
    states = {r.key: r.state for r in await rows(app)}
    assert states == {"wa:mine": "cancelled", "tg:other": "pending"}


async def test_media_are_kept_under_our_ids_with_a_file_id_per_channel(app: App) -> None:
    media = app.services.media
    m = await media.adopt(WA, "document", "wamid.DOC-1")
    assert m is not None and await media.file_id(m, WA) == "wamid.DOC-1"
    assert await media.file_id(m, "telegram") is None  # not uploaded to Telegram yet
    await media.remember(m, "telegram", "BQACAgIAAx-doc")
    await media.remember(m, "telegram", "BQACAgIAAx-doc-2")  # one row per channel: the newer id replaces it
    assert await media.file_id(m, "telegram") == "BQACAgIAAx-doc-2" and await media.file_id(m, WA) == "wamid.DOC-1"
    assert await count(app, MediaFile) == 2
    assert await media.adopt(WA, "sticker", "x") is None and await media.adopt(WA, "photo", "x" * 256) is None


async def test_the_migration_moves_telegram_ids_to_accounts_and_media(database_url: str) -> None:
    engine = make_engine(database_url)
    await upgrade(engine, "0009")
    now = datetime(2026, 11, 1, 10, tzinfo=UTC)
    async with engine.begin() as conn:
        run = conn.execute
        await run(sa.text("INSERT INTO territory (kato, parent_kato, level, name_kk, name_ru, search_key, is_demo) "
                          "VALUES ('114000000', NULL, 'district', 'Ақкөл', 'Акколь', 'ақкөл акколь', false)"))
        for rid, uid in ((1, 501), (2, None)):
            await run(sa.text("INSERT INTO resident (id, channel, user_id, chat_id, notifications, reachable, "
                              "created_at, is_demo) VALUES (:id, 'telegram', :u, :u, true, true, :t, false)"),
                      {"id": rid, "u": uid, "t": now})
        await run(sa.text("INSERT INTO appeal (id, number, resident_id, kind, category, text, language, anonymous, "
                          "status, received_at, registered_on, due_on, reopened_count, version, created_at, "
                          "updated_at) VALUES (1, 'A-2026-000001', 1, 'complaint', 'roads', 'Шұңқыр', 'kk', false, "
                          "'received', :t, '2026-11-01', '2026-11-20', 0, 1, :t, :t)"), {"t": now})
        for mid, kind, fid in ((1, "photo", "AgAD-photo"), (2, None, None), (3, "document", "BQAC-doc")):
            await run(sa.text("INSERT INTO appeal_message (id, appeal_id, direction, text, media_kind, file_id, "
                              "created_at) VALUES (:id, 1, 'in', NULL, :k, :f, :t)"),
                      {"id": mid, "k": kind, "f": fid, "t": now})
        await run(sa.text("INSERT INTO report (id, territory_kato, period, title_kk, title_ru, summary_kk, "
                          "summary_ru, document_file_id, document_name, published_at, is_demo) VALUES (1, "
                          "'114000000', '2026-Q3', 'Есеп', 'Отчёт', 'Қысқа', 'Кратко', 'BQAC-report', 'r.pdf', :t, "
                          "false)"), {"t": now})
    await upgrade(engine)
    async with engine.connect() as conn:
        accounts = (await conn.execute(sa.text("SELECT channel, account_id, chat_id, resident_id FROM account"))).all()
        assert [tuple(a) for a in accounts] == [("telegram", 501, 501, 1)]
        cached = dict((await conn.execute(sa.text(
            "SELECT f.file_id, m.kind FROM media_file f JOIN media m ON m.id = f.media_id "
            "WHERE f.channel = 'telegram'"))).all())
        assert cached == {"AgAD-photo": "photo", "BQAC-doc": "document", "BQAC-report": "document"}
        msgs = (await conn.execute(sa.text(
            "SELECT am.id, f.file_id FROM appeal_message am LEFT JOIN media_file f ON f.media_id = am.media_id "
            "ORDER BY am.id"))).all()
        assert [tuple(m) for m in msgs] == [(1, "AgAD-photo"), (2, None), (3, "BQAC-doc")]
        doc = await conn.scalar(sa.text("SELECT f.file_id FROM report r JOIN media_file f "
                                        "ON f.media_id = r.document_media_id"))
        assert doc == "BQAC-report"
        if engine.dialect.name == "sqlite":  # the rebuild turned them off for a while: they are on again
            assert await conn.scalar(sa.text("PRAGMA foreign_keys")) == 1
    await engine.dispose()


async def test_the_migration_moves_whatsapp_chats_states_to_their_channel(database_url: str) -> None:
    engine = make_engine(database_url)
    await upgrade(engine, "0014")
    now = datetime(2026, 12, 1, 10, tzinfo=UTC)
    async with engine.begin() as conn:
        run = conn.execute
        await run(sa.text("INSERT INTO resident (id, notifications, reachable, created_at, is_demo) "
                          "VALUES (1, true, true, :t, false), (2, true, true, :t, false)"), {"t": now})
        await run(sa.text("INSERT INTO account (channel, account_id, chat_id, resident_id, created_at) VALUES "
                          "('telegram', 501, 501, 1, :t), ('whatsapp', 9955501, 9955501, 2, :t)"), {"t": now})
        # a Telegram resident's chat; a WhatsApp resident's (a short foreign number); a WhatsApp newcomer's
        for chat in (501, 9955501, 77011234567):
            await run(sa.text("INSERT INTO conversation_state (channel, chat_id, flow, step, data, updated_at) "
                              "VALUES ('telegram', :c, 'registration', 'consent', '{}', :t)"), {"c": chat, "t": now})
    await upgrade(engine)
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT channel, chat_id FROM conversation_state ORDER BY chat_id"))).all()
    await engine.dispose()
    assert [tuple(r) for r in rows] == [("telegram", 501), ("whatsapp", 9955501), ("whatsapp", 77011234567)]


async def test_a_report_document_is_sent_by_the_telegram_file_id_of_its_media(app: App, tg: Telegram) -> None:
    m = await app.services.media.adopt("telegram", "document", "BQAC-report-file")
    report = await app.services.reports.publish(
        territory_kato="114000000", period="2026-Q3", title_kk="Есеп", title_ru="Отчёт", summary_kk="Жолдар.",
        summary_ru="Дороги.", document_media_id=m, document_name="esep.pdf")
    async with app.sessions() as s:
        assert (await s.get(Report, report.id)).document_media_id == m
    who = Person(7030001, "kk")
    await register(tg, who, KK)
    await tg.click(who, "Әкімнің есептері")
    await tg.click(who, "Есеп")
    before = len(tg.session.calls)
    await tg.click(who, "Есеп құжаты")
    docs = [c for c in tg.session.calls[before:] if c.method == "sendDocument"]
    assert len(docs) == 1 and docs[0].params["document"] == "BQAC-report-file"
