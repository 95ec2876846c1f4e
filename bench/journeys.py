"""Realistic resident journeys, written once against a Driver and run in-process (bench.dispatch) and through
the sandbox over HTTP (bench.e2e).

A journey presses buttons by their callback data and types what a resident types. Each step names what the
answer must contain (``expect``: the start of a translated text, so the journeys follow the catalogs); the
in-process driver checks it, the sandbox driver waits for it. A journey that goes wrong fails the benchmark
instead of measuring something else.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.i18n import I18n, Translator

Button = dict[str, Any]
GREETING = "Welcome to Qatysu! Choose a language."
CONSENT = (
    "<b>Consent to the processing of personal data</b>\n\n"
    "To answer you, the akimat keeps your account ID in the messenger, your language and your settlement; if you "
    "share them, also your phone number and name. They are used only for your appeals, votes, questions and notices "
    "and are stored in Kazakhstan. They are not given to third parties except as the law provides: appeals are "
    "registered in the eOtinish system and may be forwarded to the body competent to answer them.")
WHERE = "Where do you live? Choose your settlement or type part of its name."
PHONE = ("Share your phone number with the button below. The akimat needs it to answer your complaints "
         "and requests, and it is needed for voting in the People's Budget. You can skip this now.")
MENU = "Main menu. What would you like to do?"
SETTINGS = "<b>Settings</b>\n\nLanguage: {language}\nSettlement: {place}\nNotifications: {notif}"
MY_APPEALS = "Your appeals, newest first. Choose one to see its progress:"
KIND = "What would you like to send?"
CATEGORY = "What is it about? Choose a topic."
PLACE = "Where is the problem? Settlement: <b>{place}</b>"
TEXT = ("Describe the problem in one message: what happened, where exactly, since when. "
        "From {min} to {max} characters.")
FILES = ("You can add up to {max} photos or documents and a location (📎 in Telegram). "
         "Added: {n}. When ready, press «Continue».")
PREVIEW = ("<b>Check your appeal</b>\n\nKind: {kind}\nTopic: {category}\nSettlement: {place}\nSigned: {signed}\n"
           "Attachments: {files}{location}\n\n{text}")
APPEAL_TEXT = {"kk": "Көшедегі шамдар үш күннен бері жанбайды, кешке балалар мектептен қараңғыда қайтады.",
               "ru": "Третий день не горят фонари на улице, дети вечером возвращаются из школы в темноте."}


def head(text: str, n: int = 18) -> str:
    """The start of a translated text as a person sees it: no tags, no placeholders."""
    plain = re.sub(r"<[^>]+>", "", text.split("{", 1)[0])
    return plain.strip()[:n]


@dataclass
class Person:
    user_id: int
    lang: str
    tr: Translator
    first_name: str = "Тұрғын"
    updates: int = 0

    def t(self, msgid: str) -> str:
        text = self.tr._(msgid)
        if text == msgid:
            raise LookupError(f"no {self.lang} translation of {msgid[:60]!r}: the journeys are out of date")
        return head(text)

    @property
    def phone(self) -> str:
        return f"+7701{self.user_id % 10_000_000:07d}"


class Driver(Protocol):
    """One update in, and back when the bot has answered it (its answer contains ``expect``)."""

    async def command(self, p: Person, text: str, expect: str) -> None: ...

    async def text(self, p: Person, text: str, expect: str) -> None: ...

    async def press(self, p: Person, data: str, expect: str) -> None: ...

    async def contact(self, p: Person, expect: str) -> None: ...

    async def photo(self, p: Person, expect: str) -> None: ...

    def buttons(self, p: Person) -> list[Button]:
        """Inline buttons on the bot's newest messages in the person's chat, newest first."""
        ...


def find(d: Driver, p: Person, pred: Callable[[Button], bool]) -> str | None:
    return next((b["callback_data"] for b in d.buttons(p) if b.get("callback_data") and pred(b)), None)


async def registration(d: Driver, p: Person) -> None:
    await d.command(p, "/start", expect=p.t(GREETING))  # the greeting is in both languages
    await d.press(p, f"lang:{p.lang}", expect=p.t(CONSENT))
    await d.press(p, "consent:yes", expect=p.t(WHERE))
    for _ in range(8):  # down the tree: oblast › district › okrug › village
        pick = find(d, p, lambda b: b["callback_data"].startswith("t:p:") and not b["text"].startswith("✅"))
        if pick:
            await d.press(p, pick, expect=p.t(PHONE))
            break
        await d.press(p, find(d, p, lambda b: b["callback_data"].startswith("t:o:")) or "t:o:?", expect=p.t(WHERE))
    else:
        raise AssertionError("no settlement to pick")
    await d.contact(p, expect=p.t(MENU))


async def browsing(d: Driver, p: Person) -> None:
    await d.press(p, "m:help", expect=p.t(MENU))
    await d.press(p, "m:settings", expect=p.t(SETTINGS))
    await d.press(p, "back", expect=p.t(MENU))
    await d.press(p, "m:my_appeals", expect=p.t(MY_APPEALS))
    await d.press(p, "back", expect=p.t(MENU))
    await d.command(p, "/menu", expect=p.t(MENU))


async def appeal(d: Driver, p: Person) -> None:
    await d.press(p, "m:appeal", expect=p.t(KIND))
    await d.press(p, "ak:complaint", expect=p.t(CATEGORY))
    await d.press(p, find(d, p, lambda b: b["callback_data"].startswith("ac:")) or "ac:?", expect=p.t(PLACE))
    await d.press(p, "ap:keep", expect=p.t(TEXT))
    await d.text(p, APPEAL_TEXT[p.lang], expect=p.t(FILES))
    await d.photo(p, expect=p.t(FILES))
    await d.press(p, "af:done", expect=p.t(PREVIEW))
    await d.press(p, "as:send", expect=p.t(MENU))


def voting_available() -> bool:
    return importlib.util.find_spec("bot.flows.budget_vote") is not None


def answered(expect: str, text: str, buttons: list[Button]) -> bool:
    """``expect`` is a piece of the answer's text, or ``data:PREFIX``: a button whose data starts so."""
    if expect.startswith("data:"):
        return any((b.get("callback_data") or "").startswith(expect[5:]) for b in buttons)
    return expect in text


Journey = Callable[[Driver, Person], Awaitable[None]]


def journeys(include_voting: bool) -> list[tuple[str, Journey]]:
    """Registration first (the others need a registered resident); an appeal before browsing, so "My appeals"
    has something to list."""
    out: list[tuple[str, Journey]] = [("registration", registration), ("appeal", appeal), ("browsing", browsing)]
    if include_voting:
        from bench.voting import voting

        out.append(("voting", voting))
    return out


def person(i18n: I18n, user_id: int) -> Person:
    lang = "kk" if user_id % 3 else "ru"  # two residents in three write in Kazakh
    return Person(user_id, lang, i18n(lang))
