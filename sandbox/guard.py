"""Keeping the sandbox local. Binding to loopback is not enough: a web page whose name is rebound to
127.0.0.1 (DNS rebinding) reaches the port with `Host: evil.example`, and any page can send simple
cross-site requests to http://127.0.0.1:PORT (the sandbox's token is well known). So every request must
name the sandbox's own address in Host (else 421), a browser request must come from the sandbox's own page
(Origin and Sec-Fetch-Site, else 403), and the control API's state-changing routes also need the
`X-Sandbox-Control` header, which a foreign page cannot send without a CORS preflight the sandbox never
grants. The bot's own HTTP client sends neither Origin nor Sec-Fetch-Site and is not affected."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

CONTROL_HEADER = "X-Sandbox-Control"
CONTROL_PREFIX = "/sandbox/api/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_SITE_FETCH = frozenset({"same-origin", "none"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def own_hosts(bind: str, port: int) -> frozenset[str]:
    """The Host values that name this sandbox: its bound loopback address and `localhost`, with the port
    (and without it when the port is HTTP's default)."""
    address = f"[{bind}]" if ":" in bind else bind
    names = {address.lower(), "localhost"}
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return frozenset(hosts)


def _refuse(status: int, error: str) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps({"ok": False, "error_code": status, "error": error, "description": error}),
        content_type="application/json",
    )


def middleware(hosts: Callable[[], frozenset[str]]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """An aiohttp middleware; `hosts()` gives the allowed Host values (empty until the sandbox listens)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        allowed = hosts()
        host = (request.headers.get("Host") or "").strip().lower()
        if host not in allowed:
            return _refuse(421, "misdirected request: the sandbox answers only at its own loopback address")
        origin = request.headers.get("Origin")
        if origin is not None and origin.strip().rstrip("/").lower() not in {f"http://{h}" for h in allowed}:
            return _refuse(403, "cross-origin requests are refused")
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site is not None and fetch_site.strip().lower() not in SAME_SITE_FETCH:
            return _refuse(403, "cross-site requests are refused")
        if (
            request.method not in SAFE_METHODS
            and request.path.startswith(CONTROL_PREFIX)
            and not request.headers.get(CONTROL_HEADER)
        ):
            return _refuse(403, f"control requests need the {CONTROL_HEADER} header (the page sends it)")
        return await handler(request)

    return guard
