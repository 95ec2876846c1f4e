"""The WhatsApp Cloud API client (pywa) for the configured business number, pointed at ``api_base`` (Meta's
Graph API, or the sandbox's stand-in)."""

from __future__ import annotations

import httpx
from pywa_async import WhatsApp

from bot.config import WhatsAppSettings


def make_client(settings: WhatsAppSettings, *, timeout: float = 15) -> WhatsApp:
    """A client that sends and downloads; the webhook is served by the adapter, not by pywa's own server."""
    if not settings.enabled:
        raise ValueError("whatsapp.phone_number_id and whatsapp.token are not set")
    assert settings.token is not None
    session = httpx.AsyncClient(timeout=timeout)
    wa = WhatsApp(phone_id=settings.phone_number_id, token=settings.token.get_secret_value(), session=session,
                  api_version=settings.api_version, server=None, validate_updates=False)
    # pywa fixes graph.facebook.com; the base is configurable (the sandbox's stand-in, a proxy)
    session.base_url = f"{settings.api_base.rstrip('/')}/v{settings.api_version}"
    return wa
