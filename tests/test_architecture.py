"""The shape of the code (../shared/DESIGN.md): no import cycle inside bot/, counting imports made inside
functions; the layer rules; module size. Read from the source with ast, so a late import cannot hide a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _files(*packages: str) -> dict[str, Path]:
    return {_module(p): p for pkg in packages for p in sorted((ROOT / pkg).rglob("*.py"))}


def _type_checking_only(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING" or \
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _imports(path: Path, known: set[str], here: str | None = None) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function (``if TYPE_CHECKING:`` blocks aside: they are
    never executed)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = here or _module(path)
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            for child in node.orelse:  # type: ignore[attr-defined]
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = here.split(".")[: -node.level] if path.name != "__init__.py" else here.split(".")[
                    : len(here.split(".")) - node.level + 1]
                base = ".".join([*pkg, base] if base else pkg)
            for a in node.names:
                sub = f"{base}.{a.name}"
                found.add(sub if sub in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    files = _files("bot", "storage")
    known = set(files)
    return {m: {i for i in _imports(p, known) if i in known and i != m} for m, p in files.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_the_cycle_finder_sees_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    graph = {"bot.flows.a": {"bot.flows.b"}, "bot.flows.b": {"bot.flows.c"}, "bot.flows.c": {"bot.flows.a"},
             "bot.flows.d": {"bot.flows.a"}}
    assert _cycles(graph) == [["bot.flows.a", "bot.flows.b", "bot.flows.c"]]
    src = tmp_path / "late.py"
    src.write_text("def f():\n    from bot.flows import engine\n    return engine\n", encoding="utf-8")
    assert "bot.flows.engine" in _imports(src, {"bot.flows.engine"}, "bot.flows.late")


def test_no_import_cycle_inside_bot() -> None:
    assert _cycles(_graph()) == []


def _external(path: Path) -> set[str]:
    return {i.split(".")[0] for i in _imports(path, set())}


def test_layers_import_only_downwards() -> None:
    graph, problems = _graph(), []
    files = _files("bot", "storage")
    for m, deps in graph.items():
        top = _external(files[m])
        if m.startswith("bot.flows"):
            problems += [f"{m} imports {d}" for d in deps if d.startswith(("bot.channels", "bot.desk", "bot.delivery"))]
            problems += [f"{m} imports {x}" for x in top & {"aiogram", "pywa"}]
        elif m.startswith("bot.services"):
            problems += [f"{m} imports {d}" for d in deps if d.startswith(("bot.flows", "bot.channels"))]
            problems += [f"{m} imports {x}" for x in top & {"aiogram", "pywa"}]
        elif m.startswith("storage"):
            problems += [f"{m} imports {d}" for d in deps if d.startswith("bot")]
    assert problems == []


# aiogram belongs to the Telegram channel (bot/channels/), the aides' desk (Telegram forum topics) and the
# composition root; nothing else imports it any more (the outbox sender, broadcast progress and the dispatcher
# middlewares moved behind the port).
AIOGRAM_HOMES = ("bot.channels.", "bot.desk.", "bot.app", "bot.runner")
AIOGRAM_NOT_YET_MOVED: set[str] = set()


def test_aiogram_lives_in_the_telegram_channel() -> None:
    files = _files("bot", "storage")
    users = {m for m, p in files.items() if _external(p) & {"aiogram"}}
    assert not (ROOT / "bot" / "handlers").exists(), "the old bot/handlers/ is gone: Telegram is bot/channels/telegram"
    assert sorted(m for m in users if not m.startswith(AIOGRAM_HOMES) and m not in AIOGRAM_NOT_YET_MOVED) == []
    assert "bot.channels.telegram.render" in users  # the rule reads imports, not names
    base = _external(files["bot.channels.base"]) | _external(files["bot.channels.narrow"]) | \
        _external(files["bot.throttle"])
    assert base & {"aiogram", "pywa"} == set()  # the port, the narrow renderer and the flood throttle know no platform


def test_modules_in_bot_stay_small() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
             for p in (ROOT / "bot").rglob("*.py")}
    too_big = {f: n for f, n in sizes.items() if n > MAX_LINES}
    assert too_big == {}
