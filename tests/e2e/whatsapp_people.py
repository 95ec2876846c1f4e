"""A person on WhatsApp in the sandbox, for the end-to-end tests: writes, presses reply buttons and list rows,
and waits for what the bot says (the WhatsApp stand-in's Python API: sandbox/README.md)."""

from __future__ import annotations

from typing import Any

from sandbox import Sandbox


def text_of(m: dict[str, Any]) -> str:
    """What the person reads in one of the bot's messages."""
    kind = m["type"]
    c = m.get(kind) or {}
    if kind == "text":
        return c.get("body", "")
    if kind == "interactive":
        return (c.get("body") or {}).get("text", "")
    if kind in ("image", "document", "audio"):
        return c.get("caption", "") or ""
    if kind == "template":
        return str(m.get("rendered") or c)
    return ""


def options_of(m: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(kind "button" or "list", id, title) of the message's reply buttons or list rows."""
    c = m.get("interactive") or {}
    action = c.get("action") or {}
    if c.get("type") == "button":
        return [("button", b["reply"]["id"], b["reply"]["title"]) for b in action.get("buttons", [])]
    if c.get("type") == "list":
        return [("list", r["id"], r["title"] + " " + r.get("description", "")) for s in action.get("sections", [])
                for r in s["rows"]]
    return []


class WaPerson:
    def __init__(self, sb: Sandbox, wa_id: str) -> None:
        self.sb, self.wa_id = sb, wa_id
        self.seen = 0  # bot messages already looked at by expect()

    def bot_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.sb.wa_messages(self.wa_id) if m["from_bot"] and m["status"] != "failed"]

    def said(self) -> str:
        return "\n---\n".join(text_of(m) for m in self.bot_messages())

    async def say(self, text: str) -> None:
        self.seen = len(self.bot_messages())
        await self.sb.wa_send_text(self.wa_id, text)

    async def expect(self, fragment: str, timeout: float = 15) -> dict[str, Any]:  # noqa: ASYNC109
        """The first new bot message (since the last thing this person did) containing ``fragment``."""

        def found():
            return next((m for m in self.bot_messages()[self.seen:] if fragment in text_of(m)), None)

        return await self.sb.wait_until(found, timeout, f"{fragment!r} to WhatsApp {self.wa_id}:\n{self.said()}")

    async def settle(self) -> None:
        await self.sb.wa_wait_for_webhooks_delivered(15)

    async def press(self, label: str) -> None:
        """Press the newest reply button or list row whose title contains ``label``."""
        await self.settle()
        for m in reversed(self.bot_messages()):
            for kind, oid, title in options_of(m):
                if label in title:
                    self.seen = len(self.bot_messages())
                    if kind == "button":
                        await self.sb.wa_press_reply(self.wa_id, m["id"], oid)
                    else:
                        await self.sb.wa_choose_row(self.wa_id, m["id"], oid)
                    return
        raise AssertionError(f"no option {label!r} for WhatsApp {self.wa_id}:\n{self.said()}")

    def last_options(self) -> list[str]:
        for m in reversed(self.bot_messages()):
            if opts := options_of(m):
                return [t for _, _, t in opts]
        return []
