"""deploy/: the compose file parses (PyYAML; Docker is not run here) and wires what the README promises; the
systemd units and the nginx config agree with it. What the services do is tested in tests/scale/."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_runs_three_replicas_and_one_worker_after_the_migrations() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "nginx", "migrate", "web", "worker", "backup"} <= set(services)
    web, worker, migrate = services["web"], services["worker"], services["migrate"]
    assert web["command"] == ["qatysu", "web"] and web["deploy"]["replicas"] == 3
    assert worker["command"] == ["qatysu", "worker"] and worker["deploy"]["replicas"] == 1
    assert migrate["command"] == ["qatysu", "db", "upgrade"]
    for s in (web, worker):  # nothing starts before the one migration has finished
        assert s["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert s["environment"]["QATYSU_REDIS__URL"].startswith("redis://redis:")
        assert s["environment"]["QATYSU_DATABASE__URL"].startswith("postgresql+asyncpg://")
        assert "phone_key" in s["secrets"]
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert services["nginx"]["ports"] == ["443:443"] and "healthcheck" in web


def test_nginx_sends_only_the_webhook_and_health_to_the_replicas() -> None:
    conf = (DEPLOY / "nginx" / "qatysu.conf").read_text(encoding="utf-8")
    assert conf.count("{") == conf.count("}")
    webhook = conf.split("location = /telegram/webhook {", 1)[1].split("\n    }", 1)[0]
    assert "proxy_pass http://qatysu_web;" in webhook and "limit_except POST" in webhook
    assert "ssl_certificate " in conf and "listen 443 ssl" in conf
    assert re.search(r"location / \{ return 404; \}", conf)
    for health in ("/healthz", "/readyz"):
        assert f"location = {health}" in conf


def test_systemd_units_start_after_the_migrations() -> None:
    units = {p.name: p for p in (DEPLOY / "systemd").iterdir()}
    assert {"qatysu-web@.service", "qatysu-worker.service", "qatysu-migrate.service", "qatysu-backup.service",
            "qatysu-backup.timer"} <= set(units)
    for name, command in (("qatysu-web@.service", "qatysu web"), ("qatysu-worker.service", "qatysu worker")):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.read(units[name])
        assert unit["Unit"]["Requires"] == "qatysu-migrate.service"
        assert unit["Service"]["ExecStart"].endswith(command)
    timer = configparser.ConfigParser(interpolation=None)
    timer.read(units["qatysu-backup.timer"])
    assert timer["Timer"]["OnCalendar"] and timer["Timer"]["Persistent"] == "true"


def test_a_worker_without_a_token_says_so_and_never_starts_the_sandbox(monkeypatch, tmp_path, capsys) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QATYSU_CONFIG", "")
    monkeypatch.delenv("QATYSU_TELEGRAM__TOKEN", raising=False)
    assert main(["worker"]) == 2
    assert "no Telegram bot token" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no sandbox database made
