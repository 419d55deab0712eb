"""Keeping the client's view of a Hyperliquid account true: user-stream updates, missed fills, positions.

:class:`AccountSync` is the connector's user-stream listener. Order updates and fills go to the order
tracker (which counts each fill once by trade id); funding and liquidations are published as events.
Whatever the stream may have missed is fetched over REST:

- after every user-stream reconnect, ``userFillsByTime`` from just before the last fill seen (and, for
  orders a status check finds filled further than we counted, or final orders still awaiting fills the
  venue reported, from their creation), so no fill is missed and none is counted twice;
- positions and balances from ``clearinghouseState``: pushed by the venue on the websocket
  (:meth:`AccountSync.on_venue_state`) where it offers the channel; polled on a timer, after fills
  (debounced), reconnects and liquidations while no push has arrived for a refresh interval (a venue
  that refuses the subscription, or a silent channel, falls back to polling by itself);
- every fill of the account (ours or not) goes to ``on_account_fills`` (the positions) before the
  order tracker, also those the REST catch-up finds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Generic, TypeVar

from wingbeat.core.enums import TimeInForce
from wingbeat.core.errors import WingbeatError
from wingbeat.core.events import EventPublisher, FundingPaymentEvent, PositionLiquidatedEvent
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_tracker import ClientOrderTracker
from wingbeat.core.order_updates import OrderOpened, OrderUpdate, TradeUpdate
from wingbeat.core.positions import Position, PositionFill, PositionSide
from wingbeat.core.tasks import TaskOwner
from wingbeat.hyperliquid.constants import COLLATERAL_TOKEN, MAX_FILLS_PER_REPLY, coin_to_trading_pair
from wingbeat.hyperliquid.market_kind import MarketKind
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.schemas import ClearinghouseState
from wingbeat.hyperliquid.user_stream_data_source import fill_to_position_fill, fill_to_trade_update

__all__ = ["AccountSync", "adapt_venue_update", "apply_venue_update", "balance_from_state", "positions_from_state"]

_logger = logging.getLogger("wingbeat.hyperliquid.reconciliation")

#: Fills are fetched from this long before the newest fill seen: the venue's clock and ours may differ and
#: fills of one block share a timestamp. Duplicates are dropped by trade id.
_CATCH_UP_OVERLAP_MS = 5_000


_CANCELED, _FAILED = OrderState.CANCELED, OrderState.FAILED  # the states adapt_venue_update may change
_StateT = TypeVar("_StateT")


def adapt_venue_update(order: InFlightOrder, update: OrderUpdate) -> OrderUpdate:
    """Translate Hyperliquid's view of ``order`` into our state machine's terms.

    The unfilled rest of an Ioc is reported ``canceled``: for us it EXPIRED (unless we asked for the
    cancel). A ``*Rejected`` status for an order that was already accepted (a trigger refused when it
    fires) ends it as CANCELED with the venue's reason: the venue took it off the book; FAILED is kept for
    orders that never rested (or were lost).
    """
    state = update.new_state
    if (state is OrderState.CANCELED and order.time_in_force is TimeInForce.IOC
            and order.current_state is not OrderState.PENDING_CANCEL):
        return replace(update, new_state=OrderState.EXPIRED,
                       reason="immediate-or-cancel remainder cancelled by the exchange")
    if state is OrderState.FAILED and order.current_state.is_submitted and not order.current_state.is_final:
        return replace(update, new_state=OrderState.CANCELED)
    return update


def apply_venue_update(tracker: ClientOrderTracker, update: OrderUpdate | OrderOpened) -> None:
    """Apply one venue order update to ``tracker``, adapted to our state machine (`adapt_venue_update`).

    The order is found by client order id, else by exchange order id (an update of an order placed
    without a cloid, or of one whose cloid the venue did not echo).
    """
    if not isinstance(update, OrderOpened):  # an OrderOpened has nothing to adapt
        state = update.new_state
        if state is _CANCELED or state is _FAILED:  # identity, not set membership: an Enum hashes in Python code
            order = tracker.get_order(update.client_order_id) if update.client_order_id else None
            if order is None and update.exchange_order_id is not None:
                order = tracker.get_order_by_exchange_id(update.exchange_order_id)
            if order is not None:
                update = adapt_venue_update(order, update)
    tracker.process_order_update(update)


def positions_from_state(state: ClearinghouseState) -> dict[str, Position]:
    """Core positions (by trading pair) of a ``clearinghouseState`` answer; flat positions are left out."""
    positions: dict[str, Position] = {}
    for p in state.positions:
        if not p.szi:
            continue
        pair = coin_to_trading_pair(p.coin)
        positions[pair] = Position(
            trading_pair=pair,
            position_side=PositionSide.BOTH,
            amount=p.szi,
            entry_price=p.entry_px if p.entry_px is not None else Decimal(0),
            unrealized_pnl=p.unrealized_pnl,
            leverage=p.leverage.value,
            liquidation_price=p.liquidation_px,
            margin_used=p.margin_used,
        )
    return positions


class AccountSync(Generic[_StateT]):
    """User-stream listener and REST catch-up of one account (see the module docstring).

    ``on_account_state(state)`` receives every account state fetched by ``fetch_state`` (perps:
    ``clearinghouseState``, spot: ``spotClearinghouseState``) or pushed; event-driven
    refreshes (fills, funding, liquidation) are spaced at least ``min_refresh_interval`` seconds apart and
    skipped while the venue pushes the state. ``on_account_fills`` receives every fill the REST catch-up
    finds (the stream's go there directly), with ``market`` only those of that market kind's coins. Background work runs on ``tasks`` (owned by the connector,
    stopped with it).
    """

    def __init__(
        self,
        rest: HyperliquidRestClient,
        user: str,
        tracker: ClientOrderTracker,
        publisher: EventPublisher,
        tasks: TaskOwner,
        on_account_state: Callable[[_StateT], None],
        *,
        fetch_state: Callable[[], Awaitable[_StateT]],
        on_reconnected: Callable[[], None] | None = None,
        on_account_fills: Callable[[Sequence[PositionFill]], None] | None = None,
        dexes: Sequence[str] = (),
        on_dex_state: Callable[[str, ClearinghouseState], None] | None = None,
        min_refresh_interval: float = 1.0,
        push_fresh_for: float = 10.0,
        clock: Callable[[], float] = time.time,
        market: MarketKind | None = None,
    ) -> None:
        self._rest = rest
        self._market = market
        self._user = user
        self._tracker = tracker
        self._publisher = publisher
        self._tasks = tasks
        self._on_account_state = on_account_state
        self._fetch_state = fetch_state
        self._on_reconnected_hook = on_reconnected
        self._clock = clock
        self._last_fill_ms: int | None = None
        self._refresh_pending = False
        self._min_refresh_interval = min_refresh_interval
        self._last_refresh = float("-inf")
        self._on_account_fills = on_account_fills
        self._dexes = tuple(dexes) if on_dex_state is not None else ()
        self._on_dex_state = on_dex_state
        self._push_fresh_for = push_fresh_for
        self._last_push = float("-inf")
        self.state_pushes = 0
        """``clearinghouseState`` pushes received (metrics, tests)."""
        self.fills_caught_up = 0
        """Fills found by REST catch-up that the stream had not delivered (metrics, tests)."""

    # -- UserStreamListener (synchronous, called from the websocket router) -----------------------

    def on_order_updates(self, updates: Sequence[OrderUpdate | OrderOpened]) -> None:
        """Order state changes from the venue, applied in order."""
        for update in updates:
            apply_venue_update(self._tracker, update)

    def on_trade_updates(self, updates: Sequence[TradeUpdate]) -> None:
        """Fills of our orders; duplicates (snapshot + stream, catch-up) are dropped by the tracker."""
        self._apply_fills(updates)
        self.schedule_refresh()

    def on_funding_payments(self, payments: Sequence[FundingPaymentEvent]) -> None:
        """Funding booked on an open position: published as is."""
        for payment in payments:
            self._publisher.publish(payment)
        self.schedule_refresh()

    def on_liquidation(self, liquidation: PositionLiquidatedEvent) -> None:
        """The venue liquidated the account: publish, then refresh positions and balances."""
        self._publisher.publish(liquidation)
        self.schedule_refresh()

    def on_venue_state(self, state: _StateT) -> None:
        """The venue pushed the account state (websocket ``clearinghouseState`` / ``spotState``): apply it;
        polling pauses."""
        if self.state_pushes == 0:
            _logger.info("%s: the venue pushes the account state; polling only when the pushes stop", self._user)
        self.state_pushes += 1
        self._last_push = self._clock()
        self._on_account_state(state)

    def on_venue_dex_state(self, dex: str, state: ClearinghouseState) -> None:
        """The venue pushed the account state on builder dex ``dex``: hand it on (when that dex is followed)."""
        if self._on_dex_state is not None and dex in self._dexes:
            self._on_dex_state(dex, state)

    @property
    def pushes_live(self) -> bool:
        """True while the venue's last account-state push is fresher than the refresh interval."""
        return self._clock() - self._last_push < self._push_fresh_for

    def on_reconnected(self) -> None:
        """The stream was down for a while: fetch the fills it may have missed, refresh the account."""
        self._tasks.create_task(self._after_reconnect(), name="user-stream-catch-up")

    # -- catch-up ----------------------------------------------------------------------------------

    def _apply_fills(self, updates: Sequence[TradeUpdate]) -> int:
        process = self._tracker.process_trade_update
        new = 0
        newest = self._last_fill_ms
        for update in updates:
            if process(update):
                new += 1
            ms = int(update.fill_timestamp * 1000)
            if newest is None or ms > newest:
                newest = ms
        self._last_fill_ms = newest
        return new

    async def catch_up_fills(self, since_ms: int | None = None) -> int:
        """Fetch fills from ``since_ms`` (default: shortly before the last fill seen, else the oldest
        fillable order's creation) and apply them; return how many were new."""
        if since_ms is None:
            since_ms = self._default_since_ms()
        if since_ms is None:
            return 0
        new = 0
        start = since_ms
        while True:
            page = await self._rest.user_fills_by_time(self._user, start)
            market = self._market
            fills = page if market is None else [f for f in page if market.owns_coin(f.coin)]
            if self._on_account_fills is not None and fills:
                self._on_account_fills([fill_to_position_fill(f) for f in fills])
            new += self._apply_fills([fill_to_trade_update(f) for f in fills])
            if len(page) < MAX_FILLS_PER_REPLY:
                break
            newest = max(f.time_ms for f in page)  # page on; the boundary fill comes again and is deduped
            if newest <= start:  # a full page within one millisecond: the venue offers no way past it
                _logger.warning("more than %d fills at %d ms: some may be out of reach", MAX_FILLS_PER_REPLY, start)
                break
            start = newest
        if new:
            _logger.info("caught up %d missed fill(s) since %d", new, since_ms)
            self.fills_caught_up += new
        return new

    def _default_since_ms(self) -> int | None:
        if self._last_fill_ms is not None:
            return self._last_fill_ms - _CATCH_UP_OVERLAP_MS
        orders = self._tracker.active_orders.values()
        if not orders:
            return None
        return int(min(o.creation_timestamp for o in orders) * 1000) - _CATCH_UP_OVERLAP_MS

    async def catch_up_orders(self, orders: Sequence[InFlightOrder]) -> int:
        """Fetch fills since the oldest of ``orders`` was created (restart: their fills may be anywhere)."""
        if not orders:
            return 0
        since = int(min(o.creation_timestamp for o in orders) * 1000) - _CATCH_UP_OVERLAP_MS
        if self._last_fill_ms is not None:
            since = min(since, self._last_fill_ms - _CATCH_UP_OVERLAP_MS)
        return await self.catch_up_fills(since)

    async def _after_reconnect(self) -> None:
        try:
            await self.catch_up_fills()
            await self.refresh_account()
        except WingbeatError as exc:
            # the reconciliation loop and the next reconnect / refresh try again; nothing is lost by waiting
            _logger.warning("catch-up after reconnect failed: %r", exc)
        if self._on_reconnected_hook is not None:
            self._on_reconnected_hook()

    # -- account state -----------------------------------------------------------------------------

    async def refresh_account(self) -> _StateT:
        """Fetch the account state (``fetch_state``; then ``clearinghouseState`` of each followed builder dex)
        and hand it to the connector; returns the first."""
        self._last_refresh = self._clock()
        state = await self._fetch_state()
        self._on_account_state(state)
        if self._on_dex_state is not None:
            for dex in self._dexes:
                self._on_dex_state(dex, await self._rest.clearinghouse_state(self._user, dex))
        return state

    def schedule_refresh(self) -> None:
        """Refresh positions and balances soon; bursts of fills cause one request, not one each (none while
        the venue pushes the state itself)."""
        if self._refresh_pending or self.pushes_live:
            return
        self._refresh_pending = True
        self._tasks.create_task(self._debounced_refresh(), name="account-refresh")

    async def _debounced_refresh(self) -> None:
        try:
            # at most one refresh per min_refresh_interval: a fill storm must not eat the IP weight budget
            wait = self._last_refresh + self._min_refresh_interval - self._clock()
            await asyncio.sleep(max(wait, 0.0))
            self._refresh_pending = False
            await self.refresh_account()
        except WingbeatError as exc:
            _logger.warning("account refresh failed: %r", exc)
        finally:
            self._refresh_pending = False

    async def refresh_loop(self, interval: float) -> None:
        """Refresh the account every ``interval`` seconds until cancelled (skipped while the venue pushes it);
        failures are logged."""
        polling = True
        while True:
            await asyncio.sleep(interval)
            if self.pushes_live:
                polling = False
                continue
            if not polling:
                # info, not a warning: a venue may push only on change, and polling is the designed fallback
                _logger.info("%s: no account-state push for %.1fs; polling again", self._user, interval)
                polling = True
            try:
                await self.refresh_account()
            except WingbeatError as exc:
                _logger.warning("account refresh failed: %r", exc)


def balance_from_state(state: ClearinghouseState) -> tuple[str, Decimal, Decimal]:
    """``(asset, total, available)`` of the collateral: account value and withdrawable USDC."""
    return COLLATERAL_TOKEN, state.margin_summary.account_value, state.withdrawable
