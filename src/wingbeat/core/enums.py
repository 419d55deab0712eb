"""Order vocabulary shared by every connector: order type, side, position action, time in force.

``OrderState`` lives in :mod:`wingbeat.core.order_state` with its transition table.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["OrderType", "PositionAction", "TimeInForce", "TradeType"]


class OrderType(Enum):
    """How an order meets the book: LIMIT rests, LIMIT_MAKER is post-only, MARKET takes at once."""

    LIMIT = "LIMIT"
    LIMIT_MAKER = "LIMIT_MAKER"
    MARKET = "MARKET"


class TradeType(Enum):
    """Side of an order or a fill."""

    BUY = "BUY"
    SELL = "SELL"


class PositionAction(Enum):
    """What a perpetual order does to the position: OPEN (increase), CLOSE (reduce-only), NIL (spot / unspecified)."""

    OPEN = "OPEN"
    CLOSE = "CLOSE"
    NIL = "NIL"


class TimeInForce(Enum):
    """How long an order may rest: GTC rests, IOC takes what it can and expires, ALO is post-only."""

    GTC = "GTC"
    IOC = "IOC"
    ALO = "ALO"
