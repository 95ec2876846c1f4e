"""Consent asked again when the consent text changed (``[privacy] consent_version``).

A resident whose consent is of an older version can read everything as before (reports, meetings, results, their
appeals), but before filing an appeal, proposing a project or voting they see the consent text again with "I agree"
and "I do not agree". Agreeing records the new version and time and goes on where they were; declining is recorded
too (audit log, with the version and time), keeps their existing data and appeals as they are, and they are asked
again the next time they try.
"""

from __future__ import annotations

from bot.flows import menu, registration
from bot.flows.base import Ctx
from bot.flows.common import wrong_input
from bot.flows.registry import ALL_STEPS, FlowSpec
from storage.state import State

NAME = "consent"
ASK = "ask"
YES, NO = "consent:yes", "consent:no"  # the registration's buttons: the same words


def outdated(ctx: Ctx) -> bool:
    """The resident agreed to another version of the text than the one in force."""
    r = ctx.resident
    return r is not None and r.consent_version != ctx.settings.privacy.consent_version


async def ask(ctx: Ctx) -> None:
    """Put the current step aside (it is resumed after "I agree") and show the consent text."""
    st = ctx.state
    resume = {"flow": st.flow, "step": st.step, "data": st.data} if st is not None else None
    ctx.state = State(NAME, ASK, {"resume": resume})
    await prompt(ctx)


async def prompt(ctx: Ctx) -> None:
    # the registration's consent screen, so both always say the same; its "Back" (to the language) has no place here
    saved = ctx.state
    ctx.state = State(registration.NAME, registration.CONSENT, {})
    await registration.prompt(ctx)
    ctx.state = saved
    screen = ctx.screens[-1]
    screen.text = ctx.tr._("The consent text has changed. To send an appeal, propose a project or vote, please "
                           "read it and answer.") + "\n\n" + screen.text
    screen.buttons = [row for row in screen.buttons if any(b.data in (YES, NO) for b in row)]


async def handle(ctx: Ctx) -> None:
    ev, st, tr = ctx.event, ctx.state, ctx.tr
    assert st is not None
    if ctx.resident is None:
        ctx.state = None
        return
    version = ctx.settings.privacy.consent_version
    if ev.kind == "button" and ev.data == YES:
        ctx.resident = await ctx.services.residents.consent(ev.user_id, ev.chat_id, ctx.lang, version, ev.channel)
        ctx.show(tr._("Thank you, your consent is recorded."))
        resume = st.data.get("resume")
        ctx.state = State(resume["flow"], resume["step"], resume.get("data") or {}) if resume else None
        if ctx.state is None or not await ctx.flows.prompt(ctx):
            ctx.state = None
            await menu.show(ctx)
    elif ev.kind == "button" and ev.data == NO:
        await ctx.services.residents.decline_consent(ev.user_id, version, ev.channel)
        ctx.state = None
        await menu.show(ctx, tr._(
            "Your answer is recorded. Your data and appeals stay as they are, and you can still read reports, "
            "meetings and voting results. To send an appeal, propose a project or vote, you need to agree to the "
            "new text: we will ask again then. You can delete your data in «⚙️ Settings»."))
    else:
        wrong_input(ctx)
        await prompt(ctx)


# its buttons are the registration's ("consent:yes|no"); a step that waits for the answer is not trampled
FLOW = FlowSpec(name=NAME, handle=handle, prompt=prompt, drafts=frozenset({ALL_STEPS}))
