"""Configuration that fails loudly, and the log an operator reads: a missing QATYSU_CONFIG file and a malformed
telegram.api_base stop the start with a clear message and a non-zero status, no output ever shows the token, and
the default-level log of a short run says what matters, without a line per scheduler run or per update."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot import logs
from bot.cli import main
from bot.delivery.broadcasts import BroadcastDesk
from sandbox import Sandbox
from tests.e2e.conftest import running_bot

TOKEN = "7654321:AAE-very-secret-token-value"


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QATYSU_")}
    env.update(QATYSU_SANDBOX__PORT="0", QATYSU_SANDBOX__DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}",
               QATYSU_DATABASE__URL=f"sqlite+aiosqlite:///{tmp_path / 'real.db'}", **extra)
    return env


def _run(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([sys.executable, "-m", "bot.cli", "run"], env=env, capture_output=True, text=True,
                              cwd=tmp_path, timeout=90)
    except subprocess.TimeoutExpired as exc:  # it started instead of refusing
        raise AssertionError(f"qatysu run did not stop: {exc.stderr!r}") from None


def test_a_missing_config_file_is_an_error_not_a_sandbox(tmp_path: Path) -> None:
    done = _run(tmp_path, _clean_env(tmp_path, QATYSU_CONFIG=str(tmp_path / "typo.toml")))
    assert done.returncode == 2
    assert "QATYSU_CONFIG" in done.stderr and "typo.toml" in done.stderr and "not a file" in done.stderr
    assert "Traceback" not in done.stderr and "sandbox" not in (done.stdout + done.stderr).lower()
    assert not (tmp_path / "sandbox.db").exists() and not (tmp_path / "real.db").exists()


def test_a_malformed_api_base_stops_the_start_and_no_output_shows_the_token(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(f'[telegram]\ntoken = "{TOKEN}"\napi_base = "htp//api.telegram.org"\n')
    done = _run(tmp_path, _clean_env(tmp_path, QATYSU_CONFIG=str(tmp_path / "config.toml")))
    out = done.stdout + done.stderr
    assert done.returncode == 2 and "telegram.api_base" in out and "Traceback" not in out
    assert TOKEN not in out and TOKEN.split(":")[1] not in out
    assert not (tmp_path / "real.db").exists()


@pytest.mark.parametrize("api_base", ["api.telegram.org", "htp://api.telegram.org", "http://127.0.0.1:99999",
                                      "http://api.telegram.org /", "http:///nothing", "https://api.telegram.org?x=1",
                                      f"https://api.telegram.org/bot{TOKEN}", "ftp://api.telegram.org"])
def test_every_malformed_api_base_is_refused_in_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str], api_base: str) -> None:
    for k, v in _clean_env(tmp_path, QATYSU_TELEGRAM__TOKEN=TOKEN, QATYSU_TELEGRAM__API_BASE=api_base,
                           QATYSU_CONFIG=str(tmp_path / "none.toml")).items():
        monkeypatch.setenv(k, v)
    (tmp_path / "none.toml").write_text("")
    assert main(["run"]) == 2
    out, err = capsys.readouterr()
    assert "telegram.api_base" in err and "Bot API server" in err
    assert TOKEN not in out + err and TOKEN.split(":")[1] not in out + err


class _Echo(BaseHTTPRequestHandler):
    """A Bot API server that refuses every call, repeating the address it was called at (token and all)."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.dumps({"ok": False, "error_code": 400, "description": f"Bad Request: no such path {self.path}"})
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_error_that_carries_the_token_is_logged_without_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str],
                                                              echo_server: str) -> None:
    for k, v in _clean_env(tmp_path, QATYSU_TELEGRAM__TOKEN=TOKEN, QATYSU_TELEGRAM__API_BASE=echo_server,
                           QATYSU_PRIVACY__PHONE_HASH_KEY="k" * 32, QATYSU_CONFIG=str(tmp_path / "none.toml")).items():
        monkeypatch.setenv(k, v)
    (tmp_path / "none.toml").write_text("")
    assert main(["run"]) == 1
    out, err = capsys.readouterr()
    assert "no such path /bot***/getMe" in err  # the error is told, with the token blotted out
    assert TOKEN not in out + err and TOKEN.split(":")[1] not in out + err


async def test_the_default_log_of_a_short_run_says_what_an_operator_needs(settings, monkeypatch) -> None:
    ticks: list[int] = []
    original = BroadcastDesk.tick

    async def tick(self) -> None:  # the scheduler's most frequent job (every 3 seconds)
        ticks.append(1)
        await original(self)

    monkeypatch.setattr(BroadcastDesk, "tick", tick)
    log = io.StringIO()
    logs.configure(stream=log)  # what `qatysu run` sets up: the default level
    sb = Sandbox("1000000001:qatysu-sandbox")
    await sb.start()
    try:
        async with running_bot(settings, sb) as live:
            resident = live.people.residents[0]
            await sb.send_text(resident, "/start")
            await live.expect(resident, "қош келдіңіз")
            await sb.wait_until(lambda: len(ticks) >= 3, 30, "three runs of the broadcast job")
    finally:
        await sb.stop()
    await asyncio.sleep(0)
    lines = log.getvalue().splitlines()
    assert any("running as @" in line for line in lines) and lines[-1].endswith("qatysu: stopped")
    assert not [line for line in lines if "apscheduler" in line], lines
    assert not [line for line in lines if "Update id=" in line], lines
    # one line per migration applied on this new database, and then a handful: no line per job run or update
    rest = [line for line in lines if "alembic.runtime.migration" not in line]
    assert len(rest) < 12, rest
