"""Price-time priority order book of one market, and the history of finished orders.

Each side is a dict ``price -> OrderedDict{oid: order}`` (insertion order is time priority) plus
a heap of the prices present, deleted lazily, so best price, insert, cancel and fill are each a
few dict and heap operations with no scanning.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict, deque
from collections.abc import Iterator
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Literal, NamedTuple

from wingbeat.sim.venue.types import TriggerSpec

__all__ = ["Book", "BookSide", "Order", "OrderHistory", "OrderRecord"]


class Order:
    """A live order on the venue (resting, or waiting for its trigger); mutable engine state."""

    __slots__ = (
        "asset",
        "builder",
        "children",
        "cloid",
        "coin",
        "is_buy",
        "limit_px",
        "margin_per_sz",
        "oid",
        "orig_sz",
        "position_tpsl",
        "reduce_only",
        "siblings",
        "sz",
        "texts",
        "tif",
        "timestamp",
        "trigger",
        "triggered",
        "twap_id",
        "user",
    )

    def __init__(
        self,
        oid: int,
        user: str,
        asset: int,
        coin: str,
        is_buy: bool,
        limit_px: Decimal,
        sz: Decimal,
        timestamp: int,
        reduce_only: bool,
        tif: Literal["Gtc", "Ioc", "Alo"] | None,
        trigger: TriggerSpec | None,
        cloid: str | None,
    ) -> None:
        self.oid = oid
        self.user = user
        self.asset = asset
        self.coin = coin
        self.is_buy = is_buy
        self.limit_px = limit_px
        self.sz = sz  # remaining
        self.orig_sz = sz
        self.timestamp = timestamp
        self.reduce_only = reduce_only
        self.tif = tif
        self.trigger = trigger
        self.triggered = False
        self.position_tpsl = False  # a TP/SL of the whole position (positionTpsl grouping)
        self.cloid = cloid
        self.texts: tuple[str, str] | None = None  # rendered (limitPx, origSz), set on first use
        # initial margin reserved per unit of remaining size while resting (0: none reserved)
        self.margin_per_sz = Decimal(0)
        # normalTpsl children waiting for this order to fill
        self.children: tuple[Order, ...] = ()
        # the other TP/SL orders of the same normalTpsl bracket (canceled when this one fills)
        self.siblings: tuple[Order, ...] = ()
        self.twap_id: int | None = None  # the TWAP this order is a slice of
        self.builder: tuple[str, int] | None = None  # (builder, fee in tenths of a bp) of its order action

    def __repr__(self) -> str:
        side = "B" if self.is_buy else "A"
        return f"Order(oid={self.oid}, {self.coin} {side} {self.sz}@{self.limit_px})"


_tuple_new = tuple.__new__


class OrderRecord(NamedTuple):
    """A finished order as kept for ``orderStatus``/``historicalOrders`` (the trigger flattened,
    so that as a plain tuple in :class:`OrderHistory` it holds atoms only)."""

    oid: int
    user: str
    asset: int
    coin: str
    is_buy: bool
    limit_px: Decimal
    sz: Decimal
    orig_sz: Decimal
    timestamp: int
    reduce_only: bool
    tif: Literal["Gtc", "Ioc", "Alo"] | None
    cloid: str | None
    triggered: bool
    position_tpsl: bool
    trigger_is_market: bool | None
    trigger_px: Decimal | None
    trigger_tpsl: Literal["tp", "sl"] | None
    status: str
    status_ts: int

    @property
    def trigger(self) -> TriggerSpec | None:
        """The trigger part, rebuilt."""
        if self.trigger_px is None or self.trigger_is_market is None or self.trigger_tpsl is None:
            return None
        return TriggerSpec(self.trigger_is_market, self.trigger_px, self.trigger_tpsl)

    @property
    def children(self) -> tuple[Order, ...]:
        """A finished order has no waiting TP/SL children."""
        return ()

    @property
    def texts(self) -> tuple[str, str] | None:
        """Rendered texts are not kept for finished orders."""
        return None


class OrderHistory:
    """Finished orders by oid, oldest first; reads give :class:`OrderRecord` objects.

    Stored as plain tuples of atoms, which the garbage collector stops tracking (it never
    untracks tuple subclasses such as a NamedTuple): the history holds up to hundreds of
    thousands, and each tracked one would be re-scanned by every full collection.
    """

    __slots__ = ("_age", "_rows", "_triggered")

    def __init__(self) -> None:
        self._rows: dict[int, tuple[Any, ...]] = {}
        # trigger orders that fired, as they were then (status "triggered"), by oid: Hyperliquid
        # lists that step in historicalOrders besides the order's final status
        self._triggered: dict[int, tuple[Any, ...]] = {}
        # oids oldest first: popping the front of the dict itself would scan its deleted slots
        self._age: deque[int] = deque()

    def add(self, order: Order, status: str, now: int) -> int:
        """Record ``order`` finished with ``status`` (replacing an earlier record of its oid);
        returns how many records are kept."""
        rows = self._rows
        oid = order.oid
        if oid not in rows:
            self._age.append(oid)
        rows[oid] = self._row(order, status, now)
        return len(rows)

    def add_triggered(self, order: Order, now: int) -> None:
        """Record that the trigger order ``order`` fired at ``now`` (kept until its oid is forgotten)."""
        self._triggered[order.oid] = self._row(order, "triggered", now)

    def triggered(self, oid: int) -> OrderRecord | None:
        """The "triggered" record of ``oid``, or None if it never fired."""
        row = self._triggered.get(oid)
        if row is None:
            return None
        record: OrderRecord = _tuple_new(OrderRecord, row)
        return record

    def triggered_oids(self) -> list[int]:
        """Oids of the trigger orders that fired and are still remembered."""
        return list(self._triggered)

    @staticmethod
    def _row(o: Order, status: str, now: int) -> tuple[Any, ...]:
        oid = o.oid
        trig = o.trigger
        # the fields of OrderRecord, in its order
        if trig is None:
            return (oid, o.user, o.asset, o.coin, o.is_buy, o.limit_px, o.sz, o.orig_sz, o.timestamp,
                    o.reduce_only, o.tif, o.cloid, o.triggered, o.position_tpsl, None, None, None, status,
                    now)  # fmt: skip
        return (oid, o.user, o.asset, o.coin, o.is_buy, o.limit_px, o.sz, o.orig_sz, o.timestamp,
                o.reduce_only, o.tif, o.cloid, o.triggered, o.position_tpsl, trig.is_market,
                trig.trigger_px, trig.tpsl, status, now)  # fmt: skip

    def pop_oldest(self) -> OrderRecord:
        """Forget the oldest record and return it (IndexError when empty)."""
        oid = self._age.popleft()
        self._triggered.pop(oid, None)
        record: OrderRecord = _tuple_new(OrderRecord, self._rows.pop(oid))
        return record

    def get(self, oid: int) -> OrderRecord | None:
        """The record of ``oid``, or None."""
        row = self._rows.get(oid)
        if row is None:
            return None
        record: OrderRecord = _tuple_new(OrderRecord, row)
        return record

    def __getitem__(self, oid: int) -> OrderRecord:
        record: OrderRecord = _tuple_new(OrderRecord, self._rows[oid])
        return record

    def __contains__(self, oid: object) -> bool:
        return oid in self._rows

    def __iter__(self) -> Iterator[int]:
        return iter(self._age)

    def __len__(self) -> int:
        return len(self._rows)


# an OrderedDict, not a dict: a level is a FIFO queue, and finding the first entry of a plain
# dict after deleting from its front scans every deleted slot (until the next resize)
Level = OrderedDict[int, Order]


class BookSide:
    """One side of the book: price levels, their best price, and a lazily-cleaned heap of the
    level prices (consulted only when the best level empties).

    ``levels`` and ``top`` are read directly by the matching loop; change them only through the
    methods."""

    __slots__ = ("_heap", "_in_heap", "_is_bid", "levels", "top")

    def __init__(self, is_bid: bool) -> None:
        self.levels: dict[Decimal, Level] = {}
        self._heap: list[Decimal] = []  # prices, negated for bids so heap[0] is the best
        self._in_heap: set[Decimal] = set()
        self._is_bid = is_bid
        self.top: Decimal | None = None  # the best price, always exact

    def _next_top(self) -> Decimal | None:
        # the best level emptied: pop stale heap entries down to the best remaining level
        heap, levels, in_heap = self._heap, self.levels, self._in_heap
        is_bid = self._is_bid
        while heap:
            px = -heap[0] if is_bid else heap[0]
            if px in levels:
                return px
            heapq.heappop(heap)
            in_heap.discard(px)
        return None

    def add(self, order: Order) -> None:
        """Append ``order`` to its price level (creating the level)."""
        px = order.limit_px
        level = self.levels.get(px)
        if level is None:
            level = self.levels[px] = OrderedDict()
            if px not in self._in_heap:
                self._in_heap.add(px)
                heapq.heappush(self._heap, -px if self._is_bid else px)
            top = self.top
            if top is None or (px > top if self._is_bid else px < top):
                self.top = px
        level[order.oid] = order

    def remove(self, order: Order) -> None:
        """Drop ``order`` from its level (dropping an emptied level; its heap entry goes lazily)."""
        px = order.limit_px
        level = self.levels.get(px)
        if level is None or level.pop(order.oid, None) is None:
            return
        if not level:
            self.drop_level(px)

    def drop_level(self, px: Decimal) -> None:
        """Forget the (emptied) level at ``px``."""
        del self.levels[px]
        if px == self.top:
            self.top = self._next_top()

    def sorted_prices(self, limit: int | None = None) -> list[Decimal]:
        """Prices best first; only the best ``limit`` when given (a partial selection, no full sort)."""
        if limit is None or limit >= len(self.levels):
            return sorted(self.levels, reverse=self._is_bid)
        pick = heapq.nlargest if self._is_bid else heapq.nsmallest
        return pick(limit, self.levels)


class Book:
    """The price-time priority book of one market (resting limit orders only)."""

    __slots__ = ("asks", "bids", "coin")

    def __init__(self, coin: str) -> None:
        self.coin = coin
        # the sides, read directly by the matching loop; change them only through Book and BookSide methods
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)

    def best_bid(self) -> Decimal | None:
        """Highest bid price, or None."""
        return self.bids.top

    def best_ask(self) -> Decimal | None:
        """Lowest ask price, or None."""
        return self.asks.top

    def best_level(self, is_bid: bool) -> tuple[Decimal, Level] | None:
        """The best price of one side and its orders in time priority, or None if that side is empty."""
        side = self.bids if is_bid else self.asks
        px = side.top
        if px is None:
            return None
        return px, side.levels[px]

    def add(self, order: Order) -> None:
        """Rest ``order`` at the back of its price level."""
        (self.bids if order.is_buy else self.asks).add(order)

    def remove(self, order: Order) -> None:
        """Take ``order`` off the book (no-op if it is not there)."""
        (self.bids if order.is_buy else self.asks).remove(order)

    def mid(self) -> Decimal | None:
        """(best bid + best ask) / 2, or None unless both sides have orders."""
        bid, ask = self.bids.top, self.asks.top
        if bid is None or ask is None:
            return None
        return (bid + ask) / 2

    def orders(self) -> Iterator[Order]:
        """Every resting order, bids then asks (for tests and invariants)."""
        for side in (self.bids, self.asks):
            for level in side.levels.values():
                yield from level.values()

    def levels(
        self, depth: int = 20, n_sig_figs: int | None = None
    ) -> tuple[list[tuple[Decimal, Decimal, int]], list[tuple[Decimal, Decimal, int]]]:
        """Aggregated ``(px, sz, n)`` levels, bids descending and asks ascending, at most ``depth``
        per side; with ``n_sig_figs`` prices are bucketed to that many significant figures (bids
        rounded down, asks up), as ``l2Book`` with ``nSigFigs`` does."""
        return (
            self._aggregate(self.bids, depth, n_sig_figs, ROUND_FLOOR),
            self._aggregate(self.asks, depth, n_sig_figs, ROUND_CEILING),
        )

    @staticmethod
    def _aggregate(
        side: BookSide, depth: int, n_sig_figs: int | None, rounding: str
    ) -> list[tuple[Decimal, Decimal, int]]:
        out: list[tuple[Decimal, Decimal, int]] = []
        for px in side.sorted_prices(depth if n_sig_figs is None else None):
            level = side.levels[px]
            key = px if n_sig_figs is None else _round_sig(px, n_sig_figs, rounding)
            sz = sum((o.sz for o in level.values()), Decimal(0))
            if out and out[-1][0] == key:
                _, prev_sz, prev_n = out[-1]
                out[-1] = (key, prev_sz + sz, prev_n + len(level))
                continue
            if len(out) == depth:
                break
            out.append((key, sz, len(level)))
        return out


def _round_sig(px: Decimal, n: int, rounding: str) -> Decimal:
    """Round ``px`` to ``n`` significant figures in the given direction."""
    exp = px.adjusted() - n + 1
    if exp <= 0:
        return px.quantize(Decimal(1).scaleb(exp), rounding=rounding)
    unit = Decimal(1).scaleb(exp)
    return (px / unit).quantize(Decimal(1), rounding=rounding) * unit
