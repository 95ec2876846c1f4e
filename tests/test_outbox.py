"""The outbox: written before sent, one row per key, claimed once, limits and failures handled."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import pytest
from sqlalchemy import select

from bot.app import App
from bot.channels.telegram.delivery import TelegramDelivery
from bot.delivery.ratelimit import RateLimiter
from bot.delivery.sender import OutboxSender
from bot.services.outbox import OutboxService, Priority
from storage.models import OutboxMessage
from tests.support.notices import text


def service(app: App) -> OutboxService:
    return OutboxService(app.sessions, max_attempts=3)


def sender(app: App, outbox: OutboxService) -> OutboxSender:
    telegram = TelegramDelivery(app.bot, RateLimiter(1000, 1000, 1000))
    return OutboxSender({"telegram": telegram}, outbox, app.sender.notices, retry_seconds=0)


async def states(app: App) -> dict[str, str]:
    async with app.sessions() as s:
        return {r.key: r.state for r in await s.scalars(select(OutboxMessage))}


async def test_enqueue_is_idempotent_and_sends_once(app: App) -> None:
    outbox = service(app)
    items = [text(f"notice:{i}", 100 + i, {"text": f"Хабар <b>{i}</b>"}) for i in range(5)]
    assert await outbox.enqueue(items) == 5
    assert await outbox.enqueue(items) == 0
    s = sender(app, outbox)
    assert await s.run_once() == 5
    assert await s.run_once() == 0
    sent = [c for c in app.bot.session.calls if c.method == "sendMessage"]
    assert sorted(int(c.params["chat_id"]) for c in sent) == [100, 101, 102, 103, 104]
    assert set((await states(app)).values()) == {"sent"}


async def test_notices_go_before_broadcasts(app: App) -> None:
    outbox = service(app)
    await outbox.enqueue([text(f"b:{i}", 200 + i, {"text": "жаппай"}, Priority.BROADCAST) for i in range(3)])
    await outbox.enqueue([text("n:1", 300, {"text": "сіздің өтінішіңіз"}, Priority.NOTICE)])
    rows = await outbox.claim(2, "w")
    assert [r.chat_id for r in rows] == [300, 200]


async def test_blocked_person_is_marked_unreachable_and_skipped(app: App) -> None:
    outbox = service(app)
    r = await app.services.residents.consent(555, 555, "kk", "v1")
    app.bot.session.blocked.add(555)
    await outbox.enqueue([text("a", 555, {"text": "бір"}, resident_id=r.id),
                          text("b", 555, {"text": "екі"}, Priority.BROADCAST, resident_id=r.id)])
    await sender(app, outbox).run_once()
    assert await states(app) == {"a": "blocked", "b": "blocked"}
    assert (await app.services.residents.get(555)).reachable is False
    assert len([c for c in app.bot.session.calls if c.method == "sendMessage"]) <= 2


async def test_retry_after_is_obeyed_and_not_counted_as_a_failure(app: App) -> None:
    outbox = service(app)
    app.bot.session.retry_after.extend([0, 0, 0, 0])  # four 429s in a row, more than max_attempts
    await outbox.enqueue([text("x", 600, {"text": "кейін"})])
    s = sender(app, outbox)
    for _ in range(6):
        await s.run_once()
    assert await states(app) == {"x": "sent"}


async def test_other_failures_are_retried_a_bounded_number_of_times(app: App) -> None:
    outbox = service(app)
    await outbox.enqueue([text("bad", 700, {"text": "<b>unclosed"})])  # Telegram refuses: no retry
    await outbox.enqueue([text("gone", 701, {"text": "ok"})])
    app.bot.session.unreachable.add(701)
    s = sender(app, outbox)
    for _ in range(5):
        await s.run_once()
    st = await states(app)
    assert st["bad"] == "failed"
    assert st["gone"] == "failed"  # the network failed three times (max_attempts), then it was given up
    assert len([c for c in app.bot.session.calls if c.params.get("chat_id") == 701]) == 3


async def test_at_a_crash_rows_started_become_unknown_and_rows_only_claimed_are_sent_later(app: App) -> None:
    outbox = service(app)
    await outbox.enqueue([text(f"c:{i}", 800 + i, {"text": "хабар"}) for i in range(6)])
    claimed = await outbox.claim(5, "crashed-worker")  # a batch claimed
    assert len(claimed) == 5
    tried = {r.id for r in claimed[:2]}
    assert await outbox.started(tried) == tried  # two were going out when the process died
    assert await outbox.recover_after_crash() == 2
    st = await states(app)
    assert sorted(st.values()) == ["pending"] * 4 + ["unknown"] * 2
    while await sender(app, outbox).run_once():
        pass
    st = await states(app)
    assert sorted(st.values()) == ["sent"] * 4 + ["unknown"] * 2  # the never tried ones went after all
    sent_to = [int(c.params["chat_id"]) for c in app.bot.session.calls if c.method == "sendMessage"]
    assert sorted(sent_to) == sorted({800 + i for i in range(6)} - {r.chat_id for r in claimed if r.id in tried})
    async with app.sessions() as s:  # a row put back counts no attempt for the crash
        attempts = dict((await s.execute(select(OutboxMessage.key, OutboxMessage.attempts))).all())
    assert {k: n for k, n in attempts.items() if st[k] == "sent"} == {f"c:{i}": 1 for i in range(2, 6)}


async def test_concurrent_claims_never_share_a_row(app: App) -> None:
    outbox = service(app)
    await outbox.enqueue([text(f"k:{i}", 1000 + i, {"text": "т"}) for i in range(200)])
    ids: list[int] = []
    for _round in range(20):  # eight workers at once, round after round, until the queue is empty
        results = await asyncio.gather(*(outbox.claim(30, f"w{i}") for i in range(8)))
        ids += [r.id for batch in results for r in batch]
    assert len(ids) == len(set(ids)) == 200


def test_rate_limiter_spacing() -> None:
    now = [0.0]
    limiter = RateLimiter(overall_per_s=10, private_per_s=1, group_per_min=2, clock=lambda: now[0])
    slots = [limiter._reserve(1) for _ in range(3)]
    assert slots == [0.0, 1.0, 2.0]  # one a second for one private chat
    other = limiter._reserve(2)
    assert other == 2.1  # the overall limit spaces every send by 0.1 s
    g = [limiter._reserve(-5) for _ in range(3)]
    assert g[2] >= g[0] + 60  # the third group message in a minute waits for the window


async def test_a_notice_is_worded_in_the_language_its_reader_has_when_it_goes(app: App) -> None:
    """A row is data (kind, parameters, resident): a resident who switched to Russian after it was queued
    reads it in Russian, at the address they have then."""
    from bot.services.broadcasts import Audience

    r = await app.services.residents.consent(560, 560, "kk", "v1")
    await app.services.residents.set_territory(560, "114033200")
    await app.services.residents.complete_registration(560)
    svc = app.services.broadcasts
    b = await svc.create(None, Audience("114033200"), text_kk="Ертең су болмайды.", text_ru="Завтра не будет воды.",
                         system=True)
    await svc.start(b.id, None, system=True)
    assert await svc.expand(b.id) == 1
    async with app.sessions() as s:
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.resident_id == r.id))
    assert (row.kind, row.params, row.channel, row.chat_id) == ("broadcast", {"broadcast_id": b.id}, "telegram", None)
    await app.services.residents.set_language(560, "ru")
    await sender(app, service(app)).run_once()
    [sent] = [c for c in app.bot.session.calls if c.method == "sendMessage"]
    assert (int(sent.params["chat_id"]), sent.params["text"]) == (560, "Завтра не будет воды.")


async def test_a_row_of_a_resident_gone_before_it_goes_is_cancelled_not_sent(app: App) -> None:
    from sqlalchemy import delete

    from storage.models import Account

    r = await app.services.residents.consent(570, 570, "kk", "v1")
    outbox = service(app)
    await outbox.enqueue([text("gone:1", None, {"text": "кеш"}, resident_id=r.id)])
    async with app.sessions() as s, s.begin():  # gone between queueing and sending, whatever the way
        await s.execute(delete(Account).where(Account.resident_id == r.id))
    await sender(app, outbox).run_once()
    assert await states(app) == {"gone:1": "cancelled"}
    assert not [c for c in app.bot.session.calls if c.method == "sendMessage"]


async def test_a_row_for_a_channel_without_an_adapter_is_not_sent_to_telegram(app: App) -> None:
    from bot.services.outbox import Outgoing

    outbox = service(app)
    await outbox.enqueue([Outgoing("wa:1", "test_text", {"text": "сәлем"}, chat_id=77_015_551_234,
                                   channel="whatsapp")])
    await sender(app, outbox).run_once()
    assert await states(app) == {"wa:1": "failed"}
    assert not [c for c in app.bot.session.calls if c.method == "sendMessage"]


class _OtherChannel:
    """A second channel's delivery that answers each chat as the test says."""

    channel = "whatsapp"

    def __init__(self, outcomes: dict[int, Exception | int]) -> None:
        self.limiter = RateLimiter(1000, 1000, 1000)
        self.outcomes, self.sent, self.paused = outcomes, [], []
        self.limiter.pause = self._pause  # type: ignore[method-assign]

    async def _pause(self, seconds: float) -> None:
        self.paused.append(seconds)

    async def deliver(self, row, payload):
        outcome = self.outcomes[row.chat_id]
        if isinstance(outcome, Exception):
            raise outcome
        self.sent.append((row.chat_id, payload["text"]))
        return outcome


async def test_each_row_goes_to_its_own_channels_delivery_and_its_answer_is_kept(app: App) -> None:
    from bot.delivery.port import Deferred, Refused, RetryLater, Unreachable
    from bot.services.outbox import Outgoing

    outbox = service(app)
    other = _OtherChannel({1: 7, 2: Deferred(3600, "outside the 24-hour window"), 3: RetryLater(2, "slow down"),
                           4: Unreachable("not on the platform"), 5: Refused("bad parameter")})
    await outbox.enqueue([Outgoing(f"wa:{c}", "test_text", {"text": f"сәлем {c}"}, chat_id=c, channel="whatsapp")
                          for c in (1, 2, 3, 4, 5)]
                         + [text("tg:1", 600, {"text": "Telegram-ға"})])
    telegram = TelegramDelivery(app.bot, RateLimiter(1000, 1000, 1000))
    s = OutboxSender({"telegram": telegram, "whatsapp": other}, outbox, app.sender.notices, retry_seconds=0)
    await s.run_once()
    assert await states(app) == {"wa:1": "sent", "wa:2": "pending", "wa:3": "pending", "wa:4": "blocked",
                                 "wa:5": "failed", "tg:1": "sent"}
    assert other.sent == [(1, "сәлем 1")] and other.paused == [2]  # a whole-channel slow-down pauses the channel
    assert [int(c.params["chat_id"]) for c in app.bot.session.calls if c.method == "sendMessage"] == [600]
    async with app.sessions() as session:
        rows = {r.key: r for r in await session.scalars(select(OutboxMessage))}
    assert rows["wa:1"].telegram_message_id == 7
    assert rows["wa:2"].attempts == rows["wa:3"].attempts == 0  # waiting is not a failed attempt


async def test_a_row_waiting_for_a_chat_goes_at_once_when_that_person_writes(app: App) -> None:
    from bot.delivery.port import Deferred
    from bot.services.outbox import Outgoing

    outbox = service(app)
    other = _OtherChannel({9: Deferred(600, "outside the 24-hour window")})
    s = OutboxSender({"whatsapp": other}, outbox, app.sender.notices, retry_seconds=0)
    await outbox.enqueue([Outgoing("wa:9", "test_text", {"text": "жиналыс"}, chat_id=9, channel="whatsapp"),
                          Outgoing("wa:8", "test_text", {"text": "басқа"}, chat_id=8, channel="whatsapp")])
    other.outcomes[8] = Deferred(600, "outside the 24-hour window")
    await s.run_once()
    assert await s.run_once() == 0  # both wait
    other.outcomes[9] = 1
    assert await outbox.due_now("whatsapp", 9) == 1  # the person in chat 9 wrote
    assert await outbox.due_now("telegram", 8) == 0
    await s.run_once()
    assert await states(app) == {"wa:9": "sent", "wa:8": "pending"}


async def test_a_message_the_platform_accepted_and_later_reported_failed_is_failed(app: App) -> None:
    from bot.services.outbox import Outgoing

    outbox = service(app)
    other = _OtherChannel({9: "wamid.HBgLNzcwMTU1NTEyMzQVAgARGBI"})
    s = OutboxSender({"whatsapp": other}, outbox, app.sender.notices, retry_seconds=0)
    await outbox.enqueue([Outgoing("wa:9", "test_text", {"text": "жиналыс"}, chat_id=9, channel="whatsapp")])
    await s.run_once()
    assert await states(app) == {"wa:9": "sent"}
    assert not await s.reported_failed("whatsapp", "wamid.other", "131026: undeliverable")
    assert await s.reported_failed("whatsapp", "wamid.HBgLNzcwMTU1NTEyMzQVAgARGBI", "131026: undeliverable")
    assert await states(app) == {"wa:9": "failed"}
    assert not await s.reported_failed("whatsapp", "wamid.HBgLNzcwMTU1NTEyMzQVAgARGBI", "again")  # once


class _Gated:
    """A delivery whose sends wait until the test lets each one through."""

    def __init__(self) -> None:
        self.limiter = RateLimiter(1000, 1000, 1000)
        self.going: list[int] = []  # chats whose send has started
        self.gates: dict[int, asyncio.Event] = {}

    async def deliver(self, row, payload):
        self.going.append(row.chat_id)
        await self.gates.setdefault(row.chat_id, asyncio.Event()).wait()
        return 1

    def let_through(self, chat_id: int) -> None:
        self.gates.setdefault(chat_id, asyncio.Event()).set()


async def _until(check, what: str) -> None:
    for _ in range(500):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


@pytest.mark.parametrize("how", ["stopped", "cancelled"])
async def test_the_next_batch_is_claimed_while_one_sends_and_a_stop_puts_back_what_was_not_started(
        app: App, how: str) -> None:
    outbox = service(app)
    await outbox.enqueue([text(f"p:{i:02}", 900 + i, {"text": "хабар"}) for i in range(12)])
    gated = _Gated()
    s = OutboxSender({"telegram": gated}, outbox, app.sender.notices, batch=4, concurrency=2, retry_seconds=0)
    stop = asyncio.Event()
    task = asyncio.create_task(s.run_forever(stop))

    async def counts() -> Counter[str]:
        return Counter((await states(app)).values())

    async def two_going() -> bool:
        return len(gated.going) == 2
    await _until(two_going, "two rows going out")
    gated.let_through(gated.going[0])  # the first row went: its worker takes the third, the queue runs low

    async def next_batch_taken() -> bool:
        return (await counts())["claimed"] == 5
    await _until(next_batch_taken, "the next batch claimed")
    # the second batch is claimed while the first still sends; the first row's success waits for its batch
    assert await counts() == {"sending": 3, "claimed": 5, "pending": 4}
    if how == "stopped":  # a shutdown: the rows going out finish, the others go back
        stop.set()
        for chat in gated.going[1:]:
            gated.let_through(chat)
        await task
        assert await counts() == {"sent": 3, "pending": 9}
        assert await outbox.recover_after_crash() == 0
    else:  # cancelled with two rows in flight
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert await counts() == {"sent": 1, "sending": 2, "pending": 9}  # what was not started went back
        assert await outbox.recover_after_crash() == 2
    while await sender(app, outbox).run_once():
        pass
    st = await states(app)
    unknown = {k for k, v in st.items() if v == "unknown"}
    assert unknown == (set() if how == "stopped" else {"p:01", "p:02"})  # the two in flight when cancelled
    assert Counter(st.values()) == {"sent": 12 - len(unknown), **({"unknown": 2} if unknown else {})}
    async with app.sessions() as db:  # a row put back counts no attempt for it
        assert set(await db.scalars(select(OutboxMessage.attempts).where(OutboxMessage.state == "sent"))) == {1}
