"""Hyperliquid endpoints, request weights and limits.

Weights follow Hyperliquid's published IP limits: 1200 weight per minute per IP for REST, an
``/exchange`` action costs ``1 + batch_length // 40``, ``/info`` requests cost 2, 20 or 60
depending on the request type, and a few list endpoints cost extra per returned item.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

MAINNET_API_URL: Final = "https://api.hyperliquid.xyz"
TESTNET_API_URL: Final = "https://api.hyperliquid-testnet.xyz"
MAINNET_WS_URL: Final = "wss://api.hyperliquid.xyz/ws"
TESTNET_WS_URL: Final = "wss://api.hyperliquid-testnet.xyz/ws"

INFO_PATH: Final = "/info"
EXCHANGE_PATH: Final = "/exchange"
WS_PATH: Final = "/ws"

MAINNET_CHAIN: Final = "Mainnet"
TESTNET_CHAIN: Final = "Testnet"
#: Chain id the official SDK puts in user-signed actions on both networks (Arbitrum Sepolia).
SIGNATURE_CHAIN_ID: Final = "0x66eee"

#: Quote currency of every perpetual; wingbeat trading pairs are ``"<COIN>-USD"``.
QUOTE_ASSET: Final = "USD"
#: Token fees and collateral are paid in.
COLLATERAL_TOKEN: Final = "USDC"

# --- IP rate limits (REST) ---------------------------------------------------------------
#: Weight an IP may spend per window on REST requests (info and exchange together).
REST_WEIGHT_LIMIT: Final = 1200
#: What the client's limiter spends per window by default: a margin below the venue's limit absorbs
#: latency and window-alignment jitter, so a well-behaved client never earns a 429.
REST_WEIGHT_BUDGET: Final = 1150
#: Length of the rate-limit window, seconds.
REST_WEIGHT_WINDOW_S: Final = 60.0
#: Info weight of the cheap request types.
INFO_WEIGHT_LIGHT: Final = 2
#: Info weight of every request type not listed elsewhere.
INFO_WEIGHT_DEFAULT: Final = 20
INFO_WEIGHTS: Final[Mapping[str, int]] = {
    "l2Book": INFO_WEIGHT_LIGHT,
    "allMids": INFO_WEIGHT_LIGHT,
    "clearinghouseState": INFO_WEIGHT_LIGHT,
    "orderStatus": INFO_WEIGHT_LIGHT,
    "spotClearinghouseState": INFO_WEIGHT_LIGHT,
    "exchangeStatus": INFO_WEIGHT_LIGHT,
    "userRole": 60,
}
#: Request types that cost one extra weight per ``ITEMS_PER_EXTRA_WEIGHT`` items returned.
INFO_TYPES_WITH_ITEM_WEIGHT: Final = frozenset(
    {
        "recentTrades",
        "historicalOrders",
        "userFills",
        "userFillsByTime",
        "fundingHistory",
        "userFunding",
        "nonUserFundingUpdates",
        "twapHistory",
        "userTwapSliceFills",
        "userTwapSliceFillsByTime",
        "delegatorHistory",
        "delegatorRewards",
        "validatorStats",
    }
)
ITEMS_PER_EXTRA_WEIGHT: Final = 20
CANDLES_PER_EXTRA_WEIGHT: Final = 60
#: Orders (or cancels) per extra unit of action weight.
ACTION_BATCH_PER_WEIGHT: Final = 40

# --- Websocket limits ----------------------------------------------------------------------
#: The server closes a connection it has sent nothing on for this long, seconds.
WS_SERVER_IDLE_TIMEOUT_S: Final = 60.0
#: Interval between our ``{"method":"ping"}`` frames, seconds (the SDK uses 50).
WS_PING_INTERVAL_S: Final = 50.0
WS_MAX_SUBSCRIPTIONS: Final = 1000
WS_MAX_INFLIGHT_POSTS: Final = 100
WS_MAX_MESSAGES_PER_MINUTE: Final = 2000

# --- Trading limits ------------------------------------------------------------------------
MAX_PRICE_SIGNIFICANT_FIGURES: Final = 5
#: Perp prices may have at most ``PERP_MAX_PRICE_DECIMALS - szDecimals`` decimals.
PERP_MAX_PRICE_DECIMALS: Final = 6
MIN_ORDER_NOTIONAL_USD: Final = 10
DEFAULT_MAX_OPEN_ORDERS: Final = 1000
#: l2Book carries at most this many levels per side.
L2_BOOK_MAX_LEVELS: Final = 20
#: Funding is paid every hour on the hour.
FUNDING_INTERVAL_S: Final = 3600
#: Replies that take a time range return at most this many elements.
MAX_FILLS_PER_REPLY: Final = 2000


def info_weight(request_type: str, items_returned: int = 0) -> int:
    """Weight Hyperliquid charges for an ``/info`` request of ``request_type``.

    ``items_returned`` adds the per-item surcharge of the list endpoints (one per 20 items, one per
    60 for candles); pass 0 when spending weight before the reply is known.
    """
    weight = INFO_WEIGHTS.get(request_type, INFO_WEIGHT_DEFAULT)
    if request_type in INFO_TYPES_WITH_ITEM_WEIGHT:
        weight += items_returned // ITEMS_PER_EXTRA_WEIGHT
    elif request_type == "candleSnapshot":
        weight += items_returned // CANDLES_PER_EXTRA_WEIGHT
    return weight


def action_weight(batch_length: int = 1) -> int:
    """IP weight of one ``/exchange`` action carrying ``batch_length`` orders or cancels."""
    if batch_length < 0:
        raise ValueError(f"batch length must be >= 0, got {batch_length}")
    return 1 + batch_length // ACTION_BATCH_PER_WEIGHT


_KEY_LIKE = re.compile(r"[0-9a-fA-F]{64}")


def looks_like_private_key(text: str) -> bool:
    """Whether ``text`` holds 64 hex digits in a row: possibly a private key, never to be echoed."""
    return _KEY_LIKE.search(text) is not None


def shown(value: str) -> str:
    """``value`` quoted for an error message, unless it may be a private key pasted in the wrong place."""
    if looks_like_private_key(value):
        return "a value that looks like a private key (not shown)"
    return repr(value[:80])


def resolve_network(network: str) -> tuple[str, str, bool]:
    """Map ``"mainnet"``, ``"testnet"`` or an http(s) base URL to ``(rest_url, ws_url, is_mainnet)``.

    A URL other than mainnet's signs as testnet, as the official SDK does (it compares the base
    URL with the mainnet constant). The websocket URL of a base URL is its ``ws``/``wss`` twin plus
    ``/ws``. Raises ``ValueError`` for anything else.
    """
    name = network.strip()
    lowered = name.lower()
    if lowered == "mainnet":
        return MAINNET_API_URL, MAINNET_WS_URL, True
    if lowered == "testnet":
        return TESTNET_API_URL, TESTNET_WS_URL, False
    parts = urlsplit(name)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"network must be 'mainnet', 'testnet' or an http(s) URL, got {shown(network)}")
    rest_url = name.rstrip("/")
    if rest_url == MAINNET_API_URL:
        return MAINNET_API_URL, MAINNET_WS_URL, True
    ws_url = "ws" + rest_url[len("http") :] + WS_PATH
    return rest_url, ws_url, False


def coin_to_trading_pair(coin: str) -> str:
    """Wingbeat trading pair of a Hyperliquid perp coin: ``"BTC"`` -> ``"BTC-USD"``."""
    return f"{coin}-{QUOTE_ASSET}"


def trading_pair_to_coin(trading_pair: str) -> str:
    """Hyperliquid coin of a wingbeat trading pair: ``"BTC-USD"`` -> ``"BTC"``.

    Raises ``ValueError`` when the pair is not ``"<COIN>-USD"``.
    """
    coin, sep, quote = trading_pair.rpartition("-")
    if not sep or not coin or quote != QUOTE_ASSET:
        raise ValueError(f"not a Hyperliquid perpetual trading pair: {trading_pair!r}")
    return coin


def is_spot_trading_pair(trading_pair: str) -> bool:
    """Whether a wingbeat trading pair names a spot pair, ``"PURR-USDC"`` (``BASE-QUOTE`` after its tokens),
    rather than a perpetual, whose quote is always ``USD`` (``"BTC-USD"``, ``"xyz:XYZ100-USD"``)."""
    base, sep, quote = trading_pair.rpartition("-")
    return bool(sep and base and quote) and quote != QUOTE_ASSET
