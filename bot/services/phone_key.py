"""The phone key: the secret of the keyed hashes of phone numbers, kept out of the database.

Whoever holds a copy of the database and the key can test all Kazakh mobile numbers (about 2·10⁸) against the
hashes in minutes; without the key they cannot. So the key comes from config, the environment or a key file
(``qatysu keys create``), never from the database, which keeps only its fingerprint, HMAC(key,
"qatysu-fingerprint-v1"), so that a different key is refused at start instead of letting everyone register
their phone and vote again. Votes carry a per-campaign token (:func:`voter_token`), not the resident's hash.

Messages of :class:`PhoneKeyError` never contain the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import PrivacySettings
from storage.models import AppSecret, AppSetting, Resident, Vote

FINGERPRINT_LABEL = b"qatysu-fingerprint-v1"
FINGERPRINT = "phone_key_fingerprint"  # app_setting names
REKEY = "votes_rekey"
LEGACY_SECRET = "phone_hash"  # app_secret name of the key the bot generated before revision 0006

NO_KEY = ("no phone key is configured. Create a key file once and name it in config.toml:\n"
          "    qatysu keys create --output /etc/qatysu/phone.key\n"
          "    [privacy]\n"
          "    phone_hash_key_file = \"/etc/qatysu/phone.key\"\n"
          "(or set QATYSU_PRIVACY__PHONE_HASH_KEY). Keep the file outside the database and its backups.")
DIFFERS = ("the phone key differs from the one this database was created with; start with the original key "
           "(phone numbers and votes are checked with it: with another key everyone could register their phone and "
           "vote again)")
LEGACY = ("the phone key is still kept in the database, next to the hashes it protects. Move it to a key file:\n"
          "    qatysu keys export-legacy --output /etc/qatysu/phone.key\n"
          "then set [privacy] phone_hash_key_file to that path (the command writes the file with permissions 0600 "
          "and only then removes the key from the database)")


class PhoneKeyError(Exception):
    """The bot must not start (or the command must not go on); the message is safe to print."""


def fingerprint(key: bytes) -> str:
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def phone_hash(key: bytes, normalized_phone: str) -> str:
    return hmac.new(key, normalized_phone.encode(), hashlib.sha256).hexdigest()


def voter_token(key: bytes, campaign_id: int, resident_phone_hash: str) -> str:
    """What a vote stores to stop a second vote by the same phone in the same campaign: different per campaign
    and from the resident's own hash, so that without the key votes join neither to residents nor to each other."""
    return hmac.new(key, f"vote|{int(campaign_id)}|{resident_phone_hash}".encode(), hashlib.sha256).hexdigest()


# -- key files -----------------------------------------------------------------------------------------------


def write_key_file(path: Path, key_text: str) -> None:
    """Write the key to a new file readable by its owner only (0600); an existing file is never overwritten."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PhoneKeyError(f"{path} already exists: it is not overwritten (it may hold the key in use)") from None
    except OSError as exc:
        raise PhoneKeyError(f"{path}: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, (key_text + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def create_key_file(path: Path) -> None:
    write_key_file(path, secrets.token_hex(32))


def read_key_file(path: Path) -> bytes:
    try:
        st = path.stat()
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise PhoneKeyError(f"the phone key file {path} does not exist (create it with `qatysu keys create "
                            f"--output {path}`)") from None
    except OSError as exc:
        raise PhoneKeyError(f"the phone key file {path} cannot be read: {exc.strerror}") from None
    if os.name == "posix" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PhoneKeyError(f"the phone key file {path} is open to other users: run `chmod 600 {path}`")
    if len(text) < 16:
        raise PhoneKeyError(f"the phone key file {path} holds no key (at least 16 characters)")
    return text.encode()


def configured_key(privacy: PrivacySettings) -> bytes | None:
    """The key from config or the environment, or from the key file; None when neither is given."""
    if privacy.phone_hash_key is not None and privacy.phone_hash_key_file is not None:
        raise PhoneKeyError("both [privacy] phone_hash_key and phone_hash_key_file are set: keep one")
    if privacy.phone_hash_key is not None:
        return privacy.phone_hash_key.get_secret_value().encode()
    if privacy.phone_hash_key_file is not None:
        return read_key_file(privacy.phone_hash_key_file)
    return None


def sandbox_key_file(database_url: str) -> Path:
    """The sandbox's own key file, beside its own SQLite database (created on first use)."""
    db = make_url(database_url).database
    path = Path(db).with_suffix(".phone.key") if db and db != ":memory:" else Path("qatysu-sandbox.phone.key")
    if not path.exists():
        create_key_file(path)
    return path


# -- the database's side -------------------------------------------------------------------------------------


async def open_key(sessions: async_sessionmaker[AsyncSession], key: bytes | None) -> bytes:
    """Check the key against this database before anything uses it: refuse a missing key, a key still kept in
    the database, a key other than the one the database was created with. Record the fingerprint on first use and
    re-key the votes a migration left (see revision 0006). Returns the key."""
    async with sessions() as s:
        if await s.get(AppSecret, LEGACY_SECRET) is not None:
            raise PhoneKeyError(LEGACY)
    if key is None:
        raise PhoneKeyError(NO_KEY)
    await _check_fingerprint(sessions, key)
    await _rekey_votes(sessions, key)
    return key


async def _check_fingerprint(sessions: async_sessionmaker[AsyncSession], key: bytes) -> None:
    mine = fingerprint(key)
    async with sessions() as s:
        stored = await s.get(AppSetting, FINGERPRINT)
        if stored is not None:
            if not hmac.compare_digest(stored.value, mine):
                raise PhoneKeyError(DIFFERS)
            return
        # a database from before fingerprints: a verified phone tells whether the key is the one of its hashes
        sample = (await s.execute(select(Resident.phone, Resident.phone_hash).where(
            Resident.phone.is_not(None), Resident.phone_hash.is_not(None)).limit(1))).first()
    if sample is not None and not hmac.compare_digest(phone_hash(key, sample.phone), sample.phone_hash):
        raise PhoneKeyError(DIFFERS)
    try:
        async with sessions() as s, s.begin():
            s.add(AppSetting(name=FINGERPRINT, value=mine))
    except IntegrityError:  # another process recorded it first: compare with that one
        await _check_fingerprint(sessions, key)


async def _rekey_votes(sessions: async_sessionmaker[AsyncSession], key: bytes) -> None:
    async with sessions() as s, s.begin():
        flag = await s.scalar(select(AppSetting).where(AppSetting.name == REKEY).with_for_update())
        if flag is None:
            return
        rows = (await s.execute(select(Vote.id, Vote.campaign_id, Vote.voter_token)
                                .where(Vote.voter_token.is_not(None)))).all()
        t = Vote.__table__
        if rows:
            await s.execute(update(t).where(t.c.id == bindparam("vid")).values(voter_token=bindparam("token")),
                            [{"vid": r.id, "token": voter_token(key, r.campaign_id, r.voter_token)} for r in rows])
        await s.execute(delete(AppSetting).where(AppSetting.name == REKEY))


async def export_legacy_key(sessions: async_sessionmaker[AsyncSession], path: Path) -> None:
    """Move a key kept in the database by an older version into a new 0600 key file: the file is written and
    synced first, then, in one transaction, the fingerprint is recorded and the key deleted from the database."""
    async with sessions() as s:
        row = await s.get(AppSecret, LEGACY_SECRET)
        if row is None:
            raise PhoneKeyError("no phone key is kept in this database: nothing to export")
        key_text = row.value
    key = key_text.encode()
    async with sessions() as s:
        stored = await s.get(AppSetting, FINGERPRINT)
    if stored is not None and stored.value != fingerprint(key):
        raise PhoneKeyError("the key in the database does not match the fingerprint recorded for it: nothing done")
    write_key_file(path, key_text)
    if read_key_file(path) != key:
        raise PhoneKeyError(f"{path} was written but does not read back as the key: the database is left as is")
    async with sessions() as s, s.begin():
        if await s.get(AppSetting, FINGERPRINT) is None:
            s.add(AppSetting(name=FINGERPRINT, value=fingerprint(key)))
        await s.execute(delete(AppSecret).where(AppSecret.name == LEGACY_SECRET))
