"""TWAP executor: a total size over a duration, in equal slices, never beyond a price limit.

Slice ``k`` (from 0) becomes due at ``start + k × duration / slices``; when it is due the executor wants
``total × (k + 1) / slices`` executed. The order of the previous slice, if it still rests, is cancelled
first (its remainder rolls into the next order). A slice order is a limit order at the best opposite
price, capped at ``price_limit`` (a buy never pays more, a sell never gets less), so it takes what the
book offers within the limit and rests for the remainder. After the last slice the executor works the
remainder for one more slice period: an order the book has moved away from (a buy below the best ask, a sell
above the best bid, the limit allowing) is cancelled and the remainder sent again at the new price, so a
last slice that met a re-quoting book is not left short; then it cancels what rests and is done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from wingbeat.core.enums import OrderType, PositionAction, TradeType
from wingbeat.core.events import OrderFilledEvent
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.engine.metrics import Metrics
from wingbeat.engine.risk import RiskLimits
from wingbeat.engine.strategy import Strategy, TradingConnector
from wingbeat.engine.virtual_time import now as clock_now

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapConfig:
    """Parameters of `TwapExecutor`: side, total base amount, duration (s), slices and the price limit.

    ``close_position`` sends reduce-only orders (position action CLOSE).
    """

    trading_pair: str
    is_buy: bool
    total_amount: Decimal
    duration: float
    slices: int
    price_limit: Decimal
    close_position: bool = False

    def __post_init__(self) -> None:
        if not self.total_amount > 0:
            raise ValueError("total_amount must be positive")
        if not self.duration > 0:
            raise ValueError("duration must be positive")
        if self.slices < 1:
            raise ValueError("slices must be at least 1")
        if not self.price_limit > 0:
            raise ValueError("price_limit must be positive")


class TwapExecutor(Strategy):
    """Executes `TwapConfig` and sets `done` when the total is filled or the time is up."""

    def __init__(self, connectors: TradingConnector | Mapping[str, TradingConnector],
                 config: TwapConfig, *, risk: RiskLimits | None = None, metrics: Metrics | None = None) -> None:
        super().__init__(connectors, risk=risk, metrics=metrics)
        self.config = config
        self.executed = _ZERO
        self.executed_quote = _ZERO
        self.slices_sent = 0
        self._started_at: float | None = None
        self._cancelling: set[str] = set()

    @property
    def average_price(self) -> Decimal | None:
        """Average fill price so far, or None before the first fill."""
        return self.executed_quote / self.executed if self.executed else None

    @property
    def remaining(self) -> Decimal:
        """Base amount still to execute."""
        return max(self.config.total_amount - self.executed, _ZERO)

    async def on_start(self) -> None:
        """Start the schedule now."""
        self._started_at = clock_now()

    async def on_tick(self, timestamp: float) -> None:
        """Send the due slice, rolling the previous slice's remainder into it."""
        cfg = self.config
        if self._started_at is None or self.done.is_set():
            return
        elapsed = clock_now() - self._started_at
        interval = cfg.duration / cfg.slices
        due = min(cfg.slices, int(elapsed // interval) + 1)
        rule = self.connector.trading_rules.get(cfg.trading_pair)
        if rule is None:
            return
        if rule.quantize_size(self.remaining) < rule.min_order_size or elapsed >= cfg.duration + interval:
            await self._finish()
            return
        active = self.active_orders(cfg.trading_pair)
        if active:
            last_period = self.slices_sent == cfg.slices
            if due > self.slices_sent or (last_period and self._left_behind(active)):
                for order in active:
                    if order.client_order_id not in self._cancelling:
                        self._cancelling.add(order.client_order_id)
                        self.cancel(cfg.trading_pair, order.client_order_id)
            return
        if due <= self.slices_sent and self.slices_sent < cfg.slices:
            return
        target = cfg.total_amount * due / cfg.slices
        amount = rule.quantize_size(target - self._venue_filled())
        price = self._slice_price()
        if price is None or amount < rule.min_order_size or price * amount < rule.min_notional:
            return
        place = self.buy if cfg.is_buy else self.sell
        action = PositionAction.CLOSE if cfg.close_position else PositionAction.OPEN
        cid = place(cfg.trading_pair, amount, price, OrderType.LIMIT, action)
        if cid is not None:
            self.slices_sent = due

    def _venue_filled(self) -> Decimal:
        """What this executor's orders filled: the fills counted, plus what the venue reported filled of an order
        whose fills are still on their way (its status can come before its fills): never bought twice."""
        filled = self.executed
        for cid in self._own:
            order = self.connector.get_order(cid)
            if order is not None and order.awaits_fills:
                filled += order.venue_filled_amount - order.executed_amount_base
        return filled

    def _left_behind(self, orders: list[InFlightOrder]) -> bool:
        """Whether the book moved away from a resting order: the best opposite price is beyond the order's now,
        and the limit allows following it (an empty side is no reason to move)."""
        cfg = self.config
        book = self.order_book(cfg.trading_pair)
        if (book.best_ask if cfg.is_buy else book.best_bid) is None:
            return False
        price = self._slice_price()
        if price is None:
            return False
        if cfg.is_buy:
            return any(o.price is not None and o.price < price for o in orders)
        return any(o.price is not None and o.price > price for o in orders)

    def _slice_price(self) -> Decimal | None:
        cfg = self.config
        book = self.order_book(cfg.trading_pair)
        touch = book.best_ask if cfg.is_buy else book.best_bid
        if touch is None:
            return cfg.price_limit
        rule = self.connector.trading_rules[cfg.trading_pair]
        price = min(touch, cfg.price_limit) if cfg.is_buy else max(touch, cfg.price_limit)
        return rule.quantize_price(price, TradeType.BUY if cfg.is_buy else TradeType.SELL)

    async def _finish(self) -> None:
        self.logger.info("TWAP done: executed %s of %s at average %s", self.executed, self.config.total_amount,
                         self.average_price)
        await self.stop()

    def summary_rows(self) -> list[tuple[str, str]]:
        """Executed amount, average price and slices sent."""
        avg = self.average_price
        return [("TWAP executed", f"{self.executed} of {self.config.total_amount}"),
                ("TWAP average price", "-" if avg is None else f"{avg:.6g}"),
                ("TWAP slices sent", f"{self.slices_sent} of {self.config.slices}")]

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        """Count fills of this executor's orders."""
        if self.is_own_order(event.client_order_id):
            self.executed += event.amount
            self.executed_quote += event.quote_amount
