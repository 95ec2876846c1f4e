"""The web page where a person plays residents, aides and the secretary: static files from static/."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
_NO_CACHE = {"Cache-Control": "no-store"}


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers=_NO_CACHE)


def register(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC, append_version=False)

    @web.middleware
    async def no_cache(request: web.Request, handler):  # type: ignore[no-untyped-def]
        response = await handler(request)
        if request.path.startswith("/static/"):
            response.headers.update(_NO_CACHE)
        return response

    app.middlewares.append(no_cache)
