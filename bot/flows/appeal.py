"""Filing an appeal: kind → category → territory → text → attachments → identity → preview → send.

The draft lives in the conversation state, so it survives a restart at any step.
"""

from __future__ import annotations

from bot.flows import consent, menu, phone, territory
from bot.flows.appeal_labels import KINDS, category_name, kind_name
from bot.flows.base import Button, Ctx, esc
from bot.flows.buttons import Choice, Kind, Token
from bot.flows.common import BACK, nav_row, wrong_input
from bot.flows.registry import ALL_STEPS, FlowSpec, MenuEntry
from bot.i18n import N_
from storage.state import State

NAME = "appeal"
KIND, CATEGORY, PLACE, PICK_PLACE, TEXT, FILES, IDENTITY, NAME_STEP, PHONE, PREVIEW = (
    "kind", "category", "place", "pick_place", "text", "files", "identity", "name", "phone", "preview")
FULL_PROCEDURE = ("complaint", "request")
MIN_TEXT, MAX_FILES = 20, 5
KIND_BUTTON = Kind("ak", Choice(tuple(KINDS)))
CATEGORY_BUTTON = Kind("ac", Token(32))  # a key of settings.appeals.categories
PREVIOUS = {CATEGORY: KIND, PLACE: CATEGORY, TEXT: PLACE, FILES: TEXT, IDENTITY: FILES, NAME_STEP: IDENTITY,
            PHONE: IDENTITY, PREVIEW: IDENTITY}


async def enter(ctx: Ctx) -> None:
    r = ctx.resident
    assert r is not None
    ctx.state = State(NAME, KIND, {"territory": r.territory_kato, "files": []})
    if consent.outdated(ctx):  # the consent text changed since they agreed: asked first, then the draft begins
        await consent.ask(ctx)
        return
    await prompt(ctx)


def _max_text(ctx: Ctx) -> int:
    return min(ctx.settings.limits.text_max, 3000)


async def prompt(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    assert st is not None
    d = st.data
    if st.step == KIND:
        lines = [tr._("What would you like to send?")] + [
            f"<b>{tr._(label)}</b>: {tr._(hint)}" for label, hint in KINDS.values()]
        ctx.show("\n".join(lines),
                 [[Button(tr._(KINDS[k][0]), KIND_BUTTON.pack(k))] for k in KINDS] + [nav_row(ctx, back=False)])
    elif st.step == CATEGORY:
        keys = ctx.settings.appeals.categories
        rows = [[Button(category_name(tr, k), CATEGORY_BUTTON.pack(k)) for k in keys[i:i + 2]]
                for i in range(0, len(keys), 2)]
        ctx.show(tr._("What is it about? Choose a topic."), rows + [nav_row(ctx)])
    elif st.step == PLACE:
        place = await ctx.services.territories.get(d["territory"]) if d.get("territory") else None
        name = esc(place.name(ctx.lang)) if place else "—"
        ctx.show(tr._("Where is the problem? Settlement: <b>{place}</b>", place=name),
                 [[Button(tr._("✅ Yes, here"), "ap:keep"), Button(tr._("📍 Another settlement"), "ap:change")],
                  nav_row(ctx)])
    elif st.step == PICK_PLACE:
        await territory.show(ctx)
    elif st.step == TEXT:
        ctx.show(tr.ngettext("Describe the problem in one message: what happened, where exactly, since when. "
                             "From {min} to {max} character.", "Describe the problem in one message: what "
                             "happened, where exactly, since when. From {min} to {max} characters.",
                             _max_text(ctx), min=MIN_TEXT, max=_max_text(ctx))
                 + "\n" + tr._("Or record a voice message instead."), [nav_row(ctx)])
    elif st.step == FILES:
        n = len(d.get("files", [])) + (1 if d.get("location") else 0)
        ctx.show(tr.ngettext("You can add up to {max} photo or document and a location (the 📎 button). "
                             "Added: {n}. When ready, press «Continue».", "You can add up to {max} photos or "
                             "documents and a location (the 📎 button). Added: {n}. When ready, press «Continue».",
                             MAX_FILES, max=MAX_FILES, n=n),
                 [[Button(tr._("Continue »"), "af:done")], nav_row(ctx)])
    elif st.step == IDENTITY:
        await _prompt_identity(ctx)
    elif st.step == NAME_STEP:
        ctx.show(tr._("How should the akimat address you? Type your first and last name."), [nav_row(ctx)])
    elif st.step == PHONE:
        ctx.show(tr._("A complaint or request needs a way to answer you: share your phone with the button below."),
                 request=phone.request(ctx, skip=False))
    elif st.step == PREVIEW:
        ctx.show(await preview_text(ctx), [
            [Button(tr._("📨 Send"), "as:send")],
            [Button(tr._("✏️ Edit the text"), "as:edit"), Button(tr._("✖ Cancel"), "cancel")]])


async def _prompt_identity(ctx: Ctx) -> None:
    st, tr, r = ctx.state, ctx.tr, ctx.resident
    assert st is not None and r is not None
    if st.data["kind"] in FULL_PROCEDURE:
        if not r.phone:
            st.step = PHONE
        elif not st.data.get("name") and not r.name:
            st.step = NAME_STEP
        else:
            st.data.setdefault("name", r.name)
            st.data["anonymous"] = False
            st.step = PREVIEW
        await prompt(ctx)
        return
    ctx.show(tr._("Sign it with your name, or send it anonymously?"),
             [[Button(tr._("✍️ With my name"), "ai:named"), Button(tr._("🕶 Anonymously"), "ai:anon")], nav_row(ctx)])


async def preview_text(ctx: Ctx) -> str:
    tr, d = ctx.tr, ctx.state.data  # type: ignore[union-attr]
    place = await ctx.services.territories.get(d["territory"]) if d.get("territory") else None
    signed = tr._("anonymously") if d.get("anonymous") else esc(d.get("name") or "—", 100)
    files = len(d.get("files", []))
    text = tr._("<b>Check your appeal</b>\n\nKind: {kind}\nTopic: {category}\nSettlement: {place}\nSigned: {signed}\n"
                "Attachments: {files}{location}\n\n{text}",
                kind=kind_name(tr, d["kind"]), category=category_name(tr, d["category"]),
                place=esc(place.name(ctx.lang)) if place else "—", signed=signed, files=files,
                location=" + 📍" if d.get("location") else "", text=esc(d["text"], _max_text(ctx)))
    if d.get("anonymous"):
        text += "\n\n" + anonymous_warning(ctx)
    return text


def anonymous_warning(ctx: Ctx) -> str:
    return ctx.tr._("⚠️ An anonymous appeal gets no formal answer (Administrative Procedural Code, art. 88); "
                    "the akimat reads it as information. In an emergency call 112 (police: 102).")


async def handle(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    assert st is not None
    if ctx.resident is None:
        ctx.state = None
        return
    if st.step == PICK_PLACE:
        picked = await territory.handle(ctx)
        if picked == BACK:
            st.step = PLACE
            await prompt(ctx)
        elif picked:
            st.data["territory"], st.step = picked, TEXT
            await prompt(ctx)
        return
    if st.step == PHONE:
        await _phone(ctx)
        return
    if ev.kind == "button" and ev.data == BACK and st.step in PREVIOUS:
        st.step = PREVIOUS[st.step]
        if st.step == IDENTITY and st.data.get("kind") in FULL_PROCEDURE:
            st.step = FILES
        await prompt(ctx)
        return
    step_handler = {KIND: _kind, CATEGORY: _category, PLACE: _place, TEXT: _text, FILES: _files,
                    IDENTITY: _identity, NAME_STEP: _name, PREVIEW: _preview}[st.step]
    await step_handler(ctx)


async def _kind(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    kind = KIND_BUTTON.value(ev.data) if ev.kind == "button" else None
    if kind is not None:
        st.data["kind"], st.step = kind, CATEGORY
    else:
        wrong_input(ctx)
    await prompt(ctx)


async def _category(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    category = CATEGORY_BUTTON.value(ev.data) if ev.kind == "button" else None
    if category is not None and category in ctx.settings.appeals.categories:
        st.data["category"], st.step = category, PLACE
    else:
        wrong_input(ctx)
    await prompt(ctx)


async def _place(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    if ev.kind == "button" and ev.data == "ap:keep" and st.data.get("territory"):
        st.step = TEXT
    elif ev.kind == "button" and ev.data in ("ap:change", "ap:keep"):
        st.step, st.data["node"], st.data["page"] = PICK_PLACE, None, 0
    else:
        wrong_input(ctx)
    await prompt(ctx)


async def _text(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    if ev.kind == "voice" and ev.file_id:  # the voice note is the appeal: the aide listens to it
        files = st.data.setdefault("files", [])
        files[:] = [f for f in files if f["kind"] != "voice"][:MAX_FILES - 1]
        files.insert(0, {"kind": "voice", "file_id": ev.file_id[:200]})
        st.data["text"], st.step = tr._("🎤 Voice message"), (PREVIEW if st.data.get("editing") else FILES)
        st.data.pop("editing", None)
        await prompt(ctx)
        return
    if ev.kind != "text":
        ctx.show(tr._("Please write the text of the appeal as a message. Photos can be added at the next step."))
        await prompt(ctx)
        return
    text = ev.text.strip()
    if len(text) < MIN_TEXT:
        ctx.show(tr.ngettext("That is too short for the akimat to act on. Please add what happened, where exactly "
                             "and since when (at least {min} character).", "That is too short for the akimat to act "
                             "on. Please add what happened, where exactly and since when (at least {min} characters).",
                             MIN_TEXT, min=MIN_TEXT))
        return
    if len(text) > _max_text(ctx):
        ctx.show(tr.ngettext("That is {n} character; the limit is {max}. Please shorten it, or send the "
                             "details as a document at the next step.", "That is {n} characters; the limit is {max}. "
                             "Please shorten it, or send the details as a document at the next step.", len(text),
                             max=_max_text(ctx)))
        return
    st.data["text"], st.step = text, (PREVIEW if st.data.get("editing") else FILES)
    st.data.pop("editing", None)
    await prompt(ctx)


async def _files(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    files = st.data.setdefault("files", [])
    if ev.kind in ("photo", "document", "voice") and ev.file_id:
        if len(files) >= MAX_FILES:
            ctx.show(tr._("That is the most attachments one appeal can take. Press «Continue»."))
        else:
            files.append({"kind": ev.kind, "file_id": ev.file_id[:200]})
    elif ev.kind == "location" and ev.location:
        st.data["location"] = list(ev.location)
    elif ev.kind == "button" and ev.data == "af:done":
        st.step = IDENTITY
    elif ev.kind == "text":
        ctx.show(tr._("The text is already saved. Send a photo, a document or a location, or press «Continue»."))
    else:
        wrong_input(ctx)
    await prompt(ctx)


async def _identity(ctx: Ctx) -> None:
    st, ev, r = ctx.state, ctx.event, ctx.resident
    if ev.kind == "button" and ev.data == "ai:anon":
        st.data["anonymous"], st.data["name"], st.step = True, None, PREVIEW
    elif ev.kind == "button" and ev.data == "ai:named":
        st.data["anonymous"] = False
        if r.name:
            st.data["name"], st.step = r.name, PREVIEW
        else:
            st.step = NAME_STEP
    else:
        wrong_input(ctx)
    await prompt(ctx)


async def _name(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    name = " ".join(ev.text.split()) if ev.kind == "text" else ""
    if not 2 <= len(name) <= 100 or name.startswith("/"):
        ctx.show(tr._("Please type your name as text, from 2 to 100 characters."))
        await prompt(ctx)
        return
    st.data["name"], st.data["anonymous"], st.step = name, False, PREVIEW
    if st.data["kind"] in FULL_PROCEDURE and not ctx.resident.phone:
        st.step = PHONE
    await prompt(ctx)


async def _phone(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    if ev.kind == "contact" and ev.contact is not None:
        if await phone.accept_contact(ctx, skip=False) == phone.VERIFIED:
            ctx.show(ctx.tr._("Thank you, the number is saved."), request_over=True)
            await _prompt_identity(ctx)
        return
    if phone.is_back(ctx):
        st.step = FILES
        ctx.show(ctx.tr._("Back to attachments."), request_over=True)
        await prompt(ctx)
        return
    ctx.show(ctx.tr._("Please press «📱 Share my number» below, so the messenger confirms the number is yours."),
             request=phone.request(ctx, skip=False))


async def _preview(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    if ev.kind == "button" and ev.data == "as:edit":
        st.step, st.data["editing"] = TEXT, True
        await prompt(ctx)
        return
    if not (ev.kind == "button" and ev.data == "as:send"):
        wrong_input(ctx)
        await prompt(ctx)
        return
    if consent.outdated(ctx):  # a draft begun before the consent text changed: the draft waits for the answer
        await consent.ask(ctx)
        return
    d = st.data
    files = [{"kind": f["kind"], "media_id": await ctx.adopt(f["kind"], f.get("file_id"))} for f in d.get("files", [])]
    appeal = await ctx.services.appeals.create(
        resident_id=ctx.resident.id, kind=d["kind"], category=d["category"], territory_kato=d["territory"],
        text=d["text"], language=ctx.lang, anonymous=bool(d.get("anonymous")), contact_name=d.get("name"),
        attachments=[f for f in files if f["media_id"]],
        location=tuple(d["location"]) if d.get("location") else None)
    ctx.state = None
    if appeal.anonymous:
        ctx.show(tr._("Thank you! Your message {number} has reached the akimat. It gets no formal answer.",
                      number=appeal.number))
    else:
        ctx.show(tr._("Thank you! Your appeal <b>{number}</b> has been sent to the akimat.\n"
                      "It is registered on {registered}; the answer is due by <b>{due}</b>. "
                      "You will see every step in «📂 My appeals».",
                      number=appeal.number, registered=tr.date(appeal.registered_on), due=tr.date(appeal.due_on)))
    ctx.effects.append(("appeal_created", appeal.id))
    await menu.show(ctx)


# the whole appeal is a draft: buttons of notices (other than meetings') do not take the person away from it
FLOW = FlowSpec(name=NAME, handle=handle, prompt=prompt, buttons=("ak:", "ac:", "ap:", "af:", "ai:", "as:"),
                drafts=frozenset({ALL_STEPS}), menu=MenuEntry("appeal", N_("📝 Write an appeal"), 10, enter))
