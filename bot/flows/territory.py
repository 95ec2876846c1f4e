"""Choosing a territory: down the tree page by page, or by typing part of a name."""

from __future__ import annotations

from bot.flows.base import Button, Ctx, esc
from bot.flows.buttons import Int, Kind, Token
from bot.flows.common import BACK, nav_row, paging_row, wrong_input

PAGE = 8
OPEN, PICK, PAGE_TO = Kind("t:o", Token()), Kind("t:p", Token()), Kind("t:pg", Int())  # a KATO code; a page


async def show(ctx: Ctx) -> None:
    """Show the current level of the tree (state data keys: node, page; root: the top a staff member limited
    to a territory may not leave)."""
    data = ctx.state.data if ctx.state else {}
    node, page = data.get("node") or data.get("root"), int(data.get("page", 0))
    children = await ctx.services.territories.children_with_flags(node)
    pages = max(1, -(-len(children) // PAGE))
    page = min(max(page, 0), pages - 1)
    rows: list[list[Button]] = []
    if node is not None:
        current = await ctx.services.territories.get(node)
        if current is not None:
            rows.append([Button("✅ " + ctx.tr._("Here: {name}", name=current.name(ctx.lang)), PICK.pack(node))])
    chunk = children[page * PAGE:(page + 1) * PAGE]
    for i in range(0, len(chunk), 2):
        rows.append([Button(t.name(ctx.lang) + (" ›" if kids else ""), (OPEN if kids else PICK).pack(t.kato))
                     for t, kids in chunk[i:i + 2]])
    if pages > 1:
        rows.append(paging_row(PAGE_TO, page, page < pages - 1, pages))
    rows.append(nav_row(ctx))
    if not children and node is None:
        ctx.show(ctx.tr._("No territories are loaded yet. Please ask the akimat to load them."), rows)
        return
    path = await ctx.services.territories.path(node) if node else []
    where = " › ".join(esc(t.name(ctx.lang)) for t in path)
    # another flow may ask its own question with the picker: an N_-marked msgid under "ask" in the state
    ask = data.get("ask")
    text = ctx.tr._(ask) if ask else ctx.tr._("Where do you live? Choose your settlement or type part of its name.")
    ctx.show(f"{text}\n\n<b>{where}</b>" if where else text, rows)


async def handle(ctx: Ctx) -> str | None:
    """Handle input at the picker. Return the chosen KATO code, or None after showing the next screen.

    "back" at the top of the tree is left to the caller: it returns "back".
    """
    ev, data = ctx.event, ctx.state.data  # type: ignore[union-attr]
    if ev.kind == "button" and ev.data == BACK:
        if data.get("node") is None or data.get("node") == data.get("root"):
            return BACK
        node = await ctx.services.territories.get(data["node"])
        data["node"], data["page"] = (node.parent_kato if node else None), 0
        await show(ctx)
        return None
    picked, opened = PICK.value(ev.data), OPEN.value(ev.data)
    if ev.kind == "button" and (picked or opened):
        kato = picked or opened
        if await ctx.services.territories.get(kato) is None:
            wrong_input(ctx)
            await show(ctx)
            return None
        if not await _within_root(ctx, kato):
            await show(ctx)
            return None
        if picked:
            return kato
        data["node"], data["page"] = kato, 0
        await show(ctx)
        return None
    if ev.kind == "button" and (page := PAGE_TO.value(ev.data)) is not None:
        data["page"] = page
        await show(ctx)
        return None
    if ev.kind == "text":
        await _search(ctx, ev.text)
        return None
    wrong_input(ctx)
    await show(ctx)
    return None


async def _search(ctx: Ctx, query: str) -> None:
    limit = ctx.settings.limits.search_query_max
    query = " ".join(query.split())
    if len(query) < 2:
        ctx.show(ctx.tr._("Please type at least two letters of the name."))
        await show(ctx)
        return
    found = await ctx.services.territories.search(query[:limit])
    if ctx.state is not None and ctx.state.data.get("root"):
        root = ctx.state.data["root"]
        found = [t for t in found if root in await ctx.services.territories.ancestors(t.kato)]
    if not found:
        ctx.show(ctx.tr._("Nothing found for «{query}». Check the spelling or choose from the list.",
                          query=esc(query, limit)))
        await show(ctx)
        return
    rows = []
    for t in found:
        path = await ctx.services.territories.path(t.kato)
        label = " › ".join(p.name(ctx.lang) for p in path[-2:])
        rows.append([Button(label, PICK.pack(t.kato))])
    rows.append(nav_row(ctx))
    if ctx.state is not None and ctx.state.data.get("ask"):  # staff choosing a territory, not their home
        text = ctx.tr.ngettext("Found {n} territory for «{query}». Choose one:",
                               "Found {n} territories for «{query}». Choose one:", len(found), query=esc(query, limit))
    else:
        text = ctx.tr.ngettext("Found {n} place for «{query}». Choose yours:",
                               "Found {n} places for «{query}». Choose yours:", len(found), query=esc(query, limit))
    ctx.show(text, rows)


async def _within_root(ctx: Ctx, kato: str) -> bool:
    """Whether ``kato`` lies in the picker's root (its territory and below); if not, say so."""
    root = ctx.state.data.get("root") if ctx.state else None
    if not root or root in await ctx.services.territories.ancestors(kato):
        return True
    place = await ctx.services.territories.get(root)
    ctx.show(ctx.tr._("You can choose only your territory ({territory}) or a place within it.",
                      territory=esc(place.name(ctx.lang)) if place else root))
    return False
