"""wingbeat.sim: a Hyperliquid-compatible local exchange for tests, demos and paper trading.

``from wingbeat.sim import LocalExchange``; ``async with LocalExchange(port=0) as ex: ex.base_url``.
The venue half (engine, books, accounts, info) has no I/O; the protocol half (server, actions,
ws_hub, rate_limits, faults) speaks Hyperliquid's HTTP and websocket API on top of it. The server
is imported on first use, so the venue modules load without aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wingbeat.sim.server import DEFAULT_FUND_AMOUNT, LocalExchange, run_local_exchange

__all__ = ["DEFAULT_FUND_AMOUNT", "LocalExchange", "run_local_exchange"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from wingbeat.sim import server

        return getattr(server, name)
    raise AttributeError(f"module 'wingbeat.sim' has no attribute {name!r}")
