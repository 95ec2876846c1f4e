"""What the operator chat and the resident read about an appeal: the card, notices, reply templates."""

from __future__ import annotations

from html import escape

from bot.flows.appeal_labels import category_name, kind_name, status_name
from bot.flows.base import Button, esc
from bot.flows.buttons import Choice, Int, Kind
from bot.flows.my_appeals import NOT_RESOLVED, RESOLVED
from bot.i18n import N_, Translator
from bot.services.appeals import Action, AppealStatus
from storage.models import Appeal

ACTIVE = (AppealStatus.RECEIVED, AppealStatus.REGISTERED, AppealStatus.IN_PROGRESS)

# key: (text, action it sets). Sent in the appeal's language, signed as the akimat.
TEMPLATES = {
    "done": (N_("Your appeal has been considered and the work has been done. Thank you for writing to us!"),
             Action.ANSWER),
    "plan": (N_("Your appeal has been considered. The work is included in the akimat's plan; "
                "we will let you know when it is done."), Action.ANSWER),
    "clarify": (N_("Please tell us the exact address and, if you can, send a photo of the problem."), None),
}
# the card's buttons: "op:<action>:<appeal id>", and a template to send: "op:t:<appeal id>:<template key>"
CARD_ACTION = Kind("op", Choice(("take", "reg", "ext", "fwd", "rej", "tpl", "close")), Int())
TEMPLATE = Kind("op:t", Int(), Choice(tuple(TEMPLATES)))


def topic_title(tr: Translator, a: Appeal, place: str) -> str:
    return f"{a.number} · {category_name(tr, a.category)} · {place}"[:128]


CHANNEL_NAMES = {"telegram": "Telegram", "whatsapp": "WhatsApp"}


def card(tr: Translator, a: Appeal, place: str, *, overdue: bool = False, repeat_number: str | None = None,
         channels: list[str] | None = None) -> tuple[str, list[list[Button]]]:
    lines = [f"<b>{a.number}</b> · {kind_name(tr, a.kind)} · {category_name(tr, a.category)}",
             tr._("Settlement: {place}", place=esc(place, 200)),
             tr._("Status: {status}", status=status_name(tr, a.status)),
             tr._("Language: {language}", language=tr._("Kazakh") if a.language == "kk" else tr._("Russian")),
             tr._("From: {who}", who=tr._("anonymous") if a.anonymous else esc(a.contact_name or "—", 100))]
    if channels:  # where the resident writes from: the answer reaches them there
        lines.append(tr._("Channel: {channel}", channel=", ".join(CHANNEL_NAMES.get(c, c) for c in channels)))
    if a.registration_number:
        lines.append(tr._("eOtinish registration: № {number} of {date}", number=esc(a.registration_number, 64),
                          date=tr.date(a.registration_date) if a.registration_date else "—"))
    if not a.anonymous:
        lines.append(tr._("Answer due by: {date}", date=tr.date(a.extended_until or a.due_on)))
    if overdue and a.status in ACTIVE:
        lines.append("🔴 " + tr._("Overdue!"))
    if repeat_number:
        lines.append("🔁 " + tr._("Repeated appeal; the earlier one is {number}.", number=repeat_number))
    if a.forwarded_to:
        lines.append(tr._("Forwarded to: {body}", body=esc(a.forwarded_to, 200)))
    if a.rejection_reason:
        lines.append(tr._("Reason for refusal: {reason}", reason=esc(a.rejection_reason, 300)))
    if a.blocked_noted_at:
        lines.append("⛔ " + tr._("The resident has blocked the bot."))
    if a.rating:
        lines.append(tr._("Rating: {stars}", stars="⭐" * a.rating))
    lines += ["", esc(a.text, 2500)]
    rows: list[list[Button]] = []
    if a.status in ACTIVE:
        rows.append([Button(tr._("🙋 Take"), CARD_ACTION.pack("take", a.id)),
                     Button(tr._("🧾 eOtinish №"), CARD_ACTION.pack("reg", a.id))])
        rows.append([Button(tr._("⏳ Extend"), CARD_ACTION.pack("ext", a.id)),
                     Button(tr._("↪️ Forward"), CARD_ACTION.pack("fwd", a.id)),
                     Button(tr._("⛔ Reject"), CARD_ACTION.pack("rej", a.id))])
        if not a.anonymous:
            rows.append([Button(tr._("📋 Templates"), CARD_ACTION.pack("tpl", a.id))])
    if a.status in (AppealStatus.ANSWERED, AppealStatus.FORWARDED, AppealStatus.REJECTED):
        rows.append([Button(tr._("✅ Close"), CARD_ACTION.pack("close", a.id))])
    return "\n".join(lines), rows


def operator_help(tr: Translator) -> str:
    return tr._("In this topic:\n• a plain message or photo goes to the resident, signed as the akimat;\n"
                "• /answer TEXT sends the final answer;\n• /note TEXT stays internal;\n"
                "• /reg NUMBER DD.MM.YYYY records the eOtinish registration;\n"
                "• /extend DD.MM.YYYY REASON, /forward BODY, /reject REASON, /close.")


def signed(tr: Translator, a: Appeal, body: str) -> str:
    return tr._("🏛 <b>Akimat</b> · appeal {number}", number=a.number) + "\n\n" + body


CAPTION_LIMIT = 1024  # Telegram's limit on a photo's or document's caption


def fit_caption(head: str, text: str, limit: int = CAPTION_LIMIT) -> tuple[str, str]:
    """A caption: ``head`` (HTML) and as much of the plain ``text`` as fits in ``limit`` characters once
    escaped. The text is cut before escaping (never inside an entity), at a space when one is near; returns
    the caption and the plain rest ("" when all fits), which the caller sends as its own message."""
    text = (text or "").strip()
    room = limit - len(head)
    if len(escape(text, quote=False)) <= room:
        return (head + escape(text, quote=False)).rstrip(), ""
    n, used = 0, 0
    for ch in text:
        width = len(escape(ch, quote=False))
        if used + width > room - 1:  # one left for "…"
            break
        used, n = used + width, n + 1
    space = max(text.rfind(" ", 0, n + 1), text.rfind("\n", 0, n + 1))
    if space > n * 3 // 4:
        n = space
    return head + escape(text[:n].rstrip(), quote=False) + "…", "…" + text[n:].lstrip()


def notice(tr: Translator, a: Appeal, action: Action) -> str | None:
    """What the resident hears when the appeal changes, in the appeal's language."""
    n = a.number
    if action == Action.TAKE:
        return tr._("Your appeal {number} has been taken into work.", number=n)
    if action == Action.REGISTER:
        return tr._("Your appeal {number} has been registered in eOtinish: № {reg} of {date}. "
                    "The answer is due by {due}.", number=n, reg=esc(a.registration_number, 64),
                    date=tr.date(a.registration_date) if a.registration_date else "—",
                    due=tr.date(a.extended_until or a.due_on))
    if action == Action.EXTEND:
        return tr._("The term for your appeal {number} has been extended to {date}. Reason: {reason}",
                    number=n, date=tr.date(a.extended_until or a.due_on), reason=esc(a.extension_reason, 300))
    if action == Action.FORWARD:
        return tr._("Your appeal {number} has been forwarded to {body}, which is competent to answer it.",
                    number=n, body=esc(a.forwarded_to, 200))
    if action == Action.REJECT:
        return tr._("Your appeal {number} has not been accepted. Reason: {reason}", number=n,
                    reason=esc(a.rejection_reason, 300))
    if action == Action.CLOSE:
        return tr._("Your appeal {number} is closed. Thank you!", number=n)
    return None


def answered_buttons(tr: Translator, a: Appeal) -> list[list[Button]]:
    return [[Button(tr._("👍 Resolved"), RESOLVED.pack(a.id)),
             Button(tr._("👎 Not resolved"), NOT_RESOLVED.pack(a.id))]]


def reply_outcome(tr: Translator, result: str, final: bool) -> list[str]:
    """What the aide reads about their reply to the resident (``result``: a ``Delivery`` value)."""
    if result == "unreachable":
        return [tr._("⛔ The resident cannot receive messages (blocked the bot or deleted their data).")]
    if result == "failed":
        if final:
            return [tr._("⚠️ The answer did not reach the resident: Telegram could not be reached. "
                         "The appeal is not marked answered. Send /answer again to retry.")]
        return [tr._("⚠️ The message did not reach the resident: Telegram could not be reached. "
                     "Send it again to retry.")]
    if result == "sent_not_answered":
        return [tr._("The resident has the message, but the appeal's status changed meanwhile, so it is "
                     "not marked answered.")]
    if result == "queued":
        return [tr._("⏳ The message is queued; you will see here whether it reached the resident.")]
    if final:
        return [tr._("✅ Answer sent; the appeal is marked answered.")]
    return []
