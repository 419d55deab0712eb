"""``ConnectorBase`` / ``PerpetualConnectorBase``: the fat base every exchange connector fills in.

Track-before-submit: ``buy()`` / ``sell()`` validate and quantize, create the order, track and journal it,
queue it and return the client order id synchronously. Once per event-loop tick one reused flush task takes
the whole queue, awaits the journal's group commit and hands the batch to ``_place_orders``: an order that
could have reached the exchange is always on disk first. Cancels are queued and flushed the same way.
A reconciliation loop asks the exchange about orders whose answer was lost or whose news is stale, and
fetches the fills of final orders that are still missing some (``_fetch_missing_fills``).

Subclasses implement ``_place_orders``, ``_place_cancels``, ``_request_order_status``,
``_update_trading_rules`` and may override ``_start_network``, ``_stop_network``,
``_update_balances_and_positions``, ``_fetch_missing_fills``, ``_new_client_order_id``,
``_market_order_price``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import count
from types import MappingProxyType
from typing import Any

from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.errors import ExchangeRejection, JournalError, NotReadyError
from wingbeat.core.events import EventListener, EventPublisher
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.journal import Durability, OrderJournal
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_tracker import ClientOrderTracker
from wingbeat.core.order_updates import OrderUpdate
from wingbeat.core.positions import FundingInfo, Position
from wingbeat.core.tasks import TaskOwner
from wingbeat.core.trading_rule import TradingRule

__all__ = ["CancellationResult", "ConnectorBase", "PerpetualConnectorBase"]

_NAN = Decimal("NaN")
_ZERO = Decimal(0)
# buy() is a hot path: enum members as module constants (an Enum attribute lookup or hash is slow).
_LIMIT, _LIMIT_MAKER, _MARKET = OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET
_CLOSE, _NIL, _BUY, _SELL = PositionAction.CLOSE, PositionAction.NIL, TradeType.BUY, TradeType.SELL
_GTC, _ALO, _IOC = TimeInForce.GTC, TimeInForce.ALO, TimeInForce.IOC
_RESTING = frozenset({OrderState.OPEN, OrderState.PARTIALLY_FILLED})
_UNCONFIRMED = frozenset({OrderState.PENDING_CREATE, OrderState.PENDING_SUBMIT_UNKNOWN})


@dataclass(frozen=True, slots=True)
class CancellationResult:
    """Outcome of one order in ``cancel_all``: ``success`` when it ended without filling completely."""

    client_order_id: str
    success: bool
    reason: str | None = None


def _as_decimal(value: object) -> Decimal | None:
    """Decimal or int (exact) accepted; float, str, bool and anything else refused."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return None


class ConnectorBase(ABC):
    """Lifecycle, order entry, batching, journaling and reconciliation for one exchange account.

    ``journal_path=None`` keeps orders in memory only. ``reconcile_interval``: seconds between
    reconciliation passes; ``stale_order_after``: a resting order with no news for this long is checked;
    ``lost_order_limit``: consecutive "not found" answers before an order is given up as lost.
    ``missing_fills_after``: a final order whose fills do not add up to what the venue reported filled
    gets them fetched once it waited this long, then again with doubling delays, ``missing_fills_attempts``
    times at most (then a warning; the journal keeps it for the next start).
    """

    name = "connector"
    """Short name of the venue, for logs and metrics."""

    def __init__(
        self,
        *,
        trading_pairs: Sequence[str],
        journal_path: str | os.PathLike[str] | None = None,
        journal_durability: Durability = "normal",
        reconcile_interval: float = 5.0,
        stale_order_after: float = 30.0,
        lost_order_limit: int = 3,
        status_retry_delay: float = 0.25,
        completed_cache_size: int = 10_000,
        missing_fills_after: float = 2.0,
        missing_fills_attempts: int = 5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not missing_fills_after > 0 or missing_fills_attempts < 1:
            raise ValueError("missing_fills_after must be > 0 and missing_fills_attempts >= 1")
        self._logger = logging.getLogger(f"wingbeat.core.connector.{self.name}")
        self._trading_pairs = list(trading_pairs)
        self._clock = clock
        self._reconcile_interval = reconcile_interval
        self._stale_order_after = stale_order_after
        self._status_retry_delay = status_retry_delay
        self._lost_order_limit = lost_order_limit
        self._missing_fills_after = missing_fills_after
        self._missing_fills_attempts = missing_fills_attempts
        self._fill_fetches: dict[str, tuple[int, float]] = {}  # cid -> (fetches made, when the next is due)
        self._publisher = EventPublisher()
        self._journal = OrderJournal(journal_path, durability=journal_durability) if journal_path else None
        self._order_tracker = ClientOrderTracker(
            publisher=self._publisher, journal=self._journal, lost_order_limit=lost_order_limit,
            completed_cache_size=completed_cache_size, clock=clock, on_state_change=self._on_state_change,
        )
        self._trading_rules: dict[str, TradingRule] = {}
        self._tasks = TaskOwner(f"connector.{self.name}", self._logger)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._submit_queue: list[InFlightOrder] = []
        self._cancel_queue: list[InFlightOrder] = []
        self._submit_wakeup = asyncio.Event()
        self._cancel_wakeup = asyncio.Event()
        self._ready = asyncio.Event()
        self._accepting = False
        self._stopped = False
        self._flushers: list[asyncio.Task[None]] = []
        self._starting: asyncio.Task[None] | None = None
        self._cid_prefix = os.urandom(5).hex()
        self._cid_counter = count(1)

    # -------------------------------------------------------------------------------- public state
    @property
    def trading_pairs(self) -> list[str]:
        """The pairs this connector trades."""
        return list(self._trading_pairs)

    @property
    def trading_rules(self) -> Mapping[str, TradingRule]:
        """Rules per trading pair, loaded on start (read-only view)."""
        return MappingProxyType(self._trading_rules)

    @property
    def ready(self) -> bool:
        """True once started, rules loaded and journaled orders reconciled; False after stop."""
        return self._ready.is_set() and self._accepting

    @property
    def order_tracker(self) -> ClientOrderTracker:
        """The tracker owning every order of this connector."""
        return self._order_tracker

    @property
    def publisher(self) -> EventPublisher:
        """Event fan-out; subclasses publish funding and liquidation events through it."""
        return self._publisher

    @property
    def journal(self) -> OrderJournal | None:
        """The durable journal, or None for a memory-only connector."""
        return self._journal

    @property
    def open_orders(self) -> list[InFlightOrder]:
        """Orders that are not final yet."""
        return list(self._order_tracker.active_orders.values())

    @property
    def in_flight_orders(self) -> Mapping[str, InFlightOrder]:
        """Active orders by client order id (live read-only view)."""
        return self._order_tracker.active_orders

    def get_order(self, client_order_id: str) -> InFlightOrder | None:
        """An active or recently completed order."""
        return self._order_tracker.get_order(client_order_id)

    def add_listener(self, listener: EventListener) -> None:
        """Receive this connector's events."""
        self._publisher.add_listener(listener)

    def remove_listener(self, listener: EventListener) -> None:
        """Stop receiving this connector's events."""
        self._publisher.remove_listener(listener)

    # ------------------------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Open the journal, start the network, load rules, balances and positions, restore and reconcile
        unfinished journaled orders, then accept orders. On failure everything started is stopped again."""
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stopped = False
        # its own task, so that a stop() arriving meanwhile can cancel it before tearing down
        starting = self._starting = self._loop.create_task(self._start_steps(), name=f"{self.name}-start")
        try:
            await starting
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._stopped and (current is None or not current.cancelling()):
                raise NotReadyError(f"{self.name} was stopped while starting") from None
            raise
        finally:
            self._starting = None

    async def _start_steps(self) -> None:
        try:
            if self._journal is not None:
                await self._journal.open()
            await self._start_network()
            self._trading_rules = dict(await self._update_trading_rules())
            await self._update_balances_and_positions()
            self._flushers = [self._tasks.create_task(self._submit_loop(), name="submit-flush"),
                              self._tasks.create_task(self._cancel_loop(), name="cancel-flush")]
            if self._journal is not None:
                await self._restore_from_journal()
            self._tasks.create_task(self._reconcile_loop(), name="reconcile")
        except BaseException:
            await self.stop()
            raise
        self._accepting = True
        self._ready.set()
        self._logger.info("%s started: %d trading rules, %d open orders", self.name,
                          len(self._trading_rules), len(self._order_tracker.active_orders))

    async def wait_ready(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - public API
        """Wait until ``start()`` has finished (rules loaded, journaled orders reconciled)."""
        async with asyncio.timeout(timeout):
            await self._ready.wait()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting orders, let in-flight requests finish (up to ``grace`` seconds), stop the
        network and close the journal. Orders still queued and never sent become FAILED."""
        if self._stopped or self._loop is None:
            return
        self._stopped = True
        self._accepting = False
        self._ready.clear()
        starting = self._starting
        if starting is not None and not starting.done() and starting is not asyncio.current_task():
            starting.cancel()  # start() must not go on creating what is torn down below
            await asyncio.gather(starting, return_exceptions=True)
        queued, self._submit_queue = self._submit_queue, []
        for order in queued:
            self._fail(order, "connector stopped before the order was sent")
        for flusher in self._flushers:  # first, so that no request starts after the wait below
            flusher.cancel()
        await asyncio.gather(*self._flushers, return_exceptions=True)
        self._flushers = []
        senders = [t for t in self._tasks.tasks if t.get_name().endswith(("place-orders", "cancel-orders"))]
        if senders:
            await asyncio.wait(senders, timeout=grace)
        await self._tasks.stop()
        try:
            await self._stop_network()
        finally:
            if self._journal is not None:
                await self._journal.close()
            self._loop = None
            self._logger.info("%s stopped", self.name)

    # ------------------------------------------------------------------------------------ order entry
    def buy(self, trading_pair: str, amount: Decimal, order_type: OrderType = _LIMIT,
            price: Decimal | None = None, **kwargs: Any) -> str:
        """Place a buy order; return its client order id at once. Keyword options as in :meth:`place_order`
        (``time_in_force``, ``position_action``, ``reduce_only``, ``leverage``)."""
        return self.place_order(_BUY, trading_pair, amount, order_type, price, **kwargs)

    def sell(self, trading_pair: str, amount: Decimal, order_type: OrderType = _LIMIT,
             price: Decimal | None = None, **kwargs: Any) -> str:
        """Place a sell order; return its client order id at once. Keyword options as in :meth:`place_order`."""
        return self.place_order(_SELL, trading_pair, amount, order_type, price, **kwargs)

    def place_order(
        self,
        trade_type: TradeType,
        trading_pair: str,
        amount: Decimal,
        order_type: OrderType = _LIMIT,
        price: Decimal | None = None,
        *,
        time_in_force: TimeInForce | None = None,
        position_action: PositionAction = _NIL,
        reduce_only: bool = False,
        leverage: int | None = None,
    ) -> str:
        """Validate, quantize (buy prices round down, sell up, sizes down), track, journal and queue an
        order; return its client order id without awaiting anything. Invalid input sends nothing: the
        order is FAILED at once and an :class:`OrderFailedEvent` with the reason follows."""
        cid = self._new_client_order_id(trade_type, trading_pair)
        reason, rule = None, None
        size = _as_decimal(amount)
        limit = _as_decimal(price)
        if not self._accepting:
            reason = "connector is stopped" if self._stopped else "connector is not started"
        elif not isinstance(trade_type, TradeType):
            reason = f"trade_type must be a TradeType, got {trade_type!r}"
        elif not isinstance(trading_pair, str):
            reason = f"trading_pair must be a str, got {type(trading_pair).__name__}"
        elif not isinstance(order_type, OrderType):
            reason = f"order_type must be an OrderType, got {order_type!r}"
        elif time_in_force is not None and not isinstance(time_in_force, TimeInForce):
            reason = f"time_in_force must be a TimeInForce, got {time_in_force!r}"
        elif not isinstance(position_action, PositionAction):
            reason = f"position_action must be a PositionAction, got {position_action!r}"
        elif (rule := self._trading_rules.get(trading_pair)) is None:
            reason = f"unknown trading pair {trading_pair!r}"
        elif size is None:
            reason = f"amount must be a Decimal, got {type(amount).__name__}"
        elif not size.is_finite() or size <= _ZERO:
            reason = f"amount must be a positive number, got {size}"
        elif leverage is not None and (not isinstance(leverage, int) or leverage < 1
                                       or (rule.max_leverage is not None and leverage > rule.max_leverage)):
            reason = f"leverage {leverage!r} is not allowed (max {rule.max_leverage})"
        elif order_type is _MARKET:
            try:
                limit = self._market_order_price(trading_pair, trade_type, size)
            except Exception as exc:
                reason = f"no market price for {trading_pair}: {exc}"
        elif price is None:
            reason = f"a {order_type.name} order needs a price"
        elif limit is None:
            reason = f"price must be a Decimal, got {type(price).__name__}"
        if reason is None and rule is not None and size is not None and limit is not None:
            try:
                limit, size, reason = rule.quantize_order(trade_type, limit, size)
            except ArithmeticError:  # beyond Decimal's precision: no venue trades such a number
                reason = f"amount {size} or price {limit} is out of range"
        order = InFlightOrder(
            client_order_id=cid, trading_pair=str(trading_pair),
            trade_type=trade_type if isinstance(trade_type, TradeType) else _BUY,
            order_type=order_type if isinstance(order_type, OrderType) else _LIMIT,
            amount=size if size is not None else _NAN, price=limit if limit is not None else _NAN,
            creation_timestamp=self._clock(),
            time_in_force=time_in_force or (_ALO if order_type is _LIMIT_MAKER else _IOC if order_type is _MARKET
                                            else _GTC),
            position_action=position_action if isinstance(position_action, PositionAction) else _NIL,
            reduce_only=bool(reduce_only) or position_action is _CLOSE, leverage=leverage,
        )
        if reason is not None:
            self._refuse(order, reason)
            return cid
        self._order_tracker.start_tracking(order)
        self._submit_queue.append(order)
        if not self._submit_wakeup.is_set():
            self._submit_wakeup.set()
        return cid

    def _refuse(self, order: InFlightOrder, reason: str) -> None:
        self._logger.warning("order %s refused: %s", order.client_order_id, reason)
        event = self._order_tracker.track_failed(order, reason)
        try:
            asyncio.get_running_loop().call_soon(self._publisher.publish, event)
        except RuntimeError:  # no loop running: nobody can be awaiting it, deliver now
            self._publisher.publish(event)

    def _fail(self, order: InFlightOrder, reason: str) -> None:
        self._order_tracker.process_order_update(OrderUpdate(
            client_order_id=order.client_order_id, trading_pair=order.trading_pair,
            update_timestamp=self._clock(), new_state=OrderState.FAILED, reason=reason,
        ))

    def _update(self, order: InFlightOrder, state: OrderState, reason: str | None = None) -> None:
        self._order_tracker.process_order_update(OrderUpdate(
            client_order_id=order.client_order_id, trading_pair=order.trading_pair,
            update_timestamp=self._clock(), new_state=state, reason=reason,
        ))

    def cancel(self, trading_pair: str, client_order_id: str) -> str:
        """Request the cancellation of an order; return its client order id at once. An order not sent yet
        is cancelled locally; one whose submission is unconfirmed is cancelled as soon as it is confirmed."""
        if not isinstance(client_order_id, str):
            self._logger.warning("cancel refused: client_order_id must be a str, got %s",
                                 type(client_order_id).__name__)
            return client_order_id
        order = self._order_tracker.get_order(client_order_id)
        if order is None or order.trading_pair != trading_pair:
            self._logger.warning("cancel of unknown order %s on %s ignored", client_order_id, trading_pair)
            return client_order_id
        state = order.current_state
        if state.is_final or state is OrderState.PENDING_CANCEL:
            return client_order_id
        if order in self._submit_queue:
            self._submit_queue.remove(order)
            self._update(order, OrderState.CANCELED, "cancelled before it was sent")
        elif state in _UNCONFIRMED:
            order.cancel_requested = True
        elif self._accepting:
            self._queue_cancel(order)
        else:
            self._logger.warning("cancel of %s refused: connector is not running", client_order_id)
        return client_order_id

    def _queue_cancel(self, order: InFlightOrder) -> None:
        self._update(order, OrderState.PENDING_CANCEL)
        self._cancel_queue.append(order)
        if not self._cancel_wakeup.is_set():
            self._cancel_wakeup.set()

    def _on_state_change(self, order: InFlightOrder, previous: OrderState) -> None:
        if order.cancel_requested and order.current_state in _RESTING and self._accepting:
            order.cancel_requested = False
            self._queue_cancel(order)

    async def cancel_all(self, timeout: float) -> list[CancellationResult]:  # noqa: ASYNC109 - public API
        """Cancel every open order and wait (up to ``timeout`` s) for each to end; one result per order."""
        orders = self.open_orders
        for order in orders:
            self.cancel(order.trading_pair, order.client_order_id)
        waiters = [asyncio.ensure_future(o.wait_until_done()) for o in orders if not o.is_done]
        if waiters:
            _done, pending = await asyncio.wait(waiters, timeout=timeout)
            for waiter in pending:
                waiter.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        return [
            CancellationResult(o.client_order_id, o.is_done and not o.is_filled,
                               None if o.is_done and not o.is_filled else
                               f"order is {o.current_state.name} after {timeout}s")
            for o in orders
        ]

    # ------------------------------------------------------------------------------------ flushing
    async def _submit_loop(self) -> None:
        while True:
            await self._submit_wakeup.wait()
            self._submit_wakeup.clear()
            batch, self._submit_queue = self._submit_queue, []
            if not batch:
                continue
            if self._journal is not None:
                try:
                    await self._journal.commit()  # on disk before anything can reach the exchange
                except JournalError as exc:
                    for order in batch:
                        self._fail(order, f"not sent: {exc}")
                    continue
                except asyncio.CancelledError:  # stopping: this batch will never be sent
                    for order in batch:
                        self._fail(order, "connector stopped before the order was sent")
                    raise
            self._tasks.create_task(self._send_orders(batch), name="place-orders")

    async def _send_orders(self, batch: list[InFlightOrder]) -> None:
        try:
            updates = await self._place_orders(batch)
        except ExchangeRejection as exc:
            for order in batch:
                self._fail(order, exc.reason)
            return
        except BaseException as exc:
            self._logger.warning("placement of %d order(s) ended without an answer (%r); reconciling",
                                 len(batch), exc)
            for order in batch:
                self._update(order, OrderState.PENDING_SUBMIT_UNKNOWN)
            if not isinstance(exc, Exception):
                raise
            return
        if len(updates) != len(batch):
            self._logger.error("_place_orders returned %d updates for %d orders", len(updates), len(batch))
        for update in updates:
            self._order_tracker.process_order_update(update)
        for order in batch:
            if order.current_state is OrderState.PENDING_CREATE:
                self._update(order, OrderState.PENDING_SUBMIT_UNKNOWN)

    async def _cancel_loop(self) -> None:
        while True:
            await self._cancel_wakeup.wait()
            self._cancel_wakeup.clear()
            batch, self._cancel_queue = self._cancel_queue, []
            if batch:
                self._tasks.create_task(self._send_cancels(batch), name="cancel-orders")

    async def _send_cancels(self, batch: list[InFlightOrder]) -> None:
        try:
            results = await self._place_cancels(batch)
        except Exception as exc:
            self._logger.warning("cancel of %d order(s) failed (%r); reconciling", len(batch), exc)
            for order in batch:
                order.cancel_requested = True  # sent again once the venue confirms the order still rests
            await self._check_orders(batch)
            return
        refused: list[InFlightOrder] = []
        for order, result in zip(batch, results, strict=False):
            if result is True:
                self._update(order, OrderState.CANCELED, "cancelled")
            elif order.current_state is OrderState.PENDING_CANCEL:
                self._logger.warning("cancel of %s refused: %s", order.client_order_id, result)
                executed = order.executed_amount_base > 0
                self._update(order, OrderState.PARTIALLY_FILLED if executed else OrderState.OPEN)
                refused.append(order)
        if refused:  # "already filled / cancelled" is the usual reason: ask what happened
            await self._check_orders(refused)

    # ------------------------------------------------------------------------------- reconciliation
    async def reconcile_now(self) -> None:
        """Run one reconciliation pass now: orders whose submission is unconfirmed, cancels without an
        answer and resting orders with no news for ``stale_order_after`` seconds are checked, and the
        missing fills of final orders are fetched when due (see ``missing_fills_after``)."""
        now = self._clock()
        due = []
        for order in self._order_tracker.active_orders.values():
            state, age = order.current_state, now - order.last_update_timestamp
            if (state is OrderState.PENDING_SUBMIT_UNKNOWN
                    or (state is OrderState.PENDING_CANCEL and age >= self._reconcile_interval)
                    or (state in _RESTING and age >= self._stale_order_after)):
                due.append(order)
        if due:
            await self._check_orders(due)
        if self._order_tracker.orders_awaiting_fills or self._fill_fetches:
            await self._fetch_overdue_fills()

    async def _fetch_overdue_fills(self, *, now: bool = False) -> None:
        """Fetch the fills of final orders that awaited them long enough (``now``: all of them at once),
        with doubling delays between the attempts of one order, and give up loudly after the last one."""
        awaiting = self._order_tracker.orders_awaiting_fills
        fetches = self._fill_fetches
        for cid in [c for c in fetches if c not in awaiting]:
            del fetches[cid]  # its fills added up (or it was given up)
        clock = self._clock()
        due: list[InFlightOrder] = []
        for cid, order in awaiting.items():
            made, next_at = fetches.get(cid, (0, order.last_update_timestamp + self._missing_fills_after))
            if now or clock >= next_at:
                due.append(order)
                # scheduled before the request: a concurrent pass does not fetch it again meanwhile
                fetches[cid] = (made + 1, clock + self._missing_fills_after * 2 ** (made + 1))
        if not due:
            return
        try:
            await self._fetch_missing_fills(due)
        except Exception as exc:
            self._logger.warning("fetching the missing fills of %d order(s) failed: %r", len(due), exc)
        for order in due:
            cid = order.client_order_id
            if cid in awaiting and fetches.get(cid, (0, 0.0))[0] >= self._missing_fills_attempts:
                self._logger.warning(
                    "order %s: %s of %s filled on the venue but fills of only %s found after %d attempts; "
                    "giving up until the next start (kept in the journal)", cid, order.venue_filled_amount,
                    order.amount, order.executed_amount_base, self._missing_fills_attempts)
                self._order_tracker.stop_awaiting_fills(cid)
                del fetches[cid]

    async def _reconcile_loop(self) -> None:
        while True:
            await asyncio.sleep(self._reconcile_interval)
            try:
                await self.reconcile_now()
            except Exception:
                self._logger.exception("reconciliation pass failed")

    async def _check_orders(self, orders: Sequence[InFlightOrder]) -> None:
        try:
            answers = await self._request_order_statuses(orders)
        except Exception as exc:
            self._logger.warning("status check of %d order(s) failed: %r", len(orders), exc)
            return
        if len(answers) != len(orders):
            self._logger.error("status check returned %d answers for %d orders", len(answers), len(orders))
        tracker = self._order_tracker
        for order, answer in zip(orders, answers, strict=False):
            if isinstance(answer, BaseException):
                self._logger.warning("status check of %s failed: %r", order.client_order_id, answer)
            elif answer is None:
                tracker.process_order_not_found(order.client_order_id)
            elif not tracker.process_order_update(answer) and not order.is_done:
                order.last_update_timestamp = self._clock()  # confirmed unchanged: fresh again
                order.not_found_count = 0

    async def _request_order_statuses(
        self, orders: Sequence[InFlightOrder]
    ) -> Sequence[OrderUpdate | BaseException | None]:
        """Status of several orders (default: ``_request_order_status`` for each, concurrently). Override
        with a batched query where the venue has one. An exception in the list fails that order's check."""
        return await asyncio.gather(*(self._request_order_status(o) for o in orders), return_exceptions=True)

    async def _restore_from_journal(self) -> None:
        assert self._journal is not None
        orders = await self._journal.load_unfinished()
        if not orders:
            return
        self._order_tracker.restore(orders)
        self._logger.info("restored %d order(s) from the journal (unfinished or awaiting fills); reconciling",
                          len(orders))
        for order in orders:
            if order.current_state is OrderState.PENDING_CREATE:  # we crashed around the send
                self._update(order, OrderState.PENDING_SUBMIT_UNKNOWN)
        pending = [o for o in orders if not o.is_done]
        for attempt in range(self._lost_order_limit):
            if not pending:
                break
            await self._check_orders(pending)
            pending = [o for o in pending if o.current_state is OrderState.PENDING_SUBMIT_UNKNOWN]
            if not pending or attempt + 1 == self._lost_order_limit:
                break
            await asyncio.sleep(self._status_retry_delay)  # the venue may still be processing the request
        if self._order_tracker.orders_awaiting_fills:  # e.g. final before their fills arrived, then a crash
            await self._fetch_overdue_fills(now=True)

    # --------------------------------------------------------------------------------- subclass hooks
    async def _start_network(self) -> None:  # noqa: B027 - optional hook
        """Open sessions and streams (called first in ``start()``)."""

    async def _stop_network(self) -> None:  # noqa: B027 - optional hook
        """Close what ``_start_network`` opened (called last in ``stop()``)."""

    @abstractmethod
    async def _update_trading_rules(self) -> Mapping[str, TradingRule]:
        """Load the trading rule of every pair."""

    async def _update_balances_and_positions(self) -> None:  # noqa: B027 - optional hook
        """Refresh balances and positions (called in ``start()``; subclasses also call it on a timer)."""

    async def _fetch_missing_fills(self, orders: Sequence[InFlightOrder]) -> None:  # noqa: B027 - optional hook
        """Fetch and feed to the tracker the fills of these final orders (the venue reported more filled
        than was counted). Fills are counted once by trade id, so fetching twice is harmless."""

    @abstractmethod
    async def _place_orders(self, orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate]:
        """Send a batch; one update per order, same order. Raise ExchangeRejection when the whole batch was
        definitely refused; any other exception makes the batch PENDING_SUBMIT_UNKNOWN (reconciled)."""

    @abstractmethod
    async def _place_cancels(self, orders: Sequence[InFlightOrder]) -> Sequence[bool | str]:
        """Cancel a batch; per order True (cancelled) or the venue's refusal reason."""

    @abstractmethod
    async def _request_order_status(self, order: InFlightOrder) -> OrderUpdate | None:
        """The venue's view of one order; None when the venue does not know it."""

    def _new_client_order_id(self, trade_type: TradeType, trading_pair: str) -> str:
        """A client order id unique across restarts (random per-process prefix + counter)."""
        return f"wb{'B' if trade_type is _BUY else 'S'}{self._cid_prefix}{next(self._cid_counter):x}"

    def _market_order_price(self, trading_pair: str, trade_type: TradeType, amount: Decimal) -> Decimal:
        """Limit price for a MARKET order (e.g. best price ± slippage); unsupported by default."""
        raise NotImplementedError(f"{self.name} does not support market orders")


class PerpetualConnectorBase(ConnectorBase):
    """A connector for perpetual futures: adds positions, funding info, balances and leverage."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._positions: dict[str, Position] = {}
        self._funding_info: dict[str, FundingInfo] = {}
        self._balances: dict[str, Decimal] = {}
        self._available_balances: dict[str, Decimal] = {}

    @property
    def account_positions(self) -> dict[str, Position]:
        """Open positions by trading pair (a copy)."""
        return dict(self._positions)

    def get_funding_info(self, trading_pair: str) -> FundingInfo | None:
        """Latest funding information of a pair, when known."""
        return self._funding_info.get(trading_pair)

    def get_balance(self, asset: str) -> Decimal:
        """Total balance (account value) of ``asset``; 0 when unknown."""
        return self._balances.get(asset, _ZERO)

    def get_available_balance(self, asset: str) -> Decimal:
        """Balance of ``asset`` free for new orders; 0 when unknown."""
        return self._available_balances.get(asset, _ZERO)

    @abstractmethod
    async def set_leverage(self, trading_pair: str, leverage: int) -> None:
        """Set the leverage of a pair on the venue."""

    # Helpers for subclasses feeding account state in.
    def _set_balance(self, asset: str, total: Decimal, available: Decimal) -> None:
        self._balances[asset] = total
        self._available_balances[asset] = available

    def _set_positions(self, positions: Mapping[str, Position]) -> None:
        self._positions = {pair: p for pair, p in positions.items() if p.amount != 0}

    def _set_funding_info(self, info: FundingInfo) -> None:
        self._funding_info[info.trading_pair] = info
