"""Charts as PNG bytes for the staff: no display, no wording of their own.

Every word on a chart comes from the ``labels`` the caller passes, already in the reader's language. The
font is matplotlib's bundled DejaVu Sans, which has every Kazakh letter (ә ғ қ ң ө ұ ү һ і) and Cyrillic;
it has no emoji, so labels should carry none.

The charts are drawn on a :class:`matplotlib.figure.Figure` of their own, not through pyplot: nothing is
kept in pyplot's global list of figures (no leak when a bot runs for months), and a call may run in a worker
thread (``asyncio.to_thread``) so the bot keeps answering meanwhile. Rendering shares matplotlib's font
cache, so one lock lets a single chart be drawn at a time.
"""

from __future__ import annotations

import io
import textwrap
import threading
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: before anything that could pick an interactive backend

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from bot.services.appeals import AppealStats  # noqa: E402

SIZE = (9, 6)  # inches; at DPI this is 900×600 pixels
DPI = 100
FONT = "DejaVu Sans"
MAX_BARS = 12  # categories beyond this are summed into the ``other`` label
CATEGORY_COLOR = "#2e7d9a"
STATUS_COLOR = "#e0913a"
_lock = threading.Lock()


def _wrap(text: str, width: int = 26) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _bars(ax: Any, items: list[tuple[str, int]], title: str, color: str) -> None:
    names = [_wrap(n) for n, _ in items]
    counts = [n for _, n in items]
    bars = ax.barh(range(len(items)), counts, color=color)
    ax.set_yticks(range(len(items)), names, fontsize=9)
    ax.invert_yaxis()  # the first item on top
    ax.bar_label(bars, padding=3, fontsize=9)
    ax.set_title(title, fontsize=11, loc="left")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, max(counts, default=0) * 1.15 + 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def appeals_chart(stats: AppealStats, labels: Mapping[str, Any]) -> bytes:
    """A 900×600 PNG: appeals per category (most first) and per status (in the order of
    ``labels["statuses"]``), under a title line.

    ``labels``: ``title`` (the line on top), ``by_category`` and ``by_status`` (panel titles), ``categories``
    and ``statuses`` (key → name), ``other`` (the name of the sum of categories past the twelfth). A key
    with no name is shown as it is stored."""
    names_c: Mapping[str, str] = labels.get("categories", {})
    names_s: Mapping[str, str] = labels.get("statuses", {})
    cats = sorted(stats.by_category.items(), key=lambda kv: (-kv[1], names_c.get(kv[0], kv[0])))
    if len(cats) > MAX_BARS:
        rest = sum(n for _, n in cats[MAX_BARS - 1:])
        cats = [*cats[:MAX_BARS - 1], (labels.get("other", "…"), rest)]
        cat_items = [(names_c.get(k, k), n) for k, n in cats[:-1]] + [cats[-1]]
    else:
        cat_items = [(names_c.get(k, k), n) for k, n in cats]
    order = {k: i for i, k in enumerate(names_s)}
    statuses = sorted(stats.by_status.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    status_items = [(names_s.get(k, k), n) for k, n in statuses]

    with _lock, matplotlib.rc_context({"font.family": FONT}):
        fig = Figure(figsize=SIZE, dpi=DPI)
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
        _bars(left, cat_items, labels.get("by_category", ""), CATEGORY_COLOR)
        _bars(right, status_items, labels.get("by_status", ""), STATUS_COLOR)
        fig.suptitle(labels.get("title", ""), fontsize=13, fontweight="bold", x=0.02, ha="left")
        fig.tight_layout(rect=(0, 0, 1, 0.96))
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


WINNER_COLOR = "#2e7d32"
NOT_CHOSEN_COLOR = "#9e9e9e"
THRESHOLD_COLOR = "#c62828"
MAX_PROJECT_BARS = 20


def _plain(text: str) -> str:
    """Drop what the bundled font cannot draw (emoji, pictographs): people type them into titles."""
    return "".join(ch for ch in text if ord(ch) < 0x2190).strip() or "…"


def budget_chart(rows: list[Mapping[str, Any]], threshold: int, labels: Mapping[str, str]) -> bytes:
    """A PNG of the People's Budget results: votes per project (``rows`` in rank order, each with ``title``,
    ``votes``, ``winner``; the first 20 are drawn), winners in green, the others grey, and the threshold as a
    dashed vertical line.

    ``labels``: ``title`` (on top), ``votes`` (the axis), ``winner``, ``not_chosen`` and ``threshold`` (the
    legend), already in the reader's language."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    items = list(rows)[:MAX_PROJECT_BARS]
    votes = [int(r["votes"]) for r in items]
    with _lock, matplotlib.rc_context({"font.family": FONT}):
        fig = Figure(figsize=(SIZE[0], max(3.5, 1.6 + 0.45 * len(items))), dpi=DPI)
        ax = fig.subplots()
        bars = ax.barh(range(len(items)), votes,
                       color=[WINNER_COLOR if r.get("winner") else NOT_CHOSEN_COLOR for r in items])
        ax.set_yticks(range(len(items)), [_wrap(_plain(str(r["title"])), 34) for r in items], fontsize=9)
        ax.invert_yaxis()  # the first place on top
        ax.bar_label(bars, padding=3, fontsize=9)
        ax.axvline(threshold, color=THRESHOLD_COLOR, linestyle="--", linewidth=1.5)
        ax.set_xlim(0, max([*votes, threshold]) * 1.15 + 1)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(labels.get("votes", ""), fontsize=9)
        ax.legend(handles=[Patch(color=WINNER_COLOR, label=labels.get("winner", "")),
                           Patch(color=NOT_CHOSEN_COLOR, label=labels.get("not_chosen", "")),
                           Line2D([], [], color=THRESHOLD_COLOR, linestyle="--", label=labels.get("threshold", ""))],
                  loc="lower right", fontsize=9)
        ax.set_title(_plain(labels.get("title", "")), fontsize=12, fontweight="bold", loc="left")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
