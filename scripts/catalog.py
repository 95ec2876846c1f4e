"""Refresh the catalogs after texts changed in the code, and fill translations from JSON files.

    .venv/bin/python scripts/catalog.py [translations.json ...]

Extracts ``locales/messages.pot`` from ``bot/``, updates ``locales/{kk,ru}`` (no fuzzy matching: a
changed text must be translated again), fills empty entries from the JSON files, then compiles. A JSON file
maps a msgid to ``{"kk": "...", "ru": "..."}``; for a plural msgid (the singular as key) the values are lists
of forms (kk: 2, ru: 3). Entries still untranslated are listed at the end; tests/test_catalogs.py fails on them.
Several people may run it at once: a lock file serialises the runs.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
BABEL = [sys.executable, "-m", "babel.messages.frontend"]


def _load(files: list[str]) -> dict[str, dict[str, object]]:
    table: dict[str, dict[str, object]] = {}
    for name in files:
        table.update(json.loads(Path(name).read_text(encoding="utf-8")))
    return table


def main(files: list[str]) -> int:
    table = _load(files)
    with open(LOCALES / ".catalog.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run([*BABEL, "extract", "-F", "babel.cfg", "-k", "_", "-k", "N_", "-k", "ngettext:1,2",
                        "--no-location", "--sort-output", "--omit-header", "-o", str(POT), "bot"],
                       cwd=ROOT, check=True, capture_output=True)
        subprocess.run([*BABEL, "update", "-i", str(POT), "-d", str(LOCALES), "-D", "messages",
                        "--no-fuzzy-matching", "--ignore-obsolete"], cwd=ROOT, check=True, capture_output=True)
        missing: list[str] = []
        for lang in ("kk", "ru"):
            path = LOCALES / lang / "LC_MESSAGES" / "messages.po"
            with open(path, "rb") as fp:
                catalog = read_po(fp, locale=lang)
            for message in catalog:
                if not message.id:
                    continue
                key = message.id[0] if isinstance(message.id, tuple) else message.id
                value = table.get(key, {}).get(lang)
                done = all(message.string) if isinstance(message.string, tuple) else bool(message.string)
                if value and (not done or message.fuzzy):
                    message.string = tuple(value) if isinstance(message.id, tuple) else str(value)
                    message.flags.discard("fuzzy")
                    done = True
                if not done:
                    missing.append(f"{lang}: {key!r}")
            with open(path, "wb") as fp:
                write_po(fp, catalog, width=120, omit_header=False)
        subprocess.run([*BABEL, "compile", "-d", str(LOCALES), "-D", "messages"], cwd=ROOT, check=True,
                       capture_output=True)
    for line in missing:
        print("untranslated", line)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
