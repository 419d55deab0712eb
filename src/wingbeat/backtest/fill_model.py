"""The passive fill model: when does a resting order of ours fill, against recorded market data?

Recorded data does not contain our orders, so whether a resting order would have filled is estimated
from what the market did at and through its price. Per resting order the model keeps ``ahead``: the size
queued before it at its price (our order joins the back of the level).

- **Joining**: ``ahead`` is the recorded level's size at our price when the order starts resting (0 when
  the price is better than the recorded best, i.e. inside the spread, or the level is not in the book).
- **Trades print at our price** (aggressor on the other side): the traded size first eats ``ahead``, what
  is left fills us (up to our remaining size).
- **Trades print through our price** (a sell below our bid, a buy above our ask), or a trade on our side
  at our price (the other side reached it): we fill completely.
- **The opposite side crosses** (recorded best ask at or below our bid, best bid at or above our ask,
  in an l2Book snapshot or a ``bbo`` update between snapshots): we fill completely.
- **The level shrinks** without trades explaining it: with a trade feed the shrink is cancellations;
  cancellations ahead of us at most shrink ``ahead`` to the level's new size (``ahead = min(ahead,
  level)``; orders behind us cancelling cannot be told apart, so this is the conservative choice).
- **Snapshot-only data** (the public archive has no trades): a level's size decrease is taken as traded
  volume (first ``ahead``, then us), and a level that vanished while the best price on our side moved
  past our price counts as traded through. This is optimistic where the decrease was cancellations.

Fills happen at our limit price as maker fills; our own fills do not change the recorded book (no market
impact). The model is pure: it returns ``(oid, size)`` fills, best price first, and the venue executes
them in the matching engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from wingbeat.backtest.market_data import Level, TradePrint

__all__ = ["QueueModel", "QueuedOrder"]

_ZERO = Decimal(0)


@dataclass(slots=True)
class QueuedOrder:
    """One resting order of ours and the size queued ahead of it."""

    oid: int
    is_buy: bool
    px: Decimal
    remaining: Decimal
    ahead: Decimal


class QueueModel:
    """The queue positions of our resting orders on one coin (see the module docstring)."""

    def __init__(self, *, snapshot_only: bool) -> None:
        self.snapshot_only = snapshot_only
        self.orders: dict[int, QueuedOrder] = {}
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}
        self.best_bid: Decimal | None = None
        self.best_ask: Decimal | None = None

    # -- our orders -----------------------------------------------------------------------------------

    def add(self, oid: int, is_buy: bool, px: Decimal, remaining: Decimal) -> QueuedOrder:
        """Start tracking a resting order at the back of its level."""
        best = self.best_bid if is_buy else self.best_ask
        inside = best is None or (px > best if is_buy else px < best)
        ahead = _ZERO if inside else (self._bids if is_buy else self._asks).get(px, _ZERO)
        order = self.orders[oid] = QueuedOrder(oid, is_buy, px, remaining, ahead)
        return order

    def remove(self, oid: int) -> None:
        """Stop tracking (cancelled, filled, or gone from the venue)."""
        self.orders.pop(oid, None)

    def _sorted(self) -> list[QueuedOrder]:
        # best price first on each side, time priority (oid) within a price
        return sorted(self.orders.values(), key=lambda o: (not o.is_buy, -o.px if o.is_buy else o.px, o.oid))

    def _take(self, order: QueuedOrder, size: Decimal, out: list[tuple[int, Decimal]]) -> None:
        size = min(size, order.remaining)
        if size > 0:
            order.remaining -= size
            out.append((order.oid, size))

    # -- market data ----------------------------------------------------------------------------------

    def on_trades(self, prints: Iterable[TradePrint]) -> list[tuple[int, Decimal]]:
        """Fills caused by public trades."""
        fills: list[tuple[int, Decimal]] = []
        for trade in prints:
            left: dict[tuple[bool, Decimal], Decimal] = {}  # volume still unallocated at a price level
            for order in self._sorted():
                if order.remaining <= 0:
                    continue
                px, buy = order.px, order.is_buy
                through = trade.px < px if buy else trade.px > px
                if through or (trade.px == px and trade.is_buy == buy):
                    self._take(order, order.remaining, fills)
                elif trade.px == px:
                    key = (buy, px)
                    volume = left.get(key, trade.sz)
                    eaten = min(order.ahead, volume)
                    order.ahead -= eaten
                    volume -= eaten
                    before = order.remaining
                    self._take(order, volume, fills)
                    left[key] = volume - (before - order.remaining)
        self._prune()
        return fills

    def on_book(self, bids: Sequence[Level], asks: Sequence[Level]) -> list[tuple[int, Decimal]]:
        """Apply a new recorded snapshot; returns the fills it implies."""
        old_bids, old_asks = self._bids, self._asks
        old_best_bid, old_best_ask = self.best_bid, self.best_ask
        self._bids = dict(bids)
        self._asks = dict(asks)
        self.best_bid = bids[0][0] if bids else None
        self.best_ask = asks[0][0] if asks else None
        fills: list[tuple[int, Decimal]] = []
        if not self.orders:
            return fills
        left: dict[tuple[bool, Decimal], Decimal] = {}
        for order in self._sorted():
            if order.remaining <= 0:
                continue
            buy, px = order.is_buy, order.px
            opposite = self.best_ask if buy else self.best_bid
            if opposite is not None and (opposite <= px if buy else opposite >= px):
                self._take(order, order.remaining, fills)
                continue
            level = (self._bids if buy else self._asks).get(px, _ZERO)
            if self.snapshot_only:
                old_level = (old_bids if buy else old_asks).get(px, _ZERO)
                old_best = old_best_bid if buy else old_best_ask
                best = self.best_bid if buy else self.best_ask
                reached = old_best is not None and (old_best >= px if buy else old_best <= px)
                passed = best is None or (best < px if buy else best > px)
                if level == 0 and reached and passed and old_level > 0:
                    self._take(order, order.remaining, fills)
                    continue
                if level < old_level:
                    key = (buy, px)
                    volume = left.get(key, old_level - level)
                    eaten = min(order.ahead, volume)
                    order.ahead -= eaten
                    volume -= eaten
                    before = order.remaining
                    self._take(order, volume, fills)
                    left[key] = volume - (before - order.remaining)
            if order.ahead > level:
                order.ahead = level
        self._prune()
        return fills

    def on_top(self, bid: Level | None, ask: Level | None) -> list[tuple[int, Decimal]]:
        """A best bid / offer update between snapshots (``bbo``): crosses fill us, and a smaller best level
        at our price shrinks the queue ahead (the depth book is left as the last snapshot had it)."""
        fills: list[tuple[int, Decimal]] = []
        for order in self._sorted():
            if order.remaining <= 0:
                continue
            opposite = ask if order.is_buy else bid
            if opposite is not None and (
                opposite[0] <= order.px if order.is_buy else opposite[0] >= order.px
            ):
                self._take(order, order.remaining, fills)
                continue
            same = bid if order.is_buy else ask
            if same is not None and same[0] == order.px and order.ahead > same[1]:
                order.ahead = same[1]
        self._prune()
        return fills

    def _prune(self) -> None:
        for oid in [o.oid for o in self.orders.values() if o.remaining <= 0]:
            del self.orders[oid]
