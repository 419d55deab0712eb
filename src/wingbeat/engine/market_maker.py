"""A pure market maker: quotes both sides around the mid price and refreshes its quotes.

Each tick: if quotes rest and are younger than ``order_refresh_time``, nothing happens; if they are
older, they are cancelled (the new ones go out on the first tick after the cancels are confirmed, so the
book never holds two generations of our quotes); with nothing resting, new quotes are placed at
``mid × (1 ∓ spread)`` per level, except within ``order_refresh_time`` of a quote that failed (e.g. refused
for margin): repeating it every tick would only repeat the refusal. With ``requote_with_modify`` stale quotes that match the new proposal one
for one (same sides and levels) are modified in place instead: one batch request, no gap without quotes.
Inventory skew shrinks the side that would grow the position and grows the other, linearly up to
``max_inventory``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from wingbeat.core.enums import OrderType, PositionAction, TradeType
from wingbeat.core.errors import InvalidOrderError
from wingbeat.core.events import OrderCancelledEvent, OrderFailedEvent, OrderModifyFailedEvent
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.engine.metrics import Metrics
from wingbeat.engine.risk import RiskLimits
from wingbeat.engine.strategy import Strategy, TradingConnector
from wingbeat.engine.virtual_time import now as clock_now

_ONE = Decimal(1)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketMakerConfig:
    """Parameters of `MarketMakerStrategy`.

    Spreads are fractions of the mid price (``Decimal("0.001")`` = 10 bps); level ``i`` (from 0) is
    ``i × level_spread`` further out. ``max_inventory`` (base units, default 5 × ``order_amount``) is the
    position at which inventory skew stops quoting the side that would grow it (on a spot pair: the net amount
    this strategy bought since it started, the tokens held before being the stock its asks sell from). ``post_only`` sends
    LIMIT_MAKER orders (rejected instead of taking). At refresh time, quotes whose prices are all within
    ``order_refresh_tolerance`` (a fraction) of the new proposal are kept instead of replaced.
    ``requote_with_modify`` (off by default) moves stale quotes to the new proposal with ``modify`` when they
    match it one for one, falling back to cancel-and-place for any quote that cannot be modified.
    """

    trading_pair: str
    order_amount: Decimal
    bid_spread: Decimal = Decimal("0.001")
    ask_spread: Decimal = Decimal("0.001")
    order_refresh_time: float = 10.0
    order_levels: int = 1
    level_spread: Decimal = Decimal("0.0005")
    inventory_skew: bool = True
    max_inventory: Decimal | None = None
    post_only: bool = False
    order_refresh_tolerance: Decimal = Decimal(0)
    requote_with_modify: bool = False

    def __post_init__(self) -> None:
        if not self.order_amount > 0:
            raise ValueError("order_amount must be positive")
        for name in ("bid_spread", "ask_spread", "level_spread", "order_refresh_tolerance"):
            value: Decimal = getattr(self, name)
            if not 0 <= value < 1:
                raise ValueError(f"{name} must be at least 0 and below 1")
        if not self.order_refresh_time > 0:
            raise ValueError("order_refresh_time must be positive")
        if not 1 <= self.order_levels <= 20:
            raise ValueError("order_levels must be from 1 to 20")
        if self.max_inventory is not None and not self.max_inventory > 0:
            raise ValueError("max_inventory must be positive")


@dataclass(frozen=True, slots=True)
class Quote:
    """One order of a quote proposal."""

    is_buy: bool
    price: Decimal
    amount: Decimal


class MarketMakerStrategy(Strategy):
    """Two-sided quoting with refresh, levels and inventory skew (see the module docstring)."""

    def __init__(self, connectors: TradingConnector | Mapping[str, TradingConnector],
                 config: MarketMakerConfig, *, risk: RiskLimits | None = None,
                 metrics: Metrics | None = None) -> None:
        super().__init__(connectors, risk=risk, metrics=metrics)
        self.config = config
        self._placed_at: dict[str, float] = {}
        self._cancel_requested: dict[str, float] = {}
        self._modify_failed: set[str] = set()  # quotes a modify could not move: replaced at the next tick
        self._quote_failed_at: float | None = None  # when a quote last failed: the next wait a refresh period
        self.quotes_placed = 0
        self.refreshes = 0

    async def on_tick(self, timestamp: float) -> None:
        """Refresh stale quotes, or place new ones when none rest."""
        pair = self.config.trading_pair
        active = self.active_orders(pair)
        if active:
            now, refresh = clock_now(), self.config.order_refresh_time
            # a cancel the venue refused is asked again after another refresh period
            stale = [o for o in active if now - self._placed_at.get(o.client_order_id, now) >= refresh
                     and now - self._cancel_requested.get(o.client_order_id, 0.0) >= refresh]
            if stale and self._close_to_proposal(active):
                for order in stale:  # still where we would quote now: keep them, restart their clock
                    self._placed_at[order.client_order_id] = now
                return
            if stale:
                self.refreshes += 1
                if self.config.requote_with_modify and len(stale) == len(active):
                    stale = self._modify_to_proposal(active)  # what could not be modified is cancelled
            for order in stale:
                self._cancel_requested[order.client_order_id] = now
                self.cancel(pair, order.client_order_id)
            return
        failed_at = self._quote_failed_at
        if failed_at is not None and clock_now() - failed_at < self.config.order_refresh_time:
            return  # quotes the venue just refused would most likely be refused again: not every tick
        self._quote_failed_at = None
        self._cancel_requested.clear()
        self._placed_at.clear()
        self._modify_failed.clear()
        for quote in self.proposal():
            place = self.buy if quote.is_buy else self.sell
            order_type = OrderType.LIMIT_MAKER if self.config.post_only else OrderType.LIMIT
            cid = place(pair, quote.amount, quote.price, order_type, PositionAction.OPEN)
            if cid is not None:
                self._placed_at[cid] = clock_now()
                self.quotes_placed += 1

    def proposal(self) -> list[Quote]:
        """The quotes this strategy would place now (empty while the book has no mid price)."""
        cfg = self.config
        mid = self.mid_price(cfg.trading_pair)
        rule = self.connector.trading_rules.get(cfg.trading_pair)
        if mid is None or rule is None:
            return []
        bid_amount, ask_amount = self._skewed_amounts()
        quotes: list[Quote] = []
        for level in range(cfg.order_levels):
            extra = cfg.level_spread * level
            for is_buy, amount, spread in ((True, bid_amount, cfg.bid_spread), (False, ask_amount, cfg.ask_spread)):
                raw = mid * (_ONE - spread - extra) if is_buy else mid * (_ONE + spread + extra)
                price = rule.quantize_price(raw, TradeType.BUY if is_buy else TradeType.SELL)
                size = rule.quantize_size(amount)
                if price > 0 and size > 0 and size >= rule.min_order_size and price * size >= rule.min_notional:
                    quotes.append(Quote(is_buy, price, size))
        return quotes

    def _modify_to_proposal(self, active: list[InFlightOrder]) -> list[InFlightOrder]:
        """Move each resting quote to its counterpart in the new proposal (best level to best level, per
        side); return the quotes to cancel instead: all of them when the proposal does not match one for one,
        else those whose modify was refused."""
        proposal = self.proposal()
        pairs: list[tuple[InFlightOrder, Quote]] = []
        for is_buy in (True, False):
            resting = sorted((o for o in active if (o.trade_type is TradeType.BUY) == is_buy),
                             key=lambda o: o.price, reverse=is_buy)
            wanted = [q for q in proposal if q.is_buy == is_buy]
            if len(resting) != len(wanted):
                return active
            pairs.extend(zip(resting, wanted, strict=True))
        now, cancel = clock_now(), []
        for order, quote in pairs:
            cid = order.client_order_id
            if order.modification is not None or cid in self._modify_failed:
                cancel.append(order)
                continue
            amount = order.executed_amount_base + quote.amount  # the new total: the quote's size rests
            try:
                modified = ((order.price == quote.price and order.amount == amount)
                            or self.modify(cid, price=quote.price, amount=amount))
            except InvalidOrderError as exc:  # e.g. not confirmed yet, or the venue's rule
                self.logger.info("quote %s not modified (%s): replaced", cid, exc)
                modified = False
            if modified:
                self._placed_at[cid] = now
            else:
                cancel.append(order)
        return cancel

    def _close_to_proposal(self, active: list[InFlightOrder]) -> bool:
        tolerance = self.config.order_refresh_tolerance
        if not tolerance:
            return False
        proposal = self.proposal()
        for is_buy in (True, False):
            resting = sorted((o.price for o in active if (o.trade_type is TradeType.BUY) == is_buy), reverse=is_buy)
            wanted = sorted((q.price for q in proposal if q.is_buy == is_buy), reverse=is_buy)
            if len(resting) != len(wanted) or any(abs(r - w) > w * tolerance for r, w in zip(resting, wanted, strict=True)):
                return False
        return True

    def _skewed_amounts(self) -> tuple[Decimal, Decimal]:
        cfg = self.config
        if not cfg.inventory_skew:
            return cfg.order_amount, cfg.order_amount
        limit = cfg.max_inventory or cfg.order_amount * 5
        ratio = max(-_ONE, min(_ONE, self._inventory(cfg.trading_pair) / limit))
        return cfg.order_amount * (_ONE - ratio), cfg.order_amount * (_ONE + ratio)

    def _inventory(self, trading_pair: str) -> Decimal:
        """What the skew leans against: the position; on a spot pair (a connector without positions) only what
        this strategy bought minus sold since it started, since the tokens held before are the stock its asks
        sell from (skewing on them would quote one side only)."""
        position = self.position(trading_pair)
        if id(self.connector_for(trading_pair)) in self._with_positions:
            return position
        return position - self._start_positions.get(trading_pair, _ZERO)

    def on_order_modify_failed(self, event: OrderModifyFailedEvent) -> None:
        """A quote the venue would not move (e.g. a venue without modify): cancel and replace it next tick."""
        if event.client_order_id in self._placed_at:
            self._modify_failed.add(event.client_order_id)
            self._placed_at[event.client_order_id] = -self.config.order_refresh_time

    def on_order_failed(self, event: OrderFailedEvent) -> None:
        """A quote that will never rest (e.g. refused for margin): new quotes wait ``order_refresh_time``."""
        if event.client_order_id in self._placed_at:
            if self._quote_failed_at is None:
                self.logger.warning("quote %s failed (%s): quoting again in %gs", event.client_order_id,
                                    event.reason, self.config.order_refresh_time)
            self._quote_failed_at = clock_now()

    def on_order_cancelled(self, event: OrderCancelledEvent) -> None:
        """Forget a cancelled quote."""
        self._cancel_requested.pop(event.client_order_id, None)
