"""The one composition root: settings → database, services, conversations, bot and dispatcher.

Production (``qatysu run``) and the tests build the app here; tests swap only the bot's HTTP session.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.telegram import errors, operator, private
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.costs import KeepResponseTypes
from bot.channels.telegram.delivery import TelegramDelivery
from bot.channels.telegram.media import TelegramMediaStore
from bot.channels.telegram.middlewares import ChatSerializer, Throttle, warn_too_fast
from bot.channels.telegram.retry import RetryAfter
from bot.config import Settings
from bot.delivery.broadcasts import BroadcastDesk
from bot.delivery.notices import Notices
from bot.delivery.sender import OutboxSender
from bot.delivery.shared_limit import make_limiter
from bot.desk.desk import Desk
from bot.desk.operator import OperatorDesk
from bot.effects import Effects
from bot.flows.base import Services
from bot.flows.budget_notice_texts import BudgetTexts
from bot.flows.engine import Conversations
from bot.i18n import I18n
from bot.reminders import MeetingNotices
from bot.services.appeals import AppealService
from bot.services.broadcasts import BroadcastService
from bot.services.budget import BudgetService
from bot.services.budget_notices import BudgetNotices
from bot.services.calendar import WorkCalendar
from bot.services.media import MediaService
from bot.services.meetings import MeetingService
from bot.services.outbox import OutboxService
from bot.services.phone_key import configured_key, open_key
from bot.services.reports import ReportService
from bot.services.residents import ResidentService
from bot.services.roles import Role, RoleService
from bot.services.tasks import TaskService
from bot.services.territories import TerritoryService, forget_tree
from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.state import StateStore

log = logging.getLogger("qatysu")


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    i18n: I18n
    services: Services
    conversations: Conversations
    bot: Bot
    dp: Dispatcher
    outbox: OutboxService
    sender: OutboxSender
    desk: Desk
    effects: Effects
    broadcasts: BroadcastDesk  # progress messages of secretary broadcasts
    redis: Any = None  # redis.asyncio.Redis when [redis] url is set (several replicas)
    whatsapp: Any = None  # bot.channels.whatsapp.setup.WhatsAppParts when [whatsapp] is set
    # called with the webhook's URL once it listens (the sandbox subscribes it; Meta's is set in the Meta app)
    whatsapp_subscribe: Callable[[str], Awaitable[None]] | None = None

    async def close(self) -> None:
        await self.effects.close()  # what the last updates caused, before the connections close
        if self.whatsapp is not None:
            await self.whatsapp.close()
        await self.bot.session.close()
        await self.sender.close()
        await self.engine.dispose()
        if self.redis is not None:
            await self.redis.aclose()


def make_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    token = settings.telegram.token
    if token is None:
        raise ValueError("telegram.token is not set")
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram.api_base))
    return Bot(token.get_secret_value(), session=session,
               default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True))


def make_role_service(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> RoleService:
    return RoleService(sessions, {Role.ADMIN: settings.roles.admins, Role.OPERATOR: settings.roles.operators,
                                  Role.SECRETARY: settings.roles.secretaries})


async def build_app(settings: Settings, session: BaseSession | None = None, *, migrate: bool = True) -> App:
    engine = make_engine(settings.database.url)
    if migrate:
        await upgrade(engine)
    forget_tree()  # a new app reads the territories afresh (bot/services/territories.py keeps them in memory)
    sessions = make_session_factory(engine)
    i18n = I18n(settings.locale.default, settings.locale.timezone)
    try:  # no key, a key still in the database or another key than the database's: refuse to start
        key = await open_key(sessions, configured_key(settings.privacy))
    except BaseException:
        await engine.dispose()
        raise
    roles = make_role_service(settings, sessions)
    a = settings.appeals
    calendar = WorkCalendar(settings.locale.timezone, a.extra_days_off, a.extra_working_days, a.work_start, a.work_end)
    appeals = AppealService(sessions, calendar, answer_days=a.answer_days, forward_days=a.forward_days,
                            max_extension_months=a.max_extension_months, repeat_window_days=a.repeat_window_days,
                            categories=tuple(a.categories))
    d = settings.delivery
    outbox = OutboxService(sessions, max_attempts=d.max_attempts)
    residents, tasks = ResidentService(sessions, key), TaskService(sessions)
    # meetings schedule their reminders as tasks (see bot/reminders.py)
    meetings = MeetingService(sessions, tasks, residents, reminder_offsets=settings.meetings.reminder_offsets,
                              questions_open_days=settings.meetings.questions_open_days, tz=settings.locale.timezone)
    broadcasts = BroadcastService(sessions, residents, roles, outbox, rate_per_second=d.overall_per_second,
                                  default_language=settings.locale.default)
    services = Services(residents=residents, territories=TerritoryService(sessions), roles=roles, appeals=appeals,
                        budget=BudgetService(sessions, phone_key=key), outbox=outbox, tasks=tasks,
                        reports=ReportService(sessions), meetings=meetings, broadcasts=broadcasts,
                        media=MediaService(sessions))
    bot = make_bot(settings, session)
    bot.session.middleware(RetryAfter())
    bot.session.middleware(KeepResponseTypes())  # Response[T] built once per method (bot/channels/telegram/costs.py)
    # a batch is about a second of sending: what a crash can leave "unknown" stays small
    # one process: the limits in memory; several ([redis] url): shared through Redis by every sender.
    # Every message the bot sends on its own is an outbox row of a notice kind registered here once, worded
    # in the reader's language when the sender takes it (bot/delivery/notices.py)
    notices = Notices(settings.locale.default)
    sender = OutboxSender({"telegram": TelegramDelivery(bot, make_limiter(settings))}, outbox, notices,
                          batch=max(8, min(100, round(d.overall_per_second))), engine=engine)
    desk = Desk(bot, services, settings, i18n, outbox, sessions.unit, wake_sender=sender.wake.set,
                send_now=sender.send_now)
    desk.register(notices)
    effects = Effects()
    effects.register("appeal_", desk.on_effect)
    telegram = TelegramChannel(bot)  # the residents' channel; the operator chat stays Telegram's own
    broadcast_desk = BroadcastDesk(telegram, services, settings, i18n, wake_sender=sender.wake.set)
    broadcast_desk.register(notices)
    effects.register("broadcast_", broadcast_desk.on_effect)
    effects.register("meeting_created", broadcast_desk.on_meeting_effect)  # the announcement is a broadcast
    MeetingNotices(services, settings, i18n, calendar).register(effects, notices)
    # People's Budget: phase notices and results (scheduled tasks), proposals to the admins, decisions to authors
    budget_notices = BudgetNotices(services.budget, services.residents, roles, services.territories, outbox,
                                   wake=sender.wake.set)
    budget_notices.register(services.tasks)
    BudgetTexts(i18n, services.budget, services.territories, services.media).register(notices)
    effects.register("budget_", budget_notices.on_effect)
    conversations = Conversations(services, settings, i18n, StateStore(sessions), effects=effects)
    dp = Dispatcher()
    redis, flood, serializer = None, None, ChatSerializer()
    if settings.redis.url:  # several replicas: order, dedup, flood counts and the desk's locks through Redis
        from bot.channels.telegram.replicas import shared

        redis, flood, serializer = shared(settings, desk, broadcast_desk)
    # the throttle first: a dropped update is answered at once instead of waiting behind its chat's lock
    dp.update.outer_middleware(Throttle(partial(warn_too_fast, bot, i18n, services), settings.limits.flood_messages,
                                        settings.limits.flood_seconds, store=flood))
    dp.update.outer_middleware(serializer)
    dp.include_routers(operator.make_router(settings.telegram.operator_chat_id), private.make_router(),
                       errors.make_router())
    dp["conversations"], dp["i18n"], dp["services"], dp["settings"] = conversations, i18n, services, settings
    dp["operator_desk"] = OperatorDesk(desk)
    dp["telegram"] = telegram  # a residents' channel; the operator chat stays Telegram's own
    services.media.add_store(TelegramMediaStore(bot))  # files carried over between channels
    whatsapp = None
    if settings.whatsapp.enabled:  # residents on WhatsApp too: the webhook is served beside Telegram
        from bot.channels.whatsapp.setup import build as build_whatsapp

        whatsapp = build_whatsapp(settings, conversations, i18n, redis)
        # notices to WhatsApp residents: the same outbox, WhatsApp's limits, its window and templates
        sender.deliveries["whatsapp"] = whatsapp.delivery(make_limiter(settings, "whatsapp"), services.residents)
        whatsapp.attach_outbox(sender, outbox)
    return App(settings, engine, sessions, i18n, services, conversations, bot, dp, outbox, sender, desk, effects,
               broadcast_desk, redis, whatsapp)
