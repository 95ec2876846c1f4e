"""WhatsApp end to end: the bot (serve()) with its WhatsApp webhook, the sandbox's Cloud API stand-in posting
signed webhooks to it; people act through the stand-in's Python API."""

from __future__ import annotations

from tests.e2e.conftest import Live
from tests.e2e.whatsapp_people import WaPerson

SAULE = "77011110001"  # the demo's WhatsApp residents (bot/sandbox_mode.py)


async def test_explore(live: Live) -> None:
    p = WaPerson(live.sb, SAULE)
    await p.say("Сәлем")
    await p.settle()
    print(p.said())
    print(p.last_options())
    await p.press("Қазақша")
    await p.settle()
    print(p.said())
    print(p.last_options())
    assert False
