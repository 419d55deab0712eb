"""Order checks as Hyperliquid makes them, with its own messages and order-status strings."""

from __future__ import annotations

from decimal import Decimal

from .accounts import Account
from .market_state import MarketState
from .markets import fmt
from .types import OrderRequest

__all__ = ["MIN_NOTIONAL", "check_order", "has_margin", "reducible", "static_problem"]

ZERO = Decimal(0)
MIN_NOTIONAL = Decimal(10)
MAX_PRICE_DEVIATION = Decimal("0.8")  # from the reference (mark) price

# (message, order status) of each refusal
ZERO_SIZE = ("Order has zero size.", "rejected")
INVALID_SIZE = ("Order has invalid size.", "rejected")
BAD_TICK = ("Price must be divisible by tick size.", "tickRejected")
OUT_OF_BAND = ("Order price cannot be more than 80% away from the reference price", "rejected")
BAD_TRIGGER_PX = ("Invalid TP/SL price.", "badTriggerPxRejected")
INVALID_TYPE = ("Order has invalid type.", "rejected")
BELOW_MIN_NOTIONAL = ("Order must have minimum value of $10.", "minTradeNtlRejected")
TOO_MANY_ORDERS = ("Too many open orders.", "rejected")
REDUCE_ONLY_REJECTED = ("Reduce only order would increase position.", "reduceOnlyRejected")
INSUFFICIENT_MARGIN = ("Insufficient margin to place order.", "perpMarginRejected")


def reducible(acct: Account, asset: int, is_buy: bool) -> Decimal:
    """How much a reduce-only order on this side may still trade (0: it would increase)."""
    pos = acct.szi(asset)
    if pos == 0 or (pos > 0) == is_buy:
        return ZERO
    return abs(pos)


def has_margin(
    acct: Account,
    m: MarketState,
    is_buy: bool,
    px: Decimal,
    sz: Decimal,
    marks: dict[int, Decimal],
    max_leverages: dict[int, int],
) -> bool:
    """Whether the part of the order that grows the position fits in the available margin."""
    position = acct.positions.get(m.index)
    if position is not None and position.szi:
        pos = position.szi
        inc = sz if (pos > 0) == is_buy else sz - abs(pos)
        if inc <= 0:
            return True
    else:
        inc = sz
    setting = acct.leverage.get(m.index)
    lev = setting[1] if setting is not None else m.cfg.max_leverage
    return px * inc / lev <= acct.available(marks, max_leverages)


def static_problem(m: MarketState, req: OrderRequest, ref: Decimal) -> tuple[str, str] | None:
    """The first rule the order itself breaks (size, tick, price band, type, minimum value),
    whatever the account's state; ``ref`` is the reference (mark) price."""
    size, price = req.size, req.price
    # the markets' caches answer almost every order (the flow repeats a few values); a cached
    # size is finite and positive, a cached price finite
    try:
        known = m.valid_sz.get(size) and m.valid_px.get(price)
    except TypeError:  # a signalling NaN cannot be hashed
        known = False
    if not known:
        if not size.is_finite() or size <= 0:
            return ZERO_SIZE
        if not m.size_ok(size):
            return INVALID_SIZE
        if not m.price_ok(price):
            return BAD_TICK
    if abs(price - ref) > ref * MAX_PRICE_DEVIATION:
        return OUT_OF_BAND
    trigger = req.trigger
    if trigger is not None and not m.price_ok(trigger.trigger_px):
        return BAD_TRIGGER_PX
    if (trigger is None) == (req.tif is None):
        return INVALID_TYPE
    if not req.reduce_only and price * size < MIN_NOTIONAL:
        return BELOW_MIN_NOTIONAL
    return None


def check_order(
    acct: Account,
    m: MarketState,
    req: OrderRequest,
    max_open_orders: int,
    marks: dict[int, Decimal],
    max_leverages: dict[int, int],
) -> tuple[str, str] | None:
    """``(message, order status)`` of the first rule ``req`` breaks, or None when it may trade."""
    problem = static_problem(m, req, marks[m.index])
    if problem is not None:
        return problem
    if len(acct.open_orders) >= max_open_orders:
        return TOO_MANY_ORDERS
    if req.reduce_only and req.trigger is None and reducible(acct, m.index, req.is_buy) == 0:
        return REDUCE_ONLY_REJECTED
    if req.tif == "Alo":
        book = m.book
        opp = book.best_ask() if req.is_buy else book.best_bid()
        if opp is not None and (req.price >= opp if req.is_buy else req.price <= opp):
            bid, ask = book.best_bid(), book.best_ask()
            bbo = f"{fmt(bid) if bid is not None else ''}@{fmt(ask) if ask is not None else ''}"
            return f"Post only order would have immediately matched, bbo was {bbo}.", "badAloPxRejected"
    if (
        not req.reduce_only
        and req.trigger is None
        and not has_margin(acct, m, req.is_buy, req.price, req.size, marks, max_leverages)
    ):
        return INSUFFICIENT_MARGIN
    return None
