"""Staff within their territory: an aide or secretary limited to a territory acts only there and below; the
grant records who granted it; config roles and unlimited grants act everywhere."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import App
from bot.services.appeals import AppealStatus
from bot.services.broadcasts import Audience, OutsideTerritory
from bot.services.roles import Role, RoleError
from storage.models import AuditLog, StaffRole
from tests.conftest import ADMIN, OPERATOR_CHAT, SECRETARY
from tests.support.telegram import Person, Telegram
from tests.test_appeals_flow import filed

DISTRICT, AZAT_OKRUG, KOKTAL, KARAOZEK_OKRUG = "114000000", "114030000", "114033200", "114040000"
KARAOZEK_AIDE, AZAT_AIDE, AZAT_SECRETARY = 910001, 910002, 920001


async def test_aide_of_karaozek_cannot_take_answer_or_write_on_an_appeal_from_azat(app: App, tg: Telegram) -> None:
    roles = app.services.roles
    assert await roles.grant(KARAOZEK_AIDE, Role.OPERATOR, by=ADMIN, territory=KARAOZEK_OKRUG)
    assert await roles.grant(AZAT_AIDE, Role.OPERATOR, by=ADMIN, territory=AZAT_OKRUG)
    resident = Person(3001, "kk")
    a = await filed(app, tg, resident)  # filed from Koktal, in the Azat okrug
    assert a.territory_kato == KOKTAL
    card = tg.session.messages[(OPERATOR_CHAT, a.card_message_id)]
    aide = Person(KARAOZEK_AIDE, "ru")
    to_resident = len(tg.chat(resident.id))

    for data in (f"op:take:{a.id}", f"op:close:{a.id}", f"op:tpl:{a.id}", f"op:t:{a.id}:done"):
        await tg.press(aide, data, card)
        popup = [c.params for c in tg.session.calls if c.method == "answerCallbackQuery"][-1]
        assert "аумағыңызға жатпайды" in popup["text"] and "Қараөзек ауылдық округі" in popup["text"], data
    for text in ("/take", "/answer Шамдар ауыстырылды.", "Сәлеметсіз бе, ертең барамыз.", "/reg ЖТ-1 21.11.2026"):
        sent = await tg.text(aide, text, chat_id=OPERATOR_CHAT, thread=a.topic_id)
        assert len(sent) == 1 and "аумағыңызға жатпайды" in sent[0].text, text
    a = await app.services.appeals.get(a.id)
    assert a.status == AppealStatus.RECEIVED and a.operator_user_id is None
    assert len(tg.chat(resident.id)) == to_resident  # nothing reached the resident

    # the aide of the Azat okrug may, and so may the operator from config (everywhere)
    sent = await tg.text(Person(AZAT_AIDE, "kk"), "/take", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    assert "аумағыңызға" not in sent[0].text
    a = await app.services.appeals.get(a.id)
    assert a.operator_user_id == AZAT_AIDE and a.status != AppealStatus.RECEIVED
    assert await roles.covers(AZAT_AIDE, Role.OPERATOR, KOKTAL)
    assert not await roles.covers(AZAT_AIDE, Role.OPERATOR, None)  # no territory: only those reaching everywhere
    assert await roles.covers(ADMIN, Role.OPERATOR, None)


async def test_secretary_of_one_okrug_cannot_broadcast_to_the_district(app: App, tg: Telegram) -> None:
    await app.services.roles.grant(AZAT_SECRETARY, Role.SECRETARY, by=ADMIN, territory=AZAT_OKRUG)
    broadcasts = app.services.broadcasts
    for audience in (Audience(DISTRICT), Audience(None), Audience(KARAOZEK_OKRUG)):
        with pytest.raises(OutsideTerritory):
            await broadcasts.create(AZAT_SECRETARY, audience, text_kk="Жиын", text_ru=None)
    await broadcasts.create(AZAT_SECRETARY, Audience(KOKTAL), text_kk="Жиын", text_ru=None)
    await broadcasts.create(SECRETARY, Audience(DISTRICT), text_kk="Жиын", text_ru=None)  # config: everywhere

    sec = Person(AZAT_SECRETARY, "ru")
    await tg.text(sec, "/broadcast")
    sent = await tg.click(sec, "Жителям территории")
    labels = [b["text"] for b in sent[-1].buttons]
    assert any("Азатский сельский округ" in t for t in labels) and "Коктал" in labels
    assert not any("Акмолинская" in t or "Аккольский" in t for t in labels)  # the picker starts at her okrug
    for forged in (f"t:p:{DISTRICT}", f"t:o:{DISTRICT}", f"t:p:{KARAOZEK_OKRUG}"):
        sent = await tg.press(sec, forged)
        assert "только свою территорию (Азатский сельский округ)" in sent[0].text, forged
    sent = await tg.text(sec, "Караозек")  # searching does not find places outside her territory
    assert "Караозек" not in str(sent[-1].buttons)
    sent = await tg.click(sec, "Назад")  # above her okrug there is nothing to go to: back to "who"
    assert "Кому отправить?" in sent[-1].text
    await tg.click(sec, "Жителям территории")
    sent = await tg.click(sec, "Азатский сельский округ")
    assert "получателей" in sent[-1].text.lower()
    # a meeting of the district is not offered to her, and a forged one is refused
    m = await app.services.meetings.create(kind="akim_report", territory_kato=DISTRICT,
                                           starts_at=app.services.meetings.clock().replace(year=2099),
                                           agenda_kk="Есеп", agenda_ru="Отчёт", created_by=SECRETARY)
    assert [x.id for x in await broadcasts.upcoming_meetings(within=AZAT_OKRUG)] == []
    with pytest.raises(OutsideTerritory):
        await broadcasts.create(AZAT_SECRETARY, Audience(meeting_id=m.id, only_coming=True), text_kk="x",
                                text_ru=None)


async def test_secretary_of_one_okrug_plans_meetings_only_there(app: App, tg: Telegram) -> None:
    await app.services.roles.grant(AZAT_SECRETARY, Role.SECRETARY, by=ADMIN, territory=AZAT_OKRUG)
    sec = Person(AZAT_SECRETARY, "kk")
    await tg.text(sec, "/meeting")
    await tg.click(sec, "Жаңа кездесу")
    await tg.click(sec, "Әкімнің есеп беру кездесуі")
    sent = await tg.press(sec, f"t:p:{DISTRICT}")
    assert "Тек өз аумағыңызды (Азат ауылдық округі)" in sent[0].text
    sent = await tg.click(sec, "Осы жер")
    assert "Қай күні" in sent[-1].text


async def test_grant_records_the_granter_and_the_territory(app: App, tg: Telegram) -> None:
    admin = Person(ADMIN, "kk")
    sent = await tg.text(admin, f"/grant 777 operator {KARAOZEK_OKRUG}")
    assert "енді — оператор" in sent[0].text and "Қараөзек ауылдық округі" in sent[0].text
    async with app.sessions() as s:
        row = await s.scalar(select(StaffRole).where(StaffRole.user_id == 777))
        logged = await s.scalar(select(AuditLog).where(AuditLog.action == "role.grant"))
    assert (row.role, row.territory_kato, row.granted_by) == ("operator", KARAOZEK_OKRUG, ADMIN)
    assert logged.actor_user_id == ADMIN
    sent = await tg.text(admin, "/roles")
    line = next(ln for ln in sent[0].text.splitlines() if "777" in ln)
    assert "аумақ: Қараөзек ауылдық округі" in line and f"берген: <code>{ADMIN}</code>" in line
    sent = await tg.text(Person(ADMIN, "ru"), "/grant 777 admin 114040000")
    assert "только оператора или секретаря" in sent[0].text
    sent = await tg.text(Person(ADMIN, "ru"), "/grant 778 secretary 999999999")
    assert "не загружена" in sent[0].text
    assert Role.SECRETARY not in await app.services.roles.roles_of(778)
    # granted again without a territory: the limit is lifted
    await tg.text(admin, "/grant 777 operator")
    assert (await app.services.roles.reach(777, Role.OPERATOR)).everywhere
    with pytest.raises(RoleError):
        await app.services.roles.grant(779, Role.ADMIN, territory=KARAOZEK_OKRUG)


async def test_morning_digest_names_an_aide_only_beside_appeals_of_their_territory(app: App, tg: Telegram) -> None:
    roles = app.services.roles
    await roles.grant(AZAT_AIDE, Role.OPERATOR, by=ADMIN)  # everywhere at first
    a = await filed(app, tg, Person(3002, "kk"))
    await tg.text(Person(AZAT_AIDE, "kk"), "/take", chat_id=OPERATOR_CHAT, thread=a.topic_id)
    text = await app.desk.digest(a.due_on)
    assert f"<code>{AZAT_AIDE}</code>" in text
    await roles.grant(AZAT_AIDE, Role.OPERATOR, by=ADMIN, territory=KARAOZEK_OKRUG)  # moved to Karaozek
    text = await app.desk.digest(a.due_on)
    assert a.number in text and str(AZAT_AIDE) not in text and "ешкім алмаған" in text
