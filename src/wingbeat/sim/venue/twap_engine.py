"""Hyperliquid's native TWAP orders in the local exchange: placement, slices, cancel, history.

What Hyperliquid documents (order types page; its text is quoted by frontends built on it) and
the SDKs show:

- a TWAP is a total size, a side, a duration of 5 to 1440 minutes (the nktkas SDK's action schema;
  the issue's "7 days" is not what Hyperliquid accepts), reduce-only and randomize flags;
- one suborder ("slice") is sent every 30 seconds; it trades like a market order with a maximum
  slippage of 3%;
- the TWAP aims at an execution target of ``elapsed / duration * total size``; when slices do not
  fill (wide spread, no liquidity) later ones are larger to catch up, but never more than 3 times
  the normal slice (``total size / number of slices``), so a TWAP may end short of its size;
- ``twapOrder`` answers ``{"running": {"twapId"}}`` or ``{"error"}``; refusals seen live:
  ``TWAP order value too small. Min is $100.``, ``Reduce-only TWAP order would increase
  position.``, ``Exceeded max number of active TWAP orders.``; ``twapCancel`` answers ``"success"``
  or ``{"error": "TWAP was never placed, already canceled, or filled."}``;
- TWAPs run on spot pairs too (asset ``10000 + spot index``; data providers list spot TWAPs with coins
  such as ``@107``): a slice then trades like a spot IOC (the spot price rule, fees in the token
  received) and needs the spot balance it spends;
- slice fills are ordinary fills carrying ``twapId`` and an all-zero ``hash``;
  ``twapHistory`` / ``userTwapHistory`` list ``{"time" (seconds), "state", "status": {"status":
  "activated"|"finished"|"terminated"|"error"[, "description"]}, "twapId"}``.

CHOSEN (no source): slice ``k`` (from 0) goes out ``30 s * k`` after the start and aims at
``(k + 1) / n`` of the size, so the first slice trades at once and the last one 30 s before the
end; ``randomize`` varies each slice's size by up to 20% either way (the cadence stays 30 s); the
3% cap is taken from the mark price; a slice the account has no margin for ends the TWAP with
status ``error`` and the exchange's margin message; a reduce-only TWAP whose position is gone sends
no more slices; a reduce-only spot TWAP is refused with the reduce-only text (a spot pair has no
position to reduce), and a spot slice the balance cannot pay for ends the TWAP with status ``error``
and the spot balance message; at most 100 TWAPs run per account; no refusal for large values (Hyperliquid's
maximum is not published).
"""

from __future__ import annotations

import heapq
import random
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from typing import Any, Protocol

from wingbeat.sim.venue.accounts import Account
from wingbeat.sim.venue.book import Order
from wingbeat.sim.venue.market_state import MarketState, SpotMarketState
from wingbeat.sim.venue.markets import fmt
from wingbeat.sim.venue.perp_dex import PerpDex
from wingbeat.sim.venue.spot_flow import INSUFFICIENT_SPOT_BALANCE, available
from wingbeat.sim.venue.types import EngineEvent, TwapHistoryEvent, TwapSliceFillsEvent
from wingbeat.sim.venue.validation import INSUFFICIENT_MARGIN, has_margin, reducible

__all__ = [
    "MAX_MINUTES",
    "MIN_MINUTES",
    "MIN_VALUE",
    "SLICE_INTERVAL_MS",
    "SLICE_SLIPPAGE",
    "Twap",
    "TwapBook",
    "TwapRequest",
    "TwapVenue",
    "cancel",
    "place",
    "render_state",
    "run_due",
]

ZERO = Decimal(0)
SLICE_INTERVAL_MS = 30_000
MIN_MINUTES = 5
MAX_MINUTES = 1440
SLICE_SLIPPAGE = Decimal("0.03")
CATCH_UP_FACTOR = 3
MIN_VALUE = Decimal(100)  # "TWAP order value too small. Min is $100." (measured on mainnet)
MAX_RUNNING = 100  # CHOSEN: Hyperliquid's cap is not published
RANDOM_SPREAD_PERMILLE = 200  # CHOSEN: +-20% of a slice's size with randomize
SLICE_FILLS_KEPT = 2000  # userTwapSliceFills answers at most the 2000 most recent
HISTORY_KEPT = 2000  # CHOSEN: twapHistory entries kept per account
ZERO_HASH = "0x" + "0" * 64
_MAX_SLICES_PER_ADVANCE = 100_000  # a guard: each TWAP sends at most 2880 slices in all

MISSING_TWAP = "TWAP was never placed, already canceled, or filled."
TOO_SMALL = f"TWAP order value too small. Min is ${MIN_VALUE}."
REDUCE_ONLY_WOULD_INCREASE = "Reduce-only TWAP order would increase position."
TOO_MANY = "Exceeded max number of active TWAP orders."
BAD_DURATION = f"TWAP duration must be between {MIN_MINUTES} and {MAX_MINUTES} minutes."


@dataclass(frozen=True, slots=True)
class TwapRequest:
    """One decoded ``twapOrder`` (``a b s r m t``)."""

    asset: int
    is_buy: bool
    size: Decimal
    reduce_only: bool
    minutes: int
    randomize: bool


@dataclass(slots=True)
class Twap:
    """A running TWAP and its progress."""

    twap_id: int
    user: str
    asset: int
    coin: str
    is_buy: bool
    size: Decimal
    reduce_only: bool
    minutes: int
    randomize: bool
    started_ms: int
    executed_sz: Decimal = ZERO
    executed_ntl: Decimal = ZERO
    slices_sent: int = 0
    next_slice_ms: int = 0

    @property
    def n_slices(self) -> int:
        """How many slices the duration holds (one every 30 s)."""
        return self.minutes * 60_000 // SLICE_INTERVAL_MS


@dataclass(slots=True)
class TwapBook:
    """Every TWAP of the venue: the running ones (with a heap of their next slice times), each
    account's history and slice fills. Part of the engine's state (snapshotted with it)."""

    seed: int
    running: dict[int, Twap] = field(default_factory=dict)
    heap: list[tuple[int, int]] = field(default_factory=list)  # (next slice ms, twap id), lazy
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # user -> entries, oldest first
    slice_fills: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)  # user -> Fill rows
    next_id: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.rng.seed(f"twap:{self.seed}")
        # ids start at a seed-dependent base, as the engine's oids do
        self.next_id = self.next_id or 1 + (self.seed % 1000) * 1_000_000

    def running_of(self, user: str) -> list[Twap]:
        """The running TWAPs of ``user``, oldest first."""
        return [t for t in self.running.values() if t.user == user]


class TwapVenue(Protocol):
    """What TWAPs use of the engine (:class:`~wingbeat.sim.venue.engine.ExchangeEngine`)."""

    accounts: dict[str, Account]
    markets: list[MarketState]
    marks: dict[int, Decimal]
    max_leverages: dict[int, int]
    twaps: TwapBook
    _hash: str | None

    @property
    def has_subscribers(self) -> bool:
        """Whether anyone listens."""
        ...

    def emit(self, event: EngineEvent) -> None:
        """Queue ``event`` for the end of the current action."""
        ...

    def market_by_asset(self, asset: int) -> MarketState | None:
        """The market of asset id ``asset`` (perp of any dex, or spot), or None."""
        ...

    def dex_of(self, asset: int) -> PerpDex | None:
        """The perp dex that lists perp asset ``asset``, or None."""
        ...

    def new_oid(self) -> int:
        """A fresh order id."""
        ...

    def account_frame(self) -> AbstractContextManager[int]:
        """An action frame; yields its time."""
        ...

    def _execute(self, acct: Account, m: MarketState, order: Order, now: int, *, fresh: bool) -> Any:
        """Match ``order`` as a taker, then finish it by its tif."""
        ...

    def _execute_spot(self, acct: Account, m: SpotMarketState, order: Order, now: int) -> Any:
        """Match a spot ``order`` as a taker, then finish it by its tif."""
        ...


def _market(venue: TwapVenue, asset: int) -> MarketState | None:
    """The perp of any dex (asset = index, or 110000 + ... on a builder dex) or the spot pair
    (asset = 10000 + spot index) a TWAP trades."""
    return venue.market_by_asset(asset)


def render_state(twap: Twap) -> dict[str, Any]:
    """A TWAP's ``state`` as ``twapStates`` and ``twapHistory`` show it."""
    return {
        "coin": twap.coin,
        "user": twap.user,
        "side": "B" if twap.is_buy else "A",
        "sz": fmt(twap.size),
        "executedSz": fmt(twap.executed_sz),
        "executedNtl": fmt(twap.executed_ntl),
        "minutes": twap.minutes,
        "reduceOnly": twap.reduce_only,
        "randomize": twap.randomize,
        "timestamp": twap.started_ms,
        # newer fields (trigger and stop prices of the `details` a twapOrder may carry): always
        # unset here, as the local exchange takes no `details`
        "stopPx": None,
        "trigger": None,
    }


def _record(venue: TwapVenue, twap: Twap, now: int, status: str, description: str | None = None) -> None:
    entry_status: dict[str, Any] = {"status": status}
    if description is not None:
        entry_status["description"] = description
    entry = {"time": now // 1000, "state": render_state(twap), "status": entry_status, "twapId": twap.twap_id}
    history = venue.twaps.history.setdefault(twap.user, [])
    history.append(entry)
    if len(history) > 2 * HISTORY_KEPT:
        del history[:-HISTORY_KEPT]
    if venue.has_subscribers:
        venue.emit(TwapHistoryEvent(twap.user, [entry]))


def place(venue: TwapVenue, acct: Account, req: TwapRequest, now: int) -> dict[str, Any]:
    """Start a TWAP for ``acct``: the ``status`` of the ``twapOrder`` answer. Its first slice goes
    out at once."""
    book = venue.twaps
    m = _market(venue, req.asset)
    if m is None:
        return {"error": f"Invalid asset. asset={req.asset}"}
    dex = venue.dex_of(m.index)
    if dex is not None:
        acct = dex.account(acct)  # a builder dex's perp trades on the user's margin account there
    if not MIN_MINUTES <= req.minutes <= MAX_MINUTES:
        return {"error": BAD_DURATION}
    if not req.size.is_finite() or req.size <= 0:
        return {"error": "Order has zero size."}
    if not m.size_ok(req.size):
        return {"error": "Order has invalid size."}
    if req.size * venue.marks[m.index] < MIN_VALUE:
        return {"error": TOO_SMALL}
    if req.reduce_only and (m.is_spot or reducible(acct, m.index, req.is_buy) == 0):
        return {"error": REDUCE_ONLY_WOULD_INCREASE}
    if len(book.running_of(acct.user)) >= MAX_RUNNING:
        return {"error": TOO_MANY}
    twap = Twap(book.next_id, acct.user, m.index, m.coin, req.is_buy, req.size, req.reduce_only,
                req.minutes, req.randomize, now, next_slice_ms=now)  # fmt: skip
    book.next_id += 1
    book.running[twap.twap_id] = twap
    _record(venue, twap, now, "activated")
    _send_slice(venue, twap, now)
    if twap.twap_id in book.running:
        heapq.heappush(book.heap, (twap.next_slice_ms, twap.twap_id))
    return {"running": {"twapId": twap.twap_id}}


def cancel(venue: TwapVenue, acct: Account, asset: int, twap_id: int, now: int) -> Any:
    """Stop a running TWAP of ``acct``: the ``status`` of the ``twapCancel`` answer."""
    book = venue.twaps
    twap = book.running.get(twap_id)
    if twap is None or twap.user != acct.user or twap.asset != asset:
        return {"error": MISSING_TWAP}
    del book.running[twap_id]  # its heap entry is skipped lazily
    _record(venue, twap, now, "terminated")
    return "success"


def run_due(venue: TwapVenue, now: int) -> None:
    """Send every slice due by ``now`` (within the current action frame), oldest schedule first."""
    book = venue.twaps
    heap = book.heap
    for _ in range(_MAX_SLICES_PER_ADVANCE):
        if not heap or heap[0][0] > now:
            return
        due, twap_id = heapq.heappop(heap)
        twap = book.running.get(twap_id)
        if twap is None or twap.next_slice_ms != due:
            continue  # canceled or finished
        _send_slice(venue, twap, now)
        if twap.twap_id in book.running:
            heapq.heappush(heap, (twap.next_slice_ms, twap.twap_id))


def _slice_size(book: TwapBook, twap: Twap, m: MarketState, acct: Account) -> Decimal:
    n = twap.n_slices
    k = twap.slices_sent
    left = twap.size - twap.executed_sz
    want = twap.size * (k + 1) / n - twap.executed_sz
    if twap.randomize and k + 1 < n:
        factor = 1000 + book.rng.randint(-RANDOM_SPREAD_PERMILLE, RANDOM_SPREAD_PERMILLE)
        want = want * factor / 1000
    want = min(want, CATCH_UP_FACTOR * twap.size / n, left)
    if twap.reduce_only:
        want = min(want, reducible(acct, m.index, twap.is_buy))
    lot = Decimal(1).scaleb(-m.cfg.sz_decimals)
    return want.quantize(lot, rounding=ROUND_DOWN) if want > 0 else ZERO


def _slice_limit(mark: Decimal, is_buy: bool, sz_decimals: int, max_decimals: int = 6) -> Decimal:
    """The mark moved by the 3% cap against the slice, on the price grid (5 significant figures, at most
    ``max_decimals - szDecimals`` decimals: 6 on perps, 8 on spot) and within the cap."""
    px = mark * (1 + SLICE_SLIPPAGE) if is_buy else mark * (1 - SLICE_SLIPPAGE)
    exp = min(max(px.adjusted() - 4, -(max_decimals - sz_decimals)), 0)
    return px.quantize(Decimal(1).scaleb(exp), rounding=ROUND_FLOOR if is_buy else ROUND_CEILING)


def _send_slice(venue: TwapVenue, twap: Twap, now: int) -> None:
    book = venue.twaps
    m = _market(venue, twap.asset)
    assert m is not None  # checked when the TWAP was placed; markets are never removed
    acct = m.accounts[twap.user]  # the margin account on the market's dex (spot: the main one)
    sz = _slice_size(book, twap, m, acct)
    twap.slices_sent += 1
    twap.next_slice_ms += SLICE_INTERVAL_MS
    if sz:
        limit = _slice_limit(venue.marks[m.index], twap.is_buy, m.cfg.sz_decimals, 8 if m.is_spot else 6)
        problem = _slice_problem(venue, twap, acct, m, limit, sz)
        if problem is not None:
            del book.running[twap.twap_id]
            _record(venue, twap, now, "error", problem)
            return
        _trade_slice(venue, twap, acct, m, sz, limit, now)
    if twap.executed_sz >= twap.size or twap.slices_sent >= twap.n_slices:
        del book.running[twap.twap_id]
        _record(venue, twap, now, "finished")


def _slice_problem(
    venue: TwapVenue, twap: Twap, acct: Account, m: MarketState, limit: Decimal, sz: Decimal
) -> str | None:
    """Why the account cannot send this slice (no margin on a perp, too small a spot balance), or None."""
    if isinstance(m, SpotMarketState):
        held, token = (limit * sz, m.quote.name) if twap.is_buy else (sz, m.base.name)
        return None if available(acct, token) >= held else f"{INSUFFICIENT_SPOT_BALANCE[0]} asset={m.index}"
    if twap.reduce_only or has_margin(acct, m, twap.is_buy, limit, sz, venue.marks, venue.max_leverages):
        return None
    return INSUFFICIENT_MARGIN[0]


def _trade_slice(
    venue: TwapVenue, twap: Twap, acct: Account, m: MarketState, sz: Decimal, limit: Decimal, now: int
) -> None:
    """One slice: an IOC order marked with the TWAP's id, its fills under the all-zero hash."""
    order = Order(venue.new_oid(), acct.user, m.index, m.coin, twap.is_buy, limit, sz, now,
                  twap.reduce_only, "Ioc", None, None)  # fmt: skip
    order.twap_id = twap.twap_id
    previous_hash, venue._hash = venue._hash, ZERO_HASH
    try:
        if isinstance(m, SpotMarketState):
            venue._execute_spot(acct, m, order, now)
        else:
            venue._execute(acct, m, order, now, fresh=True)
    finally:
        venue._hash = previous_hash
    # the taker's fills of this slice: the rows it appended last to the account's fill log
    rows = acct.fills.rows
    i = len(rows)
    while i and rows[i - 1][9] == order.oid:
        i -= 1
    new = rows[i:]
    if not new:
        return
    for row in new:
        twap.executed_sz += row[2]
        twap.executed_ntl += row[1] * row[2]
    kept = venue.twaps.slice_fills.setdefault(acct.user, [])
    kept.extend(new)
    if len(kept) > 2 * SLICE_FILLS_KEPT:
        del kept[:-SLICE_FILLS_KEPT]
    if venue.has_subscribers:
        venue.emit(TwapSliceFillsEvent(acct.user, new))
