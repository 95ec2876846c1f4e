"""APScheduler jobs. They only call services and the desk; their state lives in the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

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
    return scheduler
