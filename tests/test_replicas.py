"""Webhook mode in one process (the secret header, health, readiness, stopping) and what replicas share through
Redis (a chat's order, updates done once, the flood throttle). The Redis tests need a reachable Redis
(QATYSU_TEST_REDIS_URL, default database 10 of the local one); their keys are under a prefix of their own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid

import pytest
from aiogram.types import Update
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.app import App
from bot.channels.telegram.middlewares import Throttle
from bot.channels.telegram.replicas import SharedChatSerializer
from bot.channels.telegram.web import SECRET_HEADER, Webhook
from bot.config import Settings
from bot.redis_locks import RENEW, ChatOrder, DoneUpdates, RedisFlood, RedisLocks, connect
from tests.support.telegram import Person

REDIS_URL = os.environ.get("QATYSU_TEST_REDIS_URL", "redis://127.0.0.1:6379/10")


def redis_reachable() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


needs_redis = pytest.mark.skipif(not redis_reachable(), reason=f"Redis at {REDIS_URL} is not reachable")


@pytest.fixture
async def redis():
    client = connect(REDIS_URL)
    prefix = f"qatysu-test:{uuid.uuid4().hex[:12]}:"
    yield client, prefix
    keys = [k async for k in client.scan_iter(prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def update(uid: int, chat: int, text: str = "hi") -> Update:
    return Update.model_validate({"update_id": uid, "message": {
        "message_id": uid, "date": 0, "text": text, "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "A"}}})


def serializer(client, prefix: str) -> SharedChatSerializer:
    """One replica's serializer: its own in-process state, the shared Redis."""
    order = ChatOrder(client, prefix)
    return SharedChatSerializer(RedisLocks(client, prefix + "lock:"), order, DoneUpdates(client, prefix, order))


@needs_redis
async def test_a_chats_updates_go_lowest_first_across_replicas(redis) -> None:
    client, prefix = redis
    a, b = serializer(client, prefix), serializer(client, prefix)
    handled: list[int] = []
    lower_may_finish = asyncio.Event()

    async def handler(event, data):
        handled.append(event.update_id)
        if event.update_id == 11:
            await lower_may_finish.wait()

    # update 12 reaches replica b while 11 (the chat's earlier one) is on its way to replica a
    order = ChatOrder(client, prefix)
    await DoneUpdates(client, prefix, order).arrive(7, 11)
    later = asyncio.create_task(b(handler, update(12, 7), {}))
    await asyncio.sleep(0.3)
    assert handled == []  # 12 waits for 11
    earlier = asyncio.create_task(a(handler, update(11, 7), {}))
    await asyncio.sleep(0.3)
    assert handled == [11]  # 11 is being handled; 12 still waits (one at a time)
    lower_may_finish.set()
    await asyncio.gather(earlier, later)
    assert handled == [11, 12]


@needs_redis
async def test_an_update_done_once_even_when_delivered_twice_at_once(redis) -> None:
    client, prefix = redis
    replicas = [serializer(client, prefix) for _ in range(3)]
    handled: list[int] = []

    async def handler(event, data):
        handled.append(event.update_id)
        await asyncio.sleep(0.05)

    await asyncio.gather(*(r(handler, update(21, 8), {}) for r in replicas))
    await replicas[0](handler, update(21, 8), {})  # and again later
    assert handled == [21]


@needs_redis
async def test_an_update_whose_handling_crashed_is_handled_when_delivered_again(redis) -> None:
    client, prefix = redis
    a, b = serializer(client, prefix), serializer(client, prefix)
    handled: list[int] = []

    async def crashing(event, data):
        raise RuntimeError("the replica died here")

    async def handler(event, data):
        handled.append(event.update_id)

    with pytest.raises(RuntimeError):
        await a(crashing, update(31, 9), {})
    await b(handler, update(31, 9), {})  # Telegram delivers it again, to another replica
    await b(handler, update(32, 9), {})  # and the chat goes on
    assert handled == [31, 32]


class CancelMidCommand:
    """The shared Redis as redis-py 8 behaves when a task is cancelled inside a command: the cancellation comes
    out as a ConnectionError (seen in a loop of cancelled ``eval`` calls on this machine's Redis). Here the first
    renewal is slow enough to be inside its command when the holder ends; the others are quick."""

    def __init__(self, client) -> None:
        self.client, self.renewing = client, asyncio.Event()

    def __getattr__(self, name):
        return getattr(self.client, name)

    async def eval(self, script, *args):
        if script == RENEW and not self.renewing.is_set():
            self.renewing.set()
            try:
                await asyncio.sleep(0.3)
            except asyncio.CancelledError:
                raise RedisConnectionError("Connection closed by server.") from None
        return await self.client.eval(script, *args)


@needs_redis
async def test_a_lock_is_released_when_its_holder_ends_during_a_renewal(redis) -> None:
    """The live replica runs stalled for good: a chat lock's holder ended while the lock's renewal was inside its
    Redis command; the cancelled renewal came out as a ConnectionError, renewed on, and the holder awaited it for
    ever, keeping the chat (and the webhook's connection) until the end."""
    client, prefix = redis
    slow = CancelMidCommand(client)
    locks = RedisLocks(slow, prefix + "lock:", ttl=1.5)  # renewed every 0.5 s

    async def hold_through_a_renewal() -> None:
        async with locks.hold("chat:9"):
            await slow.renewing.wait()  # the renewal is inside its command now

    holder = asyncio.create_task(hold_through_a_renewal())
    await asyncio.wait({holder}, timeout=10)
    ended = holder.done()
    holder.cancel()  # (before the fix it never ends by itself)
    with contextlib.suppress(asyncio.CancelledError):
        await holder
    assert ended  # the holder ended once its work was done
    assert not await client.exists(prefix + "lock:chat:9")  # released: the chat's next update may go
    async with locks.hold("chat:9"):
        pass


@needs_redis
async def test_a_failed_update_answered_by_the_errors_router_does_not_hold_the_chats_next_one(redis) -> None:
    """The errors router (outside the serializer) answers a failed update: 200, Telegram never delivers it again.
    It must leave the chat's queue then, or the chat's next update waits for it until its turn is given up as
    stale: on a real clock 15 s, past Telegram's window for answering a press (the live replica run stalled so)."""
    client, prefix = redis
    order = ChatOrder(client, prefix)
    frozen = SharedChatSerializer(RedisLocks(client, prefix + "lock:"), order, DoneUpdates(client, prefix, order),
                                  clock=lambda: 0.0)  # a turn is never skipped as stale here
    handled: list[int] = []

    async def failing(event, data):
        raise RuntimeError("a bug in a flow")

    async def handler(event, data):
        handled.append(event.update_id)

    with pytest.raises(RuntimeError):
        await frozen(failing, update(51, 6), {})  # the errors router takes it from here and answers 200
    await asyncio.wait_for(frozen(handler, update(52, 6), {}), 10)  # before the fix: waited for 51 forever
    assert handled == [52]
    assert await client.zcard(order.key(6)) == 0  # the chat's queue is empty


async def test_a_press_handled_after_telegrams_answer_window_still_gets_its_screen(app: App, tg) -> None:
    """A press delivered again after a replica died is handled after the chat's lock expired, past the 15 s in
    which Telegram takes its answer: the answer is refused, and the resident must still get the next screen (the
    live replica run stalled on exactly this: no consent screen after the language press)."""
    who = Person(601, language_code="kk")
    await tg.text(who, "/start")
    tg.session.presses_too_old = True
    sent = await tg.click(who, "Қазақша")
    assert sent and "Дербес деректерді" in sent[-1].text  # the consent screen came
    sent = await tg.click(who, "Келісемін")
    assert "Қай жерде тұрасыз" in sent[-1].text


async def test_a_failed_press_too_old_to_answer_still_tells_the_person(app: App, tg, monkeypatch) -> None:
    """The errors router's apology goes out even when the press can no longer be answered."""
    who = Person(602, language_code="kk")
    await tg.text(who, "/start")

    async def broken(*a, **kw):
        raise RuntimeError("a bug in a flow")

    monkeypatch.setattr(app.conversations, "handle", broken)
    tg.session.presses_too_old = True
    sent = await tg.click(who, "Қазақша")
    assert [m.text for m in sent] == [app.i18n("kk")._("Sorry, something went wrong. Please try again, or send "
                                                       "/menu.")]


@needs_redis
async def test_the_flood_throttle_counts_across_replicas(redis) -> None:
    client, prefix = redis
    warned: list[int] = []

    async def warn(u: Update) -> str:
        warned.append(u.update_id)
        return "slow down"

    replicas = [Throttle(warn, limit=3, window=60, store=RedisFlood(client, prefix)) for _ in range(2)]
    passed: list[int] = []

    async def handler(event, data):
        passed.append(event.update_id)

    for uid in range(41, 47):  # one person's six messages, alternately to two replicas
        await replicas[uid % 2](handler, update(uid, 5), {})
    assert passed == [41, 42, 43]  # three in the window, whichever replica counted them
    assert warned == [44]  # warned once, not once per replica


def webhook_settings(settings: Settings) -> Settings:
    settings.telegram.mode = "webhook"
    settings.telegram.webhook_url = "https://bot.example.kz/telegram/webhook"
    settings.telegram.webhook_secret = SecretStr("s3cret-token_1")
    return settings


@pytest.fixture
async def hook_client(app: App):
    webhook_settings(app.settings)
    hook = Webhook(app)
    client = TestClient(TestServer(hook.routes()))
    await client.start_server()
    yield hook, client
    await client.close()


UPDATE = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/start",
                                      "chat": {"id": 500, "type": "private"},
                                      "from": {"id": 500, "is_bot": False, "first_name": "A", "language_code": "kk"}}}


async def test_webhook_refuses_a_request_without_the_secret_token(hook_client, tg) -> None:
    hook, client = hook_client
    for headers in ({}, {SECRET_HEADER: "wrong"}):
        resp = await client.post("/telegram/webhook", json=UPDATE, headers=headers)
        assert resp.status == 401
    assert not tg.chat(500)
    resp = await client.post("/telegram/webhook", json=UPDATE, headers={SECRET_HEADER: "s3cret-token_1"})
    assert resp.status == 200
    assert tg.chat(500)  # the greeting went out before the answer


async def test_webhook_health_readiness_and_stopping(hook_client) -> None:
    hook, client = hook_client
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["migrations"] == "ok"
    await hook.drain(timeout=1)
    assert (await client.get("/readyz")).status == 503  # the balancer sends elsewhere
    resp = await client.post("/telegram/webhook", json=UPDATE, headers={SECRET_HEADER: "s3cret-token_1"})
    assert resp.status == 503  # not taken: Telegram delivers it again


async def test_webhook_is_not_ready_when_the_database_is_behind(hook_client) -> None:
    hook, client = hook_client
    hook.heads = {"9999"}  # the code knows a newer migration than the database has
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert "code at" in (await resp.json())["migrations"]


@needs_redis
async def test_the_shared_limit_credits_time_nobody_sent_and_keeps_the_rate_after(redis) -> None:
    """Like the in-process limiter: after a pause (between a broadcast's batches, say) the overall schedule may
    run up to 0.2 s behind the clock, so the sends catch up, and then it spaces them at the limit again."""
    from bot.delivery.shared_limit import SharedRateLimiter

    client, prefix = redis
    limiter = SharedRateLimiter(client, prefix, overall_per_s=10, private_per_s=1000)

    async def delay(chat: int) -> float:
        args = [limiter._overall_gap, limiter._private_gap, 0.0, limiter._credit]
        return float(await limiter._reserve(keys=limiter._keys(chat), args=args))

    assert await delay(1) <= 0
    await asyncio.sleep(0.5)  # nobody sent for half a second
    after = [await delay(chat) for chat in range(2, 12)]
    assert max(after[:3]) <= 0.01  # the one due now and two more (0.2 s credited) go at once
    assert 0.05 < after[3] <= 0.11  # then one every 0.1 s
    steps = [b - a for a, b in zip(after[3:], after[4:], strict=False)]
    assert all(0.08 < s < 0.11 for s in steps), steps
