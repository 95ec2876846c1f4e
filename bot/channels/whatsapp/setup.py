"""The WhatsApp channel's parts, built once by the composition root (bot/app.py): the Cloud API client, the
channel, the webhook and the media store; and the webhook's HTTP server for ``qatysu run``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pywa_async import WhatsApp

from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.channels.whatsapp.client import make_client
from bot.channels.whatsapp.delivery import WhatsAppDelivery
from bot.channels.whatsapp.events import CHANNEL, Status
from bot.channels.whatsapp.media import WhatsAppMediaStore
from bot.channels.whatsapp.webhook import Seen, WhatsAppWebhook
from bot.config import Settings
from bot.flows.engine import Conversations
from bot.i18n import I18n
from bot.throttle import Flood


@dataclass
class WhatsAppParts:
    wa: WhatsApp
    channel: WhatsAppChannel
    webhook: WhatsAppWebhook
    runner: web.AppRunner | None = None
    url: str = ""  # where the webhook listens, once started

    async def start(self) -> str:
        """Serve the webhook on ``webhook_host:webhook_port`` (0: a free port); the URL it listens on."""
        s = self.webhook.settings
        self.runner = web.AppRunner(self.webhook.application(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, s.webhook_host, s.webhook_port)
        await site.start()
        port = self.runner.addresses[0][1] if self.runner.addresses else s.webhook_port
        host = f"[{s.webhook_host}]" if ":" in s.webhook_host else s.webhook_host
        self.url = f"http://{host}:{port}{s.webhook_path}"
        return self.url

    def delivery(self, limiter: Any, residents: Any) -> WhatsAppDelivery:
        """The outbox's delivery to WhatsApp residents (bot/channels/whatsapp/delivery.py)."""
        s = self.webhook.settings
        return WhatsAppDelivery(self.channel, limiter, residents.last_inbound, s.templates, wait_hours=s.wait_hours)

    def attach_outbox(self, sender: Any, outbox: Any) -> None:
        """What the webhook tells the outbox: a message's failed status fails its row (the aide's card and the
        broadcast report show it); a person's notices waiting for the window go when they write."""
        inbound = self.webhook.on_inbound

        async def on_status(st: Status) -> None:
            if st.status == "failed":
                why = "; ".join(f"{code}: {title}" for code, title in st.errors) or "failed"
                await sender.reported_failed(CHANNEL, st.wamid, why)

        async def on_inbound(wa_id: int, at: Any) -> bool:
            recorded = await inbound(wa_id, at) if inbound is not None else False
            if await outbox.due_now(CHANNEL, wa_id):
                sender.wake.set()
            return recorded

        self.webhook.on_inbound, self.webhook.on_status = on_inbound, on_status

    async def stop(self) -> None:
        await self.webhook.close()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def close(self) -> None:
        await self.stop()
        await self.wa.api._session.aclose()  # the httpx client make_client gave it


def build(settings: Settings, conversations: Conversations, i18n: I18n, redis: Any = None) -> WhatsAppParts:
    wa = make_client(settings.whatsapp)
    channel = WhatsAppChannel(wa, i18n)
    locks, flood_store = None, None
    if redis is not None:  # several replicas: a person's messages in order and once across all of them
        from bot.redis_locks import RedisFlood, RedisLocks

        locks, flood_store = RedisLocks(redis, "qatysu:wa:lock:"), RedisFlood(redis, "qatysu:wa:")
    limits = settings.limits
    flood = Flood(limits.flood_messages, limits.flood_seconds, store=flood_store)
    residents = conversations.services.residents

    async def on_inbound(wa_id: int, at) -> bool:
        return await residents.touch_inbound(wa_id, at, CHANNEL)

    webhook = WhatsAppWebhook(settings.whatsapp, channel, conversations, i18n, on_inbound=on_inbound, locks=locks,
                              flood=flood,
                              seen=Seen(redis))
    channel.language_of = webhook.language_of
    conversations.services.media.add_store(WhatsAppMediaStore(wa))
    return WhatsAppParts(wa, channel, webhook)
