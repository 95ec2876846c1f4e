"""Command menus, per language for residents and separately for each staff member, built from the commands the
flows declare (bot/flows/registry.py)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.flows.registered import REGISTRY
from bot.flows.registry import Command, Registry
from bot.i18n import LANGUAGES, I18n
from bot.services.roles import Role, RoleService

log = logging.getLogger(__name__)


def _resident(flows: Registry) -> list[Command]:
    return [c for c in flows.commands() if c.menu_roles is None]


def _visible(c: Command, roles: set[Role]) -> bool:
    return c.menu_roles is not None and (Role.ADMIN in roles or bool(roles & set(c.menu_roles)))


def resident_commands(i18n: I18n, lang: str, flows: Registry = REGISTRY) -> list[BotCommand]:
    tr = i18n(lang)
    return [BotCommand(command=c.name, description=tr._(c.description)) for c in _resident(flows)]


def staff_commands(i18n: I18n, lang: str, roles: set[Role], flows: Registry = REGISTRY) -> list[BotCommand]:
    """The residents' commands, then those of the staff member's roles (an admin sees them all)."""
    tr = i18n(lang)
    staff = [c for c in flows.commands() if _visible(c, roles)]
    return resident_commands(i18n, lang, flows) + [BotCommand(command=c.name, description=tr._(c.description))
                                                    for c in staff]


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
