"""The process log: what an operator needs at the default level (start, stop, errors, failed deliveries), with
the bot token never written, whatever message or traceback would carry it."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# chatty at INFO: APScheduler says every run of every job (the broadcast tick runs every 3 seconds); aiogram says
# every update it handled and every answer it made
QUIET = {"apscheduler": logging.WARNING, "aiogram.event": logging.WARNING, "aiogram.middlewares": logging.WARNING,
         "aiohttp.access": logging.WARNING}


class Redacting(logging.Formatter):
    """Replaces each secret in the formatted record, traceback included, with ``***``."""

    def __init__(self, secrets: list[str], fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


class _Handler(logging.StreamHandler):
    """A stream handler writing to ``stream``, or to whatever ``sys.stderr`` is at the time of each record."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._own = stream

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return self._own or sys.stderr

    @stream.setter
    def stream(self, value: TextIO | None) -> None:
        self._own = value


_handler: _Handler | None = None  # ours: configured again (new secrets), never added twice


def configure(level: int = logging.INFO, secrets: list[str] | None = None, stream: TextIO | None = None) -> None:
    """Our handler on the root logger, secrets redacted, the chatty loggers quieted. Handlers others put on the
    root logger (a test's capture) stay."""
    global _handler
    root = logging.getLogger()
    if _handler is None:
        _handler = _Handler()
        root.addHandler(_handler)
    _handler.stream = stream
    _handler.setFormatter(Redacting(list(secrets or [])))
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
