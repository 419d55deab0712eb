"""``OrderModifying``: changing the price or amount of a resting order, keeping its client order id.

The part of :class:`~wingbeat.core.connector_base.ConnectorBase` behind ``modify()``. A modify is validated and
quantized like a new order (the trading rule; a bad value raises :class:`InvalidOrderError`, nothing sent),
kept on the order (:class:`~wingbeat.core.in_flight_order.OrderModification`) and journaled, queued, and every
modify queued in one event-loop tick goes out in ONE batch through the hook ``_place_modifies``, after the
journal's commit (track-before-submit: a crash mid-modify is reconciled from the journal at the next start).

A venue such as Hyperliquid replaces the order: the old one is cancelled and the replacement, with a new
exchange order id, rests the size asked for at the back of its price level (a modify loses queue priority).
The order keeps its client order id; the tracker retires the old exchange id (whose late fills still count)
and ignores the old order's cancellation. The races of a cancel-replace:

- a fill of the old order before the venue applied the modify counts once; the replacement then rests the
  remainder asked for on top of it (the venue's semantics: the order's amount grows by that fill);
- a modify of an order the venue already filled or cancelled is refused by the venue: the order is checked
  and ends in the state the venue reports (:class:`OrderModifyFailedEvent` first);
- a modify whose answer is lost stays unresolved until the venue's news shows the replacement (applied) or,
  past ``_modify_undecided_for()`` seconds, the old order still standing (not applied); reconciliation passes
  ask the venue in between.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

from wingbeat.core.enums import OrderType, TimeInForce
from wingbeat.core.errors import ExchangeRejection, InvalidOrderError, NotReadyError
from wingbeat.core.in_flight_order import InFlightOrder, OrderModification
from wingbeat.core.journal import OrderJournal
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_tracker import ClientOrderTracker
from wingbeat.core.order_updates import OrderUpdate
from wingbeat.core.tasks import TaskOwner
from wingbeat.core.trading_rule import TradingRule

__all__ = ["OrderModifying"]

_RESTING = frozenset({OrderState.OPEN, OrderState.PARTIALLY_FILLED})


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidOrderError(f"{name} must be a Decimal, got {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite() or number <= 0:
        raise InvalidOrderError(f"{name} must be a positive number, got {number}")
    return number


class OrderModifying(ABC):
    """``modify()`` and its flush (a mixin of ConnectorBase; see the module docstring)."""

    # Provided by the connector that inherits this mixin.
    _order_tracker: ClientOrderTracker
    _trading_rules: dict[str, TradingRule]
    _journal: OrderJournal | None
    _tasks: TaskOwner
    _clock: Callable[[], float]
    _logger: logging.Logger
    _accepting: bool
    _stopped: bool
    _submit_queue: list[InFlightOrder]
    _check_orders: Callable[[Sequence[InFlightOrder]], Awaitable[None]]  # OrderReconciliation's

    def _drop_modification(self, order: InFlightOrder, reason: str) -> None:
        self._order_tracker.drop_modification(order, reason, self._clock())

    def _init_modifying(self) -> None:
        self._modify_queue: list[InFlightOrder] = []
        self._modify_wakeup = asyncio.Event()

    # ------------------------------------------------------------------------------------ entry
    def modify(
        self, client_order_id: str, *, price: Decimal | None = None, amount: Decimal | None = None
    ) -> str:
        """Change the limit price and/or the total amount of a resting order; return its client order id at
        once (it stays the order's id through the venue's new exchange order id).

        ``amount`` is the order's new total, what is already executed included: the venue is asked to rest
        ``amount`` minus the executed amount (Hyperliquid: a new order of that size; a fill the venue made
        before applying the modify comes on top of it). Values are quantized like a new order's (buy prices
        down, sell up, sizes down) and the remainder must pass the trading rule (lot, minimum size and
        notional). Every modify asked for in one event-loop tick goes out in one batch request.

        The outcome comes as :class:`~wingbeat.core.events.OrderModifiedEvent` (applied: new price, amount
        and exchange id) or :class:`~wingbeat.core.events.OrderModifyFailedEvent` (refused; the order is then
        checked with the venue and ends as the venue says, e.g. already filled). An order not sent yet is
        changed in place. Raises :class:`InvalidOrderError` (nothing sent) for a bad value, an unknown,
        final, unconfirmed, cancelling or immediate-or-cancel order, or while another modify of the order is
        in flight; :class:`NotReadyError` when the connector is not running."""
        if not isinstance(client_order_id, str):
            raise InvalidOrderError(f"client_order_id must be a str, got {type(client_order_id).__name__}")
        if not self._accepting:
            raise NotReadyError("connector is stopped" if self._stopped else "connector is not started")
        if price is None and amount is None:
            raise InvalidOrderError("modify needs a new price, a new amount or both")
        new_price = None if price is None else _decimal(price, "price")
        new_amount = None if amount is None else _decimal(amount, "amount")
        order = self._order_tracker.get_order(client_order_id)
        if order is None:
            raise InvalidOrderError(f"unknown order {client_order_id!r}")
        state = order.current_state
        if state.is_final:
            raise InvalidOrderError(
                f"order {client_order_id} is {state.name}: a final order cannot be modified"
            )
        if order.order_type is OrderType.MARKET or order.time_in_force is TimeInForce.IOC:
            raise InvalidOrderError(
                f"order {client_order_id} is immediate-or-cancel: it never rests to be modified"
            )
        if state is OrderState.PENDING_CANCEL or order.cancel_requested:
            raise InvalidOrderError(f"order {client_order_id} is being cancelled")
        unsent = order in self._submit_queue
        if not unsent and state not in _RESTING:
            raise InvalidOrderError(
                f"order {client_order_id} is {state.name}: not confirmed by the venue yet"
            )
        queued = order.modification
        if queued is not None and queued.sent_at is not None:
            raise InvalidOrderError(
                f"a modify of order {client_order_id} is already in flight; wait for its "
                "OrderModifiedEvent or OrderModifyFailedEvent"
            )
        rule = self._trading_rules.get(order.trading_pair)
        if rule is None:
            raise InvalidOrderError(f"unknown trading pair {order.trading_pair!r}")
        base_price = queued.price if queued is not None else order.price
        base_amount = queued.amount if queued is not None else order.amount
        executed = order.executed_amount_base
        target = base_amount if new_amount is None else new_amount
        if target <= executed:
            raise InvalidOrderError(
                f"amount {target} is not above the {executed} already executed of order "
                f"{client_order_id}: cancel it instead"
            )
        try:
            limit, remainder, reason = rule.quantize_order(
                order.trade_type, base_price if new_price is None else new_price, target - executed
            )
        except ArithmeticError:
            raise InvalidOrderError(f"amount {target} or price {new_price} is out of range") from None
        if reason is not None:
            raise InvalidOrderError(f"modify of {client_order_id} refused: {reason}")
        total = executed + remainder
        if unsent:  # not sent yet: the order itself changes, and is sent as it is now
            order.price, order.amount = limit, total
            journal = self._journal
            if journal is not None:
                journal.record_modify(order)
            return client_order_id
        if limit == order.price and total == order.amount:
            if queued is not None:  # back to what the venue has: nothing to send
                self._modify_queue.remove(order)
                order.modification = None
                if self._journal is not None:
                    self._journal.record_modify(order)
            return client_order_id
        if queued is not None:  # still queued: the latest values win, one request
            queued.price, queued.amount, queued.remainder = limit, total, remainder
            if self._journal is not None:
                self._journal.record_modify(order)
            return client_order_id
        self._order_tracker.start_modification(
            order,
            OrderModification(price=limit, amount=total, remainder=remainder, requested_at=self._clock()),
        )
        self._modify_queue.append(order)
        if not self._modify_wakeup.is_set():
            self._modify_wakeup.set()
        return client_order_id

    # ------------------------------------------------------------------------------------ flushing
    async def _modify_loop(self) -> None:
        while True:
            await self._modify_wakeup.wait()
            self._modify_wakeup.clear()
            queued, self._modify_queue = self._modify_queue, []
            batch: list[InFlightOrder] = []
            for order in queued:
                if order.modification is None:
                    continue
                if order.current_state in _RESTING and not order.cancel_requested:
                    batch.append(order)
                else:
                    self._order_tracker.drop_modification(
                        order, f"order is {order.current_state.name}: modify not sent", self._clock()
                    )
            if not batch:
                continue
            journal = self._journal  # on disk before anything can reach the exchange
            if journal is not None and not await journal.commit_before_send(
                batch, self._drop_modification, "connector stopped before the modify was sent"
            ):
                continue
            sent_at = self._clock()
            deadline = sent_at + self._modify_undecided_for()
            for order in batch:
                mod = order.modification
                assert mod is not None
                mod.sent_at, mod.deadline = sent_at, deadline
            self._tasks.create_task(self._send_modifies(batch), name="modify-orders")

    async def _send_modifies(self, batch: list[InFlightOrder]) -> None:
        tracker = self._order_tracker
        try:
            results = await self._place_modifies(batch)
        except ExchangeRejection as exc:
            for order in batch:
                tracker.drop_modification(order, exc.reason, self._clock())
            await self._check_orders(batch)
            return
        except BaseException as exc:
            self._logger.warning(
                "modify of %d order(s) ended without an answer (%r); reconciling", len(batch), exc
            )
            if isinstance(exc, Exception):
                await self._check_orders(batch)
                return
            raise
        if len(results) != len(batch):
            self._logger.error("_place_modifies returned %d results for %d orders", len(results), len(batch))
        check: list[InFlightOrder] = []
        for order, result in zip(batch, results, strict=False):
            if isinstance(result, OrderUpdate):
                tracker.apply_modification(order, result.exchange_order_id, result.update_timestamp)
                tracker.process_order_update(result)
            else:
                tracker.drop_modification(order, result, self._clock())
                check.append(order)  # "already filled / cancelled" is the usual reason: ask what happened
        check.extend(batch[len(results) :])  # unanswered: still unresolved, asked about
        if check:
            await self._check_orders(check)

    def _restore_modifications(self, orders: Sequence[InFlightOrder]) -> None:
        """Orders restored from the journal with a modify unresolved: it may have reached the venue before
        the crash, so it is decided like a lost answer (from now on, within the undecided window)."""
        deadline = self._clock() + self._modify_undecided_for()
        for order in orders:
            if order.modification is not None:
                order.modification.deadline = deadline

    def _fail_queued_modifies(self) -> None:
        queued, self._modify_queue = self._modify_queue, []
        for order in queued:
            self._order_tracker.drop_modification(
                order, "connector stopped before the modify was sent", self._clock()
            )

    # ------------------------------------------------------------------------------------ hooks
    async def _place_modifies(self, orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate | str]:
        """Hook (optional; the default refuses every modify): send the modifies of a journaled batch,
        everything queued in one event-loop tick, as one request. Each order's ``modification`` holds the new
        ``price``, total ``amount`` and the ``remainder`` the venue must rest. Return per order, same order, the
        replacement's :class:`OrderUpdate` (applied: its state and the venue's exchange order id, which may be
        new) or the venue's refusal reason (the order is then checked). Raise :class:`ExchangeRejection` when
        the whole batch was definitely refused; any other exception leaves the modifies unresolved, decided by
        reconciliation (status checks) within ``_modify_undecided_for()`` seconds."""
        return ["this venue does not support modifying orders"] * len(orders)

    def _modify_undecided_for(self) -> float:
        """Hook (optional): seconds after a modify was sent during which the venue may still apply it (its
        answer lost); past them, a venue still showing the old order means it was not applied. Called when a
        batch is sent and at restore; keep it cheap (default: 30 s)."""
        return 30.0
