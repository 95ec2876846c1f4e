"""Journeys across chats, through HTTP, with the sandbox enforcing Telegram's validation and limits."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Live

WORDS = {
    "kk": {"lang": "Қазақша", "agree": "Келісемін", "where": "Қай жерде тұрасыз", "phone": "Телефон нөміріңізді",
           "done": "Тіркелу аяқталды", "menu": "Басты мәзір", "okrug": "Қарасай", "village": "Қарасай"},
    "ru": {"lang": "Русский", "agree": "Даю согласие", "where": "Где вы живёте", "phone": "Отправьте номер",
           "done": "Регистрация завершена", "menu": "Главное меню", "okrug": "Карасай", "village": "Карасай"},
}


async def register(live: Live, user_id: int, lang: str) -> None:
    w, sb = WORDS[lang], live.sb
    await sb.send_text(user_id, "/start")
    await live.expect(user_id, "Добро пожаловать")
    await live.press(user_id, w["lang"])
    await live.expect(user_id, "Дербес деректерді" if lang == "kk" else "Согласие")
    await live.press(user_id, w["agree"])
    await live.expect(user_id, w["where"])
    await sb.send_text(user_id, w["village"][:5])
    await live.expect(user_id, "«" + w["village"][:5] + "»")
    await live.press(user_id, w["village"])
    await live.expect(user_id, w["phone"])
    await sb.send_contact(user_id, own=True)
    await live.expect(user_id, w["done"])
    await live.expect(user_id, w["menu"])


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_registration_over_http(live: Live, lang: str) -> None:
    user_id = live.people.residents[0 if lang == "kk" else 1]
    await register(live, user_id, lang)
    r = await live.app.services.residents.get(user_id)
    assert r.language == lang and r.phone and r.registered_at is not None
    assert r.territory_kato is not None
    # the menu the resident's client shows comes from setMyCommands in their language
    menu = live.sb.menu(user_id, user_id)
    assert menu and menu[0]["description"] == ("Бастау немесе басты мәзір" if lang == "kk"
                                               else "Начать или главное меню")


async def test_appeal_across_chats(live: Live) -> None:
    resident, aide, sb = live.people.residents[1], live.people.aide, live.sb
    await register(live, resident, "ru")
    await live.press(resident, "Написать обращение")
    await live.expect(resident, "Что вы хотите отправить")
    await live.press(resident, "Жалоба")
    await live.expect(resident, "О чём обращение")
    await live.press(resident, "Дороги")
    await live.expect(resident, "Где проблема")
    await live.press(resident, "Да, здесь")
    await live.expect(resident, "Опишите проблему")
    await sb.send_text(resident, "Яма <глубиной> полметра на въезде в село, машины объезжают по обочине.")
    await live.expect(resident, "Можно добавить до")
    await sb.send_photo(resident, caption="яма")
    await live.expect(resident, "Добавлено: 1")
    await live.press(resident, "Продолжить")
    await live.expect(resident, "Проверьте обращение")
    await live.press(resident, "Отправить")
    await live.expect(resident, "отправлено в акимат")
    [appeal] = await live.app.services.appeals.list_for_resident(
        (await live.app.services.residents.get(resident)).id)
    card = await live.card(appeal.number)
    topic = next(t for t in sb.topics() if t["name"].startswith(appeal.number))
    thread = topic["message_thread_id"]
    assert "&lt;глубиной&gt;" in card["html"] or "<глубиной>" in (card.get("text") or "")
    await sb.send_text(aide, "Здравствуйте! Бригада выедет завтра утром.", chat_id=sb.operator_chat_id,
                       message_thread_id=thread)
    msg = await live.expect(resident, "Бригада выедет завтра утром")
    assert "Ержан" not in msg["html"] and appeal.number in msg["html"]
    await sb.send_text(aide, "/reg ЖТ-2026-000777 22.11.2026", chat_id=sb.operator_chat_id,
                       message_thread_id=thread)
    await live.expect(resident, "ЖТ-2026-000777")  # through the outbox sender
    await sb.send_text(aide, "/answer Яму засыпали щебнем.", chat_id=sb.operator_chat_id, message_thread_id=thread)
    await live.expect(resident, "Яму засыпали щебнем")
    await live.press(resident, "Решено")
    await live.expect(resident, "оцените ответ")
