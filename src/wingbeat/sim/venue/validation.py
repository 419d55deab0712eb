"""Order checks as Hyperliquid makes them, with its own messages and order-status strings."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from wingbeat.sim.venue.accounts import Account
from wingbeat.sim.venue.book import Book
from wingbeat.sim.venue.market_state import MarketState
from wingbeat.sim.venue.markets import fmt
from wingbeat.sim.venue.types import OrderRequest

__all__ = ["MIN_NOTIONAL", "check_order", "has_margin", "open_order_limit", "post_only_crossing", "reducible",
           "slippage_price", "static_problem"]  # fmt: skip

ZERO = Decimal(0)
MIN_NOTIONAL = Decimal(10)
MAX_PRICE_DEVIATION = Decimal("0.8")  # from the reference (mark) price
MAX_WIRE_NUMBER = Decimal(10) ** 15  # larger sizes and trigger prices are refused per order
MARKET_TRIGGER_SLIPPAGE = Decimal("0.1")  # docs: market TP/SL orders have a 10% slippage tolerance
# docs, rate limits and user limits: 1000 open orders plus 1 per 5M USDC of volume, up to 5000;
# from 1000 open orders on, new reduce-only and trigger orders are rejected
VOLUME_PER_EXTRA_ORDER = Decimal(5_000_000)
MAX_OPEN_ORDERS_FACTOR = 5

# (message, order status) of each refusal
ZERO_SIZE = ("Order has zero size.", "rejected")
INVALID_SIZE = ("Order has invalid size.", "rejected")
INVALID_PRICE = ("Order has invalid price.", "rejected")  # text from ccxt's Hyperliquid error table
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


def slippage_price(mark: Decimal, is_buy: bool, sz_decimals: int) -> Decimal:
    """The limit a triggered market TP/SL trades within: the mark moved by the 10% tolerance
    against the order, on the price grid (5 significant figures, ``6 - sz_decimals`` decimals)."""
    px = mark * (1 + MARKET_TRIGGER_SLIPPAGE) if is_buy else mark * (1 - MARKET_TRIGGER_SLIPPAGE)
    exp = max(px.adjusted() - 4, -(6 - sz_decimals))
    return px.quantize(Decimal(1).scaleb(min(exp, 0)), rounding=ROUND_HALF_EVEN)


def post_only_crossing(book: Book, req: OrderRequest) -> tuple[str, str] | None:
    """The refusal of an Alo order that would take liquidity on ``book`` (None when it would rest)."""
    opp = book.best_ask() if req.is_buy else book.best_bid()
    if opp is None or (req.price < opp if req.is_buy else req.price > opp):
        return None
    bid, ask = book.best_bid(), book.best_ask()
    bbo = f"{fmt(bid) if bid is not None else ''}@{fmt(ask) if ask is not None else ''}"
    return f"Post only order would have immediately matched, bbo was {bbo}.", "badAloPxRejected"


def open_order_limit(acct: Account, base: int) -> int:
    """How many open orders ``acct`` may have: ``base`` plus one per 5M USDC it traded, at most
    five times ``base``."""
    extra = int(acct.cum_volume / VOLUME_PER_EXTRA_ORDER)
    return min(base + extra, MAX_OPEN_ORDERS_FACTOR * base)


def static_problem(
    m: MarketState, req: OrderRequest, ref: Decimal, *, whole_position: bool = False
) -> tuple[str, str] | None:
    """The first rule the order itself breaks (size, tick, price band, type, minimum value),
    whatever the account's state; ``ref`` is the reference (mark) price. With ``whole_position``
    (a position TP/SL) a size of 0 means the whole position and is not checked."""
    size, price = req.size, req.price
    if whole_position and not size:
        size = ZERO
    # the markets' caches answer almost every order (the flow repeats a few values); a cached
    # size is finite and positive, a cached price finite
    try:
        known = m.valid_sz.get(size) and m.valid_px.get(price)
    except TypeError:  # a signalling NaN cannot be hashed
        known = False
    if not known and not (whole_position and size == 0):
        if not size.is_finite() or size <= 0:
            return ZERO_SIZE
        if size > MAX_WIRE_NUMBER or not m.size_ok(size):
            return INVALID_SIZE
        if not price.is_finite() or price <= 0:
            return INVALID_PRICE
        if not m.price_ok(price):
            return BAD_TICK
    elif not known and not m.price_ok(price):
        return INVALID_PRICE if not price.is_finite() or price <= 0 else BAD_TICK
    if abs(price - ref) > ref * MAX_PRICE_DEVIATION:
        return OUT_OF_BAND
    trigger = req.trigger
    if trigger is not None and (trigger.trigger_px > MAX_WIRE_NUMBER or not m.price_ok(trigger.trigger_px)):
        return BAD_TRIGGER_PX
    if (trigger is None) == (req.tif is None):
        return INVALID_TYPE
    if not req.reduce_only and not (whole_position and size == 0) and price * size < MIN_NOTIONAL:
        return BELOW_MIN_NOTIONAL
    return None


def check_order(
    acct: Account,
    m: MarketState,
    req: OrderRequest,
    max_open_orders: int,
    marks: dict[int, Decimal],
    max_leverages: dict[int, int],
    *,
    whole_position: bool = False,
) -> tuple[str, str] | None:
    """``(message, order status)`` of the first rule ``req`` breaks, or None when it may trade.
    ``max_open_orders`` is the base open-order limit (see `open_order_limit`)."""
    problem = static_problem(m, req, marks[m.index], whole_position=whole_position)
    if problem is not None:
        return problem
    n_open = len(acct.open_orders)
    if n_open >= max_open_orders and (
        req.reduce_only or req.trigger is not None or n_open >= open_order_limit(acct, max_open_orders)
    ):
        return TOO_MANY_ORDERS
    if req.reduce_only and req.trigger is None and reducible(acct, m.index, req.is_buy) == 0:
        return REDUCE_ONLY_REJECTED
    if req.tif == "Alo":
        crossing = post_only_crossing(m.book, req)
        if crossing is not None:
            return crossing
    if (
        not req.reduce_only
        and req.trigger is None
        and not has_margin(acct, m, req.is_buy, req.price, req.size, marks, max_leverages)
    ):
        return INSUFFICIENT_MARGIN
    return None
