"""Migrations produce exactly the models' schema; the state store and unique phone survive races."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, text

from bot.app import App
from storage.db import make_engine
from storage.migrate import HEAD, alembic_config, at_head, upgrade
from storage.models import Base
from storage.state import State, StateStore
from tests.support.telegram import Person, Telegram
from tests.test_registration import RU, register


async def test_migrations_match_models(database_url: str) -> None:
    engine = make_engine(database_url)
    await upgrade(engine)

    def diff(conn):
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []
        await upgrade(engine)  # running it again is harmless
    await engine.dispose()


async def test_a_start_checks_the_schema_against_alembics_head(database_url: str) -> None:
    """A start skips Alembic when the database is at HEAD: HEAD must be the newest migration, or a database one
    migration behind would be taken as current."""
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config("")).get_heads() == [HEAD]
    engine = make_engine(database_url)
    try:
        assert not await at_head(engine)  # a new database: migrated on the first start
        await upgrade(engine)
        assert await at_head(engine)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0013'"))
        assert not await at_head(engine)  # one behind: the start runs Alembic
    finally:
        await engine.dispose()


async def test_state_store_round_trip(app: App) -> None:
    store = StateStore(app.sessions)
    assert await store.get("telegram", 1) is None
    await store.set("telegram", 1, State("registration", "territory", {"node": "114000000", "text": "Көктал <b>"}))
    got = await store.get("telegram", 1)
    assert got == State("registration", "territory", {"node": "114000000", "text": "Көктал <b>"})
    await store.clear("telegram", 1)
    assert await store.get("telegram", 1) is None


async def test_the_sender_and_their_chats_state_are_read_in_one_statement(app: App, tg: Telegram) -> None:
    store, statements = app.conversations.store, []
    newcomer, resident = Person(2401, "kk"), Person(2402, "ru")
    assert await store.sender("telegram", newcomer.id, newcomer.id) == (None, None)
    await tg.text(newcomer, "/start")  # registration begins: a state, no resident yet
    r, state = await store.sender("telegram", newcomer.id, newcomer.id)
    assert r is None and state is not None and state.flow == "registration"
    await register(tg, resident, RU)
    await tg.click(resident, "Написать обращение")  # a draft begins
    expected = await app.services.residents.get(resident.id)
    units = app.sessions.unit_engine  # on SQLite a synchronous engine (storage/sqlite_inline.py)
    engine = getattr(units, "sync_engine", units)

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", seen)
    async with app.sessions.unit():
        r, state = await store.sender("telegram", resident.id, resident.id)
    event.remove(engine, "before_cursor_execute", seen)
    assert r is not None and r.id == expected.id and r.language == "ru"
    assert state is not None and state.flow == "appeal"
    assert len(statements) == 1 and "resident" in statements[0] and "conversation_state" in statements[0]
    # no WhatsApp account, and the WhatsApp chat with the same digits is another chat: no state
    assert await store.sender("whatsapp", resident.id, resident.id) == (None, None)


async def test_two_accounts_racing_for_one_phone_get_it_once(app: App) -> None:
    residents = app.services.residents
    ids = list(range(1001, 1011))
    for uid in ids:
        await residents.consent(uid, uid, "kk", "v1")

    async def claim(uid: int) -> bool:
        try:
            await residents.verify_phone(uid, "+7 777 000 11 22", uid)
            return True
        except Exception:  # noqa: BLE001 - PhoneTaken, or a lock timeout on SQLite
            return False

    results = await asyncio.gather(*(claim(uid) for uid in ids))
    assert sum(results) == 1
    owners = [uid for uid in ids if (await residents.get(uid)).phone]
    assert len(owners) == 1


async def test_on_sqlite_an_answer_waits_for_the_disk_while_other_updates_go_on(settings, tmp_path,
                                                                               monkeypatch) -> None:
    """The units commit without an fsync of their own; a unit that wrote returns (and the person is answered) only
    after an fsync of the write-ahead log that began after its commit, and the next units run meanwhile. Its own
    SQLite database, whichever database the suite runs on."""
    import threading

    from storage import sqlite_inline
    from tests.conftest import make_app

    url = f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}"
    app, session = await make_app(settings.model_copy(update={"database": settings.database.model_copy(
        update={"url": url})}))
    tg = Telegram(app, session)
    first, second = Person(2501, "ru"), Person(2502, "ru")
    entered, release, synced = threading.Event(), threading.Event(), []
    try:
        await register(tg, first, RU)
        await register(tg, second, RU, share_phone=False)

        def held(path: str) -> None:  # the disk is slow: the fsync waits until the test lets it go
            synced.append(path)
            entered.set()
            assert release.wait(10)

        monkeypatch.setattr(sqlite_inline, "_fsync", held)
        pressing = asyncio.create_task(tg.click(first, "Написать обращение"))  # a draft: the unit writes
        assert await asyncio.to_thread(entered.wait, 10)
        assert not pressing.done()  # committed, not yet answered: the disk has not confirmed it
        assert (await app.conversations.store.get("telegram", first.id)).flow == "appeal"  # (read: no wait)
        # the units' lock is free: the second person's update runs and commits behind the pending fsync
        other = asyncio.create_task(tg.click(second, "Написать обращение"))
        for _ in range(200):
            if (await app.conversations.store.get("telegram", second.id)) is not None:
                break
            await asyncio.sleep(0.01)
        assert (await app.conversations.store.get("telegram", second.id)).flow == "appeal"
        assert not pressing.done() and not other.done() and len(synced) == 1
        release.set()
        answered = await pressing
        assert answered and "Что вы хотите отправить?" in answered[-1].text
        await other
        assert synced == [f"{tmp_path / 'wal.db'}-wal"] * 2  # the second commit came after the first fsync began
    finally:
        release.set()
        await app.close()
