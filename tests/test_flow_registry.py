"""The flow registry: buttons that sit on notices reach their flow from any step that is not a draft, the menu and
the command menus are built from the flows' declarations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import App
from bot.channels.telegram.commands import resident_commands, staff_commands
from bot.flows.registered import REGISTRY
from bot.services.roles import Role
from tests.support.budget_helpers import campaign
from tests.support.civic import DISTRICT, meeting
from tests.support.telegram import Person, Telegram
from tests.test_registration import RU, register

STALE = "Эта кнопка осталась с прошлого шага"


async def _appeal(app: App, who: Person) -> int:
    r = await app.services.residents.get(who.id)
    a = await app.services.appeals.create(r.id, "suggestion", "roads", r.territory_kato,
                                          "Жолдағы шұңқырларды жөндеу керек, өтінемін", "ru", anonymous=False,
                                          contact_name="Айгүл")
    return a.id


async def test_a_budget_button_from_a_notice_works_while_the_reports_list_is_open(app: App, tg: Telegram) -> None:
    who = Person(7301, "ru")
    await register(tg, who, RU)
    c = await campaign(app, datetime.now(UTC) - timedelta(days=1))  # collecting proposals now
    await app.services.reports.publish(territory_kato=DISTRICT, period="2026-Q3", title_kk="Есеп", title_ru="Отчёт",
                                       summary_kk="Қысқаша", summary_ru="Кратко")
    await tg.click(who, "Отчёты")
    assert (await app.conversations.store.get("telegram", who.id)).flow == "reports"
    sent = await tg.press(who, f"bd:c:{c.id}")  # "📝 Propose a project" on the phase notice
    assert not any(STALE in s.text for s in sent)
    assert "Бюджет Азата" in sent[-1].text
    state = await app.conversations.store.get("telegram", who.id)
    assert state.flow == "budget" and state.data.get("campaign") == c.id


async def test_a_my_appeals_button_from_a_notice_works_while_the_meetings_list_is_open(app: App,
                                                                                      tg: Telegram) -> None:
    who = Person(7302, "ru")
    await register(tg, who, RU)
    appeal_id = await _appeal(app, who)
    await meeting(app, datetime.now(UTC) + timedelta(days=3))
    await tg.click(who, "Встречи")
    assert (await app.conversations.store.get("telegram", who.id)).flow == "meetings"
    sent = await tg.press(who, f"ma:o:{appeal_id}")  # the button on a notice about one's appeal
    assert not any(STALE in s.text for s in sent)
    number = (await app.services.appeals.get(appeal_id)).number
    assert number in sent[-1].text
    state = await app.conversations.store.get("telegram", who.id)
    assert state.flow == "my_appeals" and state.step == "view"


async def test_a_budget_button_does_not_trample_a_question_being_typed(app: App, tg: Telegram) -> None:
    who = Person(7303, "ru")
    await register(tg, who, RU)
    c = await campaign(app, datetime.now(UTC) - timedelta(days=1))
    m = await meeting(app, datetime.now(UTC) + timedelta(days=3))
    await tg.press(who, f"mt:q:{m.id}")
    assert (await app.conversations.store.get("telegram", who.id)).step == "ask"
    await tg.press(who, f"bd:c:{c.id}")
    state = await app.conversations.store.get("telegram", who.id)
    assert state.flow == "meetings" and state.step == "ask"  # the question is still awaited


def test_the_main_menu_and_command_menus_come_from_the_flows(app: App) -> None:
    assert [e.key for e in REGISTRY.menu()] == ["appeal", "my_appeals", "budget", "reports", "meetings", "settings"]
    assert [c.command for c in resident_commands(app.i18n, "ru")] == ["start", "menu", "settings", "help", "cancel"]
    names = [c.command for c in staff_commands(app.i18n, "ru", {Role.ADMIN})][5:]
    assert names == ["roles", "grant", "revoke", "stats", "campaign", "proposals", "report", "questions", "staff",
                     "broadcast", "meeting", "whoami"]
    assert [c.command for c in staff_commands(app.i18n, "ru", {Role.OPERATOR})][5:] == ["staff", "whoami"]
    assert [c.command for c in staff_commands(app.i18n, "ru", {Role.SECRETARY})][5:] == \
        ["staff", "broadcast", "meeting", "whoami"]


async def test_deep_links_are_declared_by_the_flows(app: App, tg: Telegram) -> None:
    who = Person(7304, "ru")
    await register(tg, who, RU)
    assert set(REGISTRY.deep_link_kinds()) == {"vote", "meeting", "report", "appeal"}
    appeal_id = await _appeal(app, who)
    sent = await tg.text(who, f"/start appeal_{appeal_id}")
    assert (await app.services.appeals.get(appeal_id)).number in sent[-1].text
    sent = await tg.text(who, "/start petition_5")
    assert "Эта ссылка больше не действует" in sent[-1].text
