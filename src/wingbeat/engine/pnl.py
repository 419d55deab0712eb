"""Profit and loss of a strategy's own fills, in Decimal, with the daily-loss baseline.

Fills are counted once by trade id (the connector already guarantees it; the tracker keeps its own set
so a strategy restarted on the same connector, or fed twice, still counts each fill once).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from wingbeat.engine.virtual_time import now as clock_now

_ZERO = Decimal(0)


@dataclass(slots=True)
class PairPnL:
    """Running position and PnL of one trading pair (mutable, owned by `PnLTracker`)."""

    position: Decimal = _ZERO
    entry_price: Decimal = _ZERO
    realized: Decimal = _ZERO
    fees: Decimal = _ZERO
    volume_quote: Decimal = _ZERO
    bought: Decimal = _ZERO
    sold: Decimal = _ZERO
    fills: int = 0

    def unrealized(self, mark: Decimal | None) -> Decimal:
        """Unrealised PnL of the position at ``mark`` (zero without a mark)."""
        if mark is None or not self.position:
            return _ZERO
        return (mark - self.entry_price) * self.position


class PnLTracker:
    """Average-cost PnL per pair from fills; ``loss_today`` for the daily loss limit."""

    def __init__(self, *, now: Callable[[], float] | None = None) -> None:
        self._now = now or clock_now  # the virtual clock in a backtest
        self._pairs: dict[str, PairPnL] = {}
        self._seen: set[str] = set()
        self._day = self._utc_day()
        self._day_baseline = _ZERO

    def pair(self, trading_pair: str) -> PairPnL:
        """The running numbers of ``trading_pair`` (created empty on first use)."""
        p = self._pairs.get(trading_pair)
        if p is None:
            p = self._pairs[trading_pair] = PairPnL()
        return p

    def get(self, trading_pair: str) -> PairPnL | None:
        """The running numbers of ``trading_pair``, or None before its first fill (nothing is created)."""
        return self._pairs.get(trading_pair)

    @property
    def pairs(self) -> dict[str, PairPnL]:
        """Every pair seen so far."""
        return dict(self._pairs)

    def add_fill(self, *, trade_id: str, trading_pair: str, is_buy: bool, price: Decimal,
                 amount: Decimal, fee: Decimal) -> bool:
        """Apply one fill; returns False (and changes nothing) for a trade id already counted."""
        if trade_id in self._seen:
            return False
        self._seen.add(trade_id)
        p = self.pair(trading_pair)
        signed = amount if is_buy else -amount
        p.fills += 1
        p.fees += fee
        p.volume_quote += price * amount
        if is_buy:
            p.bought += amount
        else:
            p.sold += amount
        if not p.position or (p.position > 0) == (signed > 0):
            # opening or adding: new average entry
            total = p.position + signed
            p.entry_price = (p.entry_price * abs(p.position) + price * amount) / abs(total)
            p.position = total
            return True
        closing = min(abs(signed), abs(p.position))
        direction = Decimal(1) if p.position > 0 else Decimal(-1)
        p.realized += (price - p.entry_price) * closing * direction
        p.position += signed
        if not p.position:
            p.entry_price = _ZERO
        elif (p.position > 0) != (direction > 0):
            p.entry_price = price  # flipped: the remainder opened at this fill's price
        return True

    def total(self, marks: Callable[[str], Decimal | None]) -> Decimal:
        """Net PnL of all pairs: realised + unrealised at ``marks(pair)`` − fees."""
        return sum((p.realized + p.unrealized(marks(name)) - p.fees for name, p in self._pairs.items()), _ZERO)

    def loss_today(self, marks: Callable[[str], Decimal | None]) -> Decimal:
        """Money lost since the start of the UTC day (positive = lost; zero when in profit)."""
        total = self.total(marks)
        day = self._utc_day()
        if day != self._day:
            self._day, self._day_baseline = day, total
        return max(self._day_baseline - total, _ZERO)

    def _utc_day(self) -> int:
        return int(self._now() // 86_400)
