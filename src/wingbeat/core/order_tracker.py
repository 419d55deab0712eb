"""``ClientOrderTracker``: the single owner of every in-flight order.

All exchange news enters here (``process_order_update`` / ``process_trade_update``), is checked against the
state machine, counted once, appended to the journal and turned into events. Completed orders stay in a
bounded LRU cache so that fills arriving after the final state are still matched and counted; a final order
whose fills do not add up to what the venue reported filled "awaits fills" (``orders_awaiting_fills``) and
is never evicted while it does, so the connector can fetch its missing fills.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Protocol

from wingbeat.core.enums import TradeType
from wingbeat.core.events import (
    BuyOrderCreatedEvent,
    Event,
    EventPublisher,
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderExpiredEvent,
    OrderFailedEvent,
    OrderFilledEvent,
    OrderModifiedEvent,
    OrderModifyFailedEvent,
    OrderPartiallyFilledEvent,
    SellOrderCreatedEvent,
)
from wingbeat.core.in_flight_order import InFlightOrder, OrderModification
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import OrderOpened, OrderUpdate, TradeUpdate

__all__ = ["ClientOrderTracker", "OrderRecorder"]

_logger = logging.getLogger("wingbeat.core.order_tracker")

_PENDING_CREATE, _UNKNOWN, _OPEN = OrderState.PENDING_CREATE, OrderState.PENDING_SUBMIT_UNKNOWN, OrderState.OPEN
_FILLED, _PARTIALLY_FILLED = OrderState.FILLED, OrderState.PARTIALLY_FILLED
_CANCELED, _EXPIRED, _FAILED = OrderState.CANCELED, OrderState.EXPIRED, OrderState.FAILED


class OrderRecorder(Protocol):
    """Where the tracker appends every change (implemented by :class:`~wingbeat.core.journal.OrderJournal`).
    Calls must be cheap and non-blocking: they queue the write."""

    def record_order(self, order: InFlightOrder) -> None:
        """A new order (all its fields)."""

    def record_state(self, order: InFlightOrder) -> None:
        """The order's state, exchange id, reason or last update changed."""

    def record_fill(self, trade: TradeUpdate, *, published: bool = False) -> None:
        """A fill was counted (``published``: its event needs no publishing)."""

    def record_modify(self, order: InFlightOrder) -> None:
        """The order's price, amount, exchange ids or unresolved modify changed."""

    @property
    def queued_ops(self) -> int:
        """How many changes were recorded so far."""

    @property
    def durable_ops(self) -> int:
        """How many of them are durable (or given up after a failed write)."""

    def after_durable(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once every change recorded so far is durable (at once when it already is)."""

    def mark_published(self, trade: TradeUpdate) -> None:
        """The event of this durable fill is published right after this call (recorded synchronously)."""


class ClientOrderTracker:
    """Owns all orders of one connector; see the module docstring.

    ``lost_order_limit``: after this many consecutive "the exchange does not know this order" answers an
    order becomes FAILED, with a reason saying it was lost.
    ``on_state_change(order, previous_state)`` is called after every applied state change.
    """

    def __init__(
        self,
        *,
        publisher: EventPublisher | None = None,
        journal: OrderRecorder | None = None,
        lost_order_limit: int = 3,
        completed_cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
        on_state_change: Callable[[InFlightOrder, OrderState], None] | None = None,
    ) -> None:
        if lost_order_limit < 1 or completed_cache_size < 1:
            raise ValueError("lost_order_limit and completed_cache_size must be >= 1")
        self._publisher = publisher if publisher is not None else EventPublisher()
        self._journal = journal
        self._lost_order_limit = lost_order_limit
        self._cache_size = completed_cache_size
        self._clock = clock
        self._on_state_change = on_state_change
        self._active: dict[str, InFlightOrder] = {}
        self._completed: OrderedDict[str, InFlightOrder] = OrderedDict()
        self._by_exchange_id: dict[str, str] = {}
        self._awaiting: dict[str, InFlightOrder] = {}
        # events waiting for the journal, in publishing order: [changes recorded before it may go out, event,
        # the fill whose published mark it still needs (None: none)]
        self._held: deque[list[Any]] = deque()
        self._release_armed = 0  # the recorded-changes count a release is already waiting for

    # ------------------------------------------------------------------------------------ properties
    @property
    def publisher(self) -> EventPublisher:
        """Where this tracker's events go."""
        return self._publisher

    @property
    def journal(self) -> OrderRecorder | None:
        """The recorder every change is appended to (None: memory only)."""
        return self._journal

    @property
    def active_orders(self) -> Mapping[str, InFlightOrder]:
        """Orders that are not final, by client order id (a live read-only view)."""
        return MappingProxyType(self._active)

    @property
    def cached_orders(self) -> Mapping[str, InFlightOrder]:
        """Recently completed orders kept for late fills, by client order id (a live read-only view)."""
        return MappingProxyType(self._completed)

    @property
    def orders_awaiting_fills(self) -> Mapping[str, InFlightOrder]:
        """Final orders whose fills do not add up yet to what the venue reported filled, by client order id
        (a live read-only view). An order leaves it once its fills add up."""
        return MappingProxyType(self._awaiting)

    def stop_awaiting_fills(self, client_order_id: str) -> None:
        """Give up waiting for an order's missing fills (it may be evicted again; a late fill still counts
        while it is cached, and the journal keeps what the venue reported)."""
        self._awaiting.pop(client_order_id, None)

    @property
    def all_fillable_orders(self) -> dict[str, InFlightOrder]:
        """Every order a fill may still arrive for: active and cached completed ones."""
        return {**self._completed, **self._active}

    def get_order(self, client_order_id: str) -> InFlightOrder | None:
        """The order with this client id, active or recently completed."""
        return self._active.get(client_order_id) or self._completed.get(client_order_id)

    def get_order_by_exchange_id(self, exchange_order_id: str) -> InFlightOrder | None:
        """The order the venue knows under ``exchange_order_id``."""
        cid = self._by_exchange_id.get(exchange_order_id)
        return None if cid is None else self.get_order(cid)

    # ------------------------------------------------------------------------------------- tracking
    def start_tracking(self, order: InFlightOrder) -> None:
        """Track a new order and append it to the journal (the caller awaits the journal's commit before
        sending it)."""
        self._add(order)
        if self._journal is not None:
            self._journal.record_order(order)

    def restore(self, orders: Iterable[InFlightOrder]) -> None:
        """Track orders loaded from the journal (already recorded there, so nothing is written)."""
        for order in orders:
            self._add(order)
            if order.current_state.is_final and order.awaits_fills:
                self._awaiting[order.client_order_id] = order

    def track_failed(self, order: InFlightOrder, reason: str) -> OrderFailedEvent:
        """Keep an order refused locally (never sent, never journaled) so that ``get_order`` finds it; return
        its failure event for the caller to publish (the caller decides when: usually on the next tick)."""
        order.current_state = OrderState.FAILED
        order.reason = reason
        self._archive(order)
        return self._failed_event(order)

    def _add(self, order: InFlightOrder) -> None:
        if order.current_state.is_final:
            self._archive(order)
        else:
            self._active[order.client_order_id] = order
        if order.exchange_order_id is not None:
            self._by_exchange_id[order.exchange_order_id] = order.client_order_id

    def _archive(self, order: InFlightOrder) -> None:
        self._active.pop(order.client_order_id, None)
        completed = self._completed
        completed[order.client_order_id] = order
        completed.move_to_end(order.client_order_id)
        awaiting = self._awaiting
        while len(completed) > self._cache_size:
            cid, evicted = completed.popitem(last=False)
            if cid in awaiting:  # its fills are due: kept (at the young end) until they add up
                completed[cid] = evicted
                if len(awaiting) >= len(completed):
                    break
                continue
            if evicted.exchange_order_id is not None:
                self._by_exchange_id.pop(evicted.exchange_order_id, None)

    # -------------------------------------------------------------------------------------- updates
    def process_order_update(self, update: OrderUpdate | OrderOpened) -> bool:
        """Apply an order update; return whether the state changed. Unknown orders and refused
        transitions (late or out-of-order news) are logged and ignored."""
        if isinstance(update, OrderOpened):
            cid, _, exchange_order_id, timestamp = update
            order = self._active.get(cid)
            if (order is None or order.current_state is not _PENDING_CREATE or order.exchange_order_id is not None
                    or order.modification is not None or order.retired_exchange_order_ids):
                return self.process_order_update(update.as_update())
            # the order waits for just this news (each order of a burst): applied without building the update
            order.confirm_open(exchange_order_id, timestamp)
            self._by_exchange_id[exchange_order_id] = cid
            # _state_changed for PENDING_CREATE -> OPEN: not final, no fill, only the created event to publish
            if self._journal is not None:
                self._journal.record_state(order)
            if self._publisher.has_listeners:
                self._publish_created(order, timestamp)
            if self._on_state_change is not None:
                self._on_state_change(order, _PENDING_CREATE)
            return True
        order = self.get_order(update.client_order_id)
        if order is None and update.exchange_order_id is not None:
            order = self.get_order_by_exchange_id(update.exchange_order_id)
        if order is None:
            _logger.debug("order update for unknown order %s ignored", update.client_order_id)
            return False
        if order.retired_exchange_order_ids or order.modification is not None:
            news = self._modify_news(order, update)
            if news is None:
                return False
            update = news
        had_exchange_id = order.exchange_order_id
        had_venue_filled = order.venue_filled_amount
        previous = order.current_state
        if not order.apply_order_update(update):
            if update.new_state is not previous:
                _logger.info(
                    "refused transition %s -> %s for %s (late or out-of-order update)",
                    previous.name, update.new_state.name, order.client_order_id,
                )
            if had_exchange_id is None and order.exchange_order_id is not None:
                self._by_exchange_id[order.exchange_order_id] = order.client_order_id
            elif order.venue_filled_amount == had_venue_filled:
                return False
            if self._journal is not None:
                self._journal.record_state(order)
            if order.current_state.is_final:
                self._check_awaiting(order)
            return False
        if had_exchange_id is None and order.exchange_order_id is not None:
            self._by_exchange_id[order.exchange_order_id] = order.client_order_id
        self._state_changed(order, previous, update.update_timestamp)
        return True

    def take_answer_reason(self, update: OrderUpdate) -> bool:
        """A placement answer FAILED an order the venue's status news had FAILED already: its text (the venue's
        own sentence) becomes the order's reason, in place of what the status said. No event: the order's
        OrderFailedEvent went out with the first news. Returns whether the reason changed."""
        order = self.get_order(update.client_order_id)
        if (
            order is None
            or update.reason is None
            or update.new_state is not OrderState.FAILED
            or order.current_state is not OrderState.FAILED
            or order.reason == update.reason
        ):
            return False
        order.reason = update.reason
        if self._journal is not None:
            self._journal.record_state(order)
        return True

    def _check_awaiting(self, order: InFlightOrder) -> None:
        """Keep the awaiting-fills set true for a final order."""
        if order.awaits_fills:
            if order.client_order_id not in self._awaiting:
                _logger.info("order %s is %s with %s of %s filled on the venue but %s counted: awaiting its fills",
                             order.client_order_id, order.current_state.name, order.venue_filled_amount,
                             order.amount, order.executed_amount_base)
                self._awaiting[order.client_order_id] = order
        else:
            self._awaiting.pop(order.client_order_id, None)

    def process_trade_update(self, trade: TradeUpdate) -> bool:
        """Count a fill exactly once (by trade id); return whether it was new. A fill completing the amount
        makes the order FILLED; fills on final orders are recorded without changing the state."""
        order = self.get_order(trade.client_order_id)
        if order is None and trade.exchange_order_id is not None:
            order = self.get_order_by_exchange_id(trade.exchange_order_id)
        if order is None:
            _logger.debug("fill %s for unknown order %s ignored", trade.trade_id, trade.client_order_id)
            return False
        if order.has_trade(trade.trade_id):
            return False
        if order.current_state.is_final and order.client_order_id in self._completed:
            self._completed.move_to_end(order.client_order_id)  # LRU: a late fill keeps it cached longer
        if order.retired_exchange_order_ids or order.modification is not None:
            self._modify_fill(order, trade)
        had_exchange_id = order.exchange_order_id
        if not order.apply_trade_update(trade):
            _logger.error(
                "fill %s of %s for %s refused: it would exceed the order amount %s (executed %s)",
                trade.trade_id, trade.fill_base_amount, order.client_order_id, order.amount,
                order.executed_amount_base,
            )
            return False
        if had_exchange_id is None and order.exchange_order_id is not None:
            self._by_exchange_id[order.exchange_order_id] = order.client_order_id
        if self._journal is not None:
            self._journal.record_fill(trade, published=not self._publisher.has_listeners)
        state = order.current_state
        if self._awaiting and order.client_order_id in self._awaiting and not order.awaits_fills:
            del self._awaiting[order.client_order_id]  # its fills add up now
        if not state.is_final and order.is_fully_executed:
            self._transition(order, _FILLED, trade.fill_timestamp, fill=trade)
        elif state is _OPEN or state is _PENDING_CREATE or state is _UNKNOWN:
            self._transition(order, _PARTIALLY_FILLED, trade.fill_timestamp, fill=trade)
        else:
            self._publish_fill(order, trade)
            if state is _FILLED and order.is_fully_executed:
                self._publish_completed(order)  # FILLED arrived first; the last fill completes it now
        return True

    # ------------------------------------------------------------------------------------- modifies
    # A modify replaces the venue's order (Hyperliquid: the old one is cancelled, the replacement gets a new
    # exchange id and rests the size asked for): the client order id stays, the old exchange id is retired
    # (its late fills still count, on top of the replacement), and the old order's cancellation is not ours.
    def start_modification(self, order: InFlightOrder, modification: OrderModification) -> None:
        """A modify of ``order`` was asked for: keep it on the order and append it to the journal (the caller
        awaits the journal's commit before sending it)."""
        order.modification = modification
        if self._journal is not None:
            self._journal.record_modify(order)

    def apply_modification(self, order: InFlightOrder, exchange_order_id: str | None, timestamp: float) -> bool:
        """The venue applied the unresolved modify of ``order``, the replacement known as
        ``exchange_order_id`` (None or the same id: modified in place); publish :class:`OrderModifiedEvent`.
        Return False when no modify was unresolved."""
        mod = order.modification
        if mod is None:
            return False
        order.modification = None
        previous_id, previous_price, previous_amount = order.exchange_order_id, order.price, order.amount
        if order.current_state.is_final:  # it ended first: the venue's modify came too late to matter
            _logger.info("modify of %s answered after the order was %s; ignored", order.client_order_id,
                         order.current_state.name)
            if self._journal is not None:
                self._journal.record_modify(order)
            return False
        order.price = mod.price
        if exchange_order_id is not None and exchange_order_id != previous_id:
            if previous_id is not None:
                order.retired_exchange_order_ids = (*order.retired_exchange_order_ids, previous_id)
            order.exchange_order_id = exchange_order_id
            self._by_exchange_id[exchange_order_id] = order.client_order_id  # the retired ids stay indexed
            # the replacement rests the remainder asked for, on top of whatever the old ids filled
            order.amount = max(order.retired_executed + mod.remainder, order.executed_amount_base)
        else:
            order.amount = max(mod.amount, order.executed_amount_base)
        order.last_update_timestamp = max(order.last_update_timestamp, timestamp)
        if self._journal is not None:
            self._journal.record_modify(order)
        if self._publisher.has_listeners:
            self._emit(OrderModifiedEvent(
                timestamp=timestamp, client_order_id=order.client_order_id,
                exchange_order_id=order.exchange_order_id, previous_exchange_order_id=previous_id,
                trading_pair=order.trading_pair, trade_type=order.trade_type, price=order.price,
                amount=order.amount, previous_price=previous_price, previous_amount=previous_amount,
                executed_amount_base=order.executed_amount_base,
            ))
        self._complete_if_executed(order, timestamp)
        return True

    def drop_modification(self, order: InFlightOrder, reason: str, timestamp: float) -> bool:
        """The unresolved modify of ``order`` was refused or never applied: the order stays as it was;
        publish :class:`OrderModifyFailedEvent`. Return False when no modify was unresolved."""
        mod = order.modification
        if mod is None:
            return False
        order.modification = None
        _logger.warning("modify of %s to %s@%s not applied: %s", order.client_order_id, mod.amount, mod.price,
                        reason)
        if self._journal is not None:
            self._journal.record_modify(order)
        if self._publisher.has_listeners:
            self._emit(OrderModifyFailedEvent(
                timestamp=timestamp, client_order_id=order.client_order_id,
                exchange_order_id=order.exchange_order_id, trading_pair=order.trading_pair,
                price=mod.price, amount=mod.amount, reason=reason,
            ))
        self._complete_if_executed(order, timestamp)
        return True

    def _complete_if_executed(self, order: InFlightOrder, timestamp: float) -> None:
        if not order.current_state.is_final and order.is_fully_executed:
            self._transition(order, _FILLED, timestamp)

    def _modify_news(self, order: InFlightOrder, update: OrderUpdate) -> OrderUpdate | None:
        """An update of an order with a modify unresolved or behind it, in the order's terms; None: not
        the order's news (a retired exchange id's, or the cancellation a modify in flight makes)."""
        uid, current, mod = update.exchange_order_id, order.exchange_order_id, order.modification
        if uid is not None and uid in order.retired_exchange_order_ids:
            return None  # the old order's end is the modify's doing
        in_flight = mod is not None and mod.sent_at is not None
        if in_flight and uid is not None and current is not None and uid != current:
            self.apply_modification(order, uid, update.update_timestamp)  # the venue shows the replacement
        elif in_flight and mod is not None:
            if mod.deadline is not None and self._clock() >= mod.deadline:  # the old order outlived the modify
                self.drop_modification(order, "the venue did not apply the modify before its deadline",
                                       update.update_timestamp)
            elif update.new_state is _CANCELED or update.new_state is _EXPIRED:
                return None  # the modify's own cancel of the old order (or a cancel its answer will explain)
        if update.new_state is _OPEN and order.current_state is _PARTIALLY_FILLED:
            return None  # the replacement rests: nothing new for an order that already has fills
        if update.filled_amount is not None and order.retired_exchange_order_ids and uid == order.exchange_order_id:
            # the venue counts the replacement's fills only
            update = replace(update, filled_amount=update.filled_amount + order.retired_executed)
        return update

    def _modify_fill(self, order: InFlightOrder, trade: TradeUpdate) -> None:
        """A fill of an order with a modify unresolved or behind it: a replacement's fill applies the
        modify; a retired id's late fill adds to the amount (the replacement rests on top of it)."""
        tid, current = trade.exchange_order_id, order.exchange_order_id
        if tid is None or current is None or tid == current or order.has_trade(trade.trade_id):
            return
        if tid in order.retired_exchange_order_ids:
            base = trade.fill_base_amount
            if base.is_finite() and base > 0:
                order.amount += base
                if self._journal is not None:
                    self._journal.record_modify(order)
        elif order.modification is not None and order.modification.sent_at is not None:
            self.apply_modification(order, tid, trade.fill_timestamp)

    def process_order_not_found(self, client_order_id: str) -> None:
        """The exchange said it does not know this order; after ``lost_order_limit`` consecutive answers
        like this the order is given up as lost: FAILED, with a reason saying so."""
        order = self._active.get(client_order_id)
        if order is None or order.current_state is _PENDING_CREATE:
            return  # PENDING_CREATE: our request is on its way right now, so its absence proves nothing
        order.not_found_count += 1
        if order.not_found_count < self._lost_order_limit:
            return
        reason = (
            f"lost: the exchange did not know this order after {order.not_found_count} status checks"
        )
        _logger.warning("order %s %s", client_order_id, reason)
        self._transition(order, OrderState.FAILED, self._clock(), reason)

    def _transition(
        self,
        order: InFlightOrder,
        state: OrderState,
        timestamp: float,
        reason: str | None = None,
        *,
        fill: TradeUpdate | None = None,
    ) -> None:
        """A state change decided here (fills, lost orders); ``fill`` is published in the legal event
        order: created, then the fill, then the final event."""
        previous = order.current_state
        update = OrderUpdate(
            client_order_id=order.client_order_id, trading_pair=order.trading_pair,
            update_timestamp=timestamp, new_state=state, reason=reason,
        )
        if order.apply_order_update(update):
            self._state_changed(order, previous, timestamp, fill)
        elif fill is not None:
            self._publish_fill(order, fill)

    # ----------------------------------------------------------------------------------- side effects
    def _state_changed(
        self, order: InFlightOrder, previous: OrderState, timestamp: float, fill: TradeUpdate | None = None
    ) -> None:
        if self._journal is not None:
            self._journal.record_state(order)
        state = order.current_state
        if state.is_final:
            if order.awaits_fills:
                self._check_awaiting(order)
            self._archive(order)
        if self._publisher.has_listeners:
            self._publish_state_events(order, previous, state, timestamp, fill)
        if self._on_state_change is not None:
            self._on_state_change(order, previous)

    def _publish_state_events(
        self, order: InFlightOrder, previous: OrderState, state: OrderState, timestamp: float,
        fill: TradeUpdate | None,
    ) -> None:
        if state.is_submitted and not previous.is_submitted:
            self._publish_created(order, timestamp)
        if fill is not None:
            self._publish_fill(order, fill)
        if state is _FILLED:
            if order.is_fully_executed:
                self._publish_completed(order)
        elif state is _CANCELED:
            self._emit(OrderCancelledEvent(
                timestamp=timestamp, client_order_id=order.client_order_id,
                exchange_order_id=order.exchange_order_id, trading_pair=order.trading_pair,
                executed_amount_base=order.executed_amount_base, reason=order.reason,
            ))
        elif state is _FAILED:
            self._emit(self._failed_event(order))
        elif state is _EXPIRED:
            self._emit(OrderExpiredEvent(
                timestamp=timestamp, client_order_id=order.client_order_id,
                exchange_order_id=order.exchange_order_id, trading_pair=order.trading_pair,
                executed_amount_base=order.executed_amount_base,
            ))

    # With a journal, a fill event is published only once its fill is durable, right after the journal marked
    # it published (a synchronous write: nothing runs in between): a crash at any point, even inside a
    # listener, leaves each fill either marked (published, never again) or not (published by the restart). Events that follow a
    # held one wait behind it, so listeners always see the legal order. Memory-only trackers publish at once.
    def _emit(self, event: Event) -> None:
        if self._held:
            self._hold(event, None)
        else:
            self._publisher.publish(event)

    def _emit_after_durable(self, event: Event, trade: TradeUpdate | None = None) -> None:
        if self._journal is None:
            self._publisher.publish(event)
        else:
            self._hold(event, trade)

    def _hold(self, event: Event, trade: TradeUpdate | None) -> None:
        journal = self._journal
        assert journal is not None
        self._held.append([journal.queued_ops, event, trade])
        if len(self._held) == 1:
            self._release()

    def _release(self) -> None:
        journal, held, publish = self._journal, self._held, self._publisher.publish
        assert journal is not None
        while held:
            entry = held[0]
            if entry[0] > journal.durable_ops:
                if entry[0] > self._release_armed:
                    self._release_armed = entry[0]
                    journal.after_durable(self._release)
                return
            held.popleft()
            if entry[2] is not None:  # a fill event: marked published (synchronously) right before it goes out
                journal.mark_published(entry[2])
            publish(entry[1])

    def republish_fills(self, unpublished: Iterable[tuple[InFlightOrder, Sequence[TradeUpdate]]]) -> None:
        """Publish the fill events a crash kept from the listeners (journaled fills without their published
        mark), and the completion of a FILLED order whose last fill was among them."""
        for order, trades in unpublished:
            for trade in trades:
                self._publish_fill(order, trade)
            if order.current_state is OrderState.FILLED and order.is_fully_executed:
                self._publish_completed(order)

    @property
    def held_events(self) -> int:
        """Events waiting for the journal to make their change durable before they are published."""
        return len(self._held)

    def _publish_created(self, order: InFlightOrder, timestamp: float) -> None:
        cls = BuyOrderCreatedEvent if order.trade_type is TradeType.BUY else SellOrderCreatedEvent
        self._emit(cls(
            timestamp=timestamp, client_order_id=order.client_order_id,
            exchange_order_id=order.exchange_order_id, trading_pair=order.trading_pair,
            trade_type=order.trade_type, order_type=order.order_type, amount=order.amount,
            price=order.price, position_action=order.position_action,
            creation_timestamp=order.creation_timestamp,
        ))

    def _failed_event(self, order: InFlightOrder) -> OrderFailedEvent:
        return OrderFailedEvent(
            timestamp=self._clock(), client_order_id=order.client_order_id,
            exchange_order_id=order.exchange_order_id, trading_pair=order.trading_pair,
            order_type=order.order_type, reason=order.reason or "failed",
        )

    def _publish_fill(self, order: InFlightOrder, trade: TradeUpdate) -> None:
        if not self._publisher.has_listeners:
            return  # nobody to tell (the journal recorded it as published)
        publish = self._emit_after_durable
        publish(OrderFilledEvent(
            timestamp=trade.fill_timestamp, client_order_id=order.client_order_id,
            exchange_order_id=order.exchange_order_id, trading_pair=order.trading_pair,
            trade_type=order.trade_type, order_type=order.order_type,
            position_action=order.position_action, trade_id=trade.trade_id, price=trade.fill_price,
            amount=trade.fill_base_amount, quote_amount=trade.fill_quote_amount,
            fee_asset=trade.fee_asset, fee_amount=trade.fee_amount, is_taker=trade.is_taker,
        ), trade)
        if not order.is_fully_executed:
            publish(OrderPartiallyFilledEvent(
                timestamp=trade.fill_timestamp, client_order_id=order.client_order_id,
                trading_pair=order.trading_pair, trade_type=order.trade_type,
                executed_amount_base=order.executed_amount_base,
                executed_amount_quote=order.executed_amount_quote,
                remaining_amount=order.remaining_amount,
            ))

    def _publish_completed(self, order: InFlightOrder) -> None:
        if not self._publisher.has_listeners:
            return
        self._emit_after_durable(OrderCompletedEvent(
            timestamp=order.last_update_timestamp, client_order_id=order.client_order_id,
            exchange_order_id=order.exchange_order_id, trading_pair=order.trading_pair,
            trade_type=order.trade_type, order_type=order.order_type,
            executed_amount_base=order.executed_amount_base,
            executed_amount_quote=order.executed_amount_quote,
            average_price=order.average_executed_price or order.price,
            fees=tuple(order.cumulative_fee_paid.items()),
        ))
