"""Raising ``[privacy] consent_version`` asks residents again before they file an appeal, propose or vote; their
answer is recorded with the new version and time; declining leaves them reading, not filing or voting."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from storage.models import Appeal, AuditLog, Resident, Vote
from tests.support.telegram import Person, Telegram
from tests.test_appeals_flow import TEXT_KK, TEXT_RU, file_appeal
from tests.test_budget_flow import ballot_of, campaign, move_to
from tests.test_registration import KK, RU, register

NEW = "2027-01-15"
CHANGED = {"kk": "Келісім мәтіні өзгерді", "ru": "Текст согласия изменился"}


async def _count(app: App, model) -> int:
    async with app.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model)) or 0


async def test_a_new_consent_version_is_asked_before_an_appeal_and_a_decline_is_recorded(app: App,
                                                                                           tg: Telegram) -> None:
    who = Person(4201, "ru")
    await register(tg, who, RU)
    old = await app.services.residents.get(who.id)
    app.settings.privacy.consent_version = NEW
    sent = await tg.click(who, "Написать обращение")
    assert CHANGED["ru"] in sent[-1].text and "Согласие на обработку" in sent[-1].text and NEW in sent[-1].text
    assert [b["text"] for b in sent[-1].buttons] == ["✅ Даю согласие", "Не даю согласия"]
    # declining: recorded, nothing filed, reading still works
    sent = await tg.click(who, "Не даю согласия")
    assert "ответ записан" in sent[-1].text and "Главное меню" not in sent[-1].text
    async with app.sessions() as s:
        [declined] = list(await s.scalars(select(AuditLog).where(AuditLog.action == "resident.consent_declined")))
    assert declined.details["version"] == NEW
    r = await app.services.residents.get(who.id)
    assert r.consent_version == old.consent_version and r.consent_at == old.consent_at
    sent = await tg.click(who, "Отчёты акима")
    assert CHANGED["ru"] not in sent[-1].text
    # asked again on the next try; agreeing records the new version and time and the appeal begins
    await tg.text(who, "/menu")
    sent = await tg.click(who, "Написать обращение")
    assert CHANGED["ru"] in sent[-1].text
    sent = await tg.click(who, "Даю согласие")
    assert "согласие записано" in sent[0].text and "Что вы хотите отправить" in sent[-1].text
    r = await app.services.residents.get(who.id)
    assert r.consent_version == NEW and r.consent_at > old.consent_at
    await tg.text(who, "/menu")
    sent = await file_appeal(tg, who, RU, "Предложение", TEXT_RU)
    await tg.click(who, "Отправить")
    assert await _count(app, Appeal) == 1


async def test_a_draft_begun_before_the_change_waits_for_the_answer(app: App, tg: Telegram) -> None:
    who = Person(4202, "kk")
    await register(tg, who, KK)
    preview = (await file_appeal(tg, who, KK, "Шағым", TEXT_KK))[-1]
    app.settings.privacy.consent_version = NEW
    sent = await tg.press(who, preview.data_of("Жіберу"), preview)
    assert CHANGED["kk"] in sent[-1].text and await _count(app, Appeal) == 0
    sent = await tg.click(who, "Келісемін")
    assert "Өтінішіңізді тексеріңіз" in sent[-1].text  # the same draft, ready to send
    await tg.click(who, "Жіберу")
    assert await _count(app, Appeal) == 1


async def test_a_vote_waits_for_the_new_consent(app: App, tg: Telegram) -> None:
    who = Person(4203, "kk")
    await register(tg, who, KK)
    c = await campaign(app, "proposals")
    [project] = await ballot_of(app, c, "Балалар алаңы")
    await move_to(app, c.id, "voting")
    app.settings.privacy.consent_version = NEW
    sent = await tg.text(who, f"/start vote_{c.id}")
    assert "Балалар алаңы" in sent[-1].text  # reading the ballot needs no new answer
    sent = await tg.press(who, f"bd:y:{project}")  # even the confirmation's own button
    assert CHANGED["kk"] in sent[-1].text and await _count(app, Vote) == 0
    sent = await tg.click(who, "Келіспеймін")
    assert await _count(app, Vote) == 0
    await tg.text(who, f"/start vote_{c.id}")
    sent = await tg.click(who, "Осыған дауыс беру")
    assert CHANGED["kk"] in sent[-1].text
    sent = await tg.click(who, "Келісемін")
    assert "Балалар алаңы" in sent[-1].text  # back on the ballot
    await tg.click(who, "Осыған дауыс беру")
    await tg.click(who, "Иә, дауыс беремін")
    assert await _count(app, Vote) == 1


async def test_who_agreed_to_the_text_naming_telegram_is_asked_again_with_the_text_for_any_messenger(
        app: App, tg: Telegram) -> None:
    """2026-12-06: the text says "your account ID in the messenger" (one may write from WhatsApp too)."""
    kk_reader, ru_reader = Person(4204, "kk"), Person(4205, "ru")
    for who, answers in ((kk_reader, KK), (ru_reader, RU)):
        await register(tg, who, answers, share_phone=who is kk_reader)
        async with app.sessions() as s, s.begin():  # they agreed before the text changed
            r = await s.get(Resident, (await app.services.residents.get(who.id)).id)
            r.consent_version = "2026-12-05"
    assert app.settings.privacy.consent_version == "2026-12-06"  # the default in force (bot/config.py)
    sent = await tg.click(ru_reader, "Написать обращение")
    assert CHANGED["ru"] in sent[-1].text and "2026-12-06" in sent[-1].text
    assert "ID вашего аккаунта в мессенджере" in sent[-1].text and "Telegram" not in sent[-1].text
    sent = await tg.click(kk_reader, "Өтініш жазу")
    assert CHANGED["kk"] in sent[-1].text
    assert "мессенджердегі аккаунт ID-іңізді" in sent[-1].text and "Telegram" not in sent[-1].text
    sent = await tg.click(kk_reader, "Келісемін")
    assert (await app.services.residents.get(kk_reader.id)).consent_version == "2026-12-06"
    # someone registering now reads the same text and is not asked twice
    newcomer = Person(4206, "ru")
    await register(tg, newcomer, RU, share_phone=False)
    [consent] = [c.params["text"] for c in tg.session.calls if "Согласие на обработку" in c.params.get("text", "")
                 and int(c.params["chat_id"]) == newcomer.id]
    assert "ID вашего аккаунта в мессенджере" in consent and "Telegram" not in consent
    sent = await tg.click(newcomer, "Написать обращение")
    assert CHANGED["ru"] not in sent[-1].text
