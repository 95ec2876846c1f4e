"""Pieces every flow uses: navigation buttons, the "please use the buttons" hint, a question typed by a resident."""

from __future__ import annotations

from collections import Counter

from bot.flows.base import Button, Ctx
from bot.flows.buttons import Choice, Kind
from bot.i18n import Translator
from bot.services.quarters import PERIOD

BACK = "back"
CANCEL = "cancel"
LANGUAGE = Kind("lang", Choice(("kk", "ru")))  # "lang:kk": registration and settings


def tell_apart(labels: list[str], *extras: list[str]) -> list[str]:
    """Options whose labels would read alike (two campaigns or reports of the same name) get their extras, e.g. a
    date, then a number in the list, until every option can be told apart on any channel."""
    for extra in [*extras, [f"{i}" for i in range(1, len(labels) + 1)]]:
        seen = Counter(labels)
        labels = [f"{label} · {x}" if seen[label] > 1 else label for label, x in zip(labels, extra, strict=True)]
    return labels


def nav_row(ctx: Ctx, back: bool = True, cancel: bool = True) -> list[Button]:
    row = []
    if back:
        row.append(Button(ctx.tr._("« Back"), BACK))
    if cancel:
        row.append(Button(ctx.tr._("✖ Cancel"), CANCEL))
    return row


def hint_use_buttons(ctx: Ctx) -> None:
    ctx.show(ctx.tr._("Please choose with the buttons below."))


def hint_stale_button(ctx: Ctx) -> None:
    ctx.show(ctx.tr._("That button is from an earlier step. Here is where we are now:"), keep_pressed=True)


def wrong_input(ctx: Ctx) -> None:
    """A hint fitted to the kind of input that was not expected here."""
    kind = ctx.event.kind
    if kind == "button":
        hint_stale_button(ctx)
    elif kind in ("text", "command"):
        hint_use_buttons(ctx)
    else:
        ctx.show(ctx.tr._("I can't use that here. Please answer the question below."))


MIN_QUESTION = 5  # characters: shorter is not a question


def question_text(ctx: Ctx, limit: int) -> str | None:
    """The question a resident typed (for a meeting or a report), or ``None`` after a hint saying what is wrong."""
    ev, tr = ctx.event, ctx.tr
    if ev.kind != "text":
        ctx.show(tr._("Please write the question as a text message."))
        return None
    text = ev.text.strip()
    if len(text) < MIN_QUESTION:
        ctx.show(tr._("That is too short. Please write the question in a few words."))
        return None
    if len(text) > limit:
        ctx.show(tr.ngettext("That is {n} character; the limit is {max}. Please shorten it.",
                             "That is {n} characters; the limit is {max}. Please shorten it.", len(text), max=limit))
        return None
    return text


def paging_row(kind: Kind, page: int, more: bool, pages: int | None = None, *before: object) -> list[Button]:
    """◀ and ▶ buttons whose data are ``kind.pack(*before, page)``; with ``pages`` also "page/pages" between them."""
    row = []
    if page > 0:
        row.append(Button("◀", kind.pack(*before, page - 1)))
    if pages is not None:
        row.append(Button(f"{page + 1}/{pages}", kind.pack(*before, page)))
    if more:
        row.append(Button("▶", kind.pack(*before, page + 1)))
    return row


def quarter_name(tr: Translator, year: int, q: int) -> str:
    return tr._("Q{quarter} {year}", quarter=q, year=year)


def period_name(tr: Translator, period: str) -> str:
    """A report period as people say it: "2026-Q3" → "2026 жылғы 3-тоқсан", "2026" → "2026 жыл"."""
    m = PERIOD.match(period)
    if m is None:
        return period
    year = int(m.group(1))
    return quarter_name(tr, year, int(m.group(2))) if m.group(2) else tr._("Year {year}", year=year)
