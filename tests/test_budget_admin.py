"""The admin's side of the People's Budget in chat: /campaign (the wizard, in Kazakh and Russian), refusals,
/proposals and the review with a reason that reaches the author; the staff command menu."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.telegram.commands import staff_commands
from bot.services.budget import ProjectStatus
from bot.services.roles import Role
from storage.models import AuditLog, BudgetCampaign, OutboxMessage, ScheduledTask
from tests.conftest import ADMIN, OPERATOR
from tests.support.budget_helpers import AZAT_OKRUG, M, campaign, now_utc, resident
from tests.support.notices import worded
from tests.support.telegram import Person, Telegram

KK = {"intro": "жаңа науқаны", "title_kk": "қазақ тілінде", "title_ru": "орыс тілінде", "where": "қай аумаққа",
      "okrug": "Ақкөл ауданы › Азат ауылдық округі", "when": "түрінде жазыңыз", "unreadable": "түсіне алмадым",
      "order": "басталғаннан кейін аяқталуы керек", "results_order": "аяқталғаннан кейін ғана",
      "budget": "бюджеті қанша", "votes": "неше жобаға", "change": "ауыстыра ала ма", "yes_change": "Иә",
      "threshold": "Тұжырымдама бойынша кемінде 10",
      "law": "2030 жылға дейінгі тұжырымдамасы", "tie": "дауысы тең", "cheaper": "Арзанырағы",
      "check": "Науқанды тексеріңіз", "create": "Науқанды құру", "created": "науқаны құрылды",
      "allowed": "рұқсат етілген", "refused": "әкімшілеріне арналған"}
RU = {"intro": "Новая кампания", "title_kk": "на казахском", "title_ru": "на русском", "where": "Для какой территории",
      "okrug": "Аккольский район › Азатский сельский округ", "when": "Введите дату и время",
      "unreadable": "Не удалось распознать",
      "order": "должен закончиться позже", "results_order": "только после окончания голосования",
      "budget": "Какой бюджет", "votes": "За сколько проектов", "change": "перенести голос", "yes_change": "Да",
      "threshold": "По Концепции — не меньше 10",
      "law": "Концепции развития местного самоуправления", "tie": "поровну голосов",
      "cheaper": "Более дешёвый", "check": "Проверьте кампанию", "create": "Создать кампанию", "created": "создана",
      "allowed": "разрешён", "refused": "администраторов акимата"}
TZ = ZoneInfo("Asia/Almaty")
YEAR = datetime.now(UTC).year + 5  # typed times in the future whenever the tests run


def local(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime(YEAR, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


@pytest.mark.parametrize("words,code", [(KK, "kk"), (RU, "ru")])
async def test_admin_creates_a_campaign_in_chat(app: App, tg: Telegram, words: dict[str, str], code: str) -> None:
    admin = Person(ADMIN, code)  # an admin need not be a registered resident
    sent = await tg.text(admin, "/campaign")
    assert words["intro"] in sent[0].text and words["title_kk"] in sent[-1].text
    sent = await tg.text(admin, "Аз")  # too short
    assert words["title_kk"] in sent[-1].text
    sent = await tg.text(admin, "Азат ауылының халық бюджеті <2027>")
    assert words["title_ru"] in sent[-1].text
    sent = await tg.text(admin, "Народный бюджет Азата 2027")
    assert words["where"] in sent[-1].text
    sent = await tg.text(admin, "Азат")
    sent = await tg.click(admin, words["okrug"], exact=True)
    assert words["when"] in sent[-1].text
    sent = await tg.text(admin, f"01.12.{YEAR} 09:00")
    assert words["when"] in sent[-1].text
    sent = await tg.text(admin, f"32.13.{YEAR} 09:00")
    assert words["unreadable"] in sent[0].text
    sent = await tg.text(admin, f"30.11.{YEAR} 09:00")  # proposals would close before they open
    assert words["order"] in sent[0].text
    for typed in (f"15.12.{YEAR} 18:00", f"20.12.{YEAR} 9:00", f"30.12.{YEAR} 18:00"):
        sent = await tg.text(admin, typed)
    sent = await tg.text(admin, f"29.12.{YEAR} 09:00")  # results before voting ends
    assert words["results_order"] in sent[0].text
    sent = await tg.text(admin, f"31.12.{YEAR} 10:30")
    assert words["budget"] in sent[-1].text
    sent = await tg.text(admin, "50 000 000 ₸")
    assert words["votes"] in sent[-1].text
    sent = await tg.click(admin, "2", exact=True)
    assert words["change"] in sent[-1].text
    sent = await tg.click(admin, words["yes_change"])
    assert words["threshold"] in sent[-1].text
    sent = await tg.text(admin, "9")
    assert words["law"] in sent[0].text and words["threshold"] in sent[-1].text
    sent = await tg.text(admin, "50")
    assert words["tie"] in sent[-1].text
    sent = await tg.click(admin, words["cheaper"])
    summary = sent[-1].text
    assert words["check"] in summary and "&lt;2027&gt;" in summary and "₸" in summary and "50" in summary
    assert words["allowed"] in summary
    sent = await tg.click(admin, words["create"])
    assert words["created"] in sent[-1].text and "qatysu import projects" in sent[-1].text

    async with app.sessions() as s:
        c = (await s.scalars(select(BudgetCampaign))).one()
        tasks = {t.key: t.due_at for t in await s.scalars(select(ScheduledTask))}
        actions = [(a.action, a.actor_user_id) for a in await s.scalars(select(AuditLog))]
    assert (c.title_kk, c.title_ru, c.territory_kato) == ("Азат ауылының халық бюджеті <2027>",
                                                          "Народный бюджет Азата 2027", AZAT_OKRUG)
    assert (c.proposals_from, c.proposals_until) == (local(1, 12, 9), local(15, 12, 18))
    assert (c.review_until, c.voting_from, c.voting_until, c.results_at) == (
        local(20, 12, 9), local(20, 12, 9), local(30, 12, 18), local(31, 12, 10, 30))
    assert (c.budget_tenge, c.votes_per_resident, c.vote_change_allowed, c.threshold, c.tie_rule, c.created_by) == (
        50 * M, 2, True, 50, "lower_cost", ADMIN)
    assert tasks == {f"budget:{c.id}:proposals_open": c.proposals_from, f"budget:{c.id}:voting_open": c.voting_from,
                     f"budget:{c.id}:voting_closing": c.voting_until - timedelta(days=1),
                     f"budget:{c.id}:results": c.results_at}
    assert ("budget.campaign_create", ADMIN) in actions
    # the wizard is over: a second press on «create» (a double tap) makes no second campaign
    sent = await tg.press(admin, "ba:w:ok")
    assert "/campaign" in sent[-1].text
    async with app.sessions() as s:
        assert len((await s.scalars(select(BudgetCampaign))).all()) == 1


async def test_the_wizard_goes_back_keeps_answers_and_cancels(app: App, tg: Telegram) -> None:
    admin = Person(ADMIN, "ru")
    await tg.text(admin, "/campaign")
    await tg.text(admin, "Азат бюджеті")
    sent = await tg.click(admin, "Назад")
    assert "на казахском" in sent[-1].text
    sent = await tg.text(admin, "Азат бюджеті 2")
    assert "на русском" in sent[-1].text
    sent = await tg.send(admin, photo=[{"file_id": "AgAD", "file_unique_id": "u1", "width": 1, "height": 1}])
    assert "на русском" in sent[-1].text  # a hint and the same question
    sent = await tg.text(admin, "/cancel")
    assert sent[-1].text == "Отменено."
    sent = await tg.text(admin, "Бюджет")  # no wizard any more: an unregistered admin meets the registration
    assert "Выберите язык" in sent[-1].text
    async with app.sessions() as s:
        assert (await s.scalars(select(BudgetCampaign))).first() is None


@pytest.mark.parametrize("code,admins_only,staff_only", [
    ("kk", "әкімшілеріне арналған", "әкімдік қызметкерлеріне арналған"),
    ("ru", "администраторов акимата", "сотрудников акимата")])
async def test_others_are_refused_politely(app: App, tg: Telegram, code: str, admins_only: str,
                                           staff_only: str) -> None:
    operator = Person(OPERATOR, code)
    for command in ("/campaign", "/proposals"):
        sent = await tg.text(operator, command)
        assert admins_only in sent[-1].text
    resident_person = Person(4001, code)
    await resident(app, 4001, code)
    sent = await tg.text(resident_person, "/campaign")
    assert staff_only in sent[-1].text
    c = await campaign(app, now_utc() - timedelta(hours=1))
    [p] = await app.services.budget.import_projects(c.id, [{"title": "Жарық", "cost_tenge": M}], ADMIN,
                                                    accepted=False)
    for who in (resident_person, operator):
        sent = await tg.press(who, f"ba:acc:{p.id}")  # a forged press
        assert admins_only in sent[-1].text
    await tg.press(operator, "ba:w:ok")
    assert admins_only in tg.last(OPERATOR).text
    assert (await app.services.budget.get_project(p.id)).status == ProjectStatus.PROPOSED
    async with app.sessions() as s:
        assert [x.id for x in await s.scalars(select(BudgetCampaign))] == [c.id]


async def _proposal(app: App, author_uid: int, lang: str, title: str) -> int:
    """A resident's proposal, and the effect the resident flow appends for it."""
    rid = await resident(app, author_uid, lang)
    c = (await app.services.budget.campaigns_for("114033100"))[0]
    p = await app.services.budget.submit_proposal(rid, c.id, title, 3 * M, description="Ескі шамдардың орнына")
    await app.effects("budget_proposal", p.id)
    return p.id


async def _outbox(app: App, chat_id: int) -> list[OutboxMessage]:
    async with app.sessions() as s:
        return list(await s.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id)
                                    .order_by(OutboxMessage.id)))


@pytest.mark.parametrize("admin_lang,author_lang", [("kk", "ru"), ("ru", "kk")])
async def test_review_with_a_reason_reaches_the_author(app: App, tg: Telegram, admin_lang: str,
                                                      author_lang: str) -> None:
    second_admin = 900011
    await app.services.roles.grant(second_admin, Role.ADMIN)
    if admin_lang != app.settings.locale.default:  # an admin who also registered hears notices in their language
        await resident(app, ADMIN, admin_lang)
    await campaign(app, now_utc() - timedelta(hours=1))
    pid = await _proposal(app, 5001, author_lang, "Көше жарығы <LED>")
    # every admin hears of it in a private chat, with the decision buttons
    for admin_id in (ADMIN, second_admin):
        [row] = await _outbox(app, admin_id)
        said = await worded(app, row)
        assert "Көше жарығы &lt;LED&gt;" in said["text"]
        assert [b["data"] for r in said["buttons"] for b in r if "data" in b] == [
            f"ba:acc:{pid}", f"ba:rej:{pid}", f"ba:ret:{pid}"]
    await app.effects("budget_proposal", pid)  # an effect handled twice sends nothing twice
    assert len(await _outbox(app, ADMIN)) == 1
    await app.sender.run_once()
    admin = Person(ADMIN, admin_lang)
    notice = tg.last(ADMIN)
    assert ("Жаңа жобалық ұсыныс" if admin_lang == "kk" else "Новое проектное предложение") in notice.text

    sent = await tg.press(admin, f"ba:ret:{pid}", notice)
    assert ("нені өзгертуі керек" if admin_lang == "kk" else "Что автору нужно изменить") in sent[-1].text
    sent = await tg.send(admin, photo=[{"file_id": "AgAD", "file_unique_id": "u1", "width": 1, "height": 1}])
    assert ("нені өзгертуі керек" if admin_lang == "kk" else "Что автору нужно изменить") in sent[-1].text
    sent = await tg.text(admin, "ok")
    assert ("таңбаға дейін" if admin_lang == "kk" else "символов") in sent[0].text
    sent = await tg.text(admin, "Құнын нақтылап, <сметасын> қосыңыз")
    assert ("Пысықтауға қайтарылды" if admin_lang == "kk" else "Возвращено на доработку") in sent[0].text
    p = await app.services.budget.get_project(pid)
    assert (p.status, p.status_reason, p.reviewed_by) == ("returned", "Құнын нақтылап, <сметасын> қосыңыз", ADMIN)
    await app.sender.run_once()
    told = tg.last(5001)
    returned = "пысықтауға қайтарылды" if author_lang == "kk" else "возвращено на доработку"
    assert returned in told.text and "Құнын нақтылап, &lt;сметасын&gt; қосыңыз" in told.text
    assert told.buttons[0]["callback_data"] == f"bd:c:{p.campaign_id}"

    # the author sends it again; the admins hear of it again and this time it is rejected
    await app.services.budget.resubmit_proposal(p.author_resident_id, pid, cost_tenge=2 * M)
    await app.effects("budget_proposal", pid)
    assert len(await _outbox(app, ADMIN)) == 2
    await app.sender.run_once()
    sent = await tg.click(admin, "Қабылдамау" if admin_lang == "kk" else "Отклонить")
    sent = await tg.text(admin, "Бұл жер жеке меншікте")
    assert ("Қабылданбады" if admin_lang == "kk" else "Отклонено") in sent[0].text
    await app.sender.run_once()
    told = tg.last(5001)
    assert ("қабылданбады" if author_lang == "kk" else "не принято") in told.text
    assert "Бұл жер жеке меншікте" in told.text
    # the other admin's buttons are now stale: told politely, nothing changes
    sent = await tg.press(Person(second_admin, "ru"), f"ba:acc:{pid}", tg.last(second_admin))
    assert "решение уже принято" in sent[-1].text and "отклонено" in sent[-1].text
    assert (await app.services.budget.get_project(pid)).status == "rejected"
    async with app.sessions() as s:
        actions = [(a.action, a.actor_user_id) for a in await s.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert ("budget.review_return", ADMIN) in actions and ("budget.review_reject", ADMIN) in actions


async def test_proposals_list_card_accept_and_forged_buttons(app: App, tg: Telegram) -> None:
    admin = Person(ADMIN, "kk")
    sent = await tg.text(admin, "/proposals")
    assert "Қарауды күтіп тұрған ұсыныс жоқ" in sent[-1].text
    await campaign(app, now_utc() - timedelta(hours=1))
    first = await _proposal(app, 5101, "kk", "Балалар алаңы")
    second = await _proposal(app, 5102, "ru", "Орындықтар")
    sent = await tg.text(admin, "/proposals")
    assert "2 ұсыныс қарауды күтуде" in sent[-1].text
    sent = await tg.click(admin, "Балалар алаңы")
    assert "Балалар алаңы" in sent[-1].text and "Ескі шамдардың орнына" in sent[-1].text
    sent = await tg.click(admin, "Қабылдау")
    assert "Қабылданды: «Балалар алаңы»" in sent[0].text and "Тағы 1 ұсыныс күтуде" in str(sent[0].buttons)
    assert (await app.services.budget.get_project(first)).status == "accepted"
    await app.sender.run_once()
    assert "ұсынысыңыз қабылданды" in tg.last(5101).text
    # the card of a decided proposal shows its status, without decision buttons
    sent = await tg.press(admin, f"ba:o:{first}")
    assert "қабылданды" in sent[-1].text and not any(b["callback_data"].startswith("ba:acc")
                                                     for b in sent[-1].buttons if "callback_data" in b)
    for forged in ("ba:acc:999999", "ba:o:999999"):
        await tg.press(admin, forged)
        assert "Бұл ұсыныс табылмады" in tg.last(ADMIN).text
    for forged in ("ba:acc:x", "ba:zz:1", "ba:acc:1:2"):
        await tg.press(admin, forged)
        assert "алдыңғы қадамнан" in tg.last(ADMIN).text
    assert (await app.services.budget.get_project(second)).status == "proposed"


async def test_a_review_button_in_the_middle_of_the_wizard_keeps_the_draft(app: App, tg: Telegram) -> None:
    admin = Person(ADMIN, "ru")
    await campaign(app, now_utc() - timedelta(hours=1))
    pid = await _proposal(app, 5201, "ru", "Тротуар")
    await tg.text(admin, "/campaign")
    await tg.text(admin, "Азат бюджеті")
    sent = await tg.press(admin, f"ba:rej:{pid}")
    assert "Почему «Тротуар» отклоняется" in sent[-1].text
    sent = await tg.text(admin, "Участок не принадлежит акимату")
    assert "Отклонено" in sent[0].text and "на русском" in sent[-1].text  # back to the wizard's question
    sent = await tg.text(admin, "Бюджет Азата")
    assert "Для какой территории" in sent[-1].text


def test_admin_command_menu_lists_the_budget_commands(app: App) -> None:
    kk = {c.command: c.description for c in staff_commands(app.i18n, "kk", {Role.ADMIN})}
    ru = {c.command: c.description for c in staff_commands(app.i18n, "ru", {Role.ADMIN})}
    assert "науқан" in kk["campaign"] and "кампания" in ru["campaign"]
    assert "proposals" in kk and "предложения" in ru["proposals"].lower()
    operator = {c.command for c in staff_commands(app.i18n, "ru", {Role.OPERATOR})}
    assert "campaign" not in operator
