"""``ConnectorBase`` / ``PerpetualConnectorBase``: the fat base every exchange connector fills in.

Track-before-submit: ``buy()`` / ``sell()`` validate and quantize, create the order, track and journal it,
queue it and return the client order id synchronously. Once per event-loop tick one reused flush task takes
the whole queue, awaits the journal's group commit and sends the batch: written in that same step when the
venue client can (``_start_place_orders``), else by ``_place_orders``; an order that could have reached the
exchange is always on disk first. Without a journal, a burst placed in one go is sent
in batches while it is being placed (``_start_place_orders``): the first of ``eager_send_at`` orders, each next
one twice the one before, so that the venue works on the first orders while the next are made and a long burst
takes few actions. Cancels are queued and flushed the same way.
Reconciliation (lost answers, stale orders, missing fills) is inherited from
:class:`~wingbeat.core.order_reconciliation.OrderReconciliation`. Subclasses fill the hooks of the "subclass
hooks" section below and of that module (each docstring says when it is called and what it must return).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import count
from types import MappingProxyType
from typing import Any

from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.errors import ExchangeRejection, NotReadyError
from wingbeat.core.events import EventListener, EventPublisher
from wingbeat.core.in_flight_order import InFlightOrder, wait_until_all_done
from wingbeat.core.journal import Durability, OrderJournal
from wingbeat.core.order_modifying import OrderModifying
from wingbeat.core.order_reconciliation import OrderReconciliation
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_tracker import ClientOrderTracker
from wingbeat.core.order_updates import OrderUpdate
from wingbeat.core.positions import FundingInfo, Position, PositionBook, PositionFill
from wingbeat.core.tasks import TaskOwner
from wingbeat.core.trading_rule import TradingRule

__all__ = ["STOP_TEARDOWN_S", "CancellationResult", "ConnectorBase", "PerpetualConnectorBase"]

STOP_TEARDOWN_S = 3.0
"""``stop(grace)`` returns within ``grace`` plus this many seconds: task cancellation and network teardown."""
_TASKS_STOP_S = 1.0
_MIN_NETWORK_STOP_S = 0.5

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


class ConnectorBase(OrderReconciliation, OrderModifying):
    """Lifecycle, order entry, batching, journaling and reconciliation for one exchange account.

    ``journal_path=None`` keeps orders in memory only. ``completed_cache_size``: final orders kept for
    ``get_order``. ``eager_send_at``: without a journal, a tick's queue is sent as soon as it holds this many
    orders, while the caller is still placing more, and again each time it holds twice as many as were sent
    last (100, 200, 400, ...; None: one batch per tick). Reconciliation timing (``reconcile_interval``, ``stale_order_after``, ``lost_order_limit``,
    ``status_retry_delay``, ``missing_fills_after``, ``missing_fills_attempts``): see
    :class:`~wingbeat.core.order_reconciliation.OrderReconciliation`.
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
        eager_send_at: int | None = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if eager_send_at is not None and (not isinstance(eager_send_at, int) or eager_send_at < 1):
            raise ValueError(f"eager_send_at must be a positive int or None, got {eager_send_at!r}")
        self._init_reconciliation(
            reconcile_interval=reconcile_interval, stale_order_after=stale_order_after,
            lost_order_limit=lost_order_limit, status_retry_delay=status_retry_delay,
            missing_fills_after=missing_fills_after, missing_fills_attempts=missing_fills_attempts,
        )
        self._logger = logging.getLogger(f"wingbeat.core.connector.{self.name}")
        self._trading_pairs = list(trading_pairs)
        self._clock = clock
        self._publisher = EventPublisher()
        self._journal = OrderJournal(journal_path, durability=journal_durability) if journal_path else None
        self._order_tracker = ClientOrderTracker(
            publisher=self._publisher, journal=self._journal, lost_order_limit=lost_order_limit,
            completed_cache_size=completed_cache_size, clock=clock, on_state_change=self._on_state_change,
        )
        self._trading_rules: dict[str, TradingRule] = {}
        self._balances: dict[str, Decimal] = {}
        self._available_balances: dict[str, Decimal] = {}
        self._tasks = TaskOwner(f"connector.{self.name}", self._logger)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._submit_queue: list[InFlightOrder] = []
        # a journal commits asynchronously: with one, every order waits for the tick's flush
        self._eager_send_at = eager_send_at if self._journal is None else None
        # the queue size that sends next in this tick: each early batch doubles it (fewer actions for a long
        # burst, which costs both sides per action); None once the venue client could not send at once (the
        # rest waits for the tick's flush, which starts again from eager_send_at)
        self._eager_next = self._eager_send_at
        self._cancel_queue: list[InFlightOrder] = []
        self._submit_wakeup = asyncio.Event()
        self._cancel_wakeup = asyncio.Event()
        self._ready = asyncio.Event()
        self._accepting = False
        self._stopped = False
        self._flushers: list[asyncio.Task[None]] = []
        self._starting: asyncio.Task[None] | None = None
        self._recovery: asyncio.Task[None] | None = None
        self._init_modifying()
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
        """True once started, rules loaded and journaled orders restored; False after stop, and while the
        venue has paused us (a rate-limit pause: orders would be refused)."""
        return self._ready.is_set() and self._accepting and self._paused_for() <= 0

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

    def get_balance(self, asset: str) -> Decimal:
        """Total balance of ``asset`` (for a perpetual account's collateral: the account value); 0 when
        unknown."""
        return self._balances.get(asset, _ZERO)

    def get_available_balance(self, asset: str) -> Decimal:
        """Balance of ``asset`` free for new orders; 0 when unknown."""
        return self._available_balances.get(asset, _ZERO)

    def add_listener(self, listener: EventListener) -> None:
        """Receive this connector's events."""
        self._publisher.add_listener(listener)

    def remove_listener(self, listener: EventListener) -> None:
        """Stop receiving this connector's events."""
        self._publisher.remove_listener(listener)

    # ------------------------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Open the journal, start the network, load rules, balances and positions, restore unfinished
        journaled orders, then accept orders; the restored orders are reconciled in the background
        (``recovering``). On failure everything started is stopped again."""
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
                              self._tasks.create_task(self._cancel_loop(), name="cancel-flush"),
                              self._tasks.create_task(self._modify_loop(), name="modify-flush")]
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
        """Wait until ``ready``: ``start()`` has finished (rules loaded, journaled orders restored) and no
        venue pause is in force."""
        async with asyncio.timeout(timeout):
            await self._ready.wait()
            pause = self._paused_for()
            if pause > 0:  # a known deadline: the venue's pause ends then (it may only be extended by a 429,
                await asyncio.sleep(pause)  # which needs a request, and none is sent while it lasts)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting orders, let in-flight requests finish (up to ``grace`` seconds), stop the
        network and close the journal. Orders still queued and never sent become FAILED.

        Returns within ``grace + STOP_TEARDOWN_S`` seconds whatever the venue does (a venue that never
        answers included): background tasks get 1 s to end once cancelled, the network teardown the rest."""
        if self._stopped or self._loop is None:
            return
        deadline = time.monotonic() + grace + STOP_TEARDOWN_S
        self._stopped = True
        self._accepting = False
        was_ready = self._ready.is_set()
        self._ready.clear()
        starting = self._starting
        if starting is not None and not starting.done() and starting is not asyncio.current_task():
            starting.cancel()  # start() must not go on creating what is torn down below
            await asyncio.gather(starting, return_exceptions=True)
        queued, self._submit_queue = self._submit_queue, []
        for order in queued:
            self._fail(order, "connector stopped before the order was sent")
        self._fail_queued_modifies()
        for flusher in self._flushers:  # first, so that no request starts after the wait below
            flusher.cancel()
        await asyncio.gather(*self._flushers, return_exceptions=True)
        self._flushers = []
        senders = [t for t in self._tasks.tasks
                   if t.get_name().endswith(("place-orders", "cancel-orders", "modify-orders"))]
        if senders:
            await asyncio.wait(senders, timeout=grace)
        await self._tasks.stop(timeout=_TASKS_STOP_S)
        try:
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), _MIN_NETWORK_STOP_S)):
                    await self._stop_network()
            except TimeoutError:
                self._logger.warning("%s: the network did not stop within the stop deadline; abandoned", self.name)
        finally:
            if self._journal is not None:
                await self._journal.close()
            self._loop = None
            # after a failed start the start's error says it all: the CLI prints it as its one line
            self._logger.log(logging.INFO if was_ready else logging.DEBUG, "%s stopped", self.name)

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
        return self._place_order(
            self._new_client_order_id(trade_type, trading_pair), trade_type, trading_pair, amount, order_type,
            price, time_in_force, position_action, reduce_only, leverage,
        )  # fmt: skip

    def _place_order(
        self,
        cid: str,
        trade_type: TradeType,
        trading_pair: str,
        amount: Decimal,
        order_type: OrderType,
        price: Decimal | None,
        time_in_force: TimeInForce | None,
        position_action: PositionAction,
        reduce_only: bool,
        leverage: int | None,
    ) -> str:
        """:meth:`place_order` under the client order id ``cid``, which a subclass may make first to register
        what the order's wire needs beside it (a trigger): the order can be sent before this returns."""
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
            closing = reduce_only or position_action is _CLOSE
            full_close = self._position_closed_by(trading_pair, trade_type) if closing else None
            try:
                limit, size, reason = rule.quantize_order(trade_type, limit, size, full_close=full_close)
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
        queue = self._submit_queue
        queue.append(order)
        if not self._submit_wakeup.is_set():
            self._submit_wakeup.set()
        if (eager := self._eager_next) is not None and len(queue) >= eager:
            self._send_now()
        return cid

    @contextlib.contextmanager
    def _placed_together(self) -> Iterator[None]:
        """The orders placed inside go out in one batch (a subclass's order group, such as an entry with its
        take-profit and stop-loss): no early send splits them; the batch may be sent early once they are in."""
        eager, self._eager_next = self._eager_next, None
        try:
            yield
        finally:
            self._eager_next = eager
            if eager is not None and len(self._submit_queue) >= eager:
                self._send_now()

    def _send_now(self) -> None:
        # A caller placing many orders in one go does not yield to the loop: send what is queued now, so the
        # venue works on it while the next orders are made, instead of the whole burst after the last one.
        queued = self._submit_queue
        held: list[InFlightOrder] = []
        for batch in self._batch_actions(queued):
            answers = self._start_sending(batch)
            if answers is None:  # not sent: it goes with the tick's flush
                held += batch
            else:
                self._tasks.create_task(self._send_orders(batch, answers), name="place-orders")
        self._submit_queue = held
        # nothing more early in this tick once something waits for the flush
        self._eager_next = None if held else 2 * len(queued)

    def _start_sending(self, batch: list[InFlightOrder]) -> Awaitable[Sequence[OrderUpdate | None]] | None:
        """``_start_place_orders`` of ``batch``, None when it was not sent (an error of the hook is logged)."""
        try:
            return self._start_place_orders(batch)
        except Exception as exc:  # raised before anything was sent (the hook's contract): callers must not raise
            self._logger.warning("%d order(s) could not be sent at once (%r); they are sent by the flush task",
                                 len(batch), exc)
            return None

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

    async def cancel_all(self, timeout: float) -> list[CancellationResult]:  # noqa: ASYNC109 - public API
        """Cancel every open order and wait (up to ``timeout`` s) for each to end; one result per order."""
        orders = self.open_orders
        for order in orders:
            self.cancel(order.trading_pair, order.client_order_id)
        await wait_until_all_done(orders, timeout)
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
            self._eager_next = self._eager_send_at
            batch, self._submit_queue = self._submit_queue, []
            if not batch:
                continue
            journal = self._journal  # on disk before anything can reach the exchange
            if journal is not None and not await journal.commit_before_send(
                    batch, self._fail, "connector stopped before the order was sent"):
                continue
            for action in self._batch_actions(batch):
                # written in this step when the venue client can: the frame leaves before the loop turns to what
                # else is ready (the pushes being read), one order's place -> OPEN shorter by that work
                answers = self._start_sending(action)
                self._tasks.create_task(self._send_orders(action, answers), name="place-orders")

    async def _send_orders(self, batch: list[InFlightOrder],
                           answers: Awaitable[Sequence[OrderUpdate | None]] | None = None) -> None:
        try:
            updates = await (self._place_orders(batch) if answers is None else answers)
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
        tracker = self._order_tracker
        for update in updates:
            if update is not None and not tracker.process_order_update(update):
                tracker.take_answer_reason(update)  # the status stream told the failure first: keep the answer's text
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
            for order in batch:  # a pass may have found it resting before the failure came: no transition then
                self._resend_requested_cancel(order)
            return
        refused: list[InFlightOrder] = []
        for order, result in zip(batch, results, strict=False):
            if result is True:
                if not order.is_done:  # else the status stream told it first: nothing left to apply
                    self._update(order, OrderState.CANCELED, "cancelled")
            elif order.current_state is OrderState.PENDING_CANCEL:
                self._logger.warning("cancel of %s refused: %s", order.client_order_id, result)
                executed = order.executed_amount_base > 0
                self._update(order, OrderState.PARTIALLY_FILLED if executed else OrderState.OPEN)
                refused.append(order)
        if refused:  # "already filled / cancelled" is the usual reason: ask what happened
            await self._check_orders(refused)

    # ------------------------------------------------------------------------------- journal restore
    @property
    def recovering(self) -> bool:
        """True while orders restored from the journal at start are still being reconciled with the venue
        (the connector already accepts new orders meanwhile)."""
        return self._recovery is not None and not self._recovery.done()

    async def wait_recovered(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - public API
        """Wait until the orders restored from the journal at start have been reconciled (at once when there
        were none, or before start)."""
        recovery = self._recovery
        if recovery is not None and not recovery.done():
            async with asyncio.timeout(timeout):
                await asyncio.shield(recovery)

    async def _restore_from_journal(self) -> None:
        assert self._journal is not None
        # fill events a crash kept from the listeners first: they happened before anything the venue says now
        self._order_tracker.republish_fills(await self._journal.load_unpublished_fills())
        orders = await self._journal.load_unfinished()
        if not orders:
            return
        self._order_tracker.restore(orders)
        self._logger.info("restored %d order(s) from the journal (unfinished or awaiting fills); reconciling",
                          len(orders))
        for order in orders:
            if order.current_state is OrderState.PENDING_CREATE:  # we crashed around the send
                self._update(order, OrderState.PENDING_SUBMIT_UNKNOWN)
        self._restore_modifications(orders)
        # in the background: the connector is ready for new orders while the old ones are being resolved
        # (hundreds of them can take a while within the venue's weight budget)
        self._recovery = self._tasks.create_task(self._reconcile_restored(orders), name="restore-reconcile")

    # --------------------------------------------------------------------------------- subclass hooks
    async def _start_network(self) -> None:
        """Hook (optional): open sessions and streams. Called first in ``start()``, journal already open;
        raising aborts the start (what started is stopped again, ``start()`` re-raises)."""

    async def _stop_network(self) -> None:
        """Hook (optional): close what ``_start_network`` opened. Called last in ``stop()``, once every
        background task ended; also after a failed start, so it must cope with a partial start."""

    @abstractmethod
    async def _update_trading_rules(self) -> Mapping[str, TradingRule]:
        """Hook (required): the trading rule of every pair. Called in ``start()`` after ``_start_network``;
        raising aborts the start."""

    async def _update_balances_and_positions(self) -> None:
        """Hook (optional): refresh balances and positions. Called in ``start()`` after the rules (raising
        aborts the start); subclasses also call it on their own timer."""

    @abstractmethod
    async def _place_orders(self, orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate | None]:
        """Hook (required): send a journaled batch, everything queued in one event-loop tick. Return one
        update per order, same order (OPEN with the exchange id, FILLED, FAILED with a reason, ...), or None
        where the answer tells nothing the order does not already show (a status stream was faster). Raise
        ExchangeRejection when the whole batch was definitely refused (all FAILED); any other exception makes
        the batch PENDING_SUBMIT_UNKNOWN, resolved by reconciliation."""

    def _batch_actions(self, batch: list[InFlightOrder]) -> list[list[InFlightOrder]]:
        """Hook (optional): the batches ``batch`` goes out in, each one ``_start_place_orders`` /
        ``_place_orders`` call of its own, in order [the whole batch as one]. Orders that must share an action
        are placed inside ``_placed_together`` so that no early send splits them first."""
        return [batch]

    def _start_place_orders(self, orders: Sequence[InFlightOrder]) -> Awaitable[Sequence[OrderUpdate | None]] | None:
        """Hook (optional): send the batch at once, without awaiting anything: while ``place_order``'s caller
        is still placing orders (when ``eager_send_at`` orders are queued and no journal is kept), and first of
        all in the tick's flush (after the journal's commit). Return what awaits the answers, as
        ``_place_orders``'s (with the same meaning and exceptions), or None when it cannot be sent without
        waiting (the default): then nothing was sent and ``_place_orders`` sends the batch (the tick's flush,
        for the early sends). Raise only before anything was sent (then it is as if None was returned)."""
        return None

    @abstractmethod
    async def _place_cancels(self, orders: Sequence[InFlightOrder]) -> Sequence[bool | str]:
        """Hook (required): cancel a batch of PENDING_CANCEL orders, everything queued in one event-loop
        tick. Return per order, same order, True (cancelled) or the venue's refusal reason (the order is then
        checked). Raising gets every order checked, its cancel sent again if it still rests."""

    def _paused_for(self) -> float:
        """Hook (optional): seconds the venue still makes us wait before any request (a rate-limit pause);
        ``ready`` is False while it is positive. Called by ``ready``: keep it cheap, never raise (default 0)."""
        return 0.0

    def _new_client_order_id(self, trade_type: TradeType, trading_pair: str) -> str:
        """Hook (optional): a client order id unique across restarts (default: random per-process prefix +
        counter). Called synchronously by every ``place_order``: keep it cheap, never raise."""
        return f"wb{'B' if trade_type is _BUY else 'S'}{self._cid_prefix}{next(self._cid_counter):x}"

    def _position_closed_by(self, trading_pair: str, trade_type: TradeType) -> Decimal | None:
        """The size of the position a reduce-only ``trade_type`` order on ``trading_pair`` would close, None
        when there is none on the other side (a connector without positions: always None)."""
        return None

    def _market_order_price(self, trading_pair: str, trade_type: TradeType, amount: Decimal) -> Decimal:
        """Hook (optional): the limit price of a MARKET order before quantization (e.g. book price ±
        slippage). Called synchronously by ``place_order``; raising refuses the order, the exception's text
        in the reason (the default raises: no market orders)."""
        raise NotImplementedError(f"{self.name} does not support market orders")

    def _on_state_change(self, order: InFlightOrder, previous: OrderState) -> None:
        """Hook (optional; overrides call ``super()``, which sends a cancel asked for while the order was
        unconfirmed once it rests): called synchronously by the tracker after every applied state change,
        journaled and published. Runs inside whatever applied the update: never raise, never block."""
        self._resend_requested_cancel(order)

    def _resend_requested_cancel(self, order: InFlightOrder) -> None:
        """Queue the cancel asked for while the order was unconfirmed, or whose answer never came, once the
        order is known to rest."""
        if order.cancel_requested and order.current_state in _RESTING and self._accepting:
            order.cancel_requested = False
            self._queue_cancel(order)

    # --------------------------------------------------------------------------------- subclass helpers
    def _set_balance(self, asset: str, total: Decimal, available: Decimal) -> None:
        """The venue's balance of ``asset`` (total, and free for new orders) replaces ours."""
        self._balances[asset] = total
        self._available_balances[asset] = available


class PerpetualConnectorBase(ConnectorBase):
    """A connector for perpetual futures: adds positions, funding info and leverage to the base.

    Positions live in a :class:`~wingbeat.core.positions.PositionBook`: subclasses feed it every fill of
    the account (``_apply_position_fill``, ours or not) the moment it arrives, and the venue's snapshots
    (``_set_positions``), which win over ours; a divergence is logged as a warning."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._position_book = PositionBook(self._default_leverage)
        self._funding_info: dict[str, FundingInfo] = {}

    @property
    def account_positions(self) -> dict[str, Position]:
        """Open positions of the account by trading pair (a copy), every pair included, not only the traded
        ones: updated by each fill as it arrives and by the venue's account snapshots."""
        return self._position_book.positions

    def get_funding_info(self, trading_pair: str) -> FundingInfo | None:
        """Latest funding information of a pair, when known."""
        return self._funding_info.get(trading_pair)

    def _position_closed_by(self, trading_pair: str, trade_type: TradeType) -> Decimal | None:
        position = self._position_book.positions.get(trading_pair)
        if position is None or not position.amount or (position.amount > 0) != (trade_type is _SELL):
            return None
        return abs(position.amount)

    def get_mark_price(self, trading_pair: str) -> Decimal | None:
        """The venue's mark price of ``trading_pair`` (any pair the venue lists, traded or not), when known;
        the base answers from the funding information."""
        info = self.get_funding_info(trading_pair)
        return info.mark_price if info is not None else None

    @abstractmethod
    async def set_leverage(self, trading_pair: str, leverage: int) -> None:
        """Set the leverage of a pair on the venue."""

    # Helpers for subclasses feeding account state in.
    def _set_positions(
        self,
        positions: Mapping[str, Position],
        as_of_ms: int | None = None,
        *,
        pair_as_of_ms: Callable[[str], int] | None = None,
    ) -> None:
        """The venue's positions as of ``as_of_ms`` (venue time; None: now) replace ours; ``pair_as_of_ms``
        gives a pair's own time where the snapshot joins parts taken later (see `PositionBook.reconcile`)."""
        when = int(self._clock() * 1000) if as_of_ms is None else as_of_ms
        for divergence in self._position_book.reconcile(positions, when, pair_as_of_ms=pair_as_of_ms):
            self._logger.warning("position diverged from the venue, using the venue's: %s", divergence)

    def _apply_position_fill(self, fill: PositionFill) -> None:
        """A fill of the account (ours or another program's) moves its position now."""
        divergence = self._position_book.apply_fill(fill)
        if divergence is not None:
            self._logger.warning("position diverged from the venue, using the venue's: %s", divergence)

    def _default_leverage(self, trading_pair: str) -> int:
        # a position a fill opens before the venue reports it: the pair's max (the local exchange's default)
        rule = self._trading_rules.get(trading_pair)
        return rule.max_leverage if rule is not None and rule.max_leverage else 1

    def _set_funding_info(self, info: FundingInfo) -> None:
        self._funding_info[info.trading_pair] = info
