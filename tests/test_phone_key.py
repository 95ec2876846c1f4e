"""The phone key lives outside the database: the bot refuses to start without it, with a key still kept in the
database, or with another key than the database's; `qatysu keys` writes key files readable by their owner only."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from sqlalchemy import delete

from bot.cli import main
from bot.config import Settings
from bot.services.phone_key import FINGERPRINT, PhoneKeyError, fingerprint
from bot.services.residents import PhoneTaken
from storage.models import AppSecret, AppSetting
from tests.conftest import make_app

LEGACY_KEY = "9f" * 32  # what the bot used to generate and keep in app_secret


def with_key(settings: Settings, **privacy: object) -> Settings:
    data = settings.model_dump()
    data["privacy"].update({"phone_hash_key": None, "phone_hash_key_file": None, **privacy})
    return Settings(**data)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    monkeypatch.setenv("QATYSU_DATABASE__URL", database_url)
    monkeypatch.setenv("QATYSU_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    return database_url


async def verified(settings: Settings, user_id: int, phone: str = "+7 701 555 44 33") -> None:
    app, _ = await make_app(settings, territories=False)
    try:
        await app.services.residents.consent(user_id, user_id, "kk", "v1")
        await app.services.residents.verify_phone(user_id, phone, user_id)
    finally:
        await app.close()


async def second_account_is_refused(settings: Settings, user_id: int, phone: str = "+7 701 555 44 33") -> None:
    """With the right key, the same phone on another account is recognised."""
    app, _ = await make_app(settings, territories=False)
    try:
        await app.services.residents.consent(user_id, user_id, "kk", "v1")
        with pytest.raises(PhoneTaken):
            await app.services.residents.verify_phone(user_id, phone, user_id)
    finally:
        await app.close()


async def test_no_key_no_start(settings: Settings) -> None:
    with pytest.raises(PhoneKeyError, match="no phone key is configured") as exc:
        await make_app(with_key(settings))
    assert "qatysu keys create" in str(exc.value)


def test_run_with_a_token_and_no_key_refuses_without_printing_secrets(env: str, monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("QATYSU_TELEGRAM__TOKEN", "123456:SECRET-never-printed")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "no phone key is configured" in err and "qatysu keys create" in err and "SECRET" not in err


def test_keys_create_writes_an_owner_only_file_and_never_overwrites(env: str, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "phone.key"
    assert main(["keys", "create", "--output", str(key)]) == 0
    content = key.read_text()
    assert mode(key) == 0o600 and len(content.strip()) == 64
    assert content.strip() not in capsys.readouterr().out  # the key itself is never printed
    assert main(["keys", "create", "--output", str(key)]) == 1
    assert "not overwritten" in capsys.readouterr().err and key.read_text() == content


async def test_a_key_file_works_and_another_key_is_refused(settings: Settings, tmp_path: Path) -> None:
    first, other = tmp_path / "first.key", tmp_path / "other.key"
    assert main(["keys", "create", "--output", str(first)]) == 0
    assert main(["keys", "create", "--output", str(other)]) == 0
    await verified(with_key(settings, phone_hash_key_file=first), 1)
    with pytest.raises(PhoneKeyError, match="the phone key differs from the one this database was created with") \
            as exc:
        await make_app(with_key(settings, phone_hash_key_file=other))
    assert other.read_text().strip() not in str(exc.value) and first.read_text().strip() not in str(exc.value)
    # the same key given through config (or QATYSU_PRIVACY__PHONE_HASH_KEY) is the same key
    await second_account_is_refused(with_key(settings, phone_hash_key=first.read_text().strip()), 2)


async def test_a_key_file_open_to_others_is_refused(settings: Settings, tmp_path: Path) -> None:
    key = tmp_path / "phone.key"
    assert main(["keys", "create", "--output", str(key)]) == 0
    key.chmod(0o644)
    with pytest.raises(PhoneKeyError, match="chmod 600"):
        await make_app(with_key(settings, phone_hash_key_file=key))


async def test_an_old_database_started_with_another_key_is_refused(settings: Settings) -> None:
    """A database from before fingerprints: a verified phone shows that the key is not the one of its hashes."""
    await verified(with_key(settings, phone_hash_key="the-original-key-0123"), 1)
    app, _ = await make_app(with_key(settings, phone_hash_key="the-original-key-0123"), territories=False)
    async with app.sessions() as s, s.begin():
        await s.execute(delete(AppSetting).where(AppSetting.name == FINGERPRINT))
    await app.close()
    with pytest.raises(PhoneKeyError, match="differs"):
        await make_app(with_key(settings, phone_hash_key="another-key-456789"), territories=False)


async def test_a_key_kept_in_the_database_is_moved_to_a_key_file(settings: Settings, env: str, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # the state an older version left: hashes made with a generated key kept in app_secret, no fingerprint
    await verified(with_key(settings, phone_hash_key=LEGACY_KEY), 1)
    app, _ = await make_app(with_key(settings, phone_hash_key=LEGACY_KEY), territories=False)
    async with app.sessions() as s, s.begin():
        await s.execute(delete(AppSetting))
        s.add(AppSecret(name="phone_hash", value=LEGACY_KEY))
    await app.close()
    for privacy in ({}, {"phone_hash_key": LEGACY_KEY}):  # refused while the key is in the database
        with pytest.raises(PhoneKeyError, match="qatysu keys export-legacy") as exc:
            await make_app(with_key(settings, **privacy), territories=False)
        assert LEGACY_KEY not in str(exc.value)

    key = tmp_path / "moved.key"
    # the command runs its own event loop: off this test's loop
    assert await asyncio.to_thread(main, ["keys", "export-legacy", "--output", str(key)]) == 0
    assert LEGACY_KEY not in capsys.readouterr().out
    assert mode(key) == 0o600 and key.read_text().strip() == LEGACY_KEY
    again = ["keys", "export-legacy", "--output", str(tmp_path / "again.key")]
    assert await asyncio.to_thread(main, again) == 1  # nothing left to move
    await second_account_is_refused(with_key(settings, phone_hash_key_file=key), 2)
    app, _ = await make_app(with_key(settings, phone_hash_key_file=key), territories=False)
    async with app.sessions() as s:
        assert await s.get(AppSecret, "phone_hash") is None
        assert (await s.get(AppSetting, FINGERPRINT)).value == fingerprint(LEGACY_KEY.encode())
    await app.close()


def test_the_sandbox_makes_its_own_key_file_beside_its_database(tmp_path: Path) -> None:
    from bot.services.phone_key import sandbox_key_file

    path = sandbox_key_file(f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}")
    assert path.parent == tmp_path and mode(path) == 0o600
    assert sandbox_key_file(f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}") == path  # made once, then reused
