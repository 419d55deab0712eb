"""Pre-trade risk limits: a pure check that runs before an order is created.

`RiskLimits.check` takes the order a strategy wants to place and a snapshot of the account's exposure
and returns ``None`` (allowed) or a one-line reason. The strategy gate (`Strategy.buy` / `Strategy.sell`)
calls it before touching the connector, so a refused order never exists anywhere: nothing is tracked,
journaled or sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLimits:
    """Limits checked before every strategy order; ``None`` switches a limit off.

    - ``max_order_size``: base amount of one order.
    - ``max_position``: absolute base position per pair if this order and every open order on the
      same side filled.
    - ``max_open_orders``: open orders (all pairs) including this one.
    - ``max_notional``: gross exposure in quote currency (|positions| at mark + open orders + this order);
      an order that can only shrink the position (with every open order on its side filled it moves the
      position towards zero without crossing it: a spot sell of tokens held, a buy against a short) passes.
    - ``daily_loss_limit``: a positive amount; once the loss since the start of the UTC day reaches it,
      every new order is refused (and the engine's kill switch fires).
    """

    max_order_size: Decimal | None = None
    max_position: Decimal | None = None
    max_open_orders: int | None = None
    max_notional: Decimal | None = None
    daily_loss_limit: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("max_order_size", "max_position", "max_notional", "daily_loss_limit"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Decimal) or not value.is_finite() or value < 0):
                raise ValueError(f"{name} must be a finite, non-negative Decimal")
        if self.max_open_orders is not None and self.max_open_orders < 1:
            raise ValueError("max_open_orders must be at least 1")

    def check(self, order: OrderIntent, exposure: Exposure) -> str | None:
        """Return why ``order`` must be refused given ``exposure``, or ``None`` when it may go."""
        if self.daily_loss_limit is not None and exposure.loss_today >= self.daily_loss_limit:
            return (f"daily loss limit reached: lost {exposure.loss_today:f} today, "
                    f"limit {self.daily_loss_limit:f}")
        if self.max_order_size is not None and order.amount > self.max_order_size:
            return f"order size {order.amount:f} above max_order_size {self.max_order_size:f}"
        if self.max_open_orders is not None and exposure.open_orders + 1 > self.max_open_orders:
            return f"{exposure.open_orders} open orders already, max_open_orders is {self.max_open_orders}"
        if self.max_position is not None:
            # worst case: this order and every open order on the same side fill
            if order.is_buy:
                projected = exposure.position + exposure.open_buy + order.amount
            else:
                projected = exposure.position - exposure.open_sell - order.amount
            if abs(projected) > self.max_position and abs(projected) > abs(exposure.position):
                return (f"position on {order.trading_pair} could reach {projected:f}, "
                        f"above max_position {self.max_position:f}")
        if self.max_notional is not None and not _only_reduces(order, exposure):
            notional = order.amount * order.price
            total = exposure.gross_notional + notional
            if total > self.max_notional:
                return (f"gross exposure would be {total:.2f} (order {notional:.2f}), "
                        f"above max_notional {self.max_notional:f}")
        return None


def _only_reduces(order: OrderIntent, exposure: Exposure) -> bool:
    if order.is_buy:
        return exposure.position < 0 and exposure.position + exposure.open_buy + order.amount <= 0
    return exposure.position > 0 and exposure.position - exposure.open_sell - order.amount >= 0


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderIntent:
    """An order a strategy wants to place, as the risk check sees it."""

    trading_pair: str
    is_buy: bool
    amount: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Exposure:
    """The account's exposure at the moment of a check.

    ``position`` is the signed base position on the order's pair; ``open_buy`` / ``open_sell`` the
    remaining base amounts of open orders on that pair; ``open_orders`` counts open orders on all pairs;
    ``gross_notional`` is |position| × mark over all pairs plus the notional of all open orders;
    ``loss_today`` is the loss since the start of the UTC day (positive = money lost).
    """

    position: Decimal = Decimal(0)
    open_buy: Decimal = Decimal(0)
    open_sell: Decimal = Decimal(0)
    open_orders: int = 0
    gross_notional: Decimal = Decimal(0)
    loss_today: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRefusedEvent:
    """A strategy order refused before creation by a risk limit or the kill switch; nothing was sent."""

    timestamp: float
    trading_pair: str
    is_buy: bool
    amount: Decimal
    price: Decimal
    reason: str
