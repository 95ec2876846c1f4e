"""Staff roles from config and from the database; every staff command refuses others politely."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.channels.telegram.commands import set_command_menus
from bot.services.roles import Role
from tests.conftest import ADMIN, OPERATOR, SECRETARY
from tests.support.telegram import Person, Telegram


@pytest.mark.parametrize("command", ["/roles", "/grant 5 operator", "/revoke 5 operator", "/staff"])
@pytest.mark.parametrize("lang,refusal", [("kk", "тек әкімдік қызметкерлеріне"), ("ru", "только для сотрудников")])
async def test_residents_are_refused(app: App, tg: Telegram, command: str, lang: str, refusal: str) -> None:
    sent = await tg.text(Person(801, lang), command)
    assert refusal in sent[0].text
    assert await app.services.roles.roles_of(5) == set()


async def test_operator_cannot_grant(app: App, tg: Telegram) -> None:
    sent = await tg.text(Person(OPERATOR, "ru"), "/grant 5 admin")
    assert "только для администраторов" in sent[0].text
    assert Role.ADMIN not in await app.services.roles.roles_of(5)
    sent = await tg.text(Person(OPERATOR, "ru"), "/staff")
    assert "Команды сотрудника" in sent[0].text


async def test_admin_grants_and_revokes_in_chat(app: App, tg: Telegram) -> None:
    admin = Person(ADMIN, "kk")
    sent = await tg.text(admin, "/grant 777 secretary")
    assert "енді — хатшы" in sent[0].text
    assert await app.services.roles.has(777, Role.SECRETARY)
    sent = await tg.text(admin, "/grant 777 secretary")
    assert "бұрыннан бар" in sent[0].text
    sent = await tg.text(admin, "/roles")
    assert "777" in sent[0].text and str(SECRETARY) in sent[0].text and "config.toml" in sent[0].text
    sent = await tg.text(admin, "/revoke 777 secretary")
    assert "рөлі алып тасталды" in sent[0].text
    assert not await app.services.roles.has(777, Role.SECRETARY)
    sent = await tg.text(admin, "/revoke 900002 operator")
    assert "config.toml" in sent[0].text
    sent = await tg.text(admin, "/grant <b>x</b> king")
    assert "Қолданылуы: /grant" in sent[0].text


async def test_whoami(tg: Telegram) -> None:
    sent = await tg.text(Person(SECRETARY, "ru"), "/whoami")
    assert str(SECRETARY) in sent[0].text and "секретарь" in sent[0].text
    sent = await tg.text(Person(802, "kk"), "/whoami")
    assert "тұрғын" in sent[0].text


async def test_command_menus_per_language_and_for_staff(app: App, tg: Telegram) -> None:
    await set_command_menus(app.bot, app.i18n, app.services.roles)
    calls = [c.params for c in tg.session.calls if c.method == "setMyCommands"]
    by_scope = {(c["scope"]["type"], c["scope"].get("chat_id"), c.get("language_code")): c["commands"]
                for c in calls}
    assert by_scope[("default", None, "kk")][0]["description"] == "Бастау немесе басты мәзір"
    assert by_scope[("default", None, "ru")][0]["description"] == "Начать или главное меню"
    admin_cmds = {c["command"] for c in by_scope[("chat", ADMIN, "ru")]}
    operator_cmds = {c["command"] for c in by_scope[("chat", OPERATOR, "ru")]}
    assert {"roles", "grant", "revoke"} <= admin_cmds
    assert "grant" not in operator_cmds and "staff" in operator_cmds
    assert ("chat", 801, "ru") not in by_scope
