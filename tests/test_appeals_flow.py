"""Appeals through the real dispatcher: a resident files, aides answer in the operator chat, both languages."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.app import App
from bot.services.appeals import AppealStatus
from storage.models import Appeal, AppealMessage, AuditLog
from tests.conftest import DATA, OPERATOR, OPERATOR_CHAT, make_app
from tests.support.telegram import Person, Telegram
from tests.test_registration import KK, RU, register

PHOTO = {"photo": [{"file_id": "photo-1", "file_unique_id": "u1", "width": 90, "height": 90}]}
AIDE = Person(OPERATOR, "ru", first_name="Ержан Аппаратов")
TEXT_KK = "Көктал ауылындағы Абай көшесінде үш күннен бері көше шамдары жанбайды, кешке өте қараңғы."
TEXT_RU = "На улице Абая в селе Коктал третий день не горят фонари, вечером очень темно."


async def file_appeal(tg: Telegram, who: Person, words: dict[str, str], kind: str, text: str,
                      anonymous: bool = False) -> list:
    menu_label = "Өтініш жазу" if words is KK else "Написать обращение"
    await tg.click(who, menu_label)
    await tg.click(who, kind)
    await tg.click(who, "Электр" if words is KK else "Электричество")
    await tg.click(who, "Иә, осында" if words is KK else "Да, здесь")
    await tg.text(who, text)
    await tg.send(who, **PHOTO)
    sent = await tg.click(who, "Жалғастыру" if words is KK else "Продолжить")
    if kind in ("Ұсыныс", "Предложение", "Хабарлама", "Сообщение"):
        sent = await tg.click(who, ("Жасырын" if words is KK else "Анонимно") if anonymous
                              else ("Атыммен" if words is KK else "От своего имени"))
    return sent


async def appeal_of(app: App, who: Person) -> Appeal:
    r = await app.services.residents.get(who.id)
    [a] = await app.services.appeals.list_for_resident(r.id)
    return a


async def test_complaint_in_kazakh_reaches_its_own_topic(app: App, tg: Telegram) -> None:
    who = Person(2001, "kk")
    await register(tg, who, KK)
    sent = await file_appeal(tg, who, KK, "Шағым", TEXT_KK)
    assert "Өтінішіңізді тексеріңіз" in sent[-1].text and "Көктал" in sent[-1].text
    assert "Тіркемелер: 1" in sent[-1].text
    sent = await tg.click(who, "Жіберу")
    a = await appeal_of(app, who)
    assert a.number.startswith("A-") and a.language == "kk" and a.kind == "complaint"
    assert f"<b>{a.number}</b> өтінішіңіз әкімдікке жіберілді" in sent[0].text
    assert "Жауап мерзімі" not in sent[0].text and "жауап мерзімі: <b>" in sent[0].text
    # the operator chat: a topic named with the number, category and settlement, a card, the photo
    [(thread, title)] = tg.session.topics[OPERATOR_CHAT].items()
    assert title.startswith(a.number) and "Көктал" in title
    in_topic = [m for m in tg.chat(OPERATOR_CHAT) if m.thread == thread]
    assert TEXT_KK in in_topic[0].text and "🙋" in str(in_topic[0].buttons)
    assert any(m.kind == "sendPhoto" for m in in_topic)
    assert a.topic_id == thread and a.card_message_id == in_topic[0].message_id


async def test_anonymous_suggestion_in_russian_is_warned(app: App, tg: Telegram) -> None:
    who = Person(2002, "ru")
    await register(tg, who, RU, share_phone=False)
    sent = await file_appeal(tg, who, RU, "Предложение", TEXT_RU, anonymous=True)
    assert "официальный ответ не даётся" in sent[-1].text and "112" in sent[-1].text and "102" in sent[-1].text
    sent = await tg.click(who, "Отправить")
    assert "Официального ответа на него не будет" in sent[0].text
    a = await appeal_of(app, who)
    assert a.anonymous and a.contact_name is None


async def test_request_without_phone_asks_for_it(app: App, tg: Telegram) -> None:
    who = Person(2003, "ru")
    await register(tg, who, RU, share_phone=False)
    sent = await file_appeal(tg, who, RU, "Заявление", TEXT_RU)
    assert "отправьте номер телефона кнопкой" in sent[-1].text
    sent = await tg.text(who, "+77015551234")
    assert "нажмите «📱 Отправить мой номер»" in sent[-1].text
    sent = await tg.contact(who, "+77015551234", owner_id=who.id)
    assert "номер сохранён" in sent[0].text and "Проверьте обращение" in sent[-1].text


async def test_text_step_hints(app: App, tg: Telegram) -> None:
    who = Person(2004, "kk")
    await register(tg, who, KK)
    await tg.click(who, "Өтініш жазу")
    await tg.click(who, "Шағым")
    await tg.click(who, "Жолдар")
    await tg.click(who, "Иә, осында")
    sent = await tg.text(who, "шам жоқ")
    assert "тым қысқа" in sent[0].text
    sent = await tg.text(who, "ә" * 3001)
    assert "3001 таңба" in sent[0].text
    sent = await tg.send(who, **PHOTO)
    assert "мәтінін хабарлама етіп" in sent[0].text
    sent = await tg.text(who, "<script>alert(1)</script> " + TEXT_KK)
    assert "фото не құжатқа дейін" in sent[-1].text


async def test_draft_survives_a_restart(settings, app: App, tg: Telegram) -> None:
    who = Person(2005, "ru")
    await register(tg, who, RU)
    await tg.click(who, "Написать обращение")
    await tg.click(who, "Жалоба")
    await tg.click(who, "Дороги")
    await app.close()
    app2, session2 = await make_app(settings, territories=False)
    try:
        tg2 = Telegram(app2, session2)
        sent = await tg2.text(who, "что дальше")
        assert "Где проблема" in sent[-1].text
        await tg2.press(who, "ap:keep", sent[-1])
        await tg2.text(who, TEXT_RU)
        await tg2.press(who, "af:done", tg2.last(who.id))
        sent = await tg2.press(who, "as:send", tg2.last(who.id))
        assert "отправлено в акимат" in sent[0].text
    finally:
        await app2.close()


async def filed(app: App, tg: Telegram, who: Person, words=KK, kind="Шағым", text=TEXT_KK) -> Appeal:
    await register(tg, who, words)
    await file_appeal(tg, who, words, kind, text)
    await tg.click(who, "Жіберу" if words is KK else "Отправить")
    return await appeal_of(app, who)


async def test_aide_reply_reaches_the_resident_signed_as_the_akimat(app: App, tg: Telegram) -> None:
    who = Person(2006, "kk")
    a = await filed(app, tg, who)
    sent = await tg.text(AIDE, "Сәлеметсіз бе! Электриктер бүгін барады.", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    to_resident = [m for m in sent if m.chat_id == who.id]
    assert len(to_resident) == 1
    assert f"Әкімдік</b> · {a.number} өтініш" in to_resident[0].text
    assert "Ержан" not in to_resident[0].text and str(OPERATOR) not in to_resident[0].text
    async with app.sessions() as s:
        out = (await s.scalars(select(AppealMessage).where(AppealMessage.direction == "out"))).one()
        assert out.author_user_id == OPERATOR and out.resident_chat_message_id == to_resident[0].message_id
    # a note stays internal
    sent = await tg.text(AIDE, "/note тұрғын бұрын да жазған", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    assert all(m.chat_id == OPERATOR_CHAT for m in sent) and "Жазба сақталды" in sent[0].text


async def test_registration_answer_rating_and_reopening(app: App, tg: Telegram) -> None:
    who = Person(2007, "ru")
    a = await filed(app, tg, who, RU, "Жалоба", TEXT_RU)
    sent = await tg.text(AIDE, "/reg ЖТ-2026-0001 21.11.2026", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    assert "Тұрғынға хабарланды" in sent[-1].text
    await app.sender.run_once()
    notice = tg.last(who.id)
    assert "зарегистрировано в eOtinish: № ЖТ-2026-0001" in notice.text
    card = tg.session.messages[(OPERATOR_CHAT, a.card_message_id)]
    assert "ЖТ-2026-0001" in card.text
    sent = await tg.text(AIDE, "/answer Фонари заменены, проверьте, пожалуйста.", chat_id=OPERATOR_CHAT,
                         thread=a.topic_id)
    answer = next(m for m in sent if m.chat_id == who.id)
    assert "Фонари заменены" in answer.text and "Не решено" in str(answer.buttons)
    assert (await app.services.appeals.get(a.id)).status == AppealStatus.ANSWERED
    sent = await tg.press(who, answer.data_of("Не решено"), answer)
    assert "снова открыто" in sent[0].text
    assert (await app.services.appeals.get(a.id)).status == AppealStatus.IN_PROGRESS
    assert any("проблема не решена" in m.text or "шешілмеді" in m.text
               for m in tg.chat(OPERATOR_CHAT) if m.thread == a.topic_id)
    await tg.text(AIDE, "/answer Проверили ещё раз, всё горит.", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    sent = await tg.press(who, f"ma:s:{a.id}:5")
    assert "Спасибо за оценку" in sent[0].text
    assert (await app.services.appeals.get(a.id)).rating == 5


async def test_resident_follow_up_goes_to_the_same_topic(app: App, tg: Telegram) -> None:
    who = Person(2008, "kk")
    a = await filed(app, tg, who)
    await tg.click(who, "Менің өтініштерім")
    await tg.click(who, a.number)
    await tg.click(who, "Хабарлама қосу")
    sent = await tg.text(who, "Тағы бір <b>шам</b> сынған")
    assert "Әкімдікке жіберілді" in sent[0].text
    relayed = [m for m in tg.chat(OPERATOR_CHAT) if m.thread == a.topic_id][-1]
    assert "Тағы бір &lt;b&gt;шам&lt;/b&gt; сынған" in relayed.text
    # the topic was deleted by an aide: the next message opens a new one
    del tg.session.topics[OPERATOR_CHAT][a.topic_id]
    await tg.click(who, "Хабарлама қосу")
    await tg.text(who, "Үшінші хабарлама")
    again = await app.services.appeals.get(a.id)
    assert again.topic_id != a.topic_id and again.topic_id in tg.session.topics[OPERATOR_CHAT]
    assert "Үшінші хабарлама" in [m for m in tg.chat(OPERATOR_CHAT) if m.thread == again.topic_id][-1].text


async def test_non_operator_in_the_operator_chat_is_refused_and_not_relayed(app: App, tg: Telegram) -> None:
    who = Person(2009, "kk")
    a = await filed(app, tg, who)
    stranger = Person(2999, "kk")
    before = len(tg.chat(who.id))
    sent = await tg.text(stranger, "жауап бере салайын", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    assert "тек әкімдік операторлары" in sent[0].text
    sent = await tg.text(stranger, "тағы", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    assert sent == []  # one warning, not one per message
    assert len(tg.chat(who.id)) == before
    card = tg.session.messages[(OPERATOR_CHAT, a.card_message_id)]
    sent = await tg.press(stranger, card.data_of("🙋"), card)
    assert (await app.services.appeals.get(a.id)).operator_user_id is None
    answers = [c.params for c in tg.session.calls if c.method == "answerCallbackQuery"]
    assert "операторлары" in answers[-1]["text"]


@pytest.mark.parametrize("data", ["op:take:999999", "op:take:abc", "op:t:1:nope", "op:zzz:1"])
async def test_forged_operator_callbacks(app: App, tg: Telegram, data: str) -> None:
    who = Person(2010, "kk")
    a = await filed(app, tg, who)
    card = tg.session.messages[(OPERATOR_CHAT, a.card_message_id)]
    await tg.press(AIDE, data, card)
    assert (await app.services.appeals.get(a.id)).status == AppealStatus.RECEIVED


async def test_resident_cannot_open_someone_elses_appeal(app: App, tg: Telegram) -> None:
    owner, other = Person(2011, "kk"), Person(2012, "kk")
    a = await filed(app, tg, owner)
    await register(tg, other, KK, share_phone=False)
    for data in (f"ma:o:{a.id}", f"ma:no:{a.id}", f"ma:s:{a.id}:1", f"ma:w:{a.id}"):
        sent = await tg.press(other, data)
        assert "Бұл өтініш сіздікі емес" in sent[0].text
    assert (await app.services.appeals.get(a.id)).rating is None


async def test_html_in_appeal_is_escaped_on_the_card(app: App, tg: Telegram) -> None:
    who = Person(2013, "kk")
    a = await filed(app, tg, who, text="<b>Шам</b> & <a href='x'>сілтеме</a> " + TEXT_KK)
    card = tg.session.messages[(OPERATOR_CHAT, a.card_message_id)]
    assert "&lt;b&gt;Шам&lt;/b&gt; &amp; &lt;a href='x'&gt;" in card.text


async def test_group_without_topics_works_by_replying_to_the_card(settings, tg: Telegram, app: App) -> None:
    tg.session.forum_chats.clear()
    who = Person(2014, "ru")
    a = await filed(app, tg, who, RU, "Жалоба", TEXT_RU)
    assert a.topic_id is None and a.card_message_id is not None
    card = tg.session.messages[(OPERATOR_CHAT, a.card_message_id)]
    sent = await tg.text(AIDE, "Мастер придёт завтра.", chat_id=OPERATOR_CHAT, reply_to=card)
    assert any(m.chat_id == who.id and "Мастер придёт завтра" in m.text for m in sent)


async def test_repeated_appeal_is_marked_on_the_card(app: App, tg: Telegram) -> None:
    who = Person(2015, "kk")
    first = await filed(app, tg, who)
    await file_appeal(tg, who, KK, "Шағым", TEXT_KK + " Тағы жазып отырмын.")
    await tg.click(who, "Жіберу")
    r = await app.services.residents.get(who.id)
    second = (await app.services.appeals.list_for_resident(r.id))[0]
    assert second.repeat_of_id == first.id
    card = tg.session.messages[(OPERATOR_CHAT, second.card_message_id)]
    assert f"алдыңғысы — {first.number}" in card.text


async def test_blocked_resident_is_noted_on_the_appeal(app: App, tg: Telegram) -> None:
    who = Person(2016, "kk")
    a = await filed(app, tg, who)
    tg.session.blocked.add(who.id)
    sent = await tg.text(AIDE, "Жауап", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    assert "ботты бұғаттаған" in sent[-1].text or "заблокировал" in sent[-1].text
    assert (await app.services.appeals.get(a.id)).blocked_noted_at is not None


async def test_morning_digest_groups_by_aide(app: App, tg: Telegram) -> None:
    who = Person(2017, "kk")
    a = await filed(app, tg, who)
    await tg.text(AIDE, "/take", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    text = await app.desk.digest(a.due_on)
    assert a.number in text and str(OPERATOR) in text and "🟡" in text
    text = await app.desk.digest(date(a.due_on.year + 1, 1, 20))
    assert "🔴" in text
    card = tg.session.messages[(OPERATOR_CHAT, a.card_message_id)]
    assert "Мерзімі өтті" in card.text


async def test_aide_actions_are_audited_with_the_aide(app: App, tg: Telegram) -> None:
    who = Person(2018, "kk")
    a = await filed(app, tg, who)
    await tg.text(AIDE, "/take", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    async with app.sessions() as s:
        rows = (await s.scalars(select(AuditLog).where(AuditLog.actor_user_id == OPERATOR))).all()
    assert rows


async def test_reply_template_answers_in_the_appeals_language(app: App, tg: Telegram) -> None:
    who = Person(2019, "ru")
    a = await filed(app, tg, who, RU, "Жалоба", TEXT_RU)
    card = tg.session.messages[(OPERATOR_CHAT, a.card_message_id)]
    sent = await tg.press(AIDE, card.data_of("Үлгілер"), card)
    templates = sent[-1]
    assert "Ваше обращение рассмотрено, работы выполнены" in str(templates.buttons)  # the appeal is in Russian
    sent = await tg.press(AIDE, templates.data_of("работы выполнены"), templates)
    to_resident = next(m for m in sent if m.chat_id == who.id)
    assert "Ваше обращение рассмотрено, работы выполнены" in to_resident.text and "Решено" in str(to_resident.buttons)
    assert (await app.services.appeals.get(a.id)).status == AppealStatus.ANSWERED
    await app.sender.run_once()
    assert any("взято в работу" in m.text for m in tg.chat(who.id))  # taken first, and told


async def test_aide_photo_reaches_the_resident(app: App, tg: Telegram) -> None:
    who = Person(2020, "kk")
    a = await filed(app, tg, who)
    msg = tg._message(AIDE, OPERATOR_CHAT, photo=PHOTO["photo"], caption="Жөнделген шам",
                      message_thread_id=a.topic_id, is_topic_message=True)
    sent = await tg.feed({"message": msg})
    photo = next(m for m in sent if m.chat_id == who.id)
    assert photo.kind == "sendPhoto" and "Жөнделген шам" in photo.text and a.number in photo.text


async def test_only_configured_categories_are_offered(settings) -> None:
    settings.appeals.categories = ["roads", "water"]
    app, session = await make_app(settings)
    try:
        tg = Telegram(app, session)
        who = Person(2021, "kk")
        await register(tg, who, KK)
        await tg.click(who, "Өтініш жазу")
        sent = await tg.click(who, "Шағым")
        labels = [b["text"] for b in sent[-1].buttons]
        assert "Жолдар" in labels and "Су" in labels and "Жер" not in labels
        sent = await tg.press(who, "ac:land")
        assert "Тақырыпты таңдаңыз" in sent[-1].text
    finally:
        await app.close()


async def test_a_long_morning_list_is_cut_between_lines(app: App, tg: Telegram) -> None:
    who = Person(2022, "kk")
    await register(tg, who, KK)
    r = await app.services.residents.get(who.id)
    for i in range(260):
        await app.services.appeals.create(r.id, "suggestion", "roads", "114033200", f"{TEXT_KK} №{i} әр түрлі",
                                          "kk", anonymous=False, contact_name="Айгүл")
    text = await app.desk.digest(date(2030, 1, 10))
    assert len(text) <= 4000 and text.endswith("…")
    posted = tg.chat(OPERATOR_CHAT)[-1]
    assert posted.text == text  # the recording session checked its HTML like Telegram does


async def test_non_operator_is_refused_on_a_freshly_booted_machine(app: App, tg: Telegram,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine up for five seconds: time.monotonic() is small, and the first refusal must still be said."""
    import bot.desk.operator as operator_module

    uptime = iter(5.0 + i / 100 for i in range(10_000))
    monkeypatch.setattr(operator_module, "time", SimpleNamespace(monotonic=lambda: next(uptime)))
    who = Person(2021, "kk")
    a = await filed(app, tg, who)
    stranger = Person(2998, "kk")
    sent = await tg.text(stranger, "жауап бере салайын", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    assert sent and "тек әкімдік операторлары" in sent[0].text
    assert await tg.text(stranger, "тағы", chat_id=OPERATOR_CHAT, thread=a.topic_id) == []  # once, not per message


async def test_an_answer_that_did_not_arrive_is_not_answered_and_can_be_sent_again(app: App, tg: Telegram) -> None:
    who = Person(2022, "kk")
    a = await filed(app, tg, who)
    await tg.text(AIDE, "/take", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    before = len(tg.chat(who.id))
    tg.session.unreachable.add(who.id)  # the network drops every send to the resident
    sent = await tg.text(AIDE, "/answer Шамдар ауыстырылды.", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    assert len(tg.chat(who.id)) == before
    assert sent[-1].chat_id == OPERATOR_CHAT and "⚠️" in sent[-1].text and "/answer" in sent[-1].text
    after = await app.services.appeals.get(a.id)
    assert after.status == AppealStatus.IN_PROGRESS and after.answered_at is None
    async with app.sessions() as s:
        assert (await s.scalars(select(AppealMessage).where(AppealMessage.direction == "out"))).all() == []
    stats = await app.services.appeals.stats()
    assert stats.median_hours_to_answer is None
    # a plain message that fails is reported too, and not stored as if the resident had it
    sent = await tg.text(AIDE, "Ертең барамыз.", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    assert "⚠️" in sent[-1].text
    # the network is back: the same command goes through
    tg.session.unreachable.discard(who.id)
    sent = await tg.text(AIDE, "/answer Шамдар ауыстырылды.", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    answer = next(m for m in sent if m.chat_id == who.id)
    assert "Шамдар ауыстырылды" in answer.text and answer.buttons
    after = await app.services.appeals.get(a.id)
    assert after.status == AppealStatus.ANSWERED and after.answered_at is not None
    async with app.sessions() as s:
        [out] = (await s.scalars(select(AppealMessage).where(AppealMessage.direction == "out"))).all()
    assert out.resident_chat_message_id == answer.message_id


async def test_a_template_answer_that_did_not_arrive_says_so(app: App, tg: Telegram) -> None:
    who = Person(2023, "ru")
    a = await filed(app, tg, who, RU, "Жалоба", TEXT_RU)
    card = tg.session.messages[(OPERATOR_CHAT, a.card_message_id)]
    templates = (await tg.press(AIDE, card.data_of("Үлгілер"), card))[-1]
    tg.session.unreachable.add(who.id)
    sent = await tg.press(AIDE, templates.data_of("работы выполнены"), templates)
    assert "⚠️" in sent[-1].text
    popup = [c.params for c in tg.session.calls if c.method == "answerCallbackQuery"][-1]
    assert popup["text"] != app.desk.tr._("Sent.")
    assert (await app.services.appeals.get(a.id)).answered_at is None


async def test_a_long_caption_is_cut_between_entities_and_the_rest_follows(app: App, tg: Telegram) -> None:
    who = Person(2024, "kk")
    a = await filed(app, tg, who)
    words = " ".join(f"A&B<{i}>" for i in range(300))  # escaping makes it about three times longer
    msg = tg._message(AIDE, OPERATOR_CHAT, photo=PHOTO["photo"], caption=words[:1024],
                      message_thread_id=a.topic_id, is_topic_message=True)
    sent = await tg.feed({"message": msg})
    to_resident = [m for m in sent if m.chat_id == who.id]
    assert [m.kind for m in to_resident] == ["sendPhoto", "sendMessage"]  # both parse as HTML (the session checks)
    photo, rest = to_resident
    assert len(photo.text) <= 1024
    shown = (photo.text.split("\n\n", 1)[1] + " " + rest.text).replace("…", "")
    shown = shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert shown.split() == words[:1024].split()  # nothing lost, nothing doubled


def test_fit_caption_never_cuts_an_entity() -> None:
    from html import unescape

    from bot.desk.texts import fit_caption

    for n in range(1000, 1030):
        text = "&" * n
        caption, rest = fit_caption("<b>H</b>\n\n", text)
        assert len(caption) <= 1024 and caption.count("&amp;") == caption.count("&")
        assert unescape(caption[len("<b>H</b>\n\n"):]).rstrip("…") + rest.lstrip("…") == text


async def test_a_reply_queued_when_the_bot_died_is_sent_once_after_the_restart(settings) -> None:
    """The aide's answer is written to the outbox before it is sent: the process dies between the two (after
    ``queue_reply``, the first half of an aide's reply), and the started-again sender delivers it once, marks
    the appeal answered and tells the aides in the topic."""
    from tests.faults.crash import die, start

    app, session, tg = await start(settings)
    await app.services.territories.import_csv(DATA / "territories.csv")
    who = Person(2025, "ru")
    a = await filed(app, tg, who, RU, "Жалоба", TEXT_RU)
    await tg.text(AIDE, "/take", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    await app.sender.run_once()  # "taken into work"
    before = len(tg.chat(who.id))
    assert await app.desk.queue_reply(a, OPERATOR, "Фонари заменены.", operator_message_id=4242, final=True)
    await die(app)  # queued, never sent
    app2, _, tg2 = await start(settings, old=session)
    try:
        assert (await app2.services.appeals.get(a.id)).status == AppealStatus.IN_PROGRESS
        await app2.outbox.recover_after_crash()  # what the sender does first on start
        assert await app2.sender.run_once() == 1
        assert await app2.sender.run_once() == 0
        to_resident = tg2.chat(who.id)[before:]
        assert len(to_resident) == 1
        assert "Фонари заменены" in to_resident[0].text and "Не решено" in str(to_resident[0].buttons)
        after = await app2.services.appeals.get(a.id)
        assert after.status == AppealStatus.ANSWERED and after.answered_at is not None
        async with app2.sessions() as s:
            [out] = (await s.scalars(select(AppealMessage).where(AppealMessage.direction == "out"))).all()
        assert out.resident_chat_message_id == to_resident[0].message_id and out.author_user_id == OPERATOR
        in_topic = [m for m in tg2.chat(OPERATOR_CHAT) if m.thread == a.topic_id]
        assert "✅" in in_topic[-1].text  # the aides read that it arrived
    finally:
        await app2.close()


async def test_a_reply_the_sender_could_not_deliver_later_is_reported_in_the_topic(app: App, tg: Telegram) -> None:
    who = Person(2026, "kk")
    a = await filed(app, tg, who)
    await app.desk.queue_reply(a, OPERATOR, "Ертең барамыз.", operator_message_id=4343)
    tg.session.unreachable.add(who.id)
    await app.sender.run_once()
    await app.sender.run_once()
    in_topic = [m for m in tg.chat(OPERATOR_CHAT) if m.thread == a.topic_id]
    assert "⚠️" in in_topic[-1].text  # failed, once: the aide sends it again, the bot does not by itself
    assert len([c for c in tg.session.calls if c.params.get("chat_id") == who.id
                and "Ертең барамыз" in str(c.params.get("text"))]) == 1
    async with app.sessions() as s:
        assert (await s.scalars(select(AppealMessage).where(AppealMessage.direction == "out"))).all() == []


async def test_an_aides_location_is_not_relayed_as_an_empty_message(app: App, tg: Telegram) -> None:
    who = Person(2027, "kk")
    a = await filed(app, tg, who)
    before = len(tg.chat(who.id))
    msg = tg._message(AIDE, OPERATOR_CHAT, location={"latitude": 43.2, "longitude": 76.9},
                      message_thread_id=a.topic_id, is_topic_message=True)
    sent = await tg.feed({"message": msg})
    await app.sender.run_once()
    assert len(tg.chat(who.id)) == before  # nothing with only a signature reaches the resident
    assert sent and sent[-1].chat_id == OPERATOR_CHAT
