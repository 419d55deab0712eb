"""``InFlightOrder``: everything the client knows about one order, mutated only through the state machine.

Cheap by design (tens of thousands are tracked at once): ``__slots__``, no per-order task, shared zero
constants, fills and fees stored only once there are some, and futures created only when someone awaits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from decimal import Decimal

from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import OrderUpdate, TradeUpdate

__all__ = ["InFlightOrder", "OrderModification", "wait_until_all_done"]

_ZERO = Decimal(0)
_OPEN = OrderState.OPEN
_FILLED = OrderState.FILLED  # hot path: an Enum attribute lookup is slow


class OrderModification:
    """A modify of a resting order asked for and not resolved yet (applied or refused by the venue).

    ``price`` / ``amount``: the order's new limit price and total amount (what is already executed
    included); ``remainder``: the size the venue is asked to rest (``amount`` minus what was executed when
    the modify was asked for). ``sent_at`` is None until the request may have left; ``deadline`` (venue
    clock, seconds) is when a venue that still shows the old order is taken to have dropped it.
    """

    __slots__ = ("amount", "deadline", "price", "remainder", "requested_at", "sent_at")

    def __init__(self, *, price: Decimal, amount: Decimal, remainder: Decimal, requested_at: float,
                 sent_at: float | None = None, deadline: float | None = None) -> None:
        self.price = price
        self.amount = amount
        self.remainder = remainder
        self.requested_at = requested_at
        self.sent_at = sent_at
        self.deadline = deadline

    def __repr__(self) -> str:
        sent = "unsent" if self.sent_at is None else f"sent at {self.sent_at:.3f}"
        return f"OrderModification({self.amount}@{self.price}, remainder {self.remainder}, {sent})"


class InFlightOrder:
    """One order from creation to a final state.

    Fills are keyed by the venue's trade id and counted exactly once; the executed amount never exceeds
    ``amount``. State changes follow :func:`~wingbeat.core.order_state.can_transition`; the tracker is the
    only writer (through :meth:`apply_order_update` / :meth:`apply_trade_update`).
    """

    __slots__ = (
        "_done_future",
        "_fees",
        "_fills",
        "_open_future",
        "amount",
        "cancel_requested",
        "client_order_id",
        "creation_timestamp",
        "current_state",
        "exchange_order_id",
        "executed_amount_base",
        "executed_amount_quote",
        "last_update_timestamp",
        "leverage",
        "modification",
        "not_found_count",
        "order_type",
        "position_action",
        "price",
        "reason",
        "reduce_only",
        "retired_exchange_order_ids",
        "time_in_force",
        "trade_type",
        "trading_pair",
        "venue_filled_amount",
    )

    def __init__(
        self,
        *,
        client_order_id: str,
        trading_pair: str,
        trade_type: TradeType,
        order_type: OrderType,
        amount: Decimal,
        price: Decimal,
        creation_timestamp: float,
        time_in_force: TimeInForce = TimeInForce.GTC,
        position_action: PositionAction = PositionAction.NIL,
        reduce_only: bool = False,
        leverage: int | None = None,
        exchange_order_id: str | None = None,
        initial_state: OrderState = OrderState.PENDING_CREATE,
    ) -> None:
        self.client_order_id = client_order_id
        self.exchange_order_id = exchange_order_id
        self.trading_pair = trading_pair
        self.trade_type = trade_type
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.amount = amount
        self.price = price
        self.position_action = position_action
        self.reduce_only = reduce_only
        self.leverage = leverage
        self.creation_timestamp = creation_timestamp
        self.current_state = initial_state
        self.last_update_timestamp = creation_timestamp
        self.executed_amount_base = _ZERO
        self.executed_amount_quote = _ZERO
        self.venue_filled_amount = amount if initial_state is _FILLED else _ZERO
        """The most the venue said it filled of this order (FILLED: the whole amount); fills up to it are due."""
        self.reason: str | None = None
        """Why the order failed / was cancelled, when known."""
        self.not_found_count = 0
        """Consecutive status checks in which the exchange did not know the order."""
        self.cancel_requested = False
        """A cancel was asked for while the order could not be cancelled yet (not confirmed by the venue)."""
        self.modification: OrderModification | None = None
        """A modify asked for and not resolved yet (None: none)."""
        self.retired_exchange_order_ids: tuple[str, ...] = ()
        """Exchange ids the order had before modifies replaced them (oldest first): their late fills count."""
        self._fees: dict[str, Decimal] | None = None
        self._fills: dict[str, TradeUpdate] | None = None
        self._open_future: asyncio.Future[OrderState] | None = None
        self._done_future: asyncio.Future[OrderState] | None = None

    def __repr__(self) -> str:
        return (
            f"InFlightOrder({self.client_order_id!r}, {self.trading_pair}, {self.trade_type.name} "
            f"{self.order_type.name} {self.amount}@{self.price}, {self.current_state.name}, "
            f"executed={self.executed_amount_base})"
        )

    # ----------------------------------------------------------------------------------------- views
    @property
    def is_done(self) -> bool:
        """True once the order is in a final state (CANCELED, FILLED, FAILED, EXPIRED)."""
        return self.current_state.is_final

    @property
    def is_open(self) -> bool:
        """True while the order may still rest or fill (not final)."""
        return not self.current_state.is_final

    @property
    def is_filled(self) -> bool:
        """True when the state is FILLED."""
        return self.current_state is OrderState.FILLED

    @property
    def is_cancelled(self) -> bool:
        """True when the state is CANCELED."""
        return self.current_state is OrderState.CANCELED

    @property
    def is_failure(self) -> bool:
        """True when the state is FAILED."""
        return self.current_state is OrderState.FAILED

    @property
    def is_fully_executed(self) -> bool:
        """True when the fills add up to the whole amount."""
        return self.executed_amount_base >= self.amount

    @property
    def awaits_fills(self) -> bool:
        """True while the venue reported more filled than the fills counted so far."""
        return self.venue_filled_amount > self.executed_amount_base

    @property
    def fill_limit(self) -> Decimal:
        """The most the fills of this order can add up to: ``amount``, and while a modify is unresolved also
        the venue's possible replacement on top of it (its fills may arrive before the modify's answer)."""
        mod = self.modification
        if mod is None or mod.sent_at is None:
            return self.amount
        return self.amount + mod.remainder

    @property
    def retired_executed(self) -> Decimal:
        """What the fills of the exchange ids retired by modifies (or of no known id) add up to."""
        if not self._fills or not self.retired_exchange_order_ids:
            return _ZERO
        retired = self.retired_exchange_order_ids
        return sum((t.fill_base_amount for t in self._fills.values()
                    if t.exchange_order_id is None or t.exchange_order_id in retired), _ZERO)

    @property
    def remaining_amount(self) -> Decimal:
        """Amount not executed yet."""
        return self.amount - self.executed_amount_base

    @property
    def average_executed_price(self) -> Decimal | None:
        """Volume-weighted fill price, or None without fills."""
        if not self.executed_amount_base:
            return None
        return self.executed_amount_quote / self.executed_amount_base

    @property
    def cumulative_fee_paid(self) -> dict[str, Decimal]:
        """Fees paid so far by asset (a copy; negative = rebate)."""
        return dict(self._fees) if self._fees else {}

    @property
    def trade_updates(self) -> list[TradeUpdate]:
        """Every counted fill, in arrival order."""
        return list(self._fills.values()) if self._fills else []

    def has_trade(self, trade_id: str) -> bool:
        """Whether the fill with this venue trade id was already counted."""
        return self._fills is not None and trade_id in self._fills

    # ------------------------------------------------------------------------------------- mutation
    def apply_order_update(self, update: OrderUpdate) -> bool:
        """Apply a state change if the state machine allows it; return whether the state changed.

        The exchange order id and the venue's filled amount are learned from any update, even one whose state
        change is refused (a late "resting" answer after a fill still tells us the venue's id)."""
        if update.exchange_order_id is not None and self.exchange_order_id is None:
            self.exchange_order_id = update.exchange_order_id
        filled = update.filled_amount
        if filled is not None and filled.is_finite() and filled > self.venue_filled_amount:
            self.venue_filled_amount = min(filled, self.amount)
        new = update.new_state
        if new is self.current_state or new._value_ not in self.current_state._allowed:  # can_transition, inlined
            return False
        self.current_state = new
        if new is _FILLED:
            self.venue_filled_amount = self.amount
        timestamp = update.update_timestamp
        if timestamp > self.last_update_timestamp:  # max(), without the call
            self.last_update_timestamp = timestamp
        self.not_found_count = 0
        if update.reason is not None:
            self.reason = update.reason
        if self._open_future is not None or self._done_future is not None:
            self._resolve_waiters()
        return True

    def confirm_open(self, exchange_order_id: str, timestamp: float) -> None:
        """PENDING_CREATE -> OPEN under ``exchange_order_id``, nothing filled: what :meth:`apply_order_update` does
        with that news, for a caller that checked the order is PENDING_CREATE and has no exchange id yet."""
        self.exchange_order_id = exchange_order_id
        self.current_state = _OPEN
        if timestamp > self.last_update_timestamp:
            self.last_update_timestamp = timestamp
        self.not_found_count = 0
        if self._open_future is not None or self._done_future is not None:
            self._resolve_waiters()

    def apply_trade_update(self, trade: TradeUpdate) -> bool:
        """Count a fill once; return False for a duplicate trade id or a fill that would overfill the order."""
        fills = self._fills
        if fills is not None and trade.trade_id in fills:
            return False
        base = trade.fill_base_amount
        if not base.is_finite() or base <= 0 or self.executed_amount_base + base > self.fill_limit:
            return False
        if fills is None:
            fills = self._fills = {}
        fills[trade.trade_id] = trade
        self.executed_amount_base += base
        self.executed_amount_quote += trade.fill_quote_amount
        fees = self._fees
        if fees is None:
            fees = self._fees = {}
        fees[trade.fee_asset] = fees.get(trade.fee_asset, _ZERO) + trade.fee_amount
        if trade.exchange_order_id is not None and self.exchange_order_id is None:
            self.exchange_order_id = trade.exchange_order_id
        self.last_update_timestamp = max(self.last_update_timestamp, trade.fill_timestamp)
        self.not_found_count = 0
        self._resolve_waiters()
        return True

    # -------------------------------------------------------------------------------------- waiting
    async def wait_until_open(self) -> OrderState:
        """Wait until the exchange confirmed the order (OPEN or later) or it ended; return the state then."""
        if self.current_state.is_submitted or self.current_state.is_final:
            return self.current_state
        if self._open_future is None:
            self._open_future = asyncio.get_running_loop().create_future()
        return await asyncio.shield(self._open_future)

    async def wait_until_done(self) -> OrderState:
        """Wait until the order is final; return the final state. (A FILLED order's fills may still be
        arriving: :class:`OrderCompletedEvent` is published once they add up.)"""
        if self.current_state.is_final:
            return self.current_state
        return await asyncio.shield(self._done_waiter())

    def _done_waiter(self) -> asyncio.Future[OrderState]:
        # the one future every waiter of a live order shares (resolved by _resolve_waiters): never cancelled
        if self._done_future is None:
            self._done_future = asyncio.get_running_loop().create_future()
        return self._done_future

    def _resolve_waiters(self) -> None:
        state = self.current_state
        opened = self._open_future
        if opened is not None and (state.is_submitted or state.is_final):
            self._open_future = None
            if not opened.done():
                opened.set_result(state)
        done = self._done_future
        if done is not None and state.is_final:
            self._done_future = None
            if not done.done():
                done.set_result(state)


async def wait_until_all_done(orders: Iterable[InFlightOrder], timeout: float) -> None:  # noqa: ASYNC109
    """Wait until every order of ``orders`` is final, or for ``timeout`` seconds at most (then return anyway).

    :meth:`InFlightOrder.wait_until_done` for many orders at once: one shared future per live order and no
    task, where a task per order would cost several objects and loop steps each (``cancel_all`` of thousands)."""
    waiters = [order._done_waiter() for order in orders if not order.current_state.is_final]
    if waiters:
        await asyncio.wait(waiters, timeout=timeout)
