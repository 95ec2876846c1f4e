"""Registration through the real dispatcher, in Kazakh and in Russian."""

from __future__ import annotations

import pytest

from bot.app import App
from tests.conftest import make_app
from tests.support.telegram import Person, Telegram

KK = {"lang": "Қазақша", "agree": "Келісемін", "welcome": "Қош келдіңіз", "consent": "Дербес деректерді",
      "where": "Қай жерде тұрасыз", "phone": "Телефон нөміріңізді", "share": "Нөмірімді жіберу",
      "done": "Тіркелу аяқталды", "menu": "Басты мәзір", "skip": "Өткізіп жіберу"}
RU = {"lang": "Русский", "agree": "Даю согласие", "welcome": "Добро пожаловать", "consent": "Согласие на обработку",
      "where": "Где вы живёте", "phone": "Отправьте номер телефона", "share": "Отправить мой номер",
      "done": "Регистрация завершена", "menu": "Главное меню", "skip": "Пропустить"}


async def register(tg: Telegram, who: Person, words: dict[str, str], *, share_phone: bool = True) -> None:
    sent = await tg.text(who, "/start")
    assert "қош келдіңіз" in sent[-1].text and "Добро пожаловать" in sent[-1].text
    sent = await tg.click(who, words["lang"])
    assert words["consent"] in sent[-1].text
    sent = await tg.click(who, words["agree"])
    assert words["where"] in sent[-1].text
    await tg.click(who, "Ақмола" if words is KK else "Акмолинская")
    await tg.click(who, "Ақкөл" if words is KK else "Аккольский")
    await tg.click(who, "Азат ауылдық" if words is KK else "Азатский")
    sent = await tg.click(who, "Көктал" if words is KK else "Коктал")
    assert words["phone"] in sent[-1].text
    assert any(b.get("request_contact") for b in sent[-1].reply_buttons)
    if share_phone:
        sent = await tg.contact(who, "+7 701 123 45 67", owner_id=who.id)
    else:
        sent = await tg.text(who, words["skip"])
    assert words["done"] in sent[0].text
    assert sent[0].markup == {"remove_keyboard": True}
    assert words["menu"] in sent[-1].text


@pytest.mark.parametrize("words,code", [(KK, "kk"), (RU, "ru")])
async def test_full_registration(app: App, tg: Telegram, words, code) -> None:
    who = Person(501, language_code="en")
    await register(tg, who, words)
    r = await app.services.residents.get(who.id)
    assert r is not None and r.language == code and r.territory_kato == "114033200"
    assert r.phone == "+77011234567" and r.phone_hash and r.phone_hash != r.phone
    assert r.consent_version == app.settings.privacy.consent_version and r.consent_at is not None
    assert r.registered_at is not None
    labels = [b["text"] for b in tg.last(who.id).buttons]
    assert len(labels) == 7
    # every menu text is in the chosen language
    assert all(("Өтініш" in t or "Менің" in t or "бюджет" in t or "есеп" in t.lower() or "Кездесу" in t
                or "Баптау" in t or "Анықтама" in t) for t in labels) if code == "kk" else True


async def test_registration_without_phone(app: App, tg: Telegram) -> None:
    who = Person(502, language_code="ru")
    await register(tg, who, RU, share_phone=False)
    r = await app.services.residents.get(who.id)
    assert r.phone is None and r.registered_at is not None


async def test_someone_elses_contact_is_refused(app: App, tg: Telegram) -> None:
    who = Person(503, language_code="kk")
    await tg.text(who, "/start")
    await tg.click(who, "Қазақша")
    await tg.click(who, "Келісемін")
    await tg.text(who, "Көкт")  # search by part of the name
    sent = await tg.click(who, "Көктал")
    assert "Телефон нөміріңізді" in sent[-1].text
    sent = await tg.contact(who, "+77015550000", owner_id=999)
    assert "Өз нөміріңізді" in sent[-1].text
    sent = await tg.contact(who, "+77015550000", owner_id=None)
    assert "Өз нөміріңізді" in sent[-1].text
    assert (await app.services.residents.get(who.id)).phone is None


async def test_phone_of_another_account_is_not_taken_twice(app: App, tg: Telegram) -> None:
    first, second = Person(504, "kk"), Person(505, "kk")
    await register(tg, first, KK)
    await tg.text(second, "/start")
    await tg.click(second, "Қазақша")
    await tg.click(second, "Келісемін")
    await tg.text(second, "көктал")
    await tg.click(second, "Көктал")
    sent = await tg.contact(second, "87011234567", owner_id=second.id)  # same number, domestic form
    assert "басқа аккаунтқа тіркелген" in sent[0].text
    assert (await app.services.residents.get(second.id)).phone is None
    assert (await app.services.residents.get(second.id)).registered_at is not None


async def test_restart_in_the_middle_of_registration(settings, app: App, tg: Telegram) -> None:
    who = Person(506, language_code="ru")
    await tg.text(who, "/start")
    await tg.click(who, "Русский")
    await tg.click(who, "Даю согласие")
    await tg.click(who, "Акмолинская")
    await app.close()  # the bot stops between two steps

    app2, session2 = await make_app(settings, territories=False)
    try:
        tg2 = Telegram(app2, session2)
        sent = await tg2.text(who, "что дальше?")
        assert "ничего не нашлось" in sent[0].text
        assert "Аккольский" in " ".join(b["text"] for b in sent[-1].buttons)  # still inside the oblast
        await tg2.click(who, "Аккольский")
        await tg2.click(who, "Караозекский")
        sent = await tg2.click(who, "Караозек", exact=True)
        sent = await tg2.text(who, "Пропустить")
        assert "Регистрация завершена" in sent[0].text
        r = await app2.services.residents.get(who.id)
        assert r.territory_kato == "114043100" and r.language == "ru"
    finally:
        await app2.close()


async def test_language_from_telegram_until_chosen(tg: Telegram) -> None:
    ru_user = Person(507, language_code="ru")
    sent = await tg.text(ru_user, "/help")
    assert "Qatysu связывает вас" in sent[0].text
    en_user = Person(508, language_code="en")
    sent = await tg.text(en_user, "/help")
    assert "Qatysu сізді әкімдікпен" in sent[0].text


async def test_the_territory_tree_kept_in_memory_follows_imports(app: App, tmp_path, monkeypatch) -> None:
    """The tree is answered from memory (bot/services/territories.py): an import in this process shows at once;
    a change another process made (the CLI's import) shows once the snapshot is TREE_TTL_S old."""
    from sqlalchemy import text

    from bot.services import territories
    from tests.conftest import DATA

    svc = app.services.territories
    assert (await svc.get("114033100")).name_ru == "Азат"
    assert await svc.ancestors("114033100") == {"114033100", "114030000", "114000000", "110000000"}
    changed = tmp_path / "territories.csv"
    changed.write_text((DATA / "territories.csv").read_text(encoding="utf-8").replace(
        "114033100,114030000,village,Азат,Азат", "114033100,114030000,village,Азат ауылы,село Азат"), encoding="utf-8")
    assert (await svc.import_csv(changed)).updated == 1
    assert (await svc.get("114033100")).name_ru == "село Азат"
    assert "Азат ауылы" in [t.name_kk for t, _ in await svc.children_with_flags("114030000")]

    async with app.sessions() as s, s.begin():  # as another process would
        await s.execute(text("UPDATE territory SET name_ru = 'Азат (новое)' WHERE kato = '114033100'"))
    assert (await svc.get("114033100")).name_ru == "село Азат"  # this process still answers from memory
    now = territories._clock()
    monkeypatch.setattr(territories, "_clock", lambda: now + territories.TREE_TTL_S + 1)
    assert (await svc.get("114033100")).name_ru == "Азат (новое)"
