"""Fixtures: a fresh database per test (temporary SQLite file, or PostgreSQL when
QATYSU_TEST_DATABASE_URL is set) and the app built by bot/app.py with a recording Telegram session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import App, build_app
from bot.config import Settings
from storage.db import make_engine
from tests.support import narrow, notices
from tests.support.telegram import RecordingSession, Telegram

DATA = Path(__file__).parent / "data"
PG_URL = os.environ.get("QATYSU_TEST_DATABASE_URL")
ADMIN, OPERATOR, SECRETARY = 900001, 900002, 900003
OPERATOR_CHAT = -1001000000001


async def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    if PG_URL:
        await _reset_postgres(PG_URL)
        yield PG_URL
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'qatysu.db'}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        telegram={"token": "123456:TEST-TOKEN-never-shown", "api_base": "http://127.0.0.1:9",
                  "operator_chat_id": OPERATOR_CHAT},
        database={"url": database_url},
        roles={"admins": [ADMIN], "operators": [OPERATOR], "secretaries": [SECRETARY]},
        privacy={"phone_hash_key": "test-key"},
        limits={"flood_messages": 10_000},  # tests click faster than people; tests/test_dispatcher.py sets it
    )


async def make_app(settings: Settings, territories: bool = True) -> tuple[App, RecordingSession]:
    session = RecordingSession()
    session.forum_chats.add(OPERATOR_CHAT)
    app = await build_app(settings, session=session)
    narrow.NarrowTap(app)  # every screen is also checked against a narrow channel's limits
    notices.register(app)  # the outbox tests' own notice kind (tests/support/notices.py)
    if territories:
        await app.services.territories.import_csv(DATA / "territories.csv")
    return app, session


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    app, _ = await make_app(settings)
    yield app
    await app.close()


@pytest.fixture
def tg(app: App) -> Telegram:
    return Telegram(app, app.bot.session)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _screens_fit_a_narrow_channel() -> Iterator[None]:
    """A screen a narrow channel (3 buttons or a paged list of 10, labels of 20, no HTML, no edits) would refuse
    fails the test that drew it: every dispatcher-level journey runs through the narrow renderer too."""
    narrow.PROBLEMS.clear()
    yield
    problems = sorted(set(narrow.PROBLEMS))
    narrow.PROBLEMS.clear()
    assert problems == [], "screens a narrow channel would refuse:\n" + "\n".join(problems)


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """`qatysu` commands run in a test configure the process log (bot/logs.py): put it back afterwards."""
    import logging

    from bot import logs

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in logs.QUIET}
    yield
    for h in root.handlers[:]:
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    for name, lvl in levels.items():
        logging.getLogger(name).setLevel(lvl)
    logs._handler = None
