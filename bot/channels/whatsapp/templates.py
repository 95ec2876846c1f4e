"""WhatsApp message templates: how a notice reaches a resident outside the 24-hour window.

WhatsApp takes a free-form message only within 24 hours of the person's last message; outside it, only a
template Meta approved beforehand. Every notice kind a resident can get has one template per language: a fixed
first line saying what it is about, the notice itself as its one parameter (its text as the resident would have
read it, flattened to one paragraph, as template parameters allow no line breaks), and a fixed last line inviting
them to write back, which opens the window again. ``deploy/whatsapp-templates.json`` is generated from here
(``python -m bot.channels.whatsapp.templates``) and holds them all, ready to submit for approval; config maps
each kind and language to the approved template's name (``[whatsapp.templates]``).

Decision: one parameter carrying the worded notice rather than a template per kind with its own fields, so a
notice reads the same whether it went free-form or as a template, and the wording stays in one place. A notice
whose text does not fit a template parameter waits for the window (see delivery.py).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable

from bot.channels.plain import plain
from bot.i18n import Translator

PARAM_LIMIT = 900  # characters of the notice in a template body of at most 1024 with its fixed lines
PREFIX = "qatysu_"


def _leads(tr: Translator) -> dict[str, str]:
    """The fixed first line of each resident notice kind's template."""
    return {
        "appeal_status": tr._("News about your appeal:"),
        "appeal_reply": tr._("The akimat has answered your appeal:"),
        "meeting_reminder": tr._("A reminder about a meeting:"),
        "meeting_cancelled": tr._("A meeting is cancelled:"),
        "broadcast": tr._("An announcement from the akimat:"),
        "budget_phase": tr._("News of the People's Budget:"),
        "budget_results": tr._("The People's Budget vote is over:"),
        "budget_decision": tr._("A decision on your project:"),
    }


KINDS = ("appeal_status", "appeal_reply", "meeting_reminder", "meeting_cancelled", "broadcast", "budget_phase",
         "budget_results", "budget_decision")


def _examples(tr: Translator) -> dict[str, str]:
    """What each template's parameter could say, for Meta's review."""
    return {
        "appeal_status": tr._("Appeal No. 12 is registered. The answer is due by 20 December."),
        "appeal_reply": tr._("Appeal No. 12. The street light on Abai street will be repaired this week."),
        "meeting_reminder": tr._("The meeting starts tomorrow at 10:00 in the club."),
        "meeting_cancelled": tr._("The residents' meeting of 12 December at 10:00 in the club will not take place."),
        "broadcast": tr._("On Saturday the water will be off from 9:00 to 14:00."),
        "budget_phase": tr._("Voting on the People's Budget projects is open until 20 December."),
        "budget_results": tr._("The playground project won with 154 votes."),
        "budget_decision": tr._("Your project «Playground» is accepted for the vote."),
    }


def footer(tr: Translator) -> str:
    return tr._("To answer or to read more, write to this chat.")


def name_of(kind: str) -> str:
    return PREFIX + kind


def body(tr: Translator, kind: str) -> str:
    return f"{_leads(tr)[kind]}\n\n{{{{1}}}}\n\n{footer(tr)}"


def flatten(html: str) -> str:
    """A notice's text as one template parameter: plain, its lines joined, no tabs or runs of spaces (what Meta
    allows in a parameter); empty when it does not fit."""
    text = plain(html)
    text = " · ".join(line.strip() for line in text.splitlines() if line.strip())
    text = re.sub(r"\s{2,}", " ", text.replace("\t", " ")).strip()
    return text if len(text) <= PARAM_LIMIT else ""


def payload_text(payload: dict) -> str:
    """All the text a worded notice says (its ``then`` parts too)."""
    parts = []
    while payload:
        if payload.get("text"):
            parts.append(payload["text"])
        payload = payload.get("then") or {}
    return "\n\n".join(parts)


def definitions(translator: Callable[[str], Translator], languages: tuple[str, ...] = ("kk", "ru")) -> list[dict]:
    """Every template in Meta's format for creating one (name, language, category, components with an
    example), in ``languages``."""
    out = []
    for kind in KINDS:
        for lang in languages:
            tr = translator(lang)
            example = flatten(_examples(tr)[kind])
            out.append({"name": name_of(kind), "language": lang, "category": "UTILITY",
                        "components": [{"type": "BODY", "text": body(tr, kind),
                                        "example": {"body_text": [[example]]}}]})
    return out


def configured(languages: tuple[str, ...] = ("kk", "ru")) -> dict[str, dict[str, str]]:
    """``[whatsapp.templates]`` as it reads once every template of deploy/whatsapp-templates.json is approved."""
    return {kind: {lang: name_of(kind) for lang in languages} for kind in KINDS}


def main() -> None:
    from bot.i18n import I18n

    i18n = I18n("kk", "Asia/Almaty")
    json.dump({"templates": definitions(i18n)}, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
