"""`Strategy`: the base class of trading strategies, with the risk gate and the kill switch.

A strategy sees its connectors, their order books and positions, receives the connector's events
(override the ``on_*`` methods of `EventListener`) and is ticked by a `Clock`. It places orders through
its own `buy` / `sell`, which run the `RiskLimits` check *before* the connector creates anything: a
refused order is never tracked, journaled or sent; the refusal is logged, counted and delivered to
`on_order_refused`. `kill` is the kill switch: refuse everything, cancel this strategy's orders and the
connector's on the pairs it trades, stop. It fires by itself when the daily loss limit is reached or a position is liquidated.

Connectors with positions (perpetuals: `PositionConnector`) and without (spot) mix: on a connector without
positions a pair's position is the balance of its base token (``"HYPE"`` of ``"HYPE-USDC"``) when the strategy
starts plus this strategy's fills since, a buy counting what it received (a fee the venue takes in the base
token is not held). An order that can only shrink a position (a spot sell of tokens held, which cannot be
sent reduce-only) is never refused for ``max_notional`` (see `RiskLimits`); CLOSE orders skip every limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from wingbeat.core.connector_base import CancellationResult
from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.errors import InvalidOrderError
from wingbeat.core.events import EventListener, OrderFilledEvent, PositionLiquidatedEvent
from wingbeat.core.in_flight_order import InFlightOrder, wait_until_all_done
from wingbeat.core.order_book import OrderBook
from wingbeat.core.positions import FundingInfo, Position
from wingbeat.core.tasks import TaskOwner
from wingbeat.core.trading_rule import TradingRule
from wingbeat.engine.metrics import Metrics
from wingbeat.engine.pnl import PnLTracker
from wingbeat.engine.risk import Exposure, OrderIntent, OrderRefusedEvent, RiskLimits
from wingbeat.engine.virtual_time import now as clock_now

_logger = logging.getLogger("wingbeat.engine.strategy")
_ZERO = Decimal(0)


class TradingConnector(Protocol):
    """What a strategy needs from any connector it trades through: `ConnectorBase` with an order book per
    pair (a spot connector is one; ``HyperliquidPerpetualConnector`` is also a `PositionConnector`)."""

    @property
    def trading_pairs(self) -> list[str]: ...
    @property
    def trading_rules(self) -> Mapping[str, TradingRule]: ...
    @property
    def open_orders(self) -> list[InFlightOrder]: ...
    def get_order(self, client_order_id: str) -> InFlightOrder | None: ...
    def get_order_book(self, trading_pair: str) -> OrderBook: ...
    def get_balance(self, asset: str) -> Decimal: ...
    def buy(self, trading_pair: str, amount: Decimal, order_type: OrderType = ...,
            price: Decimal | None = ..., **kwargs: Any) -> str: ...
    def sell(self, trading_pair: str, amount: Decimal, order_type: OrderType = ...,
             price: Decimal | None = ..., **kwargs: Any) -> str: ...
    def cancel(self, trading_pair: str, client_order_id: str) -> str: ...
    def modify(self, client_order_id: str, *, price: Decimal | None = ..., amount: Decimal | None = ...) -> str: ...
    async def cancel_all(self, timeout: float) -> list[CancellationResult]: ...  # noqa: ASYNC109
    def add_listener(self, listener: EventListener) -> None: ...
    def remove_listener(self, listener: EventListener) -> None: ...


@runtime_checkable
class PositionConnector(TradingConnector, Protocol):
    """A connector whose account holds positions, with marks and funding: `PerpetualConnectorBase`
    (``HyperliquidPerpetualConnector``, the backtest's connector)."""

    @property
    def account_positions(self) -> dict[str, Position]: ...
    def get_mark_price(self, trading_pair: str) -> Decimal | None: ...
    def get_funding_info(self, trading_pair: str) -> FundingInfo | None: ...


class BracketIds(Protocol):
    """The client order ids of a bracket order (``wingbeat.hyperliquid.BracketOrder``); a leg not asked for
    is None."""

    @property
    def entry(self) -> str: ...
    @property
    def take_profit(self) -> str | None: ...
    @property
    def stop_loss(self) -> str | None: ...


@runtime_checkable
class BracketConnector(TradingConnector, Protocol):
    """A connector that places an entry with take-profit / stop-loss legs in one go
    (``HyperliquidPerpetualConnector.place_bracket_order``)."""

    def place_bracket_order(self, trading_pair: str, trade_type: TradeType, amount: Decimal,
                            price: Decimal | None = ..., *, take_profit: Decimal | None = ...,
                            stop_loss: Decimal | None = ..., order_type: OrderType = ...,
                            time_in_force: TimeInForce | None = ...) -> BracketIds: ...


class Strategy(EventListener):
    """Base class: override `on_start`, `on_tick`, `on_stop` and any ``on_*`` event callback.

    ``connectors`` is one connector or a mapping of names to connectors (the first is `connector`).
    The caller starts the connectors; `start` registers the strategy as their listener.
    """

    def __init__(self, connectors: TradingConnector | Mapping[str, TradingConnector], *,
                 risk: RiskLimits | None = None, metrics: Metrics | None = None,
                 cancel_timeout: float = 5.0) -> None:
        if isinstance(connectors, Mapping):
            if not connectors:
                raise ValueError("a strategy needs at least one connector")
            self.connectors: dict[str, TradingConnector] = dict(connectors)
        else:
            self.connectors = {"main": connectors}
        # checked once: a runtime protocol check costs more than the risk check it would sit in
        self._with_positions: dict[int, PositionConnector] = {
            id(c): c for c in self.connectors.values() if isinstance(c, PositionConnector)}
        self.risk = risk or RiskLimits()
        self.metrics = metrics
        self.cancel_timeout = cancel_timeout
        self.pnl = PnLTracker()
        self.logger = logging.getLogger(f"wingbeat.engine.{type(self).__name__}")
        self.refused: list[OrderRefusedEvent] = []
        self.refused_count = 0
        self.recent_fills: deque[OrderFilledEvent] = deque(maxlen=50)
        """This strategy's latest fills, oldest first."""
        self.kill_reason: str | None = None
        self._our_orders: dict[str, TradingConnector] = {}  # not final yet, pruned lazily
        self._own: set[str] = set()  # every order id this strategy created: late fills still count
        self._start_positions: dict[str, Decimal] = {}
        self._pairs_traded: set[str] = set()  # every pair this strategy placed an order on
        self._fill_book = _FillBook(self)
        self._running = False
        self._tasks = TaskOwner(f"wingbeat.engine.{type(self).__name__}", self.logger)
        self._shutdown_task: asyncio.Task[None] | None = None
        self._shutdown_cancels_all = False
        self.done = asyncio.Event()
        """Set when the strategy has finished its work or was stopped / killed."""

    # -- access --------------------------------------------------------------------------------------

    @property
    def connector(self) -> TradingConnector:
        """The first (usually the only) connector."""
        return next(iter(self.connectors.values()))

    @property
    def running(self) -> bool:
        """True between `start` and `stop` / `kill`."""
        return self._running

    def order_book(self, trading_pair: str, connector: TradingConnector | None = None) -> OrderBook:
        """The live order book of ``trading_pair`` (on the connector that trades it unless ``connector``)."""
        return (connector or self.connector_for(trading_pair)).get_order_book(trading_pair)

    def mid_price(self, trading_pair: str, connector: TradingConnector | None = None) -> Decimal | None:
        """The book's mid price, or None while a side is empty."""
        return self.order_book(trading_pair, connector).mid_price

    def position(self, trading_pair: str) -> Decimal:
        """Signed base position on ``trading_pair``: for a pair a connector trades, the account's position
        when the strategy started plus this strategy's own fills since (exact at every fill, whatever other
        programs do); for any other pair, the account's position as the connectors know it now."""
        if not self._is_traded(trading_pair):
            return sum((self._position_of(c, trading_pair) for c in self.connectors.values()), _ZERO)
        own = self.pnl.get(trading_pair)
        return self._start_positions.get(trading_pair, _ZERO) + (own.position if own is not None else _ZERO)

    def mark_price(self, trading_pair: str, connector: TradingConnector | None = None) -> Decimal | None:
        """The price positions are valued at: the book's mid on the connector that trades the pair, else the
        venue's mark (any pair a `PositionConnector` lists, see its ``get_mark_price``); None when neither is
        known."""
        conns = (connector,) if connector is not None else tuple(self.connectors.values())
        for conn in conns:
            if trading_pair in conn.trading_pairs:
                mid = conn.get_order_book(trading_pair).mid_price
                if mid is not None:
                    return mid
        for conn in conns:
            with_marks = self._with_positions.get(id(conn))
            mark = with_marks.get_mark_price(trading_pair) if with_marks is not None else None
            if mark is not None:
                return mark
        return None

    def funding_info(self, trading_pair: str) -> FundingInfo | None:
        """Funding of a perpetual (rate per funding interval, hourly on Hyperliquid; mark; oracle; next
        payment) from the first `PositionConnector` that knows it; None for a spot pair or while unknown."""
        for conn in self._with_positions.values():
            info = conn.get_funding_info(trading_pair)
            if info is not None:
                return info
        return None

    def connector_for(self, trading_pair: str) -> TradingConnector:
        """The connector that trades ``trading_pair`` (the first one when none does: its orders are refused
        there as an unknown pair)."""
        for conn in self.connectors.values():
            if trading_pair in conn.trading_pairs:
                return conn
        return self.connector

    def untracked_positions(self) -> dict[str, Position]:
        """The account's positions in pairs no connector of this strategy trades (another bot's, the app's):
        counted in ``max_notional`` at their mark and shown, never traded, cancelled or closed."""
        out: dict[str, Position] = {}
        for conn in self._with_positions.values():
            for pair, pos in conn.account_positions.items():
                if not self._is_traded(pair):
                    out[pair] = pos
        return out

    def _is_traded(self, trading_pair: str) -> bool:
        return any(trading_pair in c.trading_pairs for c in self.connectors.values())

    def account_position(self, trading_pair: str, connector: TradingConnector | None = None) -> Decimal:
        """The position as the connector last heard it from the venue (0 when flat; on a connector without
        positions, the balance of the pair's base token)."""
        return self._position_of(connector or self.connector_for(trading_pair), trading_pair)

    def _position_of(self, conn: TradingConnector, trading_pair: str) -> Decimal:
        with_positions = self._with_positions.get(id(conn))
        if with_positions is not None:
            position = with_positions.account_positions.get(trading_pair)
            return position.amount if position is not None else _ZERO
        if trading_pair in conn.trading_pairs:
            return conn.get_balance(base_asset(trading_pair))
        return _ZERO

    @property
    def orders_placed(self) -> int:
        """How many orders this strategy handed to its connectors (refused ones excluded)."""
        return len(self._own)

    def is_own_order(self, client_order_id: str) -> bool:
        """True when this strategy created the order."""
        return client_order_id in self._own

    def active_orders(self, trading_pair: str | None = None) -> list[InFlightOrder]:
        """This strategy's orders that are not final yet (optionally on one pair)."""
        out = []
        for cid, conn in list(self._our_orders.items()):
            order = conn.get_order(cid)
            if order is None or order.is_done:
                del self._our_orders[cid]
                continue
            if trading_pair is None or order.trading_pair == trading_pair:
                out.append(order)
        return out

    # -- orders, through the risk gate ---------------------------------------------------------------

    def buy(self, trading_pair: str, amount: Decimal, price: Decimal | None = None,
            order_type: OrderType = OrderType.LIMIT, position_action: PositionAction = PositionAction.OPEN,
            connector: TradingConnector | None = None, *,
            time_in_force: TimeInForce | None = None) -> str | None:
        """Place a buy if the risk limits allow it; returns the client order id, or None when refused.

        ``price=None`` with a LIMIT type is refused by the connector; MARKET orders are priced by it (the
        risk check then uses the mid). CLOSE orders (reduce-only) skip the limits, not the kill switch; an
        order that can only shrink the position passes ``max_notional`` and ``max_position``. ``connector``
        defaults to the one trading the pair;
        ``time_in_force`` (e.g. ``TimeInForce.IOC``: take what the book has up to ``price``, expire the rest)
        overrides the order type's own."""
        return self._place(TradeType.BUY, trading_pair, amount, price, order_type, position_action, connector,
                           time_in_force)

    def sell(self, trading_pair: str, amount: Decimal, price: Decimal | None = None,
             order_type: OrderType = OrderType.LIMIT, position_action: PositionAction = PositionAction.OPEN,
             connector: TradingConnector | None = None, *,
             time_in_force: TimeInForce | None = None) -> str | None:
        """Place a sell if the risk limits allow it; returns the client order id, or None when refused.
        Options as for `buy` (a spot sell of tokens held reduces without being reduce-only)."""
        return self._place(TradeType.SELL, trading_pair, amount, price, order_type, position_action, connector,
                           time_in_force)

    def cancel(self, trading_pair: str, client_order_id: str) -> None:
        """Request the cancellation of one of this strategy's orders."""
        conn = self._our_orders.get(client_order_id) or self.connector_for(trading_pair)
        conn.cancel(trading_pair, client_order_id)

    def modify(self, client_order_id: str, *, price: Decimal | None = None,
               amount: Decimal | None = None) -> bool:
        """Change the price and/or total amount of one of this strategy's resting orders (the connector's
        ``modify``: same client order id, outcome as ``OrderModifiedEvent`` / ``OrderModifyFailedEvent``).
        The risk limits check the order as it would rest after the modify, in place of what it rests now
        (reduce-only orders skip them, an order that can only shrink the position passes ``max_notional``; the
        kill switch still applies). Returns True when handed to the connector, False
        when refused (logged, counted, ``on_order_refused``); a value the connector's rule refuses raises
        its ``InvalidOrderError``, nothing sent."""
        conn = self._our_orders.get(client_order_id)
        order = conn.get_order(client_order_id) if conn is not None else None
        if conn is None or order is None:
            raise InvalidOrderError(f"order {client_order_id!r} is not an order of this strategy")
        pair, is_buy = order.trading_pair, order.trade_type is TradeType.BUY
        new_price = order.price if price is None else price
        left = (order.amount if amount is None else amount) - order.executed_amount_base
        reason: str | None = None
        if self.kill_reason is not None:
            reason = f"kill switch engaged: {self.kill_reason}"
        elif not self._running:
            reason = "strategy is not running"
        elif order.is_done:
            raise InvalidOrderError(f"order {client_order_id} is {order.current_state.name}: nothing to modify")
        elif (not (order.reduce_only or order.position_action is PositionAction.CLOSE)
              and _positive_decimal(new_price) and _positive_decimal(left)):  # bad values: the connector raises
            now = self.exposure(pair, conn)
            resting = order.amount - order.executed_amount_base  # counted in the exposure: the modify replaces it
            without = replace(now, open_orders=now.open_orders - 1,
                              gross_notional=now.gross_notional - resting * order.price,
                              open_buy=now.open_buy - (resting if is_buy else _ZERO),
                              open_sell=now.open_sell - (_ZERO if is_buy else resting))
            intent = OrderIntent(trading_pair=pair, is_buy=is_buy, amount=left, price=new_price)
            reason = self.risk.check(intent, without)
        if reason is not None:
            self._refuse(pair, is_buy, left, new_price, f"modify of {client_order_id}: {reason}")
            return False
        conn.modify(client_order_id, price=price, amount=amount)
        return True

    def place_bracket_order(self, trading_pair: str, side: TradeType, amount: Decimal, price: Decimal | None = None,
                            *, take_profit: Decimal | None = None, stop_loss: Decimal | None = None,
                            order_type: OrderType = OrderType.LIMIT, connector: TradingConnector | None = None,
                            time_in_force: TimeInForce | None = None) -> BracketIds | None:
        """An entry with a take-profit and / or a stop-loss attached, through the connector's
        ``place_bracket_order`` (``HyperliquidPerpetualConnector``), if the risk limits allow it: the entry is
        checked as `buy` / `sell` check an order, with its legs counted in ``max_open_orders`` (they only reduce
        the position it opens). Returns the client order ids, or None when refused (logged, counted,
        ``on_order_refused``; also on a connector that places no brackets). Legs the connector finds on the
        wrong side of the entry raise its ``InvalidOrderError``, nothing placed. All three are this strategy's
        orders: the kill switch cancels them like any other."""
        conn = connector or self.connector_for(trading_pair)
        legs = (take_profit is not None) + (stop_loss is not None)
        reason, ref_price = self._gate(side, trading_pair, amount, price, PositionAction.OPEN, conn, legs)
        if reason is None:
            if isinstance(conn, BracketConnector):
                ids = conn.place_bracket_order(trading_pair, side, amount, price, take_profit=take_profit,
                                               stop_loss=stop_loss, order_type=order_type, time_in_force=time_in_force)
                for cid in (ids.entry, ids.take_profit, ids.stop_loss):
                    if cid is not None:
                        self._record(trading_pair, cid, conn)
                return ids
            reason = f"{type(conn).__name__} places no bracket orders"
        self._refuse(trading_pair, side is TradeType.BUY, amount, ref_price or _ZERO, reason)
        return None

    def _gate(self, side: TradeType, pair: str, amount: Decimal, price: Decimal | None, action: PositionAction,
              conn: TradingConnector, more_orders: int = 0) -> tuple[str | None, Decimal | None]:
        """(why the order must be refused or None, the price the check used); ``more_orders`` placed with it."""
        ref_price = price if price is not None else self.mid_price(pair, conn)
        if self.kill_reason is not None:
            return f"kill switch engaged: {self.kill_reason}", ref_price
        if not self._running:
            return "strategy is not running", ref_price
        if not _positive_decimal(amount):
            return f"amount must be a positive Decimal, got {amount!r}", ref_price
        if price is not None and not _positive_decimal(price):
            return f"price must be a positive Decimal, got {price!r}", ref_price
        if ref_price is None:
            return f"no price for {pair}: the order book is empty", ref_price
        if action is PositionAction.CLOSE:
            return None, ref_price
        intent = OrderIntent(trading_pair=pair, is_buy=side is TradeType.BUY, amount=amount, price=ref_price)
        exposure = self.exposure(pair, conn)
        if more_orders:
            exposure = replace(exposure, open_orders=exposure.open_orders + more_orders)
        return self.risk.check(intent, exposure), ref_price

    def _place(self, side: TradeType, pair: str, amount: Decimal, price: Decimal | None, order_type: OrderType,
               action: PositionAction, connector: TradingConnector | None,
               time_in_force: TimeInForce | None) -> str | None:
        conn = connector or self.connector_for(pair)
        is_buy = side is TradeType.BUY
        reason, ref_price = self._gate(side, pair, amount, price, action, conn)
        if reason is not None:
            self._refuse(pair, is_buy, amount, ref_price or _ZERO, reason)
            return None
        place = conn.buy if is_buy else conn.sell
        if time_in_force is None:
            cid = place(pair, amount, order_type, price, position_action=action)
        else:
            cid = place(pair, amount, order_type, price, position_action=action, time_in_force=time_in_force)
        self._record(pair, cid, conn)
        return cid

    def _record(self, pair: str, cid: str, conn: TradingConnector) -> None:
        self._pairs_traded.add(pair)
        self._our_orders[cid] = conn
        self._own.add(cid)
        if self.metrics is not None:
            self.metrics.order_submitted(cid)

    def _refuse(self, pair: str, is_buy: bool, amount: Decimal, price: Decimal, reason: str) -> None:
        event = OrderRefusedEvent(timestamp=clock_now(), trading_pair=pair, is_buy=is_buy, amount=amount,
                                  price=price, reason=reason)
        self.refused.append(event)
        self.refused_count += 1
        del self.refused[:-100]  # keep the recent ones only
        self.logger.warning("order refused: %s %s %s @ %s: %s", "buy" if is_buy else "sell", amount, pair,
                            price, reason)
        if self.metrics is not None:
            self.metrics.order_refused(pair)
        try:
            self.on_order_refused(event)
        except Exception:
            self.logger.exception("on_order_refused raised")

    def exposure(self, trading_pair: str, connector: TradingConnector | None = None) -> Exposure:
        """The account's exposure as the risk check sees it."""
        conn = connector or self.connector_for(trading_pair)
        open_buy = open_sell = gross = _ZERO
        count = 0
        for c in self.connectors.values():
            for order in c.open_orders:
                count += 1
                remaining = order.amount - order.executed_amount_base
                gross += remaining * order.price
                if c is conn and order.trading_pair == trading_pair:
                    if order.trade_type is TradeType.BUY:
                        open_buy += remaining
                    else:
                        open_sell += remaining
        traded = {p for p in self._start_positions.keys() | self.pnl.pairs.keys() if self._is_traded(p)}
        for pair in traded:
            own = self.pnl.get(pair)
            mark = self.mark_price(pair) or (own.entry_price if own is not None else _ZERO)
            gross += abs(self.position(pair)) * mark
        for pair, pos in self.untracked_positions().items():  # another program's: at the venue's mark
            gross += abs(pos.amount) * (self.mark_price(pair) or pos.entry_price)
        return Exposure(position=self.position(trading_pair), open_buy=open_buy, open_sell=open_sell,
                        open_orders=count, gross_notional=gross, loss_today=self.loss_today())

    def loss_today(self) -> Decimal:
        """Money this strategy lost since the start of the UTC day (0 when in profit)."""
        return self.pnl.loss_today(self._mark)

    def _mark(self, trading_pair: str) -> Decimal | None:
        return self.mark_price(trading_pair) if self._is_traded(trading_pair) else None

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Register as listener of every connector and run `on_start`."""
        for conn in self.connectors.values():
            conn.add_listener(self._fill_book)
            conn.add_listener(self)
        self._start_positions = {}
        for conn in self.connectors.values():
            if id(conn) in self._with_positions:
                held = {pair: pos.amount for pair, pos in self._with_positions[id(conn)].account_positions.items()}
            else:  # spot: what is held of each traded pair's base token
                held = {pair: self._position_of(conn, pair) for pair in conn.trading_pairs}
            for pair, amount in held.items():
                if amount:
                    self._start_positions[pair] = self._start_positions.get(pair, _ZERO) + amount
        self._running = True
        self._shutdown_task = None
        self.done.clear()
        await self.on_start()

    async def tick(self, timestamp: float) -> None:
        """One clock tick: fire the kill switch on a breached loss limit, else run `on_tick`."""
        if not self._running:
            return
        limit = self.risk.daily_loss_limit
        if limit is not None and self.loss_today() >= limit:
            self.trigger_kill(f"daily loss limit {limit:f} reached (lost {self.loss_today():.2f})")
            return
        await self.on_tick(timestamp)

    async def stop(self) -> None:
        """Stop: no new orders, cancel this strategy's open orders (waiting for them), run `on_stop`.

        The shutdown runs as one owned task: cancelling the caller (a clock tick, Ctrl-C) never leaves it
        half done, and a second `stop` / `kill` waits for the first."""
        await asyncio.shield(self._begin_shutdown(everything=False))

    async def kill(self, reason: str) -> None:
        """Kill switch: refuse every new order, cancel this strategy's open orders and every order its
        connectors track on the pairs it traded (e.g. restored from the journal), stop. Orders other
        programs placed on the account are never touched (``wingbeat cancel-all`` is the account-wide
        command)."""
        self._engage(reason)
        shutdown = self._begin_shutdown(everything=True)
        await asyncio.shield(shutdown)
        if not self._shutdown_cancels_all:  # a plain stop was already under way: widen it
            await asyncio.shield(self._tasks.create_task(self._cancel_all(), name="kill"))

    def trigger_kill(self, reason: str) -> None:
        """Fire the kill switch from synchronous code (an event callback); `done` is set once it finished."""
        self._engage(reason)
        self._begin_shutdown(everything=True)

    def _engage(self, reason: str) -> None:
        if self.kill_reason is None:
            self.kill_reason = reason  # refuse new orders from this instant on
            self.logger.critical("KILL SWITCH: %s", reason)

    def _begin_shutdown(self, *, everything: bool) -> asyncio.Task[None]:
        if self._shutdown_task is None:
            self._shutdown_cancels_all = everything
            self._shutdown_task = self._tasks.create_task(self._shutdown(everything=everything), name="stop")
        return self._shutdown_task

    async def _shutdown(self, *, everything: bool) -> None:
        was_running, self._running = self._running, False
        try:
            await (self._cancel_all() if everything else self._cancel_own())
            if was_running:
                await self.on_stop()
        finally:
            for conn in self.connectors.values():
                conn.remove_listener(self._fill_book)
                conn.remove_listener(self)
            self.done.set()

    async def _cancel_own(self) -> None:
        active = self.active_orders()
        for order in active:
            self._our_orders[order.client_order_id].cancel(order.trading_pair, order.client_order_id)
        if not active:
            return
        await wait_until_all_done(active, self.cancel_timeout)
        left = [o.client_order_id for o in active if not o.is_done]
        if left:
            self.logger.error("%d order(s) not confirmed cancelled within %.1fs: %s", len(left),
                              self.cancel_timeout, ", ".join(left))

    async def _cancel_all(self) -> None:
        own = {o.client_order_id for o in self.active_orders()}
        await self._cancel_own()
        for name, conn in self.connectors.items():
            orders = [o for o in conn.open_orders
                      if o.trading_pair in self._pairs_traded and o.client_order_id not in own]
            for order in orders:
                conn.cancel(order.trading_pair, order.client_order_id)
            if not orders:
                continue
            await wait_until_all_done(orders, self.cancel_timeout)
            left = [o.client_order_id for o in orders if not o.is_done]
            if left:
                self.logger.error("%d order(s) on %s not confirmed cancelled: %s", len(left), name, ", ".join(left))

    # -- hooks ---------------------------------------------------------------------------------------

    async def on_start(self) -> None:
        """Called once when the strategy starts."""

    async def on_tick(self, timestamp: float) -> None:
        """Called on every clock tick while running."""

    async def on_stop(self) -> None:
        """Called once when the strategy stops (after its orders were cancelled)."""

    def on_order_refused(self, event: OrderRefusedEvent) -> None:
        """An order was refused by the risk gate or the kill switch (nothing was sent)."""

    def summary_rows(self) -> list[tuple[str, str]]:
        """Strategy-specific (name, value) rows for the end-of-run summary table."""
        return []

    def _record_fill(self, event: OrderFilledEvent) -> None:
        if event.client_order_id not in self._own:
            return
        amount, fee = event.amount, event.fee_amount
        if fee and event.fee_asset == base_asset(event.trading_pair):
            # a fee taken in the base token (a spot buy's): the position grows by what was received, and
            # the fee is worth its tokens at the fill price, so cost and PnL stay exact
            amount, fee = (amount - fee if event.trade_type is TradeType.BUY else amount), fee * event.price
        if not self.pnl.add_fill(trade_id=event.trade_id, trading_pair=event.trading_pair,
                                 is_buy=event.trade_type is TradeType.BUY, price=event.price,
                                 amount=amount, fee=fee):
            return
        self.recent_fills.append(event)
        limit = self.risk.daily_loss_limit
        if limit is not None and self._running and self.loss_today() >= limit:
            # do not wait for the next tick: a losing fill stops the strategy at once
            self.trigger_kill(f"daily loss limit {limit:f} reached (lost {self.loss_today():.2f})")


class _FillBook(EventListener):
    """Registered just before the strategy, so PnL already includes a fill when the strategy hears of it;
    a liquidation fires the kill switch (the account is past its risk, whatever the strategy thinks)."""

    def __init__(self, strategy: Strategy) -> None:
        self._strategy = strategy

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        self._strategy._record_fill(event)

    def on_position_liquidated(self, event: PositionLiquidatedEvent) -> None:
        if self._strategy.running:
            self._strategy.trigger_kill(f"position liquidated ({event.trading_pair or 'account'})")


def _positive_decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value > 0


def base_asset(trading_pair: str) -> str:
    """The base asset of a ``BASE-QUOTE`` pair name (``"HYPE"`` of ``"HYPE-USDC"`` and of ``"HYPE-USD"``)."""
    return trading_pair.partition("-")[0]
