"""Screens for a narrow channel (``NARROW`` in bot/channels/base.py: what WhatsApp takes), and the check of what
such a channel would refuse.

How a screen takes shape:

- the text is plain (bot/channels/plain.py); a text too long for one message is split at paragraphs, and the
  part that carries options stays within the limit for texts beside buttons;
- a choice of up to 3 options whose labels all fit is 3 buttons; any other choice is a list whose rows show the
  label cut at a word (the row's title) with the rest of it below (the row's description), so options that
  start alike stay apart; more options than a list holds are paged, each page ending in a «More ›» row
  (``PAGE`` data: the adapter shows that page of the same screen);
- options that open a web address become lines of the text ("label: address");
- a press acknowledgement (Telegram's pop-up) is a short message of its own; nothing is edited;
- a request for the phone is a button (the sender's number is known to the platform: the adapter turns the
  press into a contact); a location request is the platform's location request, with the typed answers offered
  as buttons after it ("tx:<answer>" data: the adapter turns the press into that text);
- a photo or document carries the text as its caption when it fits and there is no choice; otherwise it goes
  first and the text follows.

Decision: the renderer shortens labels, a flow writes one label for every channel (see docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.channels.base import NARROW, Capabilities
from bot.channels.plain import plain
from bot.flows.base import Screen, clip
from bot.flows.buttons import LIMITS, Int, Kind
from bot.i18n import Translator

PAGE = Kind("pg", Int(high=999))  # «More ›»: the next page of a list
PHONE = "rq:phone"  # the press that shares the sender's own number
ANSWER = "tx:"  # a typed answer offered as a button: the adapter turns it into that text
Shape = Literal["text", "buttons", "list", "photo", "document", "location_request"]


@dataclass(frozen=True)
class Option:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Message:
    kind: Shape
    body: str  # the text, or a photo's or document's caption
    options: tuple[Option, ...] = ()
    list_label: str = ""  # the button that opens a list


@dataclass(frozen=True)
class Words:
    """The renderer's own words, in the reader's language."""

    choose: str
    more: str
    or_choose: str

    @classmethod
    def of(cls, tr: Translator) -> Words:
        return cls(tr._("Choose"), tr._("More ›"), tr._("Or choose:"))


def split(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at a paragraph, a line or a word when it can."""
    pieces = []
    while len(text) > limit:
        cut = next((i for sep in ("\n\n", "\n", " ") if (i := text.rfind(sep, limit // 2, limit)) > 0), limit)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text] if text or not pieces else pieces


class NarrowRenderer:
    def __init__(self, words: Words, caps: Capabilities = NARROW) -> None:
        self.words, self.caps = words, caps

    def _options(self, screen: Screen) -> tuple[str, list[Option], list[Message]]:
        """The body, the options, and what goes before them (a location request)."""
        body = plain(screen.text)
        links = [f"{plain(b.text)}: {b.url}" for row in screen.buttons for b in row if b.url]
        if links:
            body = "\n\n".join(p for p in (body, "\n".join(links)) if p)
        opts = [Option(b.data, plain(b.text)) for row in screen.buttons for b in row if b.data and not b.url]
        before: list[Message] = []
        if (r := screen.request) is not None:
            answers = [Option(ANSWER + a, a) for row in r.answers for a in row]
            if r.kind == "location" and self.caps.location_request:
                *head, last = split(body, self.caps.text_limit) if body else [plain(r.label)]
                before = [Message("text", p) for p in head] + [Message("location_request", last)]
                body, opts = (self.words.or_choose if answers else ""), answers + opts
            elif r.kind == "phone" and self.caps.contact_request:  # pragma: no cover - no such narrow channel yet
                opts = answers + opts
            else:
                opts = [Option(PHONE if r.kind == "phone" else ANSWER + r.label, r.label), *answers, *opts]
        return body, opts, before

    def pages(self, screen: Screen) -> int:
        n, rows = len(self._options(screen)[1]), self.caps.list_rows
        return 1 if n <= rows or rows < 2 else 1 + -(-(n - rows) // (rows - 1))

    def render(self, screen: Screen, page: int = 0) -> list[Message]:
        caps = self.caps
        body, opts, out = self._options(screen)
        if page == 0 and screen.notice:
            out.insert(0, Message("text", plain(screen.notice)))
        media: Shape | None = "photo" if screen.photo is not None else "document" if screen.document else None
        if page:
            out, media = [], None
        if media is not None:
            if not opts and len(body) <= caps.caption_limit:
                return [*out, Message(media, body)]
            out.append(Message(media, ""))
        if not opts:
            return out + [Message("text", p) for p in split(body, caps.text_limit)] if body else out
        *head, last = split(body, caps.text_limit) if body else [self.words.choose]
        if len(last) > caps.options_text:
            *more, last = split(last, caps.options_text)
            head += more
        out += [Message("text", p) for p in head] if not page else []
        if len(opts) <= caps.max_buttons and all(len(o.title) <= caps.max_label for o in opts):
            return [*out, Message("buttons", last, tuple(opts))]
        rows = caps.list_rows
        if len(opts) > rows:  # pages of rows - 1 options and «More ›», the last page holds up to rows
            start = page * (rows - 1)
            chunk = opts[start:] if len(opts) - start <= rows else [*opts[start:start + rows - 1],
                                                                     Option(PAGE.pack(page + 1), self.words.more)]
        else:
            chunk = opts
        return [*out, Message("list", last, tuple(self._row(o) for o in chunk), self.words.choose)]

    def _row(self, o: Option) -> Option:
        if len(o.title) <= self.caps.max_label:
            return o
        title = clip(o.title, self.caps.max_label)
        rest = o.title[len(title.rstrip("…")):].lstrip(" ·:,›")  # what the title leaves out, below it
        return Option(o.id, title, clip(rest, self.caps.row_description))


def refusals(messages: list[Message], caps: Capabilities = NARROW) -> list[str]:
    """What the platform would refuse in these messages (empty: all of it goes through)."""
    bad = []
    for m in messages:
        limit = {"text": caps.text_limit, "photo": caps.caption_limit, "document": caps.caption_limit}.get(
            m.kind, caps.options_text)
        if len(m.body) > limit:
            bad.append(f"{m.kind} text of {len(m.body)} characters (limit {limit})")
        if not m.body.strip() and m.kind not in ("photo", "document"):
            bad.append(f"{m.kind} without text")
        cap = caps.max_buttons if m.kind == "buttons" else caps.list_rows if m.kind == "list" else 0
        if len(m.options) > cap or (m.kind in ("buttons", "list") and not m.options):
            bad.append(f"{len(m.options)} options in a {m.kind} message (at most {cap})")
        for o in m.options:
            if not 0 < len(o.title) <= caps.max_label or len(o.description) > caps.row_description:
                bad.append(f"label {o.title!r} / {o.description!r} too long or empty")
            if not 0 < len(o.id.encode()) <= LIMITS["whatsapp"]:
                bad.append(f"option data {o.id[:40]!r} too long or empty")
        if len({o.id for o in m.options}) < len(m.options):
            bad.append(f"the same data twice in {[o.id for o in m.options]}")
        if len({(o.title, o.description) for o in m.options}) < len(m.options):
            bad.append(f"options that read alike: {[o.title for o in m.options]}")
        if len(m.list_label) > caps.max_label:
            bad.append(f"list button {m.list_label!r} too long")
    return bad


def check(screen: Screen, renderer: NarrowRenderer) -> list[str]:
    """Render every page of ``screen`` and say what would be refused."""
    return [f"{problem} (screen {screen.text[:80]!r})" for page in range(renderer.pages(screen))
            for problem in refusals(renderer.render(screen, page), renderer.caps)]
