"""Command menus, per language for residents and separately for each staff member."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.i18n import LANGUAGES, N_, I18n
from bot.services.roles import Role, RoleService

log = logging.getLogger(__name__)

RESIDENT = [("start", N_("Start or main menu")), ("menu", N_("Main menu")), ("settings", N_("Settings")),
            ("help", N_("Help")), ("cancel", N_("Stop the current step"))]
STAFF = {
    Role.ADMIN: [("roles", N_("Staff roles")), ("grant", N_("Give a role")), ("revoke", N_("Take a role")),
                 ("stats", N_("Appeal statistics")), ("campaign", N_("New People's Budget campaign")),
                 ("proposals", N_("Project proposals to review")), ("report", N_("Publish an akim's report")),
                 ("questions", N_("Residents' questions for meetings"))],
    Role.OPERATOR: [("staff", N_("Staff commands"))],
    Role.SECRETARY: [("staff", N_("Staff commands")), ("broadcast", N_("Send a notice to residents")),
                     ("meeting", N_("Meetings: plan or cancel"))],
}


def resident_commands(i18n: I18n, lang: str) -> list[BotCommand]:
    tr = i18n(lang)
    return [BotCommand(command=c, description=tr._(d)) for c, d in RESIDENT]


def staff_commands(i18n: I18n, lang: str, roles: set[Role]) -> list[BotCommand]:
    tr = i18n(lang)
    seen = {c for c, _ in RESIDENT}
    out = resident_commands(i18n, lang)
    for role in (Role.ADMIN, Role.OPERATOR, Role.SECRETARY):
        if role in roles or Role.ADMIN in roles:
            for c, d in STAFF[role]:
                if c not in seen:
                    seen.add(c)
                    out.append(BotCommand(command=c, description=tr._(d)))
    out.append(BotCommand(command="whoami", description=tr._("My ID and role")))
    return out


async def set_command_menus(bot: Bot, i18n: I18n, roles: RoleService) -> None:
    await bot.set_my_commands(resident_commands(i18n, i18n.default), scope=BotCommandScopeDefault())
    for lang in LANGUAGES:
        await bot.set_my_commands(resident_commands(i18n, lang), scope=BotCommandScopeDefault(), language_code=lang)
    for user_id in sorted(await roles.staff_ids()):
        await set_staff_menu(bot, i18n, roles, user_id)


async def set_staff_menu(bot: Bot, i18n: I18n, roles: RoleService, user_id: int) -> None:
    mine = await roles.roles_of(user_id)
    scope = BotCommandScopeChat(chat_id=user_id)
    try:
        if not mine:
            await bot.delete_my_commands(scope=scope)
            for lang in LANGUAGES:
                await bot.delete_my_commands(scope=scope, language_code=lang)
            return
        await bot.set_my_commands(staff_commands(i18n, i18n.default, mine), scope=scope)
        for lang in LANGUAGES:
            await bot.set_my_commands(staff_commands(i18n, lang, mine), scope=scope, language_code=lang)
    except TelegramAPIError as exc:  # a staff member who never opened the bot has no chat yet
        log.warning("could not set the command menu of staff member %s: %s", user_id, exc)
