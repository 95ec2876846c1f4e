"""``qatysu worker``: background work without updates: the outbox sender and the scheduler's jobs.

Every worker sends from the outbox (rows are claimed atomically, the limits are shared through Redis). The
scheduler's jobs run on one worker at a time: the one holding the ``scheduler`` lease (bot/lease.py). The others
ask for it every few seconds and one of them takes over when the holder dies. What the jobs act on is claimed
row by row (scheduled tasks, outbox rows), so even two runs at once would send nothing twice; the lease keeps the
morning list, the progress messages and the catching-up to one worker. On SQLite there is one process and the
lease is always held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime

from apscheduler.triggers.interval import IntervalTrigger

from bot.app import App, build_app
from bot.channels.telegram.costs import settle
from bot.config import Settings
from bot.lease import CHECK_SECONDS, make_lease
from bot.scheduler import build_scheduler

log = logging.getLogger("qatysu")
SCHEDULER_LEASE = "scheduler"


async def lead(app: App, stop: asyncio.Event, *, check_seconds: float = CHECK_SECONDS) -> None:
    """Run the scheduler's jobs while this process holds the scheduler lease; until ``stop``."""
    lease = make_lease(app.engine, SCHEDULER_LEASE)
    scheduler = build_scheduler(app)
    scheduler.start(paused=True)
    try:
        while not stop.is_set():
            if lease.held:
                if not await lease.check():
                    scheduler.pause()
                    log.warning("scheduler lease lost by %s: its jobs stop here", app.sender.worker)
            elif await lease.try_acquire():
                log.info("scheduler lease taken by %s: running the scheduled jobs", app.sender.worker)
                now = datetime.now(UTC)
                for job in scheduler.get_jobs():
                    # the polling jobs at once (catching up with whatever the last holder left); a daily job at its
                    # next time from now: one the last holder ran today is not run again
                    job.modify(next_run_time=now if isinstance(job.trigger, IntervalTrigger)
                               else job.trigger.get_next_fire_time(None, now))
                scheduler.resume()
                try:  # the rows a gone holder's sender left "sending": unknown, not resent (and not left hanging)
                    await app.sender.recover()
                except Exception:  # noqa: BLE001 - the sender looks again by itself
                    log.exception("recovering the outbox after a takeover failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), check_seconds)
    finally:
        scheduler.shutdown(wait=False)
        await lease.release()


async def work(app: App, stop: asyncio.Event) -> None:
    """The sender and the leased scheduler until ``stop``."""
    log.info("worker %s started: outbox sender and scheduler (under a lease), no updates", app.sender.worker)
    sender = asyncio.create_task(app.sender.run_forever(stop), name="outbox-sender")
    try:
        await lead(app, stop)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        log.info("stopped")


async def run_worker(settings: Settings) -> int:
    app = await build_app(settings)
    stop = asyncio.Event()
    settle()  # start-up done: frozen out of the collector's way (bot/channels/telegram/costs.py)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await work(app, stop)
    finally:
        await app.close()
    return 0
