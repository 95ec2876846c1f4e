"""Secretary broadcasts: the conversation through the real dispatcher in both languages, the outbox rows it
becomes, the progress message and its report, stop, blocked residents, priorities, meeting announcements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from bot.app import App
from bot.channels.telegram.delivery import TelegramDelivery
from bot.delivery.notices import Reader
from bot.delivery.ratelimit import RateLimiter
from bot.delivery.sender import OutboxSender
from bot.services.broadcasts import Audience, BroadcastError, NotAllowed
from bot.services.outbox import Priority
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Broadcast, OutboxMessage, utcnow
from tests.conftest import ADMIN, OPERATOR, SECRETARY, make_app
from tests.support.notices import text
from tests.support.telegram import Person, Sent, Telegram

KOKTAL, AZAT, AZAT_OKRUG, KARAOZEK = "114033200", "114033100", "114030000", "114043100"
PHOTO = {"photo": [{"file_id": "poster-1", "file_unique_id": "p1", "width": 90, "height": 90}]}
DOC = {"document": {"file_id": "schedule-1", "file_unique_id": "d1", "file_name": "кесте.pdf"}}
NOTICE_KK = "Ертең сағат 10:00-де ауыл әкімдігінде су құбыры туралы жиын өтеді. Келіңіздер!"
NOTICE_RU = "Завтра в 10:00 в акимате села пройдёт сход о водопроводе <важно>. Приходите!"


async def resident(app: App, user_id: int, lang: str, kato: str, *, notifications: bool = True) -> int:
    """A registered resident (through the services: each with their own Telegram account, no phone)."""
    r = app.services.residents
    row = await r.consent(user_id, user_id, lang, "v1")
    await r.set_territory(user_id, kato)
    await r.complete_registration(user_id)
    if not notifications:
        await r.set_notifications(user_id, False)
    return row.id


async def village(app: App) -> dict[str, list[int]]:
    """Azat okrug: three Kazakh and two Russian readers; one more who turned notices off; two outside."""
    people = {"kk": [3001, 3002, 3003], "ru": [3101, 3102], "off": [3201], "outside": [3301, 3302]}
    for uid in people["kk"]:
        await resident(app, uid, "kk", KOKTAL if uid % 2 else AZAT)
    for uid in people["ru"]:
        await resident(app, uid, "ru", AZAT)
    await resident(app, 3201, "kk", KOKTAL, notifications=False)
    await resident(app, 3301, "kk", KARAOZEK)
    await resident(app, 3302, "ru", KARAOZEK)
    return people


def fast_sender(app: App, batch: int = 100) -> OutboxSender:
    telegram = TelegramDelivery(app.bot, RateLimiter(10_000, 10_000, 10_000))
    return OutboxSender({"telegram": telegram}, app.outbox, app.sender.notices, batch=batch, retry_seconds=0)


async def deliver_all(app: App) -> None:
    sender = fast_sender(app)
    while await sender.run_once():
        pass


async def rows(app: App, broadcast_id: int) -> dict[str, str]:
    async with app.sessions() as s:
        return {r.key: r.state for r in await s.scalars(select(OutboxMessage)
                                                        .where(OutboxMessage.broadcast_id == broadcast_id))}


async def only_broadcast(app: App) -> Broadcast:
    async with app.sessions() as s:
        [b] = list(await s.scalars(select(Broadcast)))
        return b


def got(tg: Telegram, chat_id: int) -> list[Sent]:
    return [m for m in tg.chat(chat_id)]


async def test_secretary_broadcasts_in_kazakh_with_a_text_per_language(app: App, tg: Telegram) -> None:
    people = await village(app)
    sec = Person(SECRETARY, "kk", first_name="Гүлнар")
    sent = await tg.text(sec, "/broadcast")
    assert "Тұрғындарға хабарландыру" in sent[-1].text
    sent = await tg.click(sec, "Аумақ тұрғындарына")
    assert "Аумақты таңдаңыз" in sent[-1].text  # the picker asks the secretary's question, not a resident's
    await tg.click(sec, "Ақмола")
    await tg.click(sec, "Ақкөл")
    await tg.click(sec, "Азат ауылдық")
    sent = await tg.click(sec, "Осы жер")
    assert "Азат ауылдық округі: алушылар — 5 (қазақша оқитындар: 3, орысша: 2)" in sent[-1].text
    sent = await tg.text(sec, "бұл жерде батырма керек")  # text where a button is expected: a hint, the question
    assert "батырмалар" in sent[0].text.lower() and "алушылар — 5" in sent[-1].text
    await tg.click(sec, "Барлығына (5)")
    sent = await tg.text(sec, NOTICE_KK)
    assert "орыс тілінде" in sent[-1].text and "Барлығына бір мәтін" in str(sent[-1].buttons)
    sent = await tg.text(sec, NOTICE_RU)
    assert "фото немесе құжат" in sent[-1].text
    sent = await tg.click(sec, "Тіркемесіз жалғастыру")
    texts = [m.text for m in sent]
    assert "Қазақша оқитын тұрғындар (3) мынаны алады" in texts[0]
    assert "Орысша оқитын тұрғындар (2) мынаны алады" in texts[2]
    preview = {"kk": sent[1], "ru": sent[3]}
    assert "Хабарландыру жіберілсін бе? Алушылар: 5" in texts[-1]
    sent = await tg.click(sec, "Жіберу")
    assert "№" in sent[0].text and "жіберіле бастады, алушылар: 5" in sent[0].text
    await app.broadcasts.settle()
    progress = tg.last(SECRETARY)
    assert "жіберілуде" in progress.text and "Қалды: 5" in progress.text and "Тоқтату" in str(progress.buttons)
    assert "Қалған уақыт" in progress.text
    await deliver_all(app)
    for lang in ("kk", "ru"):
        for uid in people[lang]:
            [msg] = got(tg, uid)
            # exactly what the secretary previewed: same method, same HTML, no buttons
            assert (msg.kind, msg.text, msg.markup) == (preview[lang].kind, preview[lang].text, preview[lang].markup)
    assert "Су құбыры" not in tg.chat(3101)[0].text and "&lt;важно&gt;" in tg.chat(3101)[0].text
    assert "Объявление" in tg.chat(3101)[0].text and "Хабарландыру" in tg.chat(3001)[0].text
    for uid in people["off"] + people["outside"]:
        assert got(tg, uid) == []
    await app.broadcasts.tick()
    report = tg.last(SECRETARY)
    assert report.message_id == progress.message_id  # the progress message became the report
    assert "жеткізу есебі" in report.text and "Жеткізілді: 5" in report.text and "Жіберу аяқталды" in report.text
    assert report.buttons == []
    b = await only_broadcast(app)
    assert (b.status, b.total, b.created_by, b.territory_kato) == ("done", 5, SECRETARY, AZAT_OKRUG)
    assert set((await rows(app, b.id)).values()) == {"sent"}


async def test_russian_secretary_sends_a_photo_to_russian_readers_only(app: App, tg: Telegram) -> None:
    people = await village(app)
    sec = Person(SECRETARY, "ru", first_name="Галина")  # a secretary who never registered as a resident
    await tg.text(sec, "/broadcast")
    await tg.click(sec, "Жителям территории")
    sent = await tg.text(sec, "Азат")  # search by name
    assert "Азат" in str(sent[-1].buttons)
    sent = await tg.click(sec, "Аккольский район › Азатский сельский округ", exact=True)
    assert "получателей — 5" in sent[-1].text
    sent = await tg.click(sec, "Только читающим на русском (2)")
    assert "на русском языке" in sent[-1].text
    sent = await tg.send(sec, **PHOTO)  # a photo before the text
    assert "Сначала, пожалуйста, текст" in sent[0].text
    sent = await tg.text(sec, "х" * 3501)
    assert "В тексте 3501 символ," in sent[0].text
    sent = await tg.text(sec, NOTICE_RU)
    assert "можно добавить одно фото" in sent[-1].text
    sent = await tg.send(sec, **PHOTO)
    assert sent[0].text == "Предпросмотр. Жители, читающие на русском (2), получат вот это:"
    preview = sent[1]
    assert preview.kind == "sendPhoto" and "&lt;важно&gt;" in preview.text
    await tg.click(sec, "Отправить")
    await app.broadcasts.settle()
    assert "идёт рассылка" in tg.last(SECRETARY).text  # the progress speaks the language it was started in
    await deliver_all(app)
    for uid in people["ru"]:
        [msg] = got(tg, uid)
        assert (msg.kind, msg.text) == ("sendPhoto", preview.text)
        call = next(c for c in tg.session.calls if c.method == "sendPhoto" and int(c.params["chat_id"]) == uid)
        assert call.params["photo"] == "poster-1"
    for uid in people["kk"]:
        assert got(tg, uid) == []
    await app.broadcasts.tick()
    assert "отчёт о доставке" in tg.last(SECRETARY).text and "Доставлено: 2" in tg.last(SECRETARY).text
    # the photo is kept under the project's own media id, Telegram's file id cached beside it
    b = await only_broadcast(app)
    assert b.media_kind == "photo" and await app.services.media.file_id(b.media_id, "telegram") == "poster-1"


async def test_one_text_for_everyone_with_a_document(app: App, tg: Telegram) -> None:
    people = await village(app)
    admin = Person(ADMIN, "kk")  # admins may broadcast too
    await tg.text(admin, "/broadcast")
    await tg.click(admin, "Аумақ тұрғындарына")
    await tg.text(admin, "Азат")
    await tg.click(admin, "Ақкөл ауданы › Азат ауылдық округі", exact=True)
    await tg.click(admin, "Барлығына")
    await tg.text(admin, NOTICE_KK)
    await tg.click(admin, "Барлығына бір мәтін")
    sent = await tg.send(admin, **DOC)
    assert sent[0].text == "Алдын ала қарау. Барлығы (5) мынаны алады:"
    assert sent[1].kind == "sendDocument" and len(sent) == 3  # one preview: everyone gets the same
    await tg.click(admin, "Жіберу")
    await app.broadcasts.settle()
    await deliver_all(app)
    for uid in people["kk"] + people["ru"]:
        [msg] = got(tg, uid)
        assert (msg.kind, msg.text) == ("sendDocument", sent[1].text)


async def test_a_long_text_cannot_take_a_photo(app: App, tg: Telegram) -> None:
    await village(app)
    sec = Person(SECRETARY, "kk")
    await tg.text(sec, "/broadcast")
    await tg.click(sec, "Аумақ тұрғындарына")
    await tg.text(sec, "Азат")
    await tg.click(sec, "Ақкөл ауданы › Азат ауылдық округі", exact=True)
    await tg.click(sec, "Тек қазақша")
    await tg.text(sec, "ж" * 1500)
    sent = await tg.send(sec, **PHOTO)
    assert "1024 таңбадан аспауы керек" in sent[0].text and "фото немесе құжат" in sent[-1].text
    sent = await tg.click(sec, "Тіркемесіз жалғастыру")
    assert sent[1].kind == "sendMessage" and len(sent) == 3


@pytest.mark.parametrize("who,lang,text", [
    (Person(OPERATOR, "ru"), "ru", "только секретари маслихата и администраторы акимата"),
    (Person(4001, "kk"), "kk", "тек мәслихат хатшылары мен әкімдік әкімшілері"),
])
async def test_others_are_refused_politely(app: App, tg: Telegram, who: Person, lang: str, text: str) -> None:
    if who.id == 4001:
        await resident(app, 4001, "kk", KOKTAL)
    sent = await tg.text(who, "/broadcast")
    assert text in sent[0].text
    # a forged stop of somebody's broadcast is refused too, and stops nothing
    b = await app.services.broadcasts.create(SECRETARY, Audience(KOKTAL), text_kk="x", text_ru=None)
    await resident(app, 4002, "kk", KOKTAL)
    await app.services.broadcasts.start(b.id, SECRETARY)
    sent = await tg.press(who, f"bc:stop:{b.id}", on=tg.last(who.id))
    assert text in sent[-1].text
    assert (await app.services.broadcasts.get(b.id)).status == "sending"
    with pytest.raises(NotAllowed):
        await app.services.broadcasts.create(who.id, Audience(KOKTAL), text_kk="x", text_ru=None)
    with pytest.raises(NotAllowed):
        await app.services.broadcasts.stop(b.id, who.id)


async def test_forged_and_stale_buttons_are_answered_with_the_question(app: App, tg: Telegram) -> None:
    await village(app)
    sec = Person(SECRETARY, "ru")
    await tg.text(sec, "/broadcast")
    sent = await tg.press(sec, "bc:m:99999")
    assert "Кому отправить?" in sent[-1].text
    await tg.click(sec, "Тем, кто придёт на встречу")  # no meetings ahead: said so, back to the question
    assert "Предстоящих встреч нет" in tg.chat(SECRETARY)[-2].text
    sent = await tg.press(sec, "bc:stop:abc")
    assert "не найдено" in sent[-1].text
    await tg.press(sec, "bc:stop:424242")
    assert "не найдено" in tg.last(SECRETARY).text
    sent = await tg.text(sec, "/cancel")
    assert sent[-1].text == "Отменено."  # a secretary who is not a resident is not sent to registration


@pytest.mark.parametrize("lang,words", [
    ("kk", {"stop": "Тоқтату", "stopping": "тоқтатылып жатыр", "report": "жеткізу есебі",
            "sent": "Жеткізілді: 10", "cancelled": "Тоқтатылғандықтан жіберілмеді: 20", "popup": "Тоқтатылды"}),
    ("ru", {"stop": "Остановить", "stopping": "останавливается", "report": "отчёт о доставке",
            "sent": "Доставлено: 10", "cancelled": "Не отправлено из-за остановки: 20", "popup": "Остановлено"}),
])
async def test_stop_midway_cancels_the_rest_and_the_report_says_so(app: App, tg: Telegram, lang: str,
                                                                   words: dict[str, str]) -> None:
    for i in range(30):
        await resident(app, 5000 + i, "kk", KOKTAL)
    svc = app.services.broadcasts
    b = await svc.create(SECRETARY, Audience(KOKTAL), text_kk="Хабар", text_ru=None, progress_chat_id=SECRETARY,
                         ui_language=lang)
    await svc.start(b.id, SECRETARY)
    await app.effects("broadcast_started", b.id)
    await app.broadcasts.settle()
    assert await fast_sender(app, batch=10).run_once() == 10
    sec = Person(SECRETARY, lang)
    sent = await tg.click(sec, words["stop"])
    assert words["stopping"] in sent[0].text or words["report"] in sent[0].text
    answer = next(c for c in tg.session.calls if c.method == "answerCallbackQuery" and c.params.get("text"))
    assert words["popup"] in answer.params["text"]
    assert await fast_sender(app).run_once() == 0  # nothing more goes out
    await app.broadcasts.tick()
    report = tg.last(SECRETARY)
    assert words["report"] in report.text and words["sent"] in report.text and words["cancelled"] in report.text
    states = list((await rows(app, b.id)).values())
    assert states.count("sent") == 10 and states.count("cancelled") == 20
    assert len([c for c in tg.session.calls if c.method == "sendMessage" and 5000 <= int(c.params["chat_id"])
                < 5030]) == 10
    await tg.press(sec, f"bc:stop:{b.id}", on=report)  # pressed again: already finished, the report stays
    assert tg.last(SECRETARY).text == report.text
    answers = [c.params.get("text") for c in tg.session.calls if c.method == "answerCallbackQuery"]
    assert answers[-1] == {"kk": "Бұл хабарландыруды жіберу аяқталған.",
                           "ru": "Рассылка этого объявления уже завершена."}[lang]


async def test_a_row_put_back_after_a_stop_is_never_sent(app: App) -> None:
    for i in range(3):
        await resident(app, 5100 + i, "ru", KOKTAL)
    svc = app.services.broadcasts
    b = await svc.create(SECRETARY, Audience(KOKTAL), text_kk=None, text_ru="Сообщение")
    await svc.start(b.id, SECRETARY)
    await svc.expand(b.id)
    claimed = await app.outbox.claim(1, "w")  # in flight when the stop comes
    assert await app.outbox.started([claimed[0].id]) == {claimed[0].id}
    p = await svc.stop(b.id, SECRETARY)
    assert (p.in_flight, p.cancelled, p.finished) == (1, 2, False)
    await app.outbox.retry(claimed[0], 0, "429 retry after 0", count_attempt=False)  # Telegram said 429
    assert await app.outbox.claim(10, "w") == []  # a stopped broadcast's row is not taken again
    p = await svc.finish_if_done(b.id)
    assert p.cancelled == 3 and p.pending == 0
    p = await svc.finish_if_done(b.id)
    assert p.finished and p.status == "stopped"


async def test_blocked_residents_are_marked_unreachable_and_counted(app: App, tg: Telegram) -> None:
    for i in range(5):
        await resident(app, 5200 + i, "kk", KOKTAL)
    tg.session.blocked.update({5201, 5203})
    svc = app.services.broadcasts
    b = await svc.create(SECRETARY, Audience(KOKTAL), text_kk="Хабар", text_ru=None, progress_chat_id=SECRETARY,
                         ui_language="kk")
    await svc.start(b.id, SECRETARY)
    await app.broadcasts.launch(b.id)
    await app.broadcasts.settle()
    await deliver_all(app)
    p = await svc.progress(b.id)
    assert (p.sent, p.blocked, p.remaining) == (3, 2, 0)
    for uid in (5201, 5203):
        assert (await app.services.residents.get(uid)).reachable is False
    await app.broadcasts.tick()
    assert "Ботты бұғаттағандар: 2" in tg.last(SECRETARY).text and "Жеткізілді: 3" in tg.last(SECRETARY).text
    # the next broadcast leaves them out
    assert len(await svc.recipients(Audience(KOKTAL))) == 3


async def test_a_residents_own_notice_goes_before_queued_broadcast_rows(app: App, tg: Telegram) -> None:
    ids = [await resident(app, 5300 + i, "kk", KOKTAL) for i in range(12)]
    svc = app.services.broadcasts
    b = await svc.create(SECRETARY, Audience(KOKTAL), text_kk="Жаппай хабар", text_ru=None)
    await svc.start(b.id, SECRETARY)
    await svc.expand(b.id)
    sender = fast_sender(app, batch=4)
    await sender.run_once()  # four broadcast rows go
    await app.outbox.enqueue([text("appeal:1:registered", None, {"text": "Өтінішіңіз тіркелді"},
                                   Priority.NOTICE, resident_id=ids[11])])
    await sender.run_once()
    order = [(int(c.params["chat_id"]), c.params["text"]) for c in tg.session.calls if c.method == "sendMessage"]
    assert order[4] == (5311, "Өтінішіңіз тіркелді")  # before the eight broadcast rows still queued
    p = await svc.progress(b.id)
    assert p.sent == 7 and p.eta_seconds == 1  # five left at 25 a second


async def test_an_expansion_cut_short_is_resumed_without_duplicates(app: App) -> None:
    for i in range(7):
        await resident(app, 5400 + i, "ru", KOKTAL)
    svc = app.services.broadcasts
    b = await svc.create(SECRETARY, Audience(KOKTAL), text_kk=None, text_ru="Сообщение")
    await svc.start(b.id, SECRETARY)
    svc.chunk = 3
    recipients = await svc.recipients(Audience(KOKTAL))
    await app.outbox.enqueue(svc._rows(b.id, recipients[:3]))  # the process died after one chunk
    p = await svc.progress(b.id)
    assert (p.rows, p.total, p.expanded) == (3, 7, False)
    await svc.finish_if_done(b.id)
    await deliver_all(app)
    assert (await svc.progress(b.id)).status == "sending"  # not done: rows are missing
    await app.broadcasts.tick()  # the job notices and expands again
    await app.broadcasts.settle()
    await deliver_all(app)
    await app.broadcasts.tick()
    p = await svc.progress(b.id)
    assert (p.status, p.sent, p.rows, p.total) == ("done", 7, 7, 7)
    sends = [int(c.params["chat_id"]) for c in app.bot.session.calls if c.method == "sendMessage"]
    assert sorted(sends) == list(range(5400, 5407))


async def test_a_stop_while_the_rows_are_being_written(app: App, tg: Telegram) -> None:
    for i in range(7):
        await resident(app, 5500 + i, "kk", KOKTAL)
    svc = app.services.broadcasts
    b = await svc.create(ADMIN, Audience(KOKTAL), text_kk="Хабар", text_ru=None, progress_chat_id=ADMIN,
                         ui_language="ru")
    await svc.start(b.id, ADMIN)
    recipients = await svc.recipients(Audience(KOKTAL))
    await app.outbox.enqueue(svc._rows(b.id, recipients[:3]))  # one chunk so far
    await app.broadcasts.refresh(b.id)  # the progress message
    assert "Осталось: 7" in tg.last(ADMIN).text
    await tg.click(Person(ADMIN, "ru"), "Остановить")
    assert await svc.expand(b.id) == 0  # the rest is never written
    p = await svc.progress(b.id)
    assert (p.status, p.finished, p.rows, p.remaining, p.not_sent_for_the_stop) == ("stopped", True, 3, 0, 7)
    report = tg.last(ADMIN).text
    assert "Остановлено до завершения" in report and "Не отправлено из-за остановки: 7" in report
    await deliver_all(app)
    assert not [c for c in tg.session.calls if c.method == "sendMessage" and 5500 <= int(c.params["chat_id"]) < 5507]


async def test_a_new_meeting_is_announced_to_its_territory_with_its_buttons(app: App, tg: Telegram) -> None:
    people = await village(app)
    starts = utcnow() + timedelta(days=10)
    m = await app.services.meetings.create(kind="akim_report", territory_kato=AZAT_OKRUG, starts_at=starts,
                                           agenda_kk="Жол жөндеу", agenda_ru="Ремонт дорог", place="Мектеп",
                                           created_by=SECRETARY)
    await app.effects("meeting_created", m.id)
    await app.effects("meeting_created", m.id)  # handled twice: announced once
    await app.broadcasts.settle()
    async with app.sessions() as s:
        assert await s.scalar(select(func.count(Broadcast.id))) == 1
    assert (await app.services.meetings.get(m.id)).announced_at is not None
    await deliver_all(app)
    [kk] = got(tg, people["kk"][0])
    [ru] = got(tg, people["ru"][0])
    assert "Жол жөндеу" in kk.text and "Ремонт дорог" in ru.text
    assert f"mt:y:{m.id}" in {b["callback_data"] for b in kk.buttons}
    assert f"mt:y:{m.id}" in {b["callback_data"] for b in ru.buttons} and ru.text != kk.text
    await app.broadcasts.tick()
    assert "Жеткізілді: 5" in tg.last(SECRETARY).text  # the creator follows the delivery
    # a meeting where nobody can hear of it yet is not announced (its reminders reach later registrations)
    empty = await app.services.meetings.create(kind="community_meeting", territory_kato="114053100",
                                               starts_at=starts, agenda_kk="Су", agenda_ru="Вода",
                                               created_by=SECRETARY)
    await app.effects("meeting_created", empty.id)
    assert await app.services.broadcasts.announcement_of(empty.id) is None


async def test_a_notice_to_those_coming_to_a_meeting(app: App, tg: Telegram) -> None:
    people = await village(app)
    m = await app.services.meetings.create(kind="community_gathering", territory_kato=AZAT_OKRUG,
                                           starts_at=utcnow() + timedelta(days=6), agenda_kk="Су", agenda_ru="Вода",
                                           created_by=SECRETARY)
    coming = people["kk"][:2] + people["ru"][:1]
    for uid in coming:
        await app.services.meetings.answer(m.id, (await app.services.residents.get(uid)).id, True)
    await app.services.meetings.answer(m.id, (await app.services.residents.get(people["kk"][2])).id, False)
    sec = Person(SECRETARY, "ru")
    await tg.text(sec, "/broadcast")
    sent = await tg.click(sec, "Тем, кто придёт на встречу")
    assert "✅ 3" in str(sent[-1].buttons)
    sent = await tg.click(sec, "✅ 3")
    assert "получателей — 3 (читают на казахском: 2, на русском: 1)" in sent[-1].text
    await tg.click(sec, "Всем (3)")
    await tg.text(sec, "Сход переносится в клуб.")
    await tg.click(sec, "Один текст для всех")
    await tg.click(sec, "Продолжить без вложения")
    await tg.click(sec, "Отправить")
    await app.broadcasts.settle()
    await deliver_all(app)
    assert sorted(uid for uid in people["kk"] + people["ru"] if got(tg, uid)) == sorted(coming)
    b = await only_broadcast(app)
    assert (b.meeting_id, b.only_coming, b.total) == (m.id, True, 3)


async def test_each_channel_gets_the_attachment_by_its_own_file_id(app: App) -> None:
    await village(app)
    media_id = await app.services.media.adopt("telegram", "photo", "AgAD-poster")
    b = await app.services.broadcasts.create(SECRETARY, Audience(AZAT_OKRUG), text_kk=NOTICE_KK, text_ru=NOTICE_RU,
                                             media_kind="photo", media_id=media_id)
    p = {"broadcast_id": b.id}
    assert await app.broadcasts.render(p, Reader("ru", "telegram")) == {"text": NOTICE_RU, "photo": "AgAD-poster"}
    # a channel the photo was never uploaded to gets the text alone, and its own id once it has one
    assert await app.broadcasts.render(p, Reader("kk", "whatsapp")) == {"text": NOTICE_KK}
    await app.services.media.remember(media_id, "whatsapp", "wa-media-77")
    assert await app.broadcasts.render(p, Reader("kk", "whatsapp")) == {"text": NOTICE_KK, "photo": "wa-media-77"}
    with pytest.raises(BroadcastError):  # a media id that names nothing
        await app.services.broadcasts.create(SECRETARY, Audience(AZAT_OKRUG), text_kk=NOTICE_KK, text_ru=None,
                                             media_kind="photo", media_id=media_id + 100)


async def test_the_migration_keeps_old_broadcasts_attachments_as_media(settings, database_url: str) -> None:
    engine = make_engine(database_url)
    await upgrade(engine, "0011")
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    async with engine.begin() as conn:
        for bid, kind, fid in ((1, "photo", "AgAD-old-poster"), (2, None, None), (3, "document", "BQAC-old-plan")):
            await conn.execute(sa.text(
                "INSERT INTO broadcast (id, created_by, territory_kato, language, only_coming, text_kk, text_ru, "
                "media_kind, media_file_id, status, total, created_at) VALUES (:id, 900003, NULL, NULL, false, "
                ":kk, :ru, :k, :f, 'sending', 5, :t)"),
                {"id": bid, "kk": NOTICE_KK, "ru": NOTICE_RU, "k": kind, "f": fid, "t": now})
    await upgrade(engine)
    async with engine.connect() as conn:
        kept = (await conn.execute(sa.text(
            "SELECT b.id, b.media_kind, m.kind, f.channel, f.file_id FROM broadcast b LEFT JOIN media m "
            "ON m.id = b.media_id LEFT JOIN media_file f ON f.media_id = m.id ORDER BY b.id"))).all()
        assert [tuple(r) for r in kept] == [(1, "photo", "photo", "telegram", "AgAD-old-poster"),
                                            (2, None, None, None, None),
                                            (3, "document", "document", "telegram", "BQAC-old-plan")]
        columns = {c["name"] for c in await conn.run_sync(lambda c: sa.inspect(c).get_columns("broadcast"))}
        assert "media_file_id" not in columns and "media_id" in columns
    await engine.dispose()
    app, _ = await make_app(settings, territories=False)  # a broadcast sending across the upgrade keeps its photo
    try:
        assert await app.broadcasts.render({"broadcast_id": 1}, Reader("ru")) == {"text": NOTICE_RU,
                                                                                   "photo": "AgAD-old-poster"}
    finally:
        await app.close()
