"""A throwaway websocket server on loopback, for client behaviour the local exchange cannot show (a venue that
never answers, a malformed frame)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web


@contextlib.asynccontextmanager
async def serve_ws(handler: Callable[[web.Request], Awaitable[web.WebSocketResponse]]) -> AsyncIterator[str]:
    """Serve ``handler`` at ``/ws`` on a free loopback port; yields the ``ws://`` URL."""
    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"ws://127.0.0.1:{runner.addresses[0][1]}/ws"
    finally:
        await runner.cleanup()
