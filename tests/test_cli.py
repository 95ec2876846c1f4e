"""The qatysu command: db upgrade, territories import, roles, and run without a token."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_settings

DATA = Path(__file__).parent / "data"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    monkeypatch.setenv("QATYSU_DATABASE__URL", database_url)
    monkeypatch.setenv("QATYSU_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    return database_url


def test_import_territories_is_idempotent(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "territories", str(DATA / "territories.csv")]) == 0
    assert "10 created, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert main(["import", "territories", str(DATA / "territories.csv")]) == 0
    assert "0 created, 0 updated, 10 unchanged" in capsys.readouterr().out


def test_shipped_sample_district_imports(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    sample = Path(__file__).resolve().parent.parent / "bot" / "data" / "territories_sample.csv"
    assert main(["import", "territories", str(sample)]) == 0
    out = capsys.readouterr().out
    created = int(out.split("territories: ")[1].split(" created")[0])
    assert created >= 25
    text = sample.read_text(encoding="utf-8")
    assert "ауылдық округі" in text and "сельский округ" in text


@pytest.mark.parametrize("row,message", [
    ("11400000X,,district,А,А", "line 3: kato must be 9 digits"),
    ("114000001,999999999,district,А,А", "line 3: parent_kato 999999999 is not in the file"),
    ("114000001,110000000,planet,А,А", "line 3: level must be one of"),
    ("114000001,110000000,district,,А", "line 3: name_kk must be 1-200 characters"),
    ("110000000,,oblast,А,А", "line 3: kato 110000000 appears twice"),
])
def test_bad_rows_are_named_by_line(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    row: str, message: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("kato,parent_kato,level,name_kk,name_ru\n110000000,,oblast,Ақмола облысы,Акмолинская область\n"
                 + row + "\n", encoding="utf-8")
    assert main(["import", "territories", str(f)]) == 1
    assert message in capsys.readouterr().err


def test_roles_grant_list_revoke(env: str, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("QATYSU_ROLES__ADMINS", "[42]")
    assert main(["roles", "grant", "555", "operator"]) == 0
    assert main(["roles", "list"]) == 0
    out = capsys.readouterr().out
    assert "555\toperator\tdatabase" in out and "42\tadmin\tconfig" in out
    assert main(["roles", "revoke", "555", "operator"]) == 0
    assert main(["roles", "revoke", "42", "admin"]) == 1
    assert "set in config.toml" in capsys.readouterr().err
    assert main(["roles", "grant", "555"]) == 2


def test_roles_grant_with_a_territory_records_the_granter(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "territories", str(DATA / "territories.csv")]) == 0
    assert main(["roles", "grant", "555", "operator", "--territory", "114040000", "--by", "42"]) == 0
    assert "granted operator in 114040000 and below to 555" in capsys.readouterr().out
    assert main(["roles", "grant", "556", "secretary"]) == 0
    assert main(["roles", "list"]) == 0
    out = capsys.readouterr().out
    assert "555\toperator\tdatabase\t114040000\tgranted by 42\t" in out
    assert "556\tsecretary\tdatabase\teverywhere\t-\t" in out
    assert main(["roles", "grant", "557", "admin", "--territory", "114040000"]) == 1
    assert "only operators and secretaries" in capsys.readouterr().err
    assert main(["roles", "grant", "557", "operator", "--territory", "999999999"]) == 1
    assert "not loaded" in capsys.readouterr().err


def test_db_upgrade(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_run_without_token_starts_the_sandbox(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QATYSU_")}
    env.update(QATYSU_CONFIG=str(tmp_path / "none.toml"), QATYSU_SANDBOX__PORT="0",
               QATYSU_SANDBOX__DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}",
               QATYSU_DATABASE__URL=f"sqlite+aiosqlite:///{tmp_path / 'real.db'}")
    (tmp_path / "none.toml").write_text("")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline and "Open http://127.0.0.1:" not in line:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, proc.stderr.read()
        assert "Open http://127.0.0.1:" in line
        url = line.split("Open ", 1)[1].split(" ", 1)[0]
        page = urllib.request.urlopen(url, timeout=10).read().decode()
        assert "<html" in page.lower()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    err = proc.stderr.read()
    assert "QATYSU_TELEGRAM__TOKEN" in err and "qatysu-sandbox" not in err
    assert (tmp_path / "sandbox.db").exists() and not (tmp_path / "real.db").exists()


def test_token_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QATYSU_TELEGRAM__TOKEN", "123456:SECRET-TOKEN-VALUE")
    s = load_settings()
    assert s.telegram.token.get_secret_value() == "123456:SECRET-TOKEN-VALUE"
    assert "SECRET-TOKEN-VALUE" not in repr(s) and "SECRET-TOKEN-VALUE" not in str(s.model_dump())


def test_toml_then_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[telegram]\noperator_chat_id = -100123\n[roles]\nadmins = [1, 2]\n[locale]\ndefault = "ru"\n')
    monkeypatch.setenv("QATYSU_CONFIG", str(cfg))
    monkeypatch.setenv("QATYSU_ROLES__ADMINS", "[3]")
    s = load_settings()
    assert s.telegram.operator_chat_id == -100123 and s.roles.admins == [3] and s.locale.default == "ru"
    assert s.locale.timezone == "Asia/Almaty"
    assert s.database.url.startswith("sqlite+aiosqlite:///")


def test_example_config_documents_every_key() -> None:
    import tomllib

    from bot.config import Settings

    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    text = example.read_text(encoding="utf-8")
    data = tomllib.loads(text.replace("# ", "", 0))
    for section, model in Settings.model_fields.items():
        assert f"[{section}]" in text, section
        for key in model.annotation.model_fields:  # type: ignore[union-attr]
            assert f"\n{key} =" in text or f"\n# {key} =" in text, f"{section}.{key}"
    assert isinstance(data, dict)
