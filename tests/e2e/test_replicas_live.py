"""Three `qatysu web` replicas as separate processes behind a round-robin forwarder, fed by the sandbox's webhook
delivery (like Telegram: many requests at once, a chat's updates one at a time), on PostgreSQL and Redis.

They run in the PostgreSQL pass (QATYSU_TEST_DATABASE_URL set) with Redis (QATYSU_TEST_REDIS_URL), as in CI's
second pass: replicas share one database server. Each takes about 40-130 s for 200 residents on this 2-core
machine, depending on what else runs (bench/replicas.py has the numbers)."""

from __future__ import annotations

import asyncio
import os
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from bench import replicas as R
from tests.conftest import PG_URL, _reset_postgres
from tests.test_replicas import REDIS_URL, redis_reachable

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="the replica tests run in the PostgreSQL pass (QATYSU_TEST_DATABASE_URL "
                                          "set): several processes share one PostgreSQL database, not a SQLite file"),
    pytest.mark.skipif(bool(PG_URL) and not redis_reachable() and not os.environ.get("CI"),
                       reason=f"Redis at {REDIS_URL} is not reachable"),
]
# a few hundred residents at once by default (about 2,600 updates a test); QATYSU_LIVE_RESIDENTS=500 for more
RESIDENTS = int(os.environ.get("QATYSU_LIVE_RESIDENTS", "200"))


def check_once_and_in_order(c: R.Cluster, people) -> dict[int | None, list[int]]:
    handled = c.handled()
    counts = Counter(h[0] for h in handled)
    assert [u for u, n in counts.items() if n > 1] == []  # no update handled twice
    delivered = {u["update_id"] for u in c.sb.webhook.delivered}
    # every update Telegram saw answered was handled: a replica logs it after marking it done, so one killed
    # between the two leaves no line, and the replica it is delivered to again finds its done mark instead
    assert delivered <= set(counts) | {u for r in c.replicas for u in r.found_done()}
    by_chat: dict[int | None, list[tuple[float, float, int]]] = defaultdict(list)
    for uid, chat, start, end in handled:
        by_chat[chat].append((start, end, uid))
    for chat, runs in by_chat.items():
        runs.sort()
        assert [u for _, _, u in runs] == sorted(u for _, _, u in runs), f"chat {chat} out of order"
        for (_, end, _), (start, _, _) in zip(runs, runs[1:], strict=False):
            assert end <= start, f"chat {chat}: two updates at once"
    return {chat: [u for _, _, u in runs] for chat, runs in by_chat.items()}


async def burst(c: R.Cluster, p) -> None:
    """Three commands sent at once, not waiting for answers: they must be handled in the order sent."""
    for _ in range(3):
        await c.sb.send_text(p.user_id, "/menu")


async def test_three_replicas_handle_every_update_once_and_in_order(tmp_path: Path) -> None:
    await _reset_postgres(PG_URL)
    async with R.cluster(3, PG_URL, REDIS_URL, tmp_path) as c:
        people = await R.residents(c.sb, RESIDENTS)
        await R.journeys(c, people)
        menus_before = {p.user_id: len(c.sb.bot_messages(p.user_id)) for p in people}
        await asyncio.gather(*(burst(c, p) for p in people))
        await c.sb.wait_until(lambda: not c.sb.world.pending, 60, "every update delivered")
        by_chat = check_once_and_in_order(c, people)
        assert all(len(r.handled()) > 0 for r in c.replicas)  # the load was shared
    # every resident got exactly the same answers: one per step, three menus for the burst
    counts = {p.user_id: len(c.sb.bot_messages(p.user_id)) for p in people}
    assert len(set(menus_before.values())) == 1
    assert all(counts[u] == menus_before[u] + 3 for u in counts)
    assert all(len(by_chat[p.user_id]) == p.updates + 3 for p in people)


async def test_a_replica_killed_midway_its_updates_are_handled_once_elsewhere(tmp_path: Path) -> None:
    await _reset_postgres(PG_URL)
    async with R.cluster(3, PG_URL, REDIS_URL, tmp_path) as c:
        people = await R.residents(c.sb, RESIDENTS)
        victim = c.replicas[0]
        journeys = asyncio.create_task(R.journeys(c, people))
        await c.sb.wait_until(lambda: len(victim.handled()) >= 15 and c.forwarder.in_flight.get(victim.url),
                              60, "the replica in the middle of its work")
        victim.proc.kill()  # SIGKILL: no goodbye, its updates in hand are never answered
        cut_off = set(c.forwarder.in_flight[victim.url])
        await victim.proc.wait()
        await asyncio.wait_for(journeys, 120)  # every resident got every answer: nothing was lost
        handled = c.handled()
        check_once_and_in_order(c, people)
        survivors = {h[0] for r in c.replicas[1:] for h in r.handled()}
        assert cut_off and cut_off <= survivors | {h[0] for h in victim.handled()}
        assert cut_off & survivors  # what it held when it died was delivered again and handled elsewhere
        assert {u["update_id"] for u in c.sb.webhook.delivered} <= {h[0] for h in handled} | {
            u for r in c.replicas for u in r.found_done()}
