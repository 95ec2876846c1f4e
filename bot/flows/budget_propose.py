"""A People's Budget proposal: title → description → cost → location → photo → preview → send; "my proposals";
a returned proposal edited and sent again. The draft lives in the conversation state."""

from __future__ import annotations

import re

from bot.flows import phone as phone_flow
from bot.flows.base import Button, Ctx, Request, esc
from bot.flows.budget_common import (
    COST,
    DESCRIPTION,
    EDIT,
    MENU,
    MY_PROPOSALS,
    PHOTO,
    PLACE,
    PREVIEW,
    PROPOSE,
    TITLE,
    campaign_button,
    list_button,
    load_campaign,
    phase,
    proposals_closed_text,
    status_name,
    title_of,
)
from bot.flows.buttons import Kind
from bot.flows.common import BACK, nav_row, wrong_input
from bot.services.budget import (
    BudgetError,
    InvalidProject,
    NotEligible,
    Phase,
    ProjectStatus,
    TransitionNotAllowed,
    WrongPhase,
)
from storage.models import BudgetCampaign

TITLE_MIN, TITLE_MAX = 5, 120
DESCRIPTION_MIN, DESCRIPTION_MAX = 20, 2000
PREVIOUS = {DESCRIPTION: TITLE, COST: DESCRIPTION, PLACE: COST, PHOTO: PLACE, PREVIEW: PHOTO}
KEEP, SKIP, SEND = Kind("bd:keep").pack(), Kind("bd:skip").pack(), Kind("bd:send").pack()
DRAFT_BUTTONS = (KEEP, SKIP, SEND, BACK)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009'’]+")
_CURRENCY = re.compile(r"(₸|тг\.?|тенге|теңге|kzt|tenge)$", re.IGNORECASE)
_GROUPED = re.compile(r"^\d{1,3}([.,]\d{3})+$")


def parse_tenge(text: str) -> int | None:
    """Whole tenge from "1 500 000", "1500000 ₸", "1.500.000 тг"; None for anything else."""
    s = _SPACES.sub("", (text or "").strip().lower())
    s = _CURRENCY.sub("", s)
    if _GROUPED.match(s):
        s = re.sub(r"[.,]", "", s)
    if not s.isdigit() or len(s) > 15:
        return None
    return int(s)


def _is_edit(ctx: Ctx) -> bool:
    return bool(ctx.state and ctx.state.data.get("edit"))


async def start(ctx: Ctx, campaign_id: int) -> None:
    c = await load_campaign(ctx, campaign_id)
    if c is None:
        return
    if (ph := phase(ctx, c)) is not Phase.PROPOSALS:
        ctx.show(proposals_closed_text(ctx, c, ph), [[campaign_button(ctx, c.id)]])
        return
    ctx.state.step, ctx.state.data = TITLE, {"campaign": c.id}  # type: ignore[union-attr]
    ctx.show(ctx.tr._("<b>A project for {campaign}</b>\nBudget: {budget}. Describe your idea in a few steps; "
                      "the akimat reviews it before the vote.", campaign=title_of(ctx, c),
                      budget=ctx.tr.tenge(c.budget_tenge)))
    await prompt(ctx)


async def edit(ctx: Ctx, project_id: int) -> None:
    """Edit a project the akimat returned for changes, then send it again."""
    tr = ctx.tr
    p = await ctx.services.budget.get_project(project_id)
    if p is None or p.author_resident_id != ctx.resident.id:
        ctx.show(tr._("This proposal is not among yours."), [[list_button(ctx)]])
        return
    c = await ctx.services.budget.get_campaign(p.campaign_id)
    now = ctx.services.budget.now()
    if p.status != ProjectStatus.RETURNED.value or phase(ctx, c) not in (Phase.PROPOSALS, Phase.REVIEW) \
            or now >= c.review_until:
        ctx.show(tr._("This proposal can no longer be changed."), [[Button(tr._("📋 My proposals"),
                                                                            MY_PROPOSALS.pack(c.id))]])
        return
    ctx.state.step = TITLE  # type: ignore[union-attr]
    ctx.state.data = {"campaign": c.id, "edit": p.id, "title": p.title,  # type: ignore[union-attr]
                      "description": p.description or "", "cost": p.cost_tenge,
                      "location": [p.latitude, p.longitude] if p.latitude is not None else None,
                      # the channel's own id only: the draft is JSON (a photo from another channel stays by its media)
                      "photo": await ctx.services.media.file_id(p.photo_media_id, ctx.event.channel),
                      "photo_media": p.photo_media_id}
    ctx.show(tr._("The akimat returned your proposal for changes: {reason}\n"
                  "Change what is needed; press «Keep as it is» for what stays.", reason=esc(p.status_reason, 500)))
    await prompt(ctx)


async def prompt(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    assert st is not None
    d = st.data
    keep = [Button(tr._("Keep as it is »"), KEEP)]
    if st.step == TITLE:
        now = tr._("\nNow: {value}", value=esc(d["title"], 200)) if d.get("title") else ""
        ctx.show(tr.ngettext("What is the project? Write a short title, from {min} to {max} character, "
                             "for example «A playground on Abay street».",
                             "What is the project? Write a short title, from {min} to {max} characters, "
                             "for example «A playground on Abay street».", TITLE_MAX, min=TITLE_MIN, max=TITLE_MAX)
                 + now,
                 ([keep] if d.get("title") else []) + [nav_row(ctx)])
    elif st.step == DESCRIPTION:
        now = tr._("\nNow: {value}", value=esc(d["description"], 300)) if d.get("description") else ""
        ctx.show(tr.ngettext("Describe it: what should be done, where exactly and who will benefit "
                             "(from {min} to {max} character).", "Describe it: what should be done, where exactly "
                             "and who will benefit (from {min} to {max} characters).", DESCRIPTION_MAX,
                             min=DESCRIPTION_MIN, max=DESCRIPTION_MAX) + now,
                 ([keep] if d.get("description") else []) + [nav_row(ctx)])
    elif st.step == COST:
        c = await ctx.services.budget.get_campaign(int(d["campaign"]))
        now = tr._("\nNow: {value}", value=tr.tenge(d["cost"])) if d.get("cost") else ""
        ctx.show(tr._("How much will it cost, roughly? Write the sum in tenge, for example «1 500 000». "
                      "The campaign budget is {budget}.", budget=tr.tenge(c.budget_tenge)) + now,
                 ([keep] if d.get("cost") else []) + [nav_row(ctx)])
    elif st.step == PLACE:
        keeps = ((tr._("Keep as it is »"),),) if d.get("location") else ()  # a returned proposal that has one
        ctx.show(tr._("Where should it be? Send the location with the «📍 Send the location» button "
                      "(or 📎 → Location), or press «Skip»."),
                 request=Request("location", tr._("📍 Send the location"), keeps + ((tr._("Skip"), tr._("« Back")),)))
    elif st.step == PHOTO:
        ctx.show(tr._("Add a photo of the place, if you have one, or press «Skip»."),
                 ([keep] if d.get("photo") else []) + [[Button(tr._("Skip »"), SKIP)], nav_row(ctx)])
    elif st.step == PREVIEW:
        await _preview(ctx)


async def _preview(ctx: Ctx) -> None:
    tr, d = ctx.tr, ctx.state.data  # type: ignore[union-attr]
    c = await ctx.services.budget.get_campaign(int(d["campaign"]))
    yes, no = tr._("present"), tr._("absent")
    text = tr._("<b>Check your proposal</b>\n\nCampaign: {campaign}\nTitle: {title}\nCost: {cost}\n"
                "Location: {location}\nPhoto: {photo}\n\n{description}", campaign=title_of(ctx, c),
                title=esc(d["title"], 200), cost=tr.tenge(d["cost"]), location=yes if d.get("location") else no,
                photo=yes if d.get("photo") or d.get("photo_media") else no,
                description=esc(d["description"], DESCRIPTION_MAX))
    label = tr._("📨 Send again") if _is_edit(ctx) else tr._("📨 Send")
    ctx.show(text, [[Button(label, SEND)], nav_row(ctx)], photo=d.get("photo") or None)


async def handle(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    assert st is not None
    d = st.data
    if st.step == PLACE:
        await _place(ctx)
        return
    if ev.kind == "button" and ev.data == BACK:
        if st.step == TITLE:
            st.step, st.data = MENU, {}
            await _leave(ctx, int(d["campaign"]))
            return
        st.step = PREVIOUS[st.step]
        await prompt(ctx)
        return
    if ev.kind == "button" and ev.data == KEEP and st.step in (TITLE, DESCRIPTION, COST, PHOTO):
        key = {TITLE: "title", DESCRIPTION: "description", COST: "cost", PHOTO: "photo"}[st.step]
        if d.get(key):
            st.step = {TITLE: DESCRIPTION, DESCRIPTION: COST, COST: PLACE, PHOTO: PREVIEW}[st.step]
        await prompt(ctx)
        return
    if st.step in (TITLE, DESCRIPTION, COST):
        if ev.kind != "text" or not ev.text.strip():
            if ev.kind != "text":
                wrong_input(ctx)
            await prompt(ctx)
            return
        await {TITLE: _title, DESCRIPTION: _description, COST: _cost}[st.step](ctx, " ".join(ev.text.split()))
    elif st.step == PHOTO:
        if ev.kind == "photo" and ev.file_id:
            d["photo"], st.step = ev.file_id[:255], PREVIEW
            d.pop("photo_media", None)  # a new photo: kept as a media when the proposal is sent
        elif ev.kind == "button" and ev.data == SKIP:
            d["photo"], st.step = None, PREVIEW
            d.pop("photo_media", None)
        elif ev.kind == "document":
            ctx.show(tr._("Please send the picture as a photo, not as a file."))
        else:
            wrong_input(ctx)
        await prompt(ctx)
    elif st.step == PREVIEW:
        if ev.kind == "button" and ev.data == SEND:
            await _send(ctx)
        else:
            wrong_input(ctx)
            await prompt(ctx)


async def _title(ctx: Ctx, text: str) -> None:
    st = ctx.state
    if not TITLE_MIN <= len(text) <= TITLE_MAX or text.startswith("/"):
        ctx.show(ctx.tr.ngettext("The title should be from {min} to {max} character. Please write it again.",
                                 "The title should be from {min} to {max} characters. Please write it again.",
                                 TITLE_MAX, min=TITLE_MIN, max=TITLE_MAX))
        return
    st.data["title"], st.step = text, DESCRIPTION
    await prompt(ctx)


async def _description(ctx: Ctx, text: str) -> None:
    st = ctx.state
    if not DESCRIPTION_MIN <= len(text) <= DESCRIPTION_MAX:
        ctx.show(ctx.tr.ngettext("That is {n} character; please write from {min} to {max}.",
                                 "That is {n} characters; please write from {min} to {max}.", len(text),
                                 min=DESCRIPTION_MIN, max=DESCRIPTION_MAX))
        return
    st.data["description"], st.step = text, COST
    await prompt(ctx)


async def _cost(ctx: Ctx, text: str) -> None:
    st, tr = ctx.state, ctx.tr
    c = await ctx.services.budget.get_campaign(int(st.data["campaign"]))
    cost = parse_tenge(text)
    if cost is None or cost <= 0:
        ctx.show(tr._("I could not read a sum there. Please write it in whole tenge with digits, "
                      "for example «1 500 000»."))
        return
    if cost > c.budget_tenge:
        ctx.show(tr._("That is more than the whole campaign budget ({budget}). Please give a smaller sum.",
                      budget=tr.tenge(c.budget_tenge)))
        return
    st.data["cost"], st.step = cost, PLACE
    await prompt(ctx)


async def _place(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    if ev.kind == "location" and ev.location:
        st.data["location"], st.step = [float(ev.location[0]), float(ev.location[1])], PHOTO
        ctx.show(tr._("The location is saved."), request_over=True)
    elif ev.kind == "text" and ev.text.strip() == tr._("Keep as it is »") and st.data.get("location"):
        st.step = PHOTO
        ctx.show(tr._("The location is saved."), request_over=True)
    elif ev.kind == "text" and ev.text.strip() == tr._("Skip"):
        st.data["location"], st.step = None, PHOTO
        ctx.show(tr._("Without a location."), request_over=True)
    elif phone_flow.is_back(ctx):
        st.step = COST
        ctx.show(tr._("Back to the cost."), request_over=True)
    else:
        ctx.show(tr._("Please press «📍 Send the location» or «Skip» below."))
    await prompt(ctx)


async def _send(ctx: Ctx) -> None:
    st, tr, d = ctx.state, ctx.tr, ctx.state.data
    loc = d.get("location") or [None, None]
    photo = None
    if d.get("photo") or d.get("photo_media"):  # the photo kept from before, or a new one
        photo = d.get("photo_media") or await ctx.adopt("photo", d.get("photo"))
    values = {"title": d["title"], "description": d["description"], "cost_tenge": int(d["cost"]),
              "latitude": loc[0], "longitude": loc[1], "photo_media_id": photo}
    c = await ctx.services.budget.get_campaign(int(d["campaign"]))
    try:
        if d.get("edit"):
            p = await ctx.services.budget.resubmit_proposal(ctx.resident.id, int(d["edit"]), **values)
        else:
            p = await ctx.services.budget.submit_proposal(ctx.resident.id, c.id, values.pop("title"),
                                                          values.pop("cost_tenge"), **values)
    except InvalidProject as exc:
        await _invalid(ctx, exc.field)
        return
    except BudgetError as exc:
        st.step, st.data = MENU, {}
        if isinstance(exc, TransitionNotAllowed) or (d.get("edit") and isinstance(exc, WrongPhase)):
            text = tr._("This proposal can no longer be changed.")
        elif isinstance(exc, WrongPhase):
            text = proposals_closed_text(ctx, c, exc.phase)
        elif isinstance(exc, NotEligible):
            text = tr._("Only residents of the campaign's territory can propose projects.")
        else:
            text = tr._("This proposal is not among yours.")
        ctx.show(text, [[campaign_button(ctx, c.id)]])
        return
    ctx.effects.append(("budget_proposal", p.id))
    st.step, st.data = MENU, {"campaign": c.id}
    ctx.show(tr._("Thank you! Your proposal «{title}» is sent to the akimat for review. "
                  "You will be told the decision; its status is in «📋 My proposals».", title=esc(p.title, 200)),
             [[Button(tr._("📋 My proposals"), MY_PROPOSALS.pack(c.id)), campaign_button(ctx, c.id)]])


async def _invalid(ctx: Ctx, field: str) -> None:
    st = ctx.state
    st.step = {"title": TITLE, "cost_tenge": COST, "location": PLACE}.get(field, PREVIEW)
    ctx.show(ctx.tr._("Something in the proposal needs fixing. Please check this step again."))
    await prompt(ctx)


async def _leave(ctx: Ctx, campaign_id: int) -> None:
    """Back to the campaign's screen (bot/flows/budget.py shows it for a state on the campaign)."""
    ctx.state.data = {"campaign": campaign_id}  # type: ignore[union-attr]
    await ctx.flows.prompt(ctx)


async def my_proposals(ctx: Ctx, campaign_id: int) -> None:
    tr = ctx.tr
    c: BudgetCampaign | None = await load_campaign(ctx, campaign_id)
    if c is None:
        return
    mine = [p for p in await ctx.services.budget.my_proposals(ctx.resident.id) if p.campaign_id == c.id]
    rows: list[list[Button]] = []
    if not mine:
        lines = [tr._("You have not proposed projects in this campaign.")]
    else:
        lines = [tr._("<b>Your proposals</b>")]
        editable = phase(ctx, c) in (Phase.PROPOSALS, Phase.REVIEW) and ctx.services.budget.now() < c.review_until
        for p in mine[:10]:
            lines.append(f"\n• <b>{esc(p.title, 120)}</b>, {tr.tenge(p.cost_tenge)}: {status_name(ctx, p.status)}")
            if p.status_reason and p.status in (ProjectStatus.REJECTED.value, ProjectStatus.RETURNED.value):
                lines.append(tr._("Reason: {reason}", reason=esc(p.status_reason, 400)))
            if p.status == ProjectStatus.RETURNED.value and editable:
                rows.append([Button(tr._("✏️ Change: {title}", title=_cut(p.title, 30)), EDIT.pack(p.id))])
    if phase(ctx, c) is Phase.PROPOSALS:
        rows.append([Button(tr._("💡 Propose a project"), PROPOSE.pack(c.id))])
    rows.append([campaign_button(ctx, c.id)])
    ctx.show("\n".join(lines), rows)


def _cut(text: str, limit: int) -> str:
    """For a button label (plain text, not HTML)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def is_draft_button(data: str) -> bool:
    return data in DRAFT_BUTTONS

