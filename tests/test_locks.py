"""Keyed locks serialise work on one key and are forgotten once nobody holds or waits for them."""

from __future__ import annotations

import asyncio

from bot.locks import KeyedLocks


async def test_one_key_at_a_time_and_forgotten_after() -> None:
    locks = KeyedLocks()
    inside: list[str] = []
    overlap = []

    async def work(key: str, tag: str) -> None:
        async with locks.hold(key):
            if any(k == key for k, _ in [tuple(x.split(":")) for x in inside]):
                overlap.append(tag)
            inside.append(f"{key}:{tag}")
            await asyncio.sleep(0.005)
            inside.remove(f"{key}:{tag}")

    await asyncio.gather(*(work("a", str(i)) for i in range(10)), *(work("b", str(i)) for i in range(10)))
    assert overlap == []
    assert len(locks) == 0
