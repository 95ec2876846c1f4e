"""A resident's own appeals: the list, one appeal with its conversation, a follow-up, rating, "not resolved"."""

from __future__ import annotations

from bot.flows import menu
from bot.flows.appeal_labels import category_name, kind_name, status_name
from bot.flows.base import Button, Ctx, esc
from bot.flows.buttons import STARS, Int, Kind
from bot.flows.common import BACK, paging_row, wrong_input
from bot.flows.registry import Anywhere, DeepLink, FlowSpec, MenuEntry
from bot.i18n import N_
from bot.services.appeals import AppealError, AppealNotFound, AppealStatus, Direction
from storage.state import State

NAME = "my_appeals"
LIST, VIEW, WRITE = "list", "view", "write"
PAGE = 5
# buttons: also on the notices about one's appeal (bot/desk/texts.py), so they work from anywhere but a draft
PAGE_TO, OPEN, WRITE_TO = Kind("ma:pg", Int()), Kind("ma:o", Int()), Kind("ma:w", Int())
RESOLVED, NOT_RESOLVED, RATE = Kind("ma:ok", Int()), Kind("ma:no", Int()), Kind("ma:s", Int(), STARS)
OPEN_STATUSES = {AppealStatus.RECEIVED, AppealStatus.REGISTERED, AppealStatus.IN_PROGRESS, AppealStatus.ANSWERED}


async def enter(ctx: Ctx, appeal_id: int | None = None) -> None:
    ctx.state = State(NAME, LIST, {"page": 0})
    if appeal_id is not None:
        await _open(ctx, appeal_id)
    else:
        await prompt(ctx)


async def prompt(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    assert st is not None and ctx.resident is not None
    if st.step == LIST:
        page = int(st.data.get("page", 0))
        items = await ctx.services.appeals.list_for_resident(ctx.resident.id, limit=PAGE + 1, offset=page * PAGE)
        if not items and page == 0:
            ctx.state = None
            await menu.show(ctx, tr._("You have no appeals yet. To write one, press «📝 Write an appeal»."))
            return
        rows = [[Button(f"{a.number} · {category_name(tr, a.category)} · {status_name(tr, a.status)}",
                        OPEN.pack(a.id))] for a in items[:PAGE]]
        paging = paging_row(PAGE_TO, page, len(items) > PAGE)
        if paging:
            rows.append(paging)
        rows.append([Button(tr._("« Main menu"), BACK)])
        ctx.show(tr._("Your appeals, newest first. Choose one to see its progress:"), rows)
    elif st.step == VIEW:
        await _show_appeal(ctx, int(st.data["appeal"]))
    elif st.step == WRITE:
        ctx.show(tr._("Write your message for appeal {number}. You can also send a photo, a document or a location.",
                      number=st.data.get("number", "")), [[Button(tr._("« Back"), BACK)]])


async def _show_appeal(ctx: Ctx, appeal_id: int) -> None:
    tr = ctx.tr
    a = await ctx.services.appeals.get_for_resident(appeal_id, ctx.resident.id)
    lines = [f"<b>{a.number}</b> · {kind_name(tr, a.kind)} · {category_name(tr, a.category)}",
             tr._("Status: {status}", status=status_name(tr, a.status))]
    if a.registration_number:
        lines.append(tr._("eOtinish registration: № {number} of {date}", number=esc(a.registration_number, 64),
                          date=tr.date(a.registration_date) if a.registration_date else "—"))
    if a.status in (AppealStatus.RECEIVED, AppealStatus.REGISTERED, AppealStatus.IN_PROGRESS) and not a.anonymous:
        due = a.extended_until or a.due_on
        lines.append(tr._("Answer due by: {date}", date=tr.date(due)))
        if a.extended_until:
            lines.append(tr._("The term was extended: {reason}", reason=esc(a.extension_reason, 300)))
    if a.forwarded_to:
        lines.append(tr._("Forwarded to: {body}", body=esc(a.forwarded_to, 200)))
    if a.rejection_reason:
        lines.append(tr._("Reason for refusal: {reason}", reason=esc(a.rejection_reason, 300)))
    if a.rating:
        lines.append(tr._("Your rating: {stars}", stars="⭐" * a.rating))
    messages = await ctx.services.appeals.conversation(a.id, resident_id=ctx.resident.id)
    talk = []
    for m in messages[-6:]:
        who = tr._("You") if m.direction == Direction.IN else tr._("Akimat")
        body = esc(m.text, 500) if m.text else ("📎" if m.media_id else ("📍" if m.latitude is not None else ""))
        talk.append(f"<b>{who}</b> ({tr.datetime(m.created_at)}): {body}")
    while talk and len("\n".join(lines + talk)) > 3800:  # drop the oldest whole messages, never cut a tag
        talk.pop(0)
    if talk:
        lines += [""] + talk
    rows: list[list[Button]] = []
    if a.status in OPEN_STATUSES:
        rows.append([Button(tr._("✍️ Add a message"), WRITE_TO.pack(a.id))])
    if a.status == AppealStatus.ANSWERED:
        rows.append([Button(tr._("👍 Resolved"), RESOLVED.pack(a.id)),
                     Button(tr._("👎 Not resolved"), NOT_RESOLVED.pack(a.id))])
    if a.status in (AppealStatus.ANSWERED, AppealStatus.CLOSED) and a.answered_at is not None:
        rows.append([Button("⭐" * n, RATE.pack(a.id, str(n))) for n in range(1, 6)])
    rows.append([Button(tr._("« My appeals"), BACK)])
    ctx.show("\n".join(lines), rows)


async def _open(ctx: Ctx, appeal_id: int) -> None:
    st = ctx.state
    try:
        a = await ctx.services.appeals.get_for_resident(appeal_id, ctx.resident.id)
    except AppealNotFound:
        ctx.show(ctx.tr._("This appeal is not among yours."))
        st.step = LIST
        await prompt(ctx)
        return
    st.step, st.data["appeal"], st.data["number"] = VIEW, a.id, a.number
    await prompt(ctx)


async def handle(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    assert st is not None
    if ctx.resident is None:
        ctx.state = None
        return
    if st.step == WRITE:
        await _write(ctx)
        return
    if ev.kind != "button":
        wrong_input(ctx)
        await prompt(ctx)
        return
    data = ev.data
    try:
        if data == BACK:
            if st.step == VIEW:
                st.step = LIST
                await prompt(ctx)
            else:
                ctx.state = None
                await menu.show(ctx)
        elif (page := PAGE_TO.value(data)) is not None:
            st.data["page"] = min(page, 10_000)
            await prompt(ctx)
        elif (appeal_id := OPEN.value(data)) is not None:
            await _open(ctx, appeal_id)
        elif (appeal_id := WRITE_TO.value(data)) is not None:
            a = await ctx.services.appeals.get_for_resident(appeal_id, ctx.resident.id)
            st.step, st.data["appeal"], st.data["number"] = WRITE, a.id, a.number
            await prompt(ctx)
        elif (appeal_id := RESOLVED.value(data)) is not None:
            a = await ctx.services.appeals.get_for_resident(appeal_id, ctx.resident.id)
            ctx.show(tr._("Glad it was resolved! Please rate the answer with the stars below."))
            await _open(ctx, a.id)
        elif (appeal_id := NOT_RESOLVED.value(data)) is not None:
            change = await ctx.services.appeals.reopen_by_resident(appeal_id, ctx.resident.id)
            ctx.effects.append(("appeal_reopened", change.appeal.id))
            ctx.show(tr._("We have told the akimat that the problem is not resolved. The appeal is open again."))
            await _open(ctx, change.appeal.id)
        elif (rated := RATE.unpack(data)) is not None:
            appeal_id, stars = rated
            await ctx.services.appeals.rate(appeal_id, ctx.resident.id, int(stars))
            ctx.effects.append(("appeal_rated", appeal_id))
            ctx.show(tr._("Thank you for the rating!"))
            await _open(ctx, appeal_id)
        else:
            wrong_input(ctx)
            await prompt(ctx)
    except AppealNotFound:
        ctx.show(tr._("This appeal is not among yours."))
        st.step = LIST
        await prompt(ctx)
    except AppealError:
        ctx.show(tr._("This cannot be done with the appeal now."))
        await prompt(ctx)


async def _write(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    if ev.kind == "button" and ev.data == BACK:
        st.step = VIEW
        await prompt(ctx)
        return
    limit = min(ctx.settings.limits.text_max, 3000)
    media_kind = ev.kind if ev.kind in ("photo", "document", "voice") else None
    if ev.kind == "text" and not ev.text.strip():
        wrong_input(ctx)
        return
    if ev.kind not in ("text", "photo", "document", "voice", "location"):
        ctx.show(tr._("Please send text, a photo, a document, a voice message or a location."))
        await prompt(ctx)
        return
    if len(ev.text) > limit:
        ctx.show(tr.ngettext("That is {n} character; the limit is {max}. Please shorten it, or send the "
                             "details as a document at the next step.", "That is {n} characters; the limit is {max}. "
                             "Please shorten it, or send the details as a document at the next step.", len(ev.text),
                             max=limit))
        return
    try:
        msg = await ctx.services.appeals.add_message(
            int(st.data["appeal"]), Direction.IN, text=ev.text or None, media_kind=media_kind,
            media_id=await ctx.adopt(media_kind, ev.file_id) if media_kind else None, location=ev.location,
            resident_id=ctx.resident.id)
    except AppealNotFound:
        ctx.show(tr._("This appeal is not among yours."))
        st.step = LIST
        await prompt(ctx)
        return
    ctx.effects.append(("appeal_followup", msg.id))
    st.step = VIEW
    ctx.show(tr._("Sent to the akimat."))
    await prompt(ctx)


async def from_anywhere(ctx: Ctx) -> None:
    """An "ma:" button (on a notice about one's appeal, or on this flow's screens) outside a draft."""
    ctx.state = State(NAME, LIST, {"page": 0})
    await handle(ctx)


FLOW = FlowSpec(name=NAME, handle=handle, prompt=prompt, buttons=("ma:",),
                anywhere=(Anywhere("ma:", from_anywhere),),
                menu=MenuEntry("my_appeals", N_("📂 My appeals"), 20, enter),
                deep_links=(DeepLink("appeal", enter),))
