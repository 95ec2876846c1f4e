"""A secretary's notice to many residents: audience (a territory and everything below it, or those who said they
will come to a meeting; then everyone, or only the Kazakh or only the Russian readers) → the text in Kazakh →
in Russian (or one text for everyone) → an optional photo or document → a preview exactly as residents will
get it, one per language, with the recipient count → send. Progress then shows in a message of its own with a
"⏹ Stop" button (bot/delivery/broadcasts.py keeps it up to date); its texts are in
bot/flows/broadcast_progress.py.

Secretaries and admins only (/broadcast); the draft lives in the conversation state.
"""

from __future__ import annotations

from bot.flows import meeting_texts, staff_pick, territory
from bot.flows.base import Button, Ctx, Screen, esc
from bot.flows.broadcast_progress import STOP, duration, stop_pressed
from bot.flows.broadcast_progress import progress_buttons as progress_buttons
from bot.flows.broadcast_progress import progress_language as progress_language
from bot.flows.broadcast_progress import progress_text as progress_text
from bot.flows.buttons import Choice, Int, Kind
from bot.flows.common import BACK, nav_row, wrong_input
from bot.flows.registry import ALL_STEPS, Anywhere, Command, FlowSpec, Reach
from bot.i18n import N_, Translator
from bot.services.broadcasts import (
    CAPTION_LIMIT,
    LANGUAGES,
    Audience,
    BroadcastService,
    EmptyAudience,
    NotAllowed,
    OutsideTerritory,
    payload_for,
)
from bot.services.roles import Role
from storage.state import State

NAME = "broadcast"
COMMAND = "broadcast"
PREFIX = "bc:"
MEETING_BUTTON = Kind("bc:m", Int())
LANGUAGE_BUTTON = Kind("bc:l", Choice(("all", *LANGUAGES)))
STARTED_EFFECT = "broadcast_started"
WHO, PICK_PLACE, MEETING, LANG, TEXT_KK, TEXT_RU, MEDIA, PREVIEW = (
    "who", "pick_place", "meeting", "lang", "text_kk", "text_ru", "media", "preview")
TEXT_MAX = 3500  # what a secretary types; with the heading it stays within Telegram's 4096
ASK_PLACE = N_("Choose the territory: the notice goes to its residents and to everyone in the places below it. "
               "Open a place with ›, choose it with ✅, or type part of its name.")


def _svc(ctx: Ctx) -> BroadcastService:
    return ctx.services.broadcasts


async def _allowed(ctx: Ctx) -> bool:
    if await _svc(ctx).may_broadcast(ctx.event.user_id):
        return True
    ctx.show(ctx.tr._("Sorry, only maslikhat secretaries and akimat administrators can send notices to residents."))
    return False


async def enter(ctx: Ctx) -> None:
    if not await _allowed(ctx):
        return
    ctx.state = State(NAME, WHO, {})
    await prompt(ctx)


# -- the notice as residents read it -------------------------------------------------------------------------


def heading(tr: Translator) -> str:
    return tr._("📢 <b>Notice</b>")


def compose(tr: Translator, raw: str) -> str:
    """The notice as residents read it: a heading, then the secretary's text (escaped)."""
    return f"{heading(tr)}\n\n{esc(raw, TEXT_MAX)}"



# -- the conversation ----------------------------------------------------------------------------------------


def _audience(d: dict) -> Audience:
    if d.get("kind") == "meeting":
        return Audience(None, d.get("language"), d.get("meeting"), only_coming=True)
    return Audience(d.get("territory"), d.get("language"))


def _texts(ctx: Ctx) -> tuple[str | None, str | None]:
    d = ctx.state.data  # type: ignore[union-attr]
    kk = compose(ctx.i18n("kk"), d["text_kk"]) if d.get("text_kk") else None
    ru = compose(ctx.i18n("ru"), d["text_ru"]) if d.get("text_ru") else None
    return kk, ru


async def _where(ctx: Ctx) -> str:
    d = ctx.state.data  # type: ignore[union-attr]
    if d.get("kind") == "meeting":
        m = await _svc(ctx).meeting(int(d["meeting"]))
        return esc(await _meeting_label(ctx, m.kind, m.territory_kato, m.starts_at)) if m else "—"
    place = await ctx.services.territories.get(d["territory"]) if d.get("territory") else None
    return esc(place.name(ctx.lang)) if place else "—"


async def _meeting_label(ctx: Ctx, kind: str, kato: str, starts_at) -> str:
    place = await ctx.services.territories.get(kato)
    return (f"{meeting_texts.kind_name(ctx.tr, kind)}, {place.name(ctx.lang) if place else kato}, "
            f"{ctx.tr.datetime(starts_at)}")


async def prompt(ctx: Ctx) -> None:
    st, tr = ctx.state, ctx.tr
    assert st is not None
    d = st.data
    if st.step == WHO:
        ctx.show(tr._("📢 <b>A notice to residents</b>\n\nWho should get it?"), [
            [Button(tr._("🏘 Residents of a territory"), "bc:w:t")],
            [Button(tr._("📅 Those coming to a meeting"), "bc:w:m")],
            nav_row(ctx, back=False)])
    elif st.step == PICK_PLACE:
        d["ask"] = ASK_PLACE
        await staff_pick.limit_picker(ctx, Role.SECRETARY)
        await territory.show(ctx)
    elif st.step == MEETING:
        await _prompt_meeting(ctx)
    elif st.step == LANG:
        await _prompt_language(ctx)
    elif st.step == TEXT_KK:
        ctx.show(tr.ngettext("Write the notice in <b>Kazakh</b> as one message, up to {max} character.",
                             "Write the notice in <b>Kazakh</b> as one message, up to {max} characters.", TEXT_MAX,
                             max=TEXT_MAX), [nav_row(ctx)])
    elif st.step == TEXT_RU:
        if d.get("language") is None and d.get("text_kk"):
            ctx.show(tr._("Now the same notice in <b>Russian</b>. Or press the button to send the Kazakh text to "
                          "everyone."), [[Button(tr._("One text for everyone"), "bc:one")], nav_row(ctx)])
        else:
            ctx.show(tr.ngettext("Write the notice in <b>Russian</b> as one message, up to {max} character.",
                                 "Write the notice in <b>Russian</b> as one message, up to {max} characters.",
                                 TEXT_MAX, max=TEXT_MAX), [nav_row(ctx)])
    elif st.step == MEDIA:
        if d.get("media_kind"):
            what = tr._("a photo") if d["media_kind"] == "photo" else tr._("a document")
            ctx.show(tr._("Attached: {what}. Send another photo or document to replace it, or continue.", what=what),
                     [[Button(tr._("Continue »"), "bc:next")], [Button(tr._("🗑 Remove the attachment"), "bc:rm")],
                      nav_row(ctx)])
        else:
            ctx.show(tr._("You can add one photo or document (📎) to the notice, or continue without it."),
                     [[Button(tr._("Continue without an attachment »"), "bc:next")], nav_row(ctx)])
    elif st.step == PREVIEW:
        await _preview(ctx)


async def _prompt_meeting(ctx: Ctx) -> None:
    tr = ctx.tr
    meetings = await _svc(ctx).upcoming_meetings(within=await staff_pick.root(ctx, Role.SECRETARY))
    if not meetings:
        ctx.show(tr._("There are no upcoming meetings."))
        ctx.state.step = WHO  # type: ignore[union-attr]
        await prompt(ctx)
        return
    rows = [[Button(f"{await _meeting_label(ctx, m.kind, m.territory_kato, m.starts_at)} · ✅ {m.coming}",
                    MEETING_BUTTON.pack(m.id))] for m in meetings]
    ctx.show(tr._("Choose the meeting. The notice goes to those who said they will come (✅ how many)."),
             rows + [nav_row(ctx)])


async def _prompt_language(ctx: Ctx) -> None:
    tr, d = ctx.tr, ctx.state.data  # type: ignore[union-attr]
    counts = await _svc(ctx).count_by_language(_audience({**d, "language": None}))
    total = sum(counts.values())
    where = await _where(ctx)
    if total == 0:
        ctx.show(tr._("{where}: nobody can get a notice there yet (no registered residents with notifications "
                      "on). Please go back and choose other recipients.", where=where), [nav_row(ctx)])
        return
    n = tr.number
    ctx.show(tr._("{where}: {total} recipients (read in Kazakh: {kk}, in Russian: {ru}).\n"
                  "Who of them should get the notice?", where=where, total=n(total), kk=n(counts["kk"]),
                  ru=n(counts["ru"])),
             [[Button(tr._("👥 Everyone ({n})", n=n(total)), LANGUAGE_BUTTON.pack("all"))],
              [Button(tr._("Only those who read Kazakh ({n})", n=n(counts["kk"])), LANGUAGE_BUTTON.pack("kk"))],
              [Button(tr._("Only those who read Russian ({n})", n=n(counts["ru"])), LANGUAGE_BUTTON.pack("ru"))],
              nav_row(ctx)])


async def _preview(ctx: Ctx) -> None:
    tr, d = ctx.tr, ctx.state.data  # type: ignore[union-attr]
    counts = await _svc(ctx).count_by_language(_audience(d))
    total = sum(counts.values())
    if total == 0:
        ctx.show(tr._("Nobody can get this notice now. Please choose other recipients."))
        ctx.state.step = LANG  # type: ignore[union-attr]
        await prompt(ctx)
        return
    kk, ru = _texts(ctx)
    payloads = {lang: payload_for(kk, ru, d.get("media_kind"), d.get("file_id"), lang) for lang in LANGUAGES}
    groups = [lang for lang in LANGUAGES if counts[lang]]
    n = tr.number
    if len(groups) == 2 and payloads["kk"] == payloads["ru"]:
        intros = {"kk": tr._("Preview. Everyone ({n}) will get this:", n=n(total))}
    else:
        intros = {"kk": tr._("Preview. Residents who read Kazakh ({n}) will get this:", n=n(counts["kk"])),
                  "ru": tr._("Preview. Residents who read Russian ({n}) will get this:", n=n(counts["ru"]))}
    for lang in groups:
        if lang in intros:
            ctx.show(intros[lang])
            p = payloads[lang]
            ctx.screens.append(Screen(p["text"], photo=p.get("photo"), document=p.get("document")))
    eta = total / ctx.settings.delivery.overall_per_second
    ctx.show(tr._("Send the notice? Recipients: {n}. Sending takes {time}.", n=n(total), time=duration(tr, eta)),
             [[Button(tr._("✅ Send"), "bc:go")], nav_row(ctx)])


PREVIOUS = {MEETING: WHO, TEXT_KK: LANG, PREVIEW: MEDIA}


def _back(d: dict, step: str) -> str:
    if step == LANG:
        return MEETING if d.get("kind") == "meeting" else PICK_PLACE
    if step == TEXT_RU:
        return LANG if d.get("language") == "ru" else TEXT_KK
    if step == MEDIA:
        return TEXT_KK if d.get("language") == "kk" else TEXT_RU
    return PREVIOUS.get(step, WHO)


async def handle(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    assert st is not None
    if not await _allowed(ctx):  # the role may have been taken meanwhile
        ctx.state = None
        return
    if st.step == PICK_PLACE:
        await staff_pick.limit_picker(ctx, Role.SECRETARY)
        picked = await territory.handle(ctx)
        if picked == BACK:
            st.step = WHO
            await prompt(ctx)
        elif picked:
            st.data.update(kind="territory", territory=picked, language=None)
            st.step = LANG
            await prompt(ctx)
        return
    if ev.kind == "button" and ev.data == BACK:
        st.step = _back(st.data, st.step)
        await prompt(ctx)
        return
    await {WHO: _who, MEETING: _meeting, LANG: _language, TEXT_KK: _text, TEXT_RU: _text, MEDIA: _media,
           PREVIEW: _confirm}[st.step](ctx)


async def _who(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    if ev.kind == "button" and ev.data == "bc:w:t":
        st.step, st.data["node"], st.data["page"] = PICK_PLACE, None, 0
    elif ev.kind == "button" and ev.data == "bc:w:m":
        st.step = MEETING
    else:
        wrong_input(ctx)
    await prompt(ctx)


async def _meeting(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    ref = MEETING_BUTTON.value(ev.data) if ev.kind == "button" else None
    if ref is not None:
        mine = await staff_pick.root(ctx, Role.SECRETARY)
        upcoming = {m.id for m in await _svc(ctx).upcoming_meetings(limit=1000, within=mine)}
        if ref in upcoming:
            st.data.update(kind="meeting", meeting=ref, language=None)
            st.step = LANG
            await prompt(ctx)
            return
        ctx.show(ctx.tr._("This meeting has passed or was cancelled. Please choose another."))
    else:
        wrong_input(ctx)
    await prompt(ctx)


async def _language(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    choice = LANGUAGE_BUTTON.value(ev.data) if ev.kind == "button" else None
    if choice is None:
        wrong_input(ctx)
        await prompt(ctx)
        return
    language = None if choice == "all" else choice
    counts = await _svc(ctx).count_by_language(_audience({**st.data, "language": language}))
    if not sum(counts.values()):
        ctx.show(ctx.tr._("Nobody there reads in this language. Please choose another option."))
        await prompt(ctx)
        return
    st.data["language"] = language
    if language is not None:  # only the text of that language is sent
        st.data.pop("text_ru" if language == "kk" else "text_kk", None)
    st.step = TEXT_RU if language == "ru" else TEXT_KK
    await prompt(ctx)


async def _text(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    d = st.data
    if st.step == TEXT_RU and ev.kind == "button" and ev.data == "bc:one" and d.get("language") is None \
            and d.get("text_kk"):
        d.pop("text_ru", None)
        st.step = MEDIA
        await prompt(ctx)
        return
    if ev.kind != "text" or not ev.text.strip():
        if ev.kind in ("photo", "document"):
            ctx.show(tr._("First the text, please; a photo or document can be added at the next step."))
        else:
            wrong_input(ctx)
        await prompt(ctx)
        return
    text = ev.text.strip()
    if len(text) > TEXT_MAX:
        ctx.show(tr.ngettext("The text is {n} character long; the limit is {max}. Please shorten it.",
                             "The text is {n} characters long; the limit is {max}. Please shorten it.", len(text),
                             max=TEXT_MAX))
        await prompt(ctx)
        return
    if st.step == TEXT_KK:
        d["text_kk"] = text
        st.step = TEXT_RU if d.get("language") is None else MEDIA
    else:
        d["text_ru"] = text
        st.step = MEDIA
    await prompt(ctx)


async def _media(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    d = st.data
    if ev.kind in ("photo", "document") and ev.file_id and len(ev.file_id) <= 255:
        longest = max((len(t) for t in _texts(ctx) if t), default=0)
        if longest > CAPTION_LIMIT:
            ctx.show(tr.ngettext("With a photo or document the text can be at most {max} character long (Telegram's "
                                 "limit for a caption); this one is {n}. Go back and shorten it, or send the notice "
                                 "without an attachment.", "With a photo or document the text can be at most {max} "
                                 "characters long (Telegram's limit for a caption); this one is {n}. Go back and "
                                 "shorten it, or send the notice without an attachment.", CAPTION_LIMIT,
                                 max=CAPTION_LIMIT, n=longest))
            await prompt(ctx)
            return
        d["media_kind"], d["file_id"] = ev.kind, ev.file_id
        st.step = PREVIEW
    elif ev.kind == "button" and ev.data == "bc:next":
        st.step = PREVIEW
    elif ev.kind == "button" and ev.data == "bc:rm":
        d.pop("media_kind", None)
        d.pop("file_id", None)
    else:
        wrong_input(ctx)
    await prompt(ctx)


async def _confirm(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    if not (ev.kind == "button" and ev.data == "bc:go"):
        wrong_input(ctx)
        await prompt(ctx)
        return
    d, svc = st.data, _svc(ctx)
    kk, ru = _texts(ctx)
    try:
        kind = d.get("media_kind")
        media_id = await ctx.adopt(kind, d.get("file_id")) if kind else None  # kept under our id from now on
        b = await svc.create(ev.user_id, _audience(d), text_kk=kk, text_ru=ru, media_kind=kind if media_id else None,
                             media_id=media_id, progress_chat_id=ev.chat_id, ui_language=ctx.lang)
        b = await svc.start(b.id, ev.user_id)
    except EmptyAudience:
        ctx.show(tr._("Nobody can get this notice now. Please choose other recipients."))
        st.step = WHO
        await prompt(ctx)
        return
    except OutsideTerritory:
        ctx.show(tr._("You can send notices only to the residents of your territory. Please choose other "
                      "recipients."))
        st.step = WHO
        await prompt(ctx)
        return
    except NotAllowed:
        ctx.state = None
        ctx.show(tr._("Sorry, only maslikhat secretaries and akimat administrators can send notices to residents."))
        return
    ctx.state = None
    ctx.effects.append((STARTED_EFFECT, b.id))
    ctx.show(tr._("📨 Notice №{id} is on its way to {n} residents. Its progress is shown below; you can stop it "
                  "there.", id=b.id, n=tr.number(b.total)))


FLOW = FlowSpec(
    name=NAME, handle=handle, prompt=prompt, buttons=(PREFIX,), drafts=frozenset({ALL_STEPS}), staff=True,
    anywhere=(Anywhere(STOP, stop_pressed, Reach.ALWAYS, registered=False),),
    # who may send is checked by enter (secretaries and admins); the command menu lists it for secretaries
    commands=(Command(COMMAND, enter, N_("Send a notice to residents"), (), (Role.SECRETARY,), 150,
                      registered=False),))
