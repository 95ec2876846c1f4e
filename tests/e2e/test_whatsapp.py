"""WhatsApp end to end: the bot (serve()) with its WhatsApp webhook beside Telegram polling, and the sandbox's
strict Cloud API stand-in posting signed webhooks to it; people act through the stand-in's Python API."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import select, update

from bot.channels.whatsapp.events import Inbound
from bot.reminders import REMINDER_NOTICE
from bot.services.outbox import Outgoing, Priority
from storage.models import Account, Meeting, OutboxMessage
from tests.e2e.conftest import Live
from tests.e2e.test_journeys import register as register_on_telegram
from tests.e2e.whatsapp_people import WaPerson, text_of

PHONES = {"kk": "77011110001", "ru": "77011110002"}  # the demo's WhatsApp residents (bot/sandbox_mode.py)
WORDS = {
    "kk": {"lang": "Қазақша", "agree": "Келісемін", "where": "Қай жерде тұрасыз", "done": "Тіркелу аяқталды",
           "menu": "Басты мәзір", "share": "Нөмірімді жіберу", "appeal": "Өтініш жазу", "kind": "Шағым",
           "category": "Жолдар", "here": "Иә, осында", "continue": "Жалғастыру", "send": "Жіберу",
           "sent": "әкімдікке жіберілді", "budget": "Халық бюджеті", "settings": "Баптаулар",
           "delete": "Деректерімді өшіру", "deleted": "өшірілді", "voice": "Дауыстық хабарлама",
           "consent": "WhatsApp нөміріңізді"},
    "ru": {"lang": "Русский", "agree": "Даю согласие", "where": "Где вы живёте", "done": "Регистрация завершена",
           "menu": "Главное меню", "share": "Отправить мой номер", "appeal": "Написать обращение", "kind": "Жалоба",
           "category": "Дороги", "here": "Да, здесь", "continue": "Продолжить", "send": "Отправить",
           "sent": "отправлено в акимат", "budget": "Народный бюджет", "settings": "Настройки",
           "delete": "Удалить мои данные", "deleted": "удалены", "voice": "Голосовое сообщение",
           "consent": "номер WhatsApp"},
}


async def register(live: Live, lang: str, phone: str | None = None) -> WaPerson:
    """Registration on WhatsApp: language, consent, settlement, and no step asking for the phone."""
    w, p = WORDS[lang], WaPerson(live.sb, phone or PHONES[lang])
    await p.say("Сәлем!")
    await p.expect("Добро пожаловать")
    await p.press(w["lang"])
    await p.expect(w["consent"])
    await p.press(w["agree"])
    await p.expect(w["where"])
    village = "Қарасай" if lang == "kk" else "Карасай"
    await p.say(village[:5])
    await p.expect("«" + village[:5])
    await p.press(village)
    await p.expect(w["done"])
    await p.expect(w["menu"])
    return p


async def account(live: Live, wa_id: str) -> Account | None:
    async with live.app.sessions() as s:
        return await s.scalar(select(Account).where(Account.channel == "whatsapp", Account.account_id == int(wa_id)))


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_registration_on_whatsapp_has_no_contact_step(live: Live, lang: str) -> None:
    p = await register(live, lang)
    assert WORDS[lang]["share"] not in p.said()
    r = await live.app.services.residents.get(int(PHONES[lang]), "whatsapp")
    assert r.phone == "+" + PHONES[lang] and r.phone_verified_at is not None and r.language == lang
    acc = await account(live, PHONES[lang])
    assert acc.chat_id == int(PHONES[lang]) and acc.last_inbound_at is not None
    # the bot marked the person's messages read
    assert any(m["status"] == "read" for m in live.sb.wa_messages(PHONES[lang]) if not m["from_bot"])


async def file_appeal(live: Live, p: WaPerson, lang: str, *, voice: bool = False) -> str:
    w, sb = WORDS[lang], live.sb
    await p.press(w["appeal"])
    await p.press(w["kind"])
    await p.press(w["category"])
    await p.press(w["here"])
    if voice:
        await p.settle()
        p.seen = len(p.bot_messages())
        await sb.wa_send_voice(p.wa_id)
    else:
        await p.say("Яма на въезде в *село* глубиной полметра, машины объезжают по обочине.")
    await p.expect("5")  # «up to 5 photos…»
    if not voice:
        await sb.wa_send_image(p.wa_id, caption="яма")
        await sb.wa_send_location(p.wa_id, 51.2, 71.4)
    await p.settle()
    await p.press(w["continue"])
    await p.settle()
    if w["send"] not in " ".join(p.last_options()):  # a complaint needs the name
        await p.say("Сәуле Серікова")
    await p.press(w["send"])
    await p.expect(w["sent"])
    r = await live.app.services.residents.get(int(p.wa_id), "whatsapp")
    [appeal] = await live.app.services.appeals.list_for_resident(r.id)
    return appeal.number


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_appeal_with_photo_and_location_answered_by_an_aide(live: Live, lang: str) -> None:
    sb, aide = live.sb, live.people.aide
    p = await register(live, lang)
    number = await file_appeal(live, p, lang)
    card = await live.card(number)
    assert "WhatsApp" in card["html"] and "*село*" in card["html"]  # the channel; the text as typed
    # on WhatsApp the marks a person typed are shown, not applied (the preview quoted their text)
    assert "∗село∗" in p.said() and "*село*" not in p.said()
    thread = next(t for t in sb.topics() if t["name"].startswith(number))["message_thread_id"]
    # the photo (carried over from WhatsApp) and the location reach the aide's topic
    await sb.wait_until(lambda: any("photo" in m for m in sb.bot_messages(sb.operator_chat_id, thread)), 15,
                        "the resident's photo in the topic")
    await sb.wait_until(lambda: any("location" in m for m in sb.bot_messages(sb.operator_chat_id, thread)), 15,
                        "the resident's location in the topic")
    await sb.send_text(aide, "Здравствуйте! Бригада выедет завтра утром.", chat_id=sb.operator_chat_id,
                       message_thread_id=thread)
    # the reply goes through the outbox and WhatsApp's delivery to the resident's WhatsApp chat, signed
    await p.expect("Бригада выедет завтра утром")
    r = await live.app.services.residents.get(int(p.wa_id), "whatsapp")

    async def reply_row() -> OutboxMessage:
        async with live.app.sessions() as s:
            rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.resident_id == r.id)))
        return next(o for o in rows if "Бригада" in json.dumps(o.params, ensure_ascii=False))

    row = await reply_row()
    for _ in range(200):  # the chat may show the reply a moment before the sender has read WhatsApp's answer
        if row.state != "sending":
            break
        await asyncio.sleep(0.05)
        row = await reply_row()
    assert (row.channel, row.state) == ("whatsapp", "sent") and row.platform_message_id.startswith("wamid.")
    # a photo the aide sends in the topic reaches WhatsApp as an image (the Telegram file carried over)
    await sb.send_photo(aide, caption="Так выглядит место после ремонта", chat_id=sb.operator_chat_id,
                        message_thread_id=thread)
    photo = await p.expect("после ремонта")
    assert photo["type"] == "image"


LEADS = {"kk": "Жиналыс туралы еске салу:", "ru": "Напоминание о встрече:"}


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_a_meeting_reminder_outside_the_24_hour_window_goes_as_its_template(live: Live, lang: str) -> None:
    p = await register(live, lang)
    r = await live.app.services.residents.get(int(p.wa_id), "whatsapp")
    live.sb.wa_age_window(p.wa_id, 25)  # a day and an hour pass: WhatsApp takes no free-form message now
    async with live.app.sessions() as s, s.begin():
        await s.execute(update(Account).where(Account.channel == "whatsapp", Account.account_id == int(p.wa_id))
                        .values(last_inbound_at=datetime.now(UTC) - timedelta(hours=25)))
        meeting = await s.scalar(select(Meeting).limit(1))
    await live.app.outbox.enqueue([Outgoing(f"meeting:{meeting.id}:2h:{r.id}", REMINDER_NOTICE,
                                            {"meeting_id": meeting.id, "left": 7200}, resident_id=r.id,
                                            priority=Priority.REMINDER)])
    live.app.sender.wake.set()
    m = await p.expect(LEADS[lang])
    assert m["type"] == "template"
    assert (m["template"]["name"], m["template"]["language"]["code"]) == ("qatysu_meeting_reminder", lang)
    place = "Аудандық мәдениет үйі"
    assert place in text_of(m)  # the reminder itself is the template's parameter


async def test_voice_note_appeal_on_whatsapp_reaches_the_operator_chat(live: Live) -> None:
    sb = live.sb
    p = await register(live, "kk")
    number = await file_appeal(live, p, "kk", voice=True)
    card = await live.card(number)
    assert WORDS["kk"]["voice"] in card["html"]
    thread = next(t for t in sb.topics() if t["name"].startswith(number))["message_thread_id"]
    voice = await sb.wait_until(lambda: next((m for m in sb.bot_messages(sb.operator_chat_id, thread)
                                              if "voice" in m), None), 15, "the voice note in the topic")
    assert voice["voice"]["file_id"]


async def test_unsupported_message_gets_a_polite_answer_and_reactions_none(live: Live) -> None:
    p = await register(live, "ru")
    await p.settle()
    menu = p.bot_messages()[-1]
    p.seen = len(p.bot_messages())
    await live.sb.wa_react(p.wa_id, menu["id"], "👍")
    await p.settle()
    assert len(p.bot_messages()) == p.seen  # a reaction is not answered
    inbound = Inbound("wamid.sticker1", int(p.wa_id), "sticker", {"id": "1"}, datetime.now(UTC))
    await live.app.whatsapp.webhook.handle(inbound)
    m = await p.expect("голосовые сообщения")
    assert "не могу" in text_of(m)


async def test_forged_webhook_is_refused_and_not_handled(live: Live) -> None:
    url = live.app.whatsapp.url
    cfg = live.sb.wa_config
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
                                       "metadata": {"phone_number_id": cfg["phone_number_id"]},
                                       "contacts": [{"profile": {"name": "X"}, "wa_id": PHONES["kk"]}],
                                       "messages": [{"from": PHONES["kk"], "id": "wamid.forged", "timestamp": "1",
                                                     "type": "text", "text": {"body": "/start"}}]}}]}]}).encode()
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 401
        bad = {"X-Hub-Signature-256": "sha256=" + "0" * 64}
        async with http.post(url, data=body, headers=bad) as resp:
            assert resp.status == 403
        async with http.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "wrong",
                                         "hub.challenge": "42"}) as resp:
            assert resp.status == 403
    assert not [m for m in live.sb.wa_messages(PHONES["kk"]) if m["from_bot"]]
    assert await live.app.conversations.store.get("whatsapp", int(PHONES["kk"])) is None
    # a signed message from the same person is handled (and Telegram polls on beside it)
    p = WaPerson(live.sb, PHONES["kk"])
    await p.say("Сәлем")
    await p.expect("Добро пожаловать")
    await live.sb.send_text(live.people.residents[0], "/start")
    await live.expect(live.people.residents[0], "Добро пожаловать")


async def test_voice_note_appeal_on_telegram_reaches_the_operator_chat(live: Live) -> None:
    resident, sb = live.people.residents[1], live.sb
    await register_on_telegram(live, resident, "ru")
    for label, wait in (("Написать обращение", "Что вы хотите отправить"), ("Жалоба", "О чём"),
                        ("Дороги", "Где проблема"),
                        ("Да, здесь", "Опишите проблему")):
        await live.press(resident, label)
        await live.expect(resident, wait)
    assert "голосовое сообщение" in live.last(resident)["html"]
    await sb.send_voice(resident)
    await live.expect(resident, "Добавлено: 1")
    await live.press(resident, "Продолжить")
    await live.expect(resident, "Проверьте обращение")
    await live.press(resident, "Отправить")
    await live.expect(resident, "отправлено в акимат")
    [appeal] = await live.app.services.appeals.list_for_resident(
        (await live.app.services.residents.get(resident)).id)
    await live.card(appeal.number)
    thread = next(t for t in sb.topics() if t["name"].startswith(appeal.number))["message_thread_id"]
    await sb.wait_until(lambda: any("voice" in m for m in sb.bot_messages(sb.operator_chat_id, thread)), 15,
                        "the voice note in the topic")


BALLOT = {"kk": ("демо", "Бюллетень", "Осыған дауыс беру", "Иә, дауыс беремін", "Түбіртегіңіз"),
          "ru": ("Аккольский район", "Бюллетень", "Голосовать", "Да, голосую", "Ваша квитанция")}


async def vote(p: WaPerson, lang: str = "kk") -> None:
    campaign, ballot, this, yes, _ = BALLOT[lang]
    await p.press(WORDS[lang]["budget"])
    await p.press(campaign)
    await p.press(ballot)
    await p.expect("1 / 3")
    await p.press(this)
    await p.press(yes)


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_a_vote_on_whatsapp(live: Live, lang: str) -> None:
    p = await register(live, lang)
    await vote(p, lang)
    await p.expect(BALLOT[lang][4])
    r = await live.app.services.residents.get(int(p.wa_id), "whatsapp")
    [campaign] = await live.app.services.budget.campaigns_for(r.territory_kato, include_demo=True)
    assert len(await live.app.services.budget.my_votes(r.id, campaign.id)) == 1


async def test_one_person_on_both_channels_is_one_resident_with_one_vote(live: Live) -> None:
    sb, tg = live.sb, live.people.residents[0]
    await register_on_telegram(live, tg, "kk")
    resident = await live.app.services.residents.get(tg)
    [campaign] = await live.app.services.budget.campaigns_for(resident.territory_kato, include_demo=True)
    await live.press(tg, "Халық бюджеті")
    for label in ("Халық бюджеті (демо)", "Бюллетень", "Осыған дауыс беру", "Иә, дауыс беремін"):
        await sb.wait_until(lambda label=label: any(
            label in b["text"] for m in sb.bot_messages(tg)
            for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row), 20, label)
        await live.press(tg, label)
    await live.expect(tg, "Түбіртегіңіз")
    # the same phone on WhatsApp: the first message finds the resident; no registration, the vote is there
    await sb.wa_create_user("Айгүл", resident.phone, language="kk")
    p = WaPerson(sb, resident.phone.lstrip("+"))
    await p.say("Сәлем")
    await p.expect("Басты мәзір")
    assert (await live.app.services.residents.get(int(p.wa_id), "whatsapp")).id == resident.id
    await p.press("Халық бюджеті")
    await p.press("демо")
    await p.press("Бюллетень")
    await p.expect("Сіз бұл жобаға дауыс бердіңіз")
    assert not any("Осыған дауыс беру" in o for o in p.last_options())
    assert len(await live.app.services.budget.my_votes(resident.id, campaign.id)) == 1
    assert await live.app.services.residents.channels(resident.id) == ["telegram", "whatsapp"]


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_delete_my_data_on_whatsapp(live: Live, lang: str) -> None:
    w = WORDS[lang]
    p = await register(live, lang)
    rid = (await live.app.services.residents.get(int(p.wa_id), "whatsapp")).id
    await p.press(w["settings"])
    await p.press(w["delete"])
    await p.press("Иә, өшіру" if lang == "kk" else "Да, удалить")
    await p.expect(w["deleted"])
    assert await live.app.services.residents.get(int(p.wa_id), "whatsapp") is None
    assert await account(live, p.wa_id) is None
    assert (await live.app.services.residents.get_by_id(rid)) is None


async def test_a_flood_from_whatsapp_is_throttled_with_one_warning(live: Live) -> None:
    p = await register(live, "ru")
    flood = live.app.whatsapp.webhook.flood
    flood.limit, flood.window = 3, 30.0  # the stand-in posts one message after another: a tight limit to reach
    p.seen = len(p.bot_messages())
    for i in range(14):
        await live.sb.wa_send_text(p.wa_id, f"сообщение {i}")
    await p.settle()
    await p.expect("слишком часто")
    new = [text_of(m) for m in p.bot_messages()[p.seen:]]
    assert sum("слишком часто" in t for t in new) == 1  # warned once; the rest dropped without a word
    assert len(new) < 14  # not every message was answered as if read
