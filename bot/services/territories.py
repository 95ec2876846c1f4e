"""Territories by KATO code: the tree, search by name, and the CSV import."""

from __future__ import annotations

import csv
import re
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Territory

LEVELS = ("country", "oblast", "city", "district", "okrug", "village")
KATO_RE = re.compile(r"^\d{9}$")
CSV_COLUMNS = ("kato", "parent_kato", "level", "name_kk", "name_ru")


def search_key(name_kk: str, name_ru: str) -> str:
    return f"{name_kk.casefold()}|{name_ru.casefold()}"


class ImportError_(ValueError):
    """A bad row in a territories file; the message names the line."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


# -- the tree, kept in memory ----------------------------------------------------------------------------------
# Territories are reference data: a district has dozens, all of Kazakhstan some fifteen thousand, and they change
# only when `qatysu import territories` (TerritoryService.import_csv) runs. The hot path asks for a place's name,
# its ancestors (which campaigns, reports and meetings are "mine") and a level of the tree on every few taps, so
# the whole table is read once into a snapshot per database and answered from memory.
# Invalidation: an import in this process drops the snapshot at once; another process (the CLI, another replica)
# reloads it after TREE_TTL_S. The snapshot's Territory objects are detached copies, to be read, never changed.

TREE_TTL_S = 60.0
_clock = time.monotonic  # tests move it


@dataclass(frozen=True)
class Tree:
    nodes: dict[str, Territory]
    children: dict[str | None, list[str]]  # each level in the database's order by name_kk, as the queries were
    loaded_at: float

    def ancestors(self, kato: str) -> set[str]:
        out: set[str] = set()
        node = self.nodes.get(kato)
        while node is not None and node.kato not in out:
            out.add(node.kato)
            node = self.nodes.get(node.parent_kato) if node.parent_kato else None
        return out

    def subtree(self, kato: str) -> set[str]:
        if kato not in self.nodes:
            return set()
        out, todo = set(), [kato]
        while todo:
            k = todo.pop()
            if k not in out:
                out.add(k)
                todo.extend(self.children.get(k, ()))
        return out


_trees: dict[str, Tree] = {}
_COLUMNS = [c for c in Territory.__table__.c]


def forget_tree() -> None:
    """Drop every snapshot (after an import, or when a test rebuilt the database under the same address)."""
    _trees.clear()


async def tree(s: AsyncSession) -> Tree:
    """The snapshot of ``s``'s database, read with ``s`` when missing or older than TREE_TTL_S."""
    bind = getattr(s, "bind", None)
    # one snapshot per database, whichever driver reads it (SQLite's units read it with another: storage/uow.py)
    key = str(bind.url.set(drivername=bind.url.get_backend_name())) if bind is not None else ""
    now = _clock()
    t = _trees.get(key)
    if t is None or now - t.loaded_at > TREE_TTL_S:
        rows = (await s.execute(select(*_COLUMNS).order_by(Territory.name_kk, Territory.kato))).all()
        nodes: dict[str, Territory] = {}
        children: dict[str | None, list[str]] = {}
        for row in rows:
            nodes[row.kato] = Territory(**row._asdict())
            children.setdefault(row.parent_kato, []).append(row.kato)
        t = Tree(nodes, children, now)
        if key:
            _trees[key] = t
    return t


async def ancestors(s: AsyncSession, kato: str) -> set[str]:
    return (await tree(s)).ancestors(kato)


async def subtree(s: AsyncSession, kato: str) -> set[str]:
    return (await tree(s)).subtree(kato)


class TerritoryService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def _tree(self) -> Tree:
        async with self._sessions() as s:
            return await tree(s)

    async def get(self, kato: str) -> Territory | None:
        return (await self._tree()).nodes.get(kato)

    async def children_with_flags(self, parent: str | None) -> list[tuple[Territory, bool]]:
        """Children of ``parent`` (roots for None), each with whether it has children of its own."""
        t = await self._tree()
        return [(t.nodes[k], k in t.children) for k in t.children.get(parent, ())]

    async def ancestors(self, kato: str) -> set[str]:
        """The territory and everything above it (for "reports of my village and above")."""
        return (await self._tree()).ancestors(kato)

    async def subtree(self, kato: str) -> set[str]:
        """The territory and everything below it (the audience of a notice for a district)."""
        return (await self._tree()).subtree(kato)

    async def path(self, kato: str) -> list[Territory]:
        """From the root down to ``kato``."""
        t = await self._tree()
        out: list[Territory] = []
        node = t.nodes.get(kato)
        while node is not None and len(out) < 10:
            out.append(node)
            node = t.nodes.get(node.parent_kato) if node.parent_kato else None
        return list(reversed(out))

    async def search(self, query: str, limit: int = 8) -> list[Territory]:
        q = " ".join(query.split()).casefold()
        if len(q) < 2:
            return []
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        async with self._sessions() as s:
            rows = await s.scalars(
                select(Territory).where(Territory.search_key.like(pattern, escape="\\"))
                .order_by(func.length(Territory.name_kk), Territory.name_kk).limit(limit)
            )
            return list(rows)

    async def import_csv(self, path: Path, *, demo: bool = False) -> ImportReport:
        """Insert or update territories from a CSV file; the same file twice changes nothing."""
        rows = read_territories_csv(path)
        report = ImportReport()
        async with self._sessions() as s, s.begin():
            existing = {t.kato: t for t in await s.scalars(select(Territory))}
            known = set(existing) | {r["kato"] for _, r in rows}
            for line, r in rows:
                if r["parent_kato"] and r["parent_kato"] not in known:
                    raise ImportError_(f"line {line}: parent_kato {r['parent_kato']} is not in the file "
                                       "or the database")
            # parents first, so foreign keys hold on every insert
            depth = _depths(rows)
            for _line, r in sorted(rows, key=lambda lr: depth[lr[1]["kato"]]):
                values = dict(r, search_key=search_key(r["name_kk"], r["name_ru"]))
                t = existing.get(r["kato"])
                if t is None:
                    s.add(Territory(**values, is_demo=demo))
                    await s.flush()
                    report.created += 1
                elif any(getattr(t, k) != v for k, v in values.items()):
                    for k, v in values.items():
                        setattr(t, k, v)
                    report.updated += 1
                else:
                    report.unchanged += 1
        forget_tree()
        return report


def _depths(rows: list[tuple[int, dict[str, str | None]]]) -> dict[str, int]:
    """How deep each row sits below the file's own roots (a parent in the database counts as root)."""
    parents = {r["kato"]: r["parent_kato"] for _, r in rows}
    out: dict[str, int] = {}
    for kato in parents:
        depth, node = 0, parents[kato]
        while node in parents and depth <= len(parents):
            depth, node = depth + 1, parents[node]
        if depth > len(parents):
            raise ImportError_(f"territory {kato} is part of a parent cycle")
        out[kato] = depth
    return out


def read_territories_csv(path: Path) -> list[tuple[int, dict[str, str | None]]]:
    """Parse and check the file; raise ImportError_ naming the first bad line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportError_(f"cannot read {path}: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportError_(f"line 1: missing columns: {', '.join(missing)} (need {', '.join(CSV_COLUMNS)})")
    out: list[tuple[int, dict[str, str | None]]] = []
    seen: set[str] = set()
    for i, raw in enumerate(reader, start=2):
        r = {k: (raw.get(k) or "").strip() for k in CSV_COLUMNS}
        if not KATO_RE.match(r["kato"]):
            raise ImportError_(f"line {i}: kato must be 9 digits, got {r['kato']!r}")
        if r["kato"] in seen:
            raise ImportError_(f"line {i}: kato {r['kato']} appears twice")
        if r["parent_kato"] and not KATO_RE.match(r["parent_kato"]):
            raise ImportError_(f"line {i}: parent_kato must be 9 digits or empty, got {r['parent_kato']!r}")
        if r["parent_kato"] == r["kato"]:
            raise ImportError_(f"line {i}: a territory cannot be its own parent")
        if r["level"] not in LEVELS:
            raise ImportError_(f"line {i}: level must be one of {', '.join(LEVELS)}, got {r['level']!r}")
        for col in ("name_kk", "name_ru"):
            if not r[col] or len(r[col]) > 200:
                raise ImportError_(f"line {i}: {col} must be 1-200 characters")
        seen.add(r["kato"])
        out.append((i, {**r, "parent_kato": r["parent_kato"] or None}))
    if not out:
        raise ImportError_("the file has no rows")
    return out
