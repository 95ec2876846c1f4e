"""Hypothesis strategies for what people (and forged clients) can send a Telegram bot, and the settings of the
hostile suite: CI-sized by default, longer with ``QATYSU_HOSTILE_EXAMPLES=1000``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.conftest import ADMIN, OPERATOR, OPERATOR_CHAT, SECRETARY
from tests.support.telegram import Person

# the app fixture is built once per test and shared by its examples on purpose: state piling up across examples
# (residents, appeals, drafts, votes) is part of what the suite throws at the bot
# CI runs the same examples every time (derandomize), so a red build is about the change that caused it;
# developers' runs explore new ones
HOSTILE = settings(max_examples=int(os.environ.get("QATYSU_HOSTILE_EXAMPLES", "60")), deadline=None,
                   derandomize=bool(os.environ.get("CI")),
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                          HealthCheck.data_too_large])

RESIDENTS = [Person(7101, "kk"), Person(7102, "ru"), Person(7103, None, first_name="<b>&amp;\u200f"),
             Person(7104, "en", first_name="🇰🇿" * 30)]
STAFF = [Person(ADMIN, "ru", first_name="Әсел"), Person(OPERATOR, "kk", first_name="Ержан"),
         Person(SECRETARY, "kk", first_name="Гүлнар")]
PEOPLE = RESIDENTS + STAFF
UNKNOWN_GROUP = -1009999999999

NASTY = ["<b>&amp;", "<script>alert(1)</script>", "</b>", "<a href='x'>", "&", "&lt;&gt;", "<i>", "<b>", "<u>x",
         "a < b", "x > y", "<>", "&nbsp;", "&#x1F600;", "&unknown;", "<tg-spoiler>", "<pre><code>", "</",
         "\u200b\u200c\u200d\ufeff",
         "\u202eRTL override", "مرحبا بالعالم", "שלום עולם", "👍🏽👨‍👩‍👧‍👦🇰🇿", "\x00", "a\x00b", "\r\n\t", " ",
         "Көктал", "Коктал", "Ақмола", "+77011234567", "Skip", "Өткізіп жіберу", "Пропустить", "« Back",
         "« Артқа", "« Назад", "📱 Нөмірімді жіберу", "📱 Отправить мой номер", "{}", "{name}", "%s", "'; DROP TABLE",
         "A-2026-000001", "R" * 12, "999999999999999999999"]
COMMANDS = ["start", "cancel", "menu", "help", "settings", "whoami", "staff", "roles", "grant", "revoke", "stats",
            "campaign", "proposals", "broadcast", "meeting", "report", "note", "reg", "extend", "forward",
            "reject", "close", "take", "answer", "frobnicate", "START", "start@qatysu_test_bot", "",
            "ÿ", "старт"]
PAYLOADS = ["", "vote_1", "vote_2", "vote_0", "vote_999999999", "vote_-1", "vote_", "appeal_1", "appeal_2",
            "appeal_99999999999", "meeting_1", "report_1", "x" * 300, "vote_1 extra", "<b>", "900001 admin",
            "900002 operator", "7101 secretary", "1", "2026-01-01", "+5", "1 month"]
AIDE_COMMANDS = ["", "", "", "", "/answer", "/reg", "/extend", "/forward", "/reject", "/close", "/take", "/note",
                 "/help"]
AIDE_ARGS = ["", "12345 2026-01-15", "12345", "2026-02-30", "+1 month", "1", "Ақкөл ауданының әкімдігі",
             "Жауап: шамдар жөнделді.", "<b>жауап</b> & <i>", "x" * 4000]
PREFIXES = ["ma:o:", "ma:w:", "ma:ok:", "ma:no:", "ma:s:", "ma:pg:", "m:", "bd:", "bd:c:", "bd:b:", "bd:v:", "bd:y:",
            "bd:yc:", "bd:mv:", "bd:cv:", "bd:p:", "bd:mp:", "bd:res:", "op:take:", "op:reg:", "op:ext:", "op:fwd:",
            "op:rej:", "op:tpl:", "op:t:", "t:o:", "t:p:", "t:pg:", "lang:", "consent:", "ak:", "ac:", "ap:", "af:",
            "as:", "ai:", "s:", "s:del:", "ba:", "br:", "mt:", ""]


def _text(min_size: int = 1) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(min_size=min_size, max_size=40),
        st.sampled_from(NASTY),
        st.builds(lambda c, n: c * n, st.sampled_from(["ә", "a", "😀", "<", "&", "\u200f", "Ж "]),
                  st.integers(1, 5000)),
        st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.text(max_size=30)),
    ).filter(lambda s: len(s) >= min_size)


def _ids() -> st.SearchStrategy[str]:
    return st.one_of(st.integers(-5, 5).map(str), st.integers(0, 2**31).map(str), st.just("999999999999"),
                     st.text(max_size=8), st.builds(lambda a, b: f"{a}:{b}", st.integers(0, 9), st.integers(0, 9)))


def _callback_data() -> st.SearchStrategy[str]:
    forged = st.one_of(st.text(min_size=1, max_size=64),
                       st.builds(lambda p, i: p + i, st.sampled_from(PREFIXES), _ids()))
    return forged.map(lambda s: s.encode()[:64].decode(errors="ignore") or "x")


@dataclass(frozen=True)
class Act:
    """One thing someone does. ``where``: private (their own chat), operator (the operator chat, maybe a topic),
    group (a group the bot does not know)."""

    kind: str
    who: int  # index into PEOPLE
    where: str = "private"
    payload: Any = None
    pick: int = 0  # which real button, or which topic


# the two registered residents act most; the others now and then
_who = st.one_of(st.integers(0, 1), st.integers(0, len(PEOPLE) - 1))
_where = st.sampled_from(["private"] * 6 + ["operator"] * 2 + ["group"])


def acts() -> st.SearchStrategy[Act]:
    pick = st.integers(0, 10_000)
    # pressing the buttons the bot really showed takes a script deep into the flows; weigh it up
    press_real = st.builds(Act, st.just("press_real"), _who, st.sampled_from(["private"] * 5 + ["operator"]),
                           st.none(), pick)
    # deep links (QR codes on posters) jump into the ballot or an appeal, from where presses go deeper
    deeplink = st.builds(Act, st.just("command"), _who, st.just("private"),
                         st.tuples(st.just("start"), st.sampled_from(["vote_1", "appeal_1", "meeting_1", "report_1"])),
                         pick)
    # a resident votes (deep link, "vote for this", "yes"): random acts around it try to vote twice or break it
    vote = st.builds(Act, st.just("vote"), _who, st.just("private"), st.none(), pick)
    # an aide at work in an appeal's topic: commands with any arguments, or plain replies to the resident
    aide = st.builds(Act, st.just("aide"), st.sampled_from([PEOPLE.index(p) for p in STAFF]), st.just("operator"),
                     st.tuples(st.sampled_from(AIDE_COMMANDS), st.one_of(st.sampled_from(AIDE_ARGS + NASTY), _text())),
                     pick)
    return st.one_of(
        press_real, press_real, press_real, press_real, deeplink, vote, aide, aide,
        st.builds(Act, st.just("text"), _who, _where, _text(), pick),
        st.builds(Act, st.just("command"), _who, _where,
                  st.tuples(st.sampled_from(COMMANDS), st.one_of(st.sampled_from(PAYLOADS), _text())), pick),
        st.builds(Act, st.just("press_forged"), _who, st.sampled_from(["private"] * 4 + ["operator"]),
                  _callback_data(), pick),
        st.builds(Act, st.just("contact"), _who, st.just("private"),
                  st.tuples(st.one_of(st.from_regex(r"\+?7[0-9]{10}", fullmatch=True), _text()),
                            st.sampled_from(["own", "other", "none"])), pick),
        st.builds(Act, st.just("location"), _who, _where,
                  st.tuples(st.floats(-90, 90), st.floats(-180, 180)), pick),
        st.builds(Act, st.just("photo"), _who, _where, st.one_of(st.none(), _text()), pick),
        st.builds(Act, st.just("document"), _who, _where,
                  st.tuples(st.one_of(st.none(), _text()), st.text(min_size=1, max_size=40)), pick),
        st.builds(Act, st.just("sticker"), _who, _where, st.none(), pick),
        st.builds(Act, st.just("edited"), _who, st.just("private"), _text(), pick),
    )


STICKER = {"file_id": "st1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
           "is_animated": False, "is_video": False}


def chat_of(act: Act, person: Person, topics: list[int]) -> tuple[int, int | None]:
    """(chat id, thread id) the act happens in."""
    if act.where == "operator":
        options: list[int | None] = [None, *topics]  # Telegram sends only threads that exist
        return OPERATOR_CHAT, options[act.pick % len(options)]
    if act.where == "group":
        return UNKNOWN_GROUP, None
    return person.id, None
