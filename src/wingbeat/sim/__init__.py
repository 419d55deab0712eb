"""wingbeat.sim: a Hyperliquid-compatible local exchange for tests, demos and paper trading.

``from wingbeat.sim import LocalExchange``; ``async with LocalExchange(port=0) as ex:`` serves on a free
port at ``ex.base_url``, ``await ex.fund(address, 10_000)`` credits USDC (``spot={"PURR": 100}`` spot
tokens), spot pairs `DEFAULT_SPOT` unless ``spot=`` a `SpotConfig`, HIP-3 builder dexes
`DEFAULT_PERP_DEXES` unless ``perp_dexes=`` `PerpDexConfig` objects, built-in liquidity on unless
``liquidity=False`` (see `LocalExchange`). The venue half (engine, books, accounts, info) has no I/O;
the protocol half (server, actions, ws_hub, rate_limits, ws_limits, faults, the state file) speaks Hyperliquid's HTTP and websocket
API on top of it. Names are exported lazily, so the venue modules load without aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wingbeat._exports import resolve_export

if TYPE_CHECKING:
    from wingbeat.sim.protocol.rate_limits import RELAXED_RATE_LIMITS as RELAXED_RATE_LIMITS
    from wingbeat.sim.protocol.rate_limits import RateLimitConfig as RateLimitConfig
    from wingbeat.sim.protocol.server import DEFAULT_FUND_AMOUNT as DEFAULT_FUND_AMOUNT
    from wingbeat.sim.protocol.server import LocalExchange as LocalExchange
    from wingbeat.sim.protocol.server import run_local_exchange as run_local_exchange
    from wingbeat.sim.protocol.state_store import StateFileError as StateFileError
    from wingbeat.sim.protocol.ws_limits import RELAXED_WS_LIMITS as RELAXED_WS_LIMITS
    from wingbeat.sim.protocol.ws_limits import WsLimitConfig as WsLimitConfig
    from wingbeat.sim.venue.liquidity import LiquidityConfig as LiquidityConfig
    from wingbeat.sim.venue.markets import DEFAULT_MARKETS as DEFAULT_MARKETS
    from wingbeat.sim.venue.markets import MarketConfig as MarketConfig
    from wingbeat.sim.venue.perp_dexes import DEFAULT_PERP_DEXES as DEFAULT_PERP_DEXES
    from wingbeat.sim.venue.perp_dexes import DexPerpConfig as DexPerpConfig
    from wingbeat.sim.venue.perp_dexes import PerpDexConfig as PerpDexConfig
    from wingbeat.sim.venue.spot_markets import DEFAULT_SPOT as DEFAULT_SPOT
    from wingbeat.sim.venue.spot_markets import SpotConfig as SpotConfig
    from wingbeat.sim.venue.spot_markets import SpotPairConfig as SpotPairConfig
    from wingbeat.sim.venue.spot_markets import SpotToken as SpotToken

_EXPORTS = {
    "DEFAULT_FUND_AMOUNT": "wingbeat.sim.protocol.server",
    "DEFAULT_MARKETS": "wingbeat.sim.venue.markets",
    "DEFAULT_PERP_DEXES": "wingbeat.sim.venue.perp_dexes",
    "DexPerpConfig": "wingbeat.sim.venue.perp_dexes",
    "DEFAULT_SPOT": "wingbeat.sim.venue.spot_markets",
    "LiquidityConfig": "wingbeat.sim.venue.liquidity",
    "LocalExchange": "wingbeat.sim.protocol.server",
    "MarketConfig": "wingbeat.sim.venue.markets",
    "PerpDexConfig": "wingbeat.sim.venue.perp_dexes",
    "RELAXED_RATE_LIMITS": "wingbeat.sim.protocol.rate_limits",
    "RateLimitConfig": "wingbeat.sim.protocol.rate_limits",
    "RELAXED_WS_LIMITS": "wingbeat.sim.protocol.ws_limits",
    "SpotConfig": "wingbeat.sim.venue.spot_markets",
    "SpotPairConfig": "wingbeat.sim.venue.spot_markets",
    "SpotToken": "wingbeat.sim.venue.spot_markets",
    "StateFileError": "wingbeat.sim.protocol.state_store",
    "WsLimitConfig": "wingbeat.sim.protocol.ws_limits",
    "run_local_exchange": "wingbeat.sim.protocol.server",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    return resolve_export(__name__, _EXPORTS, globals(), name)
