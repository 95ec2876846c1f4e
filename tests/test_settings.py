"""Settings: language, territory, notifications, my data, and deleting it."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from storage.models import Account, AuditLog, ConversationState, Resident
from tests.support.telegram import Person, Telegram
from tests.test_registration import KK, RU, register


async def test_change_language_and_territory_and_notifications(app: App, tg: Telegram) -> None:
    who = Person(701, "kk")
    await register(tg, who, KK)
    sent = await tg.click(who, "Баптаулар")
    assert "Көктал" in sent[-1].text and "қосулы" in sent[-1].text
    await tg.click(who, "Тіл")
    sent = await tg.click(who, "Русский")
    assert "Настройки" in sent[-1].text and "Язык: Русский" in sent[-1].text
    await tg.click(who, "Населённый пункт")
    await tg.text(who, "Урюм")
    sent = await tg.click(who, "Урюмкай", exact=False)
    assert "Сохранено" in " ".join(s.text for s in sent) and "Урюмкай" in sent[-1].text
    sent = await tg.click(who, "Выключить уведомления")
    assert "Уведомления: выключены" in sent[-1].text
    r = await app.services.residents.get(who.id)
    assert (r.language, r.territory_kato, r.notifications) == ("ru", "114053100", False)
    sent = await tg.click(who, "Главное меню")
    assert "Главное меню" in sent[-1].text


async def test_my_data_shows_everything_stored_escaped(app: App, tg: Telegram) -> None:
    who = Person(702, "ru", first_name="<i>Асель</i>")
    await register(tg, who, RU)
    await tg.click(who, "Настройки")
    sent = await tg.click(who, "Мои данные")
    text = sent[0].text
    for part in ("702", "Русский", "Коктал", "114033200", "+77011234567", "&lt;i&gt;Асель&lt;/i&gt;",
                 app.settings.privacy.consent_version, "включены"):
        assert part in text, part


async def test_delete_my_data_after_confirmation(app: App, tg: Telegram) -> None:
    who = Person(703, "kk")
    await register(tg, who, KK)
    await tg.click(who, "Баптаулар")
    sent = await tg.click(who, "Деректерімді өшіру")
    assert "Мұны кейін қайтару мүмкін емес" in sent[-1].text
    sent = await tg.click(who, "Жоқ, қалсын")
    assert "Баптаулар" in sent[-1].text and await app.services.residents.get(who.id) is not None
    await tg.click(who, "Деректерімді өшіру")
    sent = await tg.click(who, "Иә, өшіру")
    assert "Деректеріңіз өшірілді" in sent[-1].text
    assert await app.services.residents.get(who.id) is None
    async with app.sessions() as s:
        rows = (await s.scalars(select(Resident))).all()
        assert len(rows) == 1
        r = rows[0]
        assert (r.phone, r.phone_hash, r.name, r.territory_kato, r.consent_at) == (None, None, None, None, None)
        assert (await s.scalars(select(Account))).all() == []  # no account leads to the row any more
        assert r.deleted_at is not None
        assert (await s.scalars(select(ConversationState))).all() == []
        actions = [a.action for a in (await s.scalars(select(AuditLog))).all()]
        assert "resident.deleted" in actions
        assert all("7011234567" not in str(a.details) for a in (await s.scalars(select(AuditLog))).all())
    # the same person can come back, and their old phone is free again
    await register(tg, who, KK)
    assert (await app.services.residents.get(who.id)).phone == "+77011234567"


async def test_settings_wrong_input(tg: Telegram) -> None:
    who = Person(704, "ru")
    await register(tg, who, RU)
    await tg.text(who, "/settings")
    sent = await tg.text(who, "хочу поменять язык")
    assert "воспользуйтесь кнопками" in sent[0].text and "Настройки" in sent[-1].text
