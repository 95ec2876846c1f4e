"""APScheduler jobs. They only call services and the desk; their state lives in the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.reminders import ensure_quarterly
from bot.services.privacy import erase_expired

if TYPE_CHECKING:
    from bot.app import App


def build_scheduler(app: App) -> AsyncIOScheduler:
    tz = app.settings.locale.timezone
    digest = app.settings.appeals.digest_time
    scheduler = AsyncIOScheduler(timezone=tz)
    scheduler.add_job(app.desk.morning_digest, CronTrigger(hour=digest.hour, minute=digest.minute, timezone=tz),
                      id="appeals_digest", coalesce=True, misfire_grace_time=3600, max_instances=1)
    scheduler.add_job(app.desk.catch_up, IntervalTrigger(seconds=60), id="operator_catch_up", coalesce=True,
                      max_instances=1)
    # reminders, campaign phases, the quarterly reminder: rows with a due time (bot/services/tasks.py)
    scheduler.add_job(app.services.tasks.run_due, IntervalTrigger(seconds=30), id="scheduled_tasks", coalesce=True,
                      max_instances=1)
    # secretary broadcasts: progress messages edited when their numbers change, done detection, resumed expansion
    scheduler.add_job(app.broadcasts.tick, IntervalTrigger(seconds=3), id="broadcast_progress", coalesce=True,
                      max_instances=1)
    # the quarterly reminder to admins schedules its successor; this starts the chain at once and mends it
    scheduler.add_job(ensure_quarterly, IntervalTrigger(hours=6), id="quarterly_reminder_chain", coalesce=True,
                      max_instances=1, next_run_time=datetime.now(UTC),
                      args=(app.services, app.settings, app.services.appeals.calendar))
    # personal data whose purpose is over: vote tokens after the results (+ retention), old appeals of deleted residents
    p = app.settings.privacy
    scheduler.add_job(erase_expired, IntervalTrigger(hours=6), id="privacy_erase_expired", coalesce=True,
                      max_instances=1, next_run_time=datetime.now(UTC), args=(app.sessions,),
                      kwargs={"vote_token_retention_days": p.vote_token_retention_days,
                              "appeal_retention_years": p.appeal_retention_years})
    return scheduler
