"""Settings: language, territory, notifications, "my data" and "delete my data"."""

from __future__ import annotations

from bot.flows import menu, territory
from bot.flows.base import Button, Ctx, esc
from bot.flows.budget_common import moved_during_voting
from bot.flows.common import BACK, nav_row, wrong_input
from bot.flows.common import LANGUAGE as LANGUAGE_BUTTON
from bot.flows.my_data import kept_appeals, my_data_text
from bot.flows.registry import Command, FlowSpec, MenuEntry
from bot.i18n import N_
from storage.state import State

NAME = "settings"
MAIN, LANGUAGE, TERRITORY, DELETE = "main", "language", "territory", "delete"


async def enter(ctx: Ctx) -> None:
    ctx.state = State(NAME, MAIN, {})
    await prompt(ctx)


async def prompt(ctx: Ctx) -> None:
    st, tr, r = ctx.state, ctx.tr, ctx.resident
    assert st is not None and r is not None
    if st.step == MAIN:
        place = await ctx.services.territories.get(r.territory_kato) if r.territory_kato else None
        notif = tr._("on") if r.notifications else tr._("off")
        ctx.show(tr._("<b>Settings</b>\n\nLanguage: {language}\nSettlement: {place}\nNotifications: {notif}",
                      language=tr._("Kazakh") if ctx.lang == "kk" else tr._("Russian"),
                      place=esc(place.name(ctx.lang)) if place else "—", notif=notif), [
            [Button(tr._("🌐 Language"), "s:lang"), Button(tr._("📍 Settlement"), "s:terr")],
            [Button(tr._("🔕 Turn notifications off") if r.notifications else tr._("🔔 Turn notifications on"),
                    "s:notif")],
            [Button(tr._("📄 My data"), "s:data"), Button(tr._("🗑 Delete my data"), "s:del")],
            [Button(tr._("« Main menu"), BACK)],
        ])
    elif st.step == LANGUAGE:
        ctx.show(tr._("Choose a language."), [
            [Button(ctx.i18n("kk")._("Kazakh"), LANGUAGE_BUTTON.pack("kk")),
             Button(ctx.i18n("ru")._("Russian"), LANGUAGE_BUTTON.pack("ru"))],
            nav_row(ctx, cancel=False)])
    elif st.step == TERRITORY:
        await territory.show(ctx)
    elif st.step == DELETE:
        ctx.show(tr._("Delete all your personal data? Your account ID, phone, name, settlement and settings will be "
                      "erased, and so will your questions, meeting answers and report ratings; messages not yet "
                      "sent to you will be cancelled. Your appeals stay with the akimat as official records (the "
                      "text, the name you gave and the answers), no longer linked to your account or phone. Your "
                      "votes stay counted and your proposals stay, but nothing leads from them to you.")
                 + " " + kept_appeals(ctx) + "\n\n" + tr._("This cannot be undone."),
                 [[Button(tr._("Yes, delete"), "s:del:yes"), Button(tr._("No, keep"), BACK)]])


async def handle(ctx: Ctx) -> None:
    st, ev = ctx.state, ctx.event
    assert st is not None
    if ctx.resident is None:  # data deleted meanwhile
        ctx.state = None
        return
    if st.step == TERRITORY:
        picked = await territory.handle(ctx)
        if picked == BACK:
            st.step = MAIN
            await prompt(ctx)
        elif picked:
            ctx.resident = await ctx.services.residents.set_territory(ev.user_id, picked, ev.channel)
            st.step = MAIN
            ctx.show("\n\n".join([ctx.tr._("Saved."), *await moved_during_voting(ctx)]))
            await prompt(ctx)
        return
    if ev.kind != "button":
        wrong_input(ctx)
        await prompt(ctx)
        return
    if ev.data == BACK:
        if st.step == MAIN:
            ctx.state = None
            await menu.show(ctx)
            return
        st.step = MAIN
    elif st.step == MAIN and ev.data == "s:lang":
        st.step = LANGUAGE
    elif st.step == MAIN and ev.data == "s:terr":
        st.step, st.data["node"], st.data["page"] = TERRITORY, None, 0
    elif st.step == MAIN and ev.data == "s:notif":
        ctx.resident = await ctx.services.residents.set_notifications(ev.user_id, not ctx.resident.notifications,
                                                                      ev.channel)
    elif st.step == MAIN and ev.data == "s:data":
        ctx.show(await my_data_text(ctx))
    elif st.step == MAIN and ev.data == "s:del":
        st.step = DELETE
    elif st.step == LANGUAGE and (lang := LANGUAGE_BUTTON.value(ev.data)) is not None:
        ctx.resident = await ctx.services.residents.set_language(ev.user_id, lang, ev.channel)
        ctx.use_language(lang)
        st.step = MAIN
    elif st.step == DELETE and ev.data == "s:del:yes":
        await ctx.services.residents.delete_personal_data(ev.user_id, ev.channel)
        ctx.resident, ctx.state = None, None
        ctx.show(ctx.tr._("Your data has been deleted. The akimat keeps only your appeals as official records, not "
                          "linked to your account. If you want to come back, send /start."))
        return
    else:
        wrong_input(ctx)
    await prompt(ctx)


FLOW = FlowSpec(name=NAME, handle=handle, prompt=prompt, buttons=("s:",),
                menu=MenuEntry("settings", N_("⚙️ Settings"), 60, enter),
                commands=(Command("settings", enter, N_("Settings"), order=30),))
