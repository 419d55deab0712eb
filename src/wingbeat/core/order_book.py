"""A level-2 order book: aggregated price levels per side, best first.

The book sits on the market-data hot path (Hyperliquid pushes a full 20x20 snapshot on every block),
so levels are plain ``(price, size)`` tuples of ``Decimal`` kept in Python lists, best level first:
applying a snapshot is one list copy per side plus a linear sanity check, with no per-level objects.
Queries walk the lists directly. Incremental diffs (for venues that stream them) use binary search.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal

__all__ = ["Level", "OrderBook"]

Level = tuple[Decimal, Decimal]
"""One aggregated price level: ``(price, size)``."""

_ZERO = Decimal(0)
_TWO = Decimal(2)


def _neg_price(level: Level) -> Decimal:
    return -level[0]


def _price(level: Level) -> Decimal:
    return level[0]


def _check_side(levels: Sequence[Level], descending: bool, side: str) -> None:
    """Raise ValueError unless prices are strictly monotone (best first) and prices and sizes positive."""
    if not levels:
        return
    it = iter(levels)
    prev, size = next(it)
    if not size > _ZERO:
        raise ValueError(f"{side} level at {prev} has non-positive size {size}")
    # one loop per direction keeps the per-level work to two comparisons (hot path)
    if descending:
        for price, size in it:
            if price >= prev or not size > _ZERO:
                raise ValueError(f"{side} level ({price}, {size}) is out of order or has a non-positive size")
            prev = price
    else:
        for price, size in it:
            if price <= prev or not size > _ZERO:
                raise ValueError(f"{side} level ({price}, {size}) is out of order or has a non-positive size")
            prev = price
    # sorted, so the lowest price is the last bid or the first ask
    lowest = prev if descending else levels[0][0]
    if not lowest > _ZERO:
        raise ValueError(f"{side} price {lowest} must be positive")


class OrderBook:
    """L2 book of one trading pair.

    ``apply_snapshot`` replaces both sides atomically; ``apply_diff`` updates individual levels (size
    zero removes a level). Invalid input raises ``ValueError`` and leaves the book unchanged. Every
    successful update increments ``version`` so readers can tell whether anything changed.
    Timestamps are seconds since the epoch.
    """

    __slots__ = ("_asks", "_bids", "last_trade_price", "timestamp", "trading_pair", "version")

    def __init__(self, trading_pair: str = "") -> None:
        self.trading_pair = trading_pair
        self._bids: list[Level] = []
        self._asks: list[Level] = []
        self.timestamp: float = 0.0
        self.version: int = 0
        self.last_trade_price: Decimal | None = None

    def __repr__(self) -> str:
        return (
            f"OrderBook({self.trading_pair!r}, bid={self.best_bid}, ask={self.best_ask}, "
            f"levels={len(self._bids)}x{len(self._asks)}, version={self.version})"
        )

    # ------------------------------------------------------------------ updates

    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level], timestamp: float) -> None:
        """Replace both sides in one step. ``bids`` descending, ``asks`` ascending, best first.

        Raises ``ValueError`` (book unchanged) for unsorted sides, non-positive prices or sizes, or a
        crossed book (best bid >= best ask).
        """
        new_bids = list(bids)
        new_asks = list(asks)
        _check_side(new_bids, True, "bid")
        _check_side(new_asks, False, "ask")
        if new_bids and new_asks and new_bids[0][0] >= new_asks[0][0]:
            raise ValueError(f"crossed snapshot: best bid {new_bids[0][0]} >= best ask {new_asks[0][0]}")
        self._bids = new_bids
        self._asks = new_asks
        self.timestamp = timestamp
        self.version += 1

    def apply_diff(self, bids: Iterable[Level], asks: Iterable[Level], timestamp: float) -> None:
        """Set the size of individual levels; a size of zero removes the level.

        The whole diff is validated before anything changes (negative sizes or non-positive prices
        raise ``ValueError``). A diff may leave the book crossed for a moment on venues that publish
        sides separately; the next update is expected to resolve it.
        """
        bid_updates = list(bids)
        ask_updates = list(asks)
        for price, size in (*bid_updates, *ask_updates):
            if size < _ZERO or not price > _ZERO:
                raise ValueError(f"invalid diff level ({price}, {size})")
        for price, size in bid_updates:
            self._set_level(self._bids, price, size, -price, _neg_price)
        for price, size in ask_updates:
            self._set_level(self._asks, price, size, price, _price)
        self.timestamp = timestamp
        self.version += 1

    @staticmethod
    def _set_level(
        side: list[Level], price: Decimal, size: Decimal, key: Decimal, key_fn: Callable[[Level], Decimal]
    ) -> None:
        i = bisect_left(side, key, key=key_fn)
        exists = i < len(side) and side[i][0] == price
        if size == _ZERO:
            if exists:
                del side[i]
        elif exists:
            side[i] = (price, size)
        else:
            side.insert(i, (price, size))

    def record_trade(self, price: Decimal) -> None:
        """Remember the price of the latest public trade (``last_trade_price``)."""
        if not price > _ZERO:
            raise ValueError(f"trade price must be positive, got {price}")
        self.last_trade_price = price

    def clear(self) -> None:
        """Drop all levels (e.g. the feed is known stale); ``version`` still advances."""
        self._bids = []
        self._asks = []
        self.version += 1

    # ------------------------------------------------------------------ queries

    @property
    def best_bid(self) -> Decimal | None:
        """Highest bid price, or None when the bid side is empty."""
        return self._bids[0][0] if self._bids else None

    @property
    def best_ask(self) -> Decimal | None:
        """Lowest ask price, or None when the ask side is empty."""
        return self._asks[0][0] if self._asks else None

    @property
    def mid_price(self) -> Decimal | None:
        """(best bid + best ask) / 2, or None unless both sides have a level."""
        if not self._bids or not self._asks:
            return None
        return (self._bids[0][0] + self._asks[0][0]) / _TWO

    @property
    def spread(self) -> Decimal | None:
        """best ask - best bid, or None unless both sides have a level."""
        if not self._bids or not self._asks:
            return None
        return self._asks[0][0] - self._bids[0][0]

    @property
    def is_empty(self) -> bool:
        """True when neither side holds a level."""
        return not self._bids and not self._asks

    def bids(self) -> Iterator[Level]:
        """Bid levels, highest price first."""
        return iter(self._bids)

    def asks(self) -> Iterator[Level]:
        """Ask levels, lowest price first."""
        return iter(self._asks)

    def depth(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best ``n`` levels of each side, as ``(bids, asks)`` copies."""
        if n < 0:
            raise ValueError(f"depth must be >= 0, got {n}")
        return self._bids[:n], self._asks[:n]

    def get_price_for_volume(self, is_buy: bool, volume: Decimal) -> Decimal | None:
        """Price of the last level a taker order of ``volume`` would reach.

        A buy walks the asks, a sell walks the bids. Returns None when the side holds less than
        ``volume`` in total.
        """
        if not volume > _ZERO:
            raise ValueError(f"volume must be positive, got {volume}")
        remaining = volume
        for price, size in self._asks if is_buy else self._bids:
            remaining -= size
            if remaining <= _ZERO:
                return price
        return None

    def get_vwap_for_volume(self, is_buy: bool, volume: Decimal) -> Decimal | None:
        """Volume-weighted average price a taker order of ``volume`` would get.

        Walks the side like ``get_price_for_volume``; None when the side is too thin.
        """
        if not volume > _ZERO:
            raise ValueError(f"volume must be positive, got {volume}")
        remaining = volume
        notional = _ZERO
        for price, size in self._asks if is_buy else self._bids:
            if size >= remaining:
                notional += price * remaining
                return notional / volume
            notional += price * size
            remaining -= size
        return None
