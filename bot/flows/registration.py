"""Registration: language → consent to personal data → territory → optional phone → main menu."""

from __future__ import annotations

from bot.flows import deeplinks, menu, my_data, phone, territory
from bot.flows.base import Button, Ctx
from bot.flows.buttons import Choice, Kind
from bot.flows.common import BACK, LANGUAGE, nav_row, wrong_input
from bot.flows.registry import ALL_STEPS, FlowSpec
from bot.i18n import N_
from storage.state import State

NAME = "registration"
LANG, CONSENT, TERRITORY, PHONE = "language", "consent", "territory", "phone"
GREETING = N_("Welcome to Qatysu! Choose a language.")
CONSENT_ANSWER = Kind("consent", Choice(("yes", "no")))


async def enter(ctx: Ctx, payload: str = "") -> None:
    ctx.state = State(NAME, LANG, {"payload": payload[:64]} if payload else {})
    await prompt(ctx)


async def prompt(ctx: Ctx) -> None:
    step = ctx.state.step  # type: ignore[union-attr]
    if step == LANG:
        kk, ru = ctx.i18n("kk"), ctx.i18n("ru")
        ctx.show(kk._(GREETING) + "\n" + ru._(GREETING),
                 [[Button(kk._("Kazakh"), LANGUAGE.pack("kk")), Button(ru._("Russian"), LANGUAGE.pack("ru"))]])
    elif step == CONSENT:
        ctx.show(ctx.tr._(
            "<b>Consent to the processing of personal data</b>\n\n"
            "To answer you, the akimat keeps your account ID in the messenger, your language and your settlement; "
            "if you share them, also your phone number and name. They are used only for your appeals, votes, "
            "questions and notices and are stored in Kazakhstan. They are not given to third parties except as the law "
            "provides: appeals are registered in the eOtinish system and may be forwarded to the body competent "
            "to answer them.") + " " + my_data.vote_code(ctx) + "\n\n" + ctx.tr._(
            "You can see your data in Settings and withdraw your consent at any time by deleting your data there. "
            "After that the akimat keeps only your appeals as official records (the text, the name you gave and "
            "the answers), not linked to your account or phone; your votes stay counted and your project "
            "proposals stay, without anything that leads to you.") + " " + my_data.kept_appeals(ctx) + "\n\n"
            + ctx.tr._("Text version: {version}. Do you agree?", version=ctx.settings.privacy.consent_version),
            [[Button(ctx.tr._("✅ I agree"), CONSENT_ANSWER.pack("yes")),
              Button(ctx.tr._("I do not agree"), CONSENT_ANSWER.pack("no"))],
             nav_row(ctx)])
    elif step == TERRITORY:
        await territory.show(ctx)
    elif step == PHONE:
        ctx.show(ctx.tr._(
            "Share your phone number with the button below. The akimat needs it to answer your complaints "
            "and requests, and it is needed for voting in the People's Budget. You can skip this now."),
            request=phone.request(ctx))


async def handle(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    assert st is not None
    if ev.kind == "button" and ev.data == BACK and st.step in (CONSENT,):
        st.step = LANG
        await prompt(ctx)
        return
    if st.step == LANG:
        if ev.kind == "button" and (lang := LANGUAGE.value(ev.data)) is not None:
            st.data["lang"] = lang
            ctx.use_language(st.data["lang"])
            st.step = CONSENT
        else:
            wrong_input(ctx)
        await prompt(ctx)
    elif st.step == CONSENT:
        answer = CONSENT_ANSWER.value(ev.data) if ev.kind == "button" else None
        if answer == "yes":
            ctx.resident = await ctx.services.residents.consent(
                ev.user_id, ev.chat_id, ctx.lang, ctx.settings.privacy.consent_version, ev.channel)
            st.step, st.data["node"], st.data["page"] = TERRITORY, None, 0
        elif answer == "no":
            ctx.show(ctx.tr._("Without consent the bot cannot keep your appeals or votes. "
                              "If you change your mind, press «I agree»."))
        else:
            wrong_input(ctx)
        await prompt(ctx)
    elif st.step == TERRITORY:
        picked = await territory.handle(ctx)
        if picked == BACK:
            st.step = CONSENT
            await prompt(ctx)
        elif picked:
            await ctx.services.residents.set_territory(ev.user_id, picked, ev.channel)
            chosen = await ctx.services.territories.get(picked)
            # "back" from the phone step shows the list the settlement was chosen from
            st.data["node"], st.data["page"] = (chosen.parent_kato if chosen else None), 0
            st.step = PHONE
            await prompt(ctx)
    elif st.step == PHONE:
        await _phone(ctx)


async def _phone(ctx: Ctx) -> None:
    st, ev, tr = ctx.state, ctx.event, ctx.tr
    assert st is not None
    if ev.kind == "contact" and ev.contact is not None:
        if await phone.accept_contact(ctx) != phone.RETRY:  # taken by another account: go on without it
            await finish(ctx)
    elif ev.kind == "text" and ev.text.strip() == tr._("Skip"):
        await finish(ctx)
    elif phone.is_back(ctx):
        st.step = TERRITORY
        ctx.show(tr._("Let's choose the settlement again."), request_over=True)
        await prompt(ctx)
    elif ev.kind == "text":
        ctx.show(tr._("Please do not type the number: press «📱 Share my number», so the messenger "
                      "confirms it is yours. Or press «Skip»."), request=phone.request(ctx))
    else:
        wrong_input(ctx)
        await prompt(ctx)


async def finish(ctx: Ctx) -> None:
    payload = (ctx.state.data.get("payload") if ctx.state else "") or ""
    ctx.resident = await ctx.services.residents.complete_registration(ctx.event.user_id, ctx.event.channel)
    ctx.state = None
    ctx.show(ctx.tr._("Registration is complete. Thank you!"), request_over=True)
    if payload:
        await deeplinks.route(ctx, payload)
    else:
        await menu.show(ctx)


# every step is a draft: nothing else is open to someone who has not finished registration
FLOW = FlowSpec(name=NAME, handle=handle, prompt=prompt, buttons=("lang:", "consent:"),
                drafts=frozenset({ALL_STEPS}))
