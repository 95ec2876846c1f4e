"""PostgreSQL connections killed under the bot (pg_terminate_backend, as a server restart or a network drop does):
the pool notices dead connections before use (pool_pre_ping), an update caught mid-query is answered with an
apology instead of silence, and the next one works. Collected only on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event, text

from bot.app import App
from storage.db import make_engine
from tests.conftest import PG_URL
from tests.support.consistency import problems
from tests.support.telegram import Person, Telegram
from tests.test_registration import KK, register


async def drop_connections() -> int:
    """Terminate every other session of the test database; returns how many."""
    engine = make_engine(PG_URL)
    try:
        async with engine.connect() as conn:
            killed = await conn.scalar(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        return int(killed or 0)
    finally:
        await engine.dispose()


async def test_idle_connections_dropped_between_updates(app: App, tg: Telegram,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    who = Person(9601, "kk")
    await register(tg, who, KK)
    assert await drop_connections() >= 1  # the pool holds at least one idle connection to kill
    with caplog.at_level(logging.ERROR):
        sent = await tg.click(who, "Баптаулар")
    assert "Баптаулар" in sent[-1].text and not [r for r in caplog.records if r.levelno >= logging.ERROR]
    sent = await tg.text(who, "/menu")
    assert KK["menu"] in sent[-1].text


async def test_connection_dropped_in_the_middle_of_an_update(app: App, tg: Telegram,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    who = Person(9602, "kk")
    await register(tg, who, KK)
    await tg.click(who, "Өтініш жазу")
    before = await app.conversations.store.get("telegram", who.id)
    armed = []

    @event.listens_for(app.engine.sync_engine, "before_cursor_execute")
    def die_mid_update(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if armed and "conversation_state" in statement:
            armed.clear()  # the server ends this very connection while the update is half done
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    armed.append(True)
    with caplog.at_level(logging.ERROR, logger="qatysu.errors"):
        sent = await tg.click(who, "Шағым")
    event.remove(app.engine.sync_engine, "before_cursor_execute", die_mid_update)
    assert not armed, "the connection was not dropped"
    # that update is lost, but not silently: the person is asked to try again, and nothing half-done is kept
    sorry = app.i18n("kk")._("Sorry, something went wrong. Please try again, or send /menu.")
    assert sent and sent[-1].text == sorry, [m.text for m in sent]
    assert any(r.name == "qatysu.errors" for r in caplog.records)
    assert await app.conversations.store.get("telegram", who.id) == before
    sent = await tg.click(who, "Шағым")  # they try again: the pool has a live connection by now
    assert (await app.conversations.store.get("telegram", who.id)).step == "category"
    assert await problems(app.sessions) == []


async def test_the_sender_survives_a_dropped_connection(app: App, tg: Telegram) -> None:
    from tests.support.notices import text

    await app.outbox.enqueue([text(f"drop:{i}", 9700 + i, {"text": f"Хабар {i}"}) for i in range(3)])
    assert await drop_connections() >= 1
    taken = 0
    for _ in range(3):  # as run_forever does: a failed cycle is logged and the next one goes on
        try:
            taken += await app.sender.run_once()
        except Exception:  # noqa: BLE001
            continue
    assert taken == 3
    assert [c.params["text"] for c in tg.session.calls if c.method == "sendMessage"] == [f"Хабар {i}" for i in range(3)]
