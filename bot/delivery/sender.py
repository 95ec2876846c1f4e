"""The outbox sender: claims rows, words each in its reader's language and channel (bot/delivery/notices.py),
hands it to its channel's delivery (bot/delivery/port.py) within that channel's limits, and tells a notice's
kind what became of it."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery.notices import Notices, UnknownNotice
from bot.delivery.port import Deferred, Delivery, Refused, RetryLater, Transient, Unreachable
from bot.lease import CHECK_SECONDS, LocalLease, PgLease, free_leases, make_lease
from bot.services.outbox import Claimed, OutboxService

log = logging.getLogger("qatysu.delivery")
RECOVER_SECONDS = 30  # how often a sender looks for rows left "sending" by a sender that is gone


class OutboxSender:
    def __init__(self, deliveries: Mapping[str, Delivery], outbox: OutboxService, notices: Notices, *,
                 batch: int = 100, concurrency: int = 8, idle_seconds: float = 0.5, retry_seconds: float = 5,
                 engine: AsyncEngine | None = None) -> None:
        self.deliveries = dict(deliveries)  # channel name -> its delivery
        self.outbox, self.notices, self.engine = outbox, notices, engine
        self.batch, self.concurrency, self.idle, self.retry_seconds = batch, concurrency, idle_seconds, retry_seconds
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.wake = asyncio.Event()
        self._starts = _Starts(outbox)

    async def send_one(self, row: Claimed, done: list[tuple[Claimed, int | str | None]] | None = None) -> None:
        """Word one row, send it and record the outcome; with ``done`` a success is only noted there, for the
        caller to record with the rest of its batch (until then the row stays "sending": after a crash it is
        "unknown"). The row turns "sending" only when it is about to go (before that a crash puts it back)."""
        try:
            kind = self.notices.kind(row.kind)
            payload = await self.notices.render(row)
        except UnknownNotice:
            log.error("outbox row %s: no notice kind %r", row.id, row.kind)
            await self.outbox.failed(row.id, f"unknown notice kind {row.kind}")
            return
        except Exception as exc:  # noqa: BLE001 - a renderer's database hiccup: try again later
            log.exception("outbox row %s could not be worded", row.id)
            await self.outbox.retry(row, self.retry_seconds * row.attempts, repr(exc))
            return
        if payload is None:  # the thing it was about is gone (a deleted meeting...): nothing to say
            await self.outbox.cancelled(row.id, "nothing to say any more")
            return
        delivery = self.deliveries.get(row.channel)
        if delivery is None:
            await self.outbox.failed(row.id, f"no delivery for channel {row.channel}")
            await self._undelivered(kind, row, "failed")
            return
        await delivery.limiter.wait(row.chat_id)
        if not await self._starts.start(row.id):  # cancelled since it was claimed: it does not go
            return
        try:
            message_id = await delivery.deliver(row, payload)
        except RetryLater as exc:
            if exc.whole_channel:
                await delivery.limiter.pause(exc.seconds)
            await self.outbox.retry(row, exc.seconds, exc.reason, count_attempt=False)
        except Deferred as exc:
            await self.outbox.retry(row, exc.seconds, exc.reason, count_attempt=False)
        except Unreachable:
            await self.outbox.blocked(row)
            await self._undelivered(kind, row, "blocked")
        except Refused as exc:
            log.warning("outbox row %s to %s chat %s refused: %s", row.id, row.channel, row.chat_id, exc.reason)
            await self.outbox.failed(row.id, exc.reason)
            await self._undelivered(kind, row, "failed")
        except Exception as exc:  # noqa: BLE001 - network, server, anything: keep the sender alive
            if not isinstance(exc, Transient):
                log.exception("outbox row %s failed", row.id)
            if not kind.retry or row.attempts >= self.outbox.max_attempts:
                if kind.retry:
                    log.warning("outbox row %s to chat %s failed after %s attempts: %s", row.id, row.chat_id,
                                row.attempts, exc)
                await self.outbox.failed(row.id, str(exc) or repr(exc))
                await self._undelivered(kind, row, "failed")
            else:
                await self.outbox.retry(row, self.retry_seconds * row.attempts, str(exc) or repr(exc))
        else:
            if done is None:
                await self.outbox.sent(row.id, message_id)
                await self._sent(row, message_id)
            else:
                done.append((row, message_id))

    async def _sent(self, row: Claimed, message_id: int | str | None) -> None:
        hook = self.notices.kind(row.kind).on_sent
        if hook is not None:
            try:  # what follows keeps a chat's message number (Telegram's); a text id is the outbox's alone
                await hook(row, message_id if isinstance(message_id, int) else None)
            except Exception:  # noqa: BLE001 - the message went; what follows it must not stop the sender
                log.exception("outbox row %s: what follows its delivery failed", row.id)

    async def _undelivered(self, kind, row: Claimed, why: str) -> None:
        if kind.on_undelivered is not None:
            try:
                await kind.on_undelivered(row, why)
            except Exception:  # noqa: BLE001
                log.exception("outbox row %s: what follows its failure failed", row.id)

    async def reported_failed(self, channel: str, platform_id: str, error: str) -> bool:
        """A platform said later that a message it had accepted did not arrive (WhatsApp's "failed" status):
        the row fails and its kind hears of it as of any failure. False when the id is none of the outbox's."""
        row = await self.outbox.failed_after_sent(channel, platform_id, error)
        if row is None:
            return False
        log.warning("outbox row %s on %s failed after it was accepted: %s", row.id, channel, error)
        try:
            kind = self.notices.kind(row.kind)
        except UnknownNotice:
            return True
        await self._undelivered(kind, row, "failed")
        return True

    async def preview(self, row_id: int) -> dict | None:
        """What row ``row_id`` would say if it went now, in its reader's language (the CLI and tests look)."""
        row = await self.outbox.peek(row_id)
        if row is None:
            return None
        self.notices.forget()
        return await self.notices.render(row)

    async def send_now(self, row_id: int) -> str:
        """Send one row at once, whatever waits before it (an aide's reply, sent while the aide waits), under
        the same limits and states. Returns the row's state afterwards ("sent", "failed", "blocked", ...; a
        row another sender took meanwhile: its state then)."""
        rows = await self.outbox.claim(1, self.worker, row_id=row_id)
        if rows:
            await self.send_one(rows[0])
        return (await self.outbox.state_of(row_id))[0]

    async def run_once(self) -> int:
        """Claim one batch and send it; returns how many rows were taken. Stopped midway, the rows not started
        go back to the queue."""
        rows = await self.outbox.claim(self.batch, self.worker)
        if not rows:
            return 0
        self.notices.forget()
        queue: asyncio.Queue[Claimed] = asyncio.Queue()
        for r in rows:
            queue.put_nowait(r)
        done: list[tuple[Claimed, int | str | None]] = []

        async def worker() -> None:
            while not queue.empty():
                await self.send_one(queue.get_nowait(), done)

        try:
            await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(rows)))))
        except BaseException:
            await self.outbox.release([r.id for r in rows])
            raise
        finally:  # one commit for the batch's successes, also when the sender is being stopped
            await self.outbox.sent_many([(r.id, m) for r, m in done])
        for r, m in done:
            await self._sent(r, m)
        return len(rows)

    async def _pump(self, stop: asyncio.Event, until: float) -> int:
        """Send batch after batch with no barrier between them: the next batch is claimed while the current one
        is still sending (when fewer rows wait than there are workers), so the limiter is never left idle. Each
        batch's successes are committed together (``sent_many``) once its last row is done, and whatever is done
        when the pump stops (also when cancelled). A row waiting its turn stays "claimed": after a crash it goes
        back to the queue; only the rows started and not yet recorded become "unknown". Returns how many rows
        were taken."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[Claimed, _Batch] | None] = asyncio.Queue()
        hungry = asyncio.Event()
        hungry.set()
        batches: list[_Batch] = []
        taken = 0

        async def feed() -> None:
            nonlocal taken
            try:
                while not stop.is_set() and loop.time() < until:
                    await hungry.wait()
                    rows = await self.outbox.claim(self.batch, self.worker)
                    if not rows:
                        break
                    self.notices.forget()
                    batch = _Batch(rows)
                    batches.append(batch)
                    for r in rows:
                        queue.put_nowait((r, batch))
                    taken += len(rows)
                    if queue.qsize() >= self.concurrency:
                        hungry.clear()
            finally:
                for _ in range(self.concurrency):
                    queue.put_nowait(None)

        async def work() -> None:
            while not stop.is_set() and (item := await queue.get()) is not None:
                if queue.qsize() < self.concurrency:
                    hungry.set()
                row, batch = item
                try:
                    await self.send_one(row, batch.done)
                finally:
                    batch.left -= 1
                if batch.left == 0:
                    await self._settle(batch)
            hungry.set()  # stopping: the feeder is not left waiting for room

        try:
            await asyncio.gather(feed(), *(work() for _ in range(self.concurrency)))
        finally:  # stopped midway (or cancelled): the rows never started go back to the queue, and what was
            # sent is recorded
            left = [r.id for b in batches if b.left for r in b.rows]
            if left:
                await self.outbox.release(left)
            for batch in batches:
                await self._settle(batch)
        return taken

    async def _settle(self, batch: _Batch) -> None:
        if batch.settled:
            return
        batch.settled = True
        await self.outbox.sent_many([(r.id, m) for r, m in batch.done])
        for r, m in batch.done:
            await self._sent(r, m)

    async def recover(self) -> int:
        """Rows a gone sender had started ("sending") become "unknown", never resent; those it had only claimed
        go back to the queue. One process (no engine
        given, or SQLite): every such row, at start. Several (PostgreSQL): each sender holds a lease named after
        itself while it runs, and only the rows of senders whose lease is free are taken for lost."""
        if self.engine is None or self.engine.dialect.name != "postgresql":
            recovered = await self.outbox.recover_after_crash()
        else:
            claimed = {_lease_name(w): w for w in await self.outbox.in_flight_workers() if w}
            gone = [claimed[n] for n in await free_leases(self.engine, list(claimed))]
            recovered = await self.outbox.recover_after_crash(gone)
        if recovered:
            log.warning("%s outbox rows were in flight when their sender stopped; marked unknown, not resent",
                        recovered)
        return recovered

    async def close(self) -> None:
        for delivery in self.deliveries.values():
            close = getattr(delivery, "close", None)
            if close is not None:
                await close()

    async def run_forever(self, stop: asyncio.Event) -> None:
        lease = make_lease(self.engine, _lease_name(self.worker)) if self.engine is not None else LocalLease("")
        try:
            await self._run(stop, lease)
        finally:
            await lease.release()

    async def _run(self, stop: asyncio.Event, lease: LocalLease | PgLease) -> None:
        loop = asyncio.get_running_loop()
        checked, recovered_at = loop.time(), -math.inf
        shared = isinstance(lease, PgLease)
        while not stop.is_set():
            taken = 0
            try:
                if not lease.held:  # a sender claims only while others can see it is alive
                    await lease.try_acquire()
                elif loop.time() - checked >= CHECK_SECONDS:
                    checked = loop.time()
                    await lease.check()
                # one process: once at start; several: now and then, for the rows of a sender that died
                if lease.held and loop.time() - recovered_at >= (RECOVER_SECONDS if shared else math.inf):
                    recovered_at = loop.time()
                    await self.recover()
                if lease.held:  # until the outbox is empty or the lease is due a check
                    taken = await self._pump(stop, until=loop.time() + CHECK_SECONDS)
            except Exception:  # noqa: BLE001 - a database hiccup must not stop delivery for good
                log.exception("outbox sender cycle failed")
            if not taken:
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), self.idle)
                except TimeoutError:
                    pass


class _Batch:
    """One claimed batch in the pump: its rows, how many are not done yet, successes to record together."""

    __slots__ = ("rows", "left", "done", "settled")

    def __init__(self, rows: list[Claimed]) -> None:
        self.rows, self.left, self.done, self.settled = rows, len(rows), [], False


class _Starts:
    """Rows turn "sending" in groups: a row about to go joins the next UPDATE, which takes every row that
    arrived while the one before was running (one statement a row when the sender is quiet, far fewer when it
    is busy)."""

    def __init__(self, outbox: OutboxService) -> None:
        self.outbox = outbox
        self.lock = asyncio.Lock()
        self.waiting: list[int] = []
        self.next: asyncio.Future[set[int]] | None = None

    async def start(self, row_id: int) -> bool:
        if self.next is None:
            self.next = asyncio.get_running_loop().create_future()
        group = self.next
        self.waiting.append(row_id)
        async with self.lock:
            if not group.done():
                ids, self.waiting, self.next = self.waiting, [], None
                try:
                    group.set_result(await self.outbox.started(ids))
                except BaseException as exc:
                    group.set_exception(exc if isinstance(exc, Exception) else RuntimeError("stopped"))
                    group.exception()  # read here: the others waiting on it read it again
                    raise
        return row_id in group.result()


def _lease_name(worker: str) -> str:
    return f"sender:{worker[:64]}"
