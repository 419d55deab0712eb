"""ClientOrderTracker: state machine enforcement, fills counted once, events in a legal order, lost orders,
late fills on completed orders, 10,000 concurrent orders, and a property test over arbitrary interleavings."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wingbeat.core.enums import OrderType, TradeType
from wingbeat.core.events import (
    Event,
    EventListener,
    EventPublisher,
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderExpiredEvent,
    OrderFailedEvent,
    OrderFilledEvent,
    OrderPartiallyFilledEvent,
    SellOrderCreatedEvent,
)
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_state import OrderState, can_transition
from wingbeat.core.order_tracker import ClientOrderTracker
from wingbeat.core.order_updates import OrderUpdate, TradeUpdate

D = Decimal
S = OrderState


class AllEvents(EventListener):
    def __init__(self) -> None:
        self.events: list[Event] = []

    def _add(self, event: Event) -> None:
        self.events.append(event)

    on_order_created = on_order_filled = on_order_partially_filled = on_order_completed = _add
    on_order_cancelled = on_order_failed = on_order_expired = _add

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]


def new_tracker(**kwargs: object) -> tuple[ClientOrderTracker, AllEvents]:
    publisher, events = EventPublisher(), AllEvents()
    publisher.add_listener(events)
    return ClientOrderTracker(publisher=publisher, clock=lambda: 5.0, **kwargs), events  # type: ignore[arg-type]


def make_order(cid: str = "c1", amount: str = "1", side: TradeType = TradeType.BUY) -> InFlightOrder:
    return InFlightOrder(client_order_id=cid, trading_pair="BTC-USD", trade_type=side, order_type=OrderType.LIMIT,
                         amount=D(amount), price=D(100), creation_timestamp=1.0)


def upd(cid: str, state: OrderState, eid: str | None = None, reason: str | None = None) -> OrderUpdate:
    return OrderUpdate(client_order_id=cid, trading_pair="BTC-USD", update_timestamp=2.0, new_state=state,
                       exchange_order_id=eid, reason=reason)


def trade(cid: str, trade_id: str, base: str, eid: str | None = None) -> TradeUpdate:
    return TradeUpdate(trade_id=trade_id, client_order_id=cid, exchange_order_id=eid, trading_pair="BTC-USD",
                       fill_timestamp=3.0, fill_price=D(100), fill_base_amount=D(base),
                       fill_quote_amount=D(base) * 100, fee_asset="USDC", fee_amount=D("0.01"), is_taker=True)


def test_lifecycle_open_partial_fill_complete_publishes_events_in_order() -> None:
    tracker, events = new_tracker()
    tracker.start_tracking(make_order(amount="1"))
    assert tracker.process_order_update(upd("c1", S.OPEN, eid="9"))
    assert tracker.process_trade_update(trade("c1", "t1", "0.4"))
    assert tracker.process_trade_update(trade("c1", "t2", "0.6"))
    assert [type(e).__name__ for e in events.events] == [
        "BuyOrderCreatedEvent", "OrderFilledEvent", "OrderPartiallyFilledEvent", "OrderFilledEvent",
        "OrderCompletedEvent",
    ]
    completed = events.of(OrderCompletedEvent)[0]
    assert isinstance(completed, OrderCompletedEvent)
    assert completed.executed_amount_base == 1 and completed.average_price == 100
    assert completed.fees == (("USDC", D("0.02")),)
    assert tracker.get_order("c1") is not None and "c1" not in tracker.active_orders
    assert "c1" in tracker.cached_orders


def test_fill_before_the_placement_answer_publishes_created_before_the_fill() -> None:
    tracker, events = new_tracker()
    tracker.start_tracking(make_order(amount="1", side=TradeType.SELL))
    tracker.process_trade_update(trade("c1", "t1", "0.5", eid="9"))
    assert [type(e) for e in events.events] == [SellOrderCreatedEvent, OrderFilledEvent, OrderPartiallyFilledEvent]
    order = tracker.get_order("c1")
    assert order is not None and order.current_state is S.PARTIALLY_FILLED
    # the late "resting" answer is refused but nothing breaks
    assert not tracker.process_order_update(upd("c1", S.OPEN, eid="9"))
    assert order.current_state is S.PARTIALLY_FILLED


def test_filled_state_before_fills_completes_when_the_last_fill_arrives() -> None:
    tracker, events = new_tracker()
    tracker.start_tracking(make_order(amount="1"))
    tracker.process_order_update(upd("c1", S.FILLED, eid="9"))
    assert events.of(OrderCompletedEvent) == []
    tracker.process_trade_update(trade("c1", "t1", "0.3"))
    assert events.of(OrderCompletedEvent) == []
    tracker.process_trade_update(trade("c1", "t2", "0.7"))
    tracker.process_trade_update(trade("c1", "t2", "0.7"))  # duplicate
    assert len(events.of(OrderCompletedEvent)) == 1
    assert len(events.of(OrderFilledEvent)) == 2


def test_fill_after_cancel_is_counted_and_state_stays_cancelled() -> None:
    tracker, events = new_tracker()
    tracker.start_tracking(make_order(amount="1"))
    tracker.process_order_update(upd("c1", S.OPEN, eid="9"))
    tracker.process_order_update(upd("c1", S.CANCELED))
    assert tracker.process_trade_update(trade("c1", "t1", "0.2", eid="9"))
    order = tracker.get_order("c1")
    assert order is not None and order.current_state is S.CANCELED and order.executed_amount_base == D("0.2")
    assert len(events.of(OrderCancelledEvent)) == 1 and len(events.of(OrderFilledEvent)) == 1


def test_illegal_transition_is_refused_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    tracker, _ = new_tracker()
    tracker.start_tracking(make_order())
    tracker.process_order_update(upd("c1", S.FILLED))
    with caplog.at_level(logging.INFO, logger="wingbeat.core.order_tracker"):
        assert not tracker.process_order_update(upd("c1", S.CANCELED))
    assert tracker.get_order("c1").current_state is S.FILLED  # type: ignore[union-attr]
    assert any("refused transition FILLED -> CANCELED" in r.getMessage() for r in caplog.records)


def test_expired_ioc_remainder_and_failure_events() -> None:
    tracker, events = new_tracker()
    tracker.start_tracking(make_order("a", amount="1"))
    tracker.start_tracking(make_order("b"))
    tracker.process_trade_update(trade("a", "t1", "0.4"))
    tracker.process_order_update(upd("a", S.EXPIRED))
    tracker.process_order_update(upd("b", S.FAILED, reason="Order has invalid price."))
    expired = events.of(OrderExpiredEvent)
    failed = events.of(OrderFailedEvent)
    assert len(expired) == 1 and expired[0].executed_amount_base == D("0.4")  # type: ignore[attr-defined]
    assert [f.reason for f in failed] == ["Order has invalid price."]  # type: ignore[attr-defined]


def test_lookup_by_exchange_order_id_and_fill_matched_by_it() -> None:
    tracker, _ = new_tracker()
    tracker.start_tracking(make_order("c1"))
    tracker.process_order_update(upd("c1", S.OPEN, eid="777"))
    assert tracker.get_order_by_exchange_id("777") is tracker.get_order("c1")
    # a fill that carries only the venue's id (client id unknown to the venue message)
    assert tracker.process_trade_update(trade("?", "t1", "0.5", eid="777"))
    assert tracker.get_order("c1").executed_amount_base == D("0.5")  # type: ignore[union-attr]


def test_unknown_orders_are_ignored() -> None:
    tracker, events = new_tracker()
    assert not tracker.process_order_update(upd("nope", S.OPEN))
    assert not tracker.process_trade_update(trade("nope", "t1", "1"))
    tracker.process_order_not_found("nope")
    assert events.events == []


def test_lost_order_becomes_failed_after_n_not_found_answers() -> None:
    tracker, events = new_tracker(lost_order_limit=3)
    tracker.start_tracking(make_order())
    tracker.process_order_update(upd("c1", S.PENDING_SUBMIT_UNKNOWN))
    tracker.process_order_not_found("c1")
    tracker.process_order_not_found("c1")
    assert tracker.get_order("c1").current_state is S.PENDING_SUBMIT_UNKNOWN  # type: ignore[union-attr]
    tracker.process_order_not_found("c1")
    order = tracker.get_order("c1")
    assert order is not None and order.current_state is S.FAILED
    failed = events.of(OrderFailedEvent)
    assert len(failed) == 1 and "lost" in failed[0].reason  # type: ignore[attr-defined]


def test_not_found_count_resets_when_the_exchange_answers() -> None:
    tracker, _ = new_tracker(lost_order_limit=2)
    tracker.start_tracking(make_order())
    tracker.process_order_not_found("c1")
    tracker.process_order_update(upd("c1", S.OPEN))
    tracker.process_order_not_found("c1")
    assert tracker.get_order("c1").current_state is S.OPEN  # type: ignore[union-attr]


def test_completed_cache_is_a_bounded_lru() -> None:
    tracker, _ = new_tracker(completed_cache_size=2)
    for cid in ("a", "b", "c"):
        tracker.start_tracking(make_order(cid))
        tracker.process_order_update(upd(cid, S.CANCELED, eid=f"e{cid}"))
    assert list(tracker.cached_orders) == ["b", "c"]
    assert tracker.get_order("a") is None and tracker.get_order_by_exchange_id("ea") is None
    assert set(tracker.all_fillable_orders) == {"b", "c"}
    tracker.process_trade_update(trade("b", "late", "0.1"))  # a late fill refreshes "b"
    tracker.start_tracking(make_order("d"))
    tracker.process_order_update(upd("d", S.CANCELED))
    assert list(tracker.cached_orders) == ["b", "d"]


def test_restored_orders_are_tracked_without_being_journaled() -> None:
    tracker, _ = new_tracker()
    order = make_order()
    order.current_state = S.OPEN
    order.exchange_order_id = "5"
    tracker.restore([order])
    assert tracker.active_orders["c1"] is order and tracker.get_order_by_exchange_id("5") is order


def test_ten_thousand_concurrent_orders() -> None:
    tracker, events = new_tracker(completed_cache_size=1_000)
    n = 10_000
    for i in range(n):
        tracker.start_tracking(make_order(f"c{i}", amount="2"))
    for i in range(n):
        tracker.process_order_update(upd(f"c{i}", S.OPEN, eid=str(i)))
    for i in range(n):
        tracker.process_trade_update(trade(f"c{i}", f"t{i}", "1", eid=str(i)))
        tracker.process_trade_update(trade(f"c{i}", f"t{i}", "1", eid=str(i)))  # duplicate
    for i in range(0, n, 2):
        tracker.process_trade_update(trade(f"c{i}", f"u{i}", "1"))
    assert len(tracker.active_orders) == n // 2
    assert all(o.current_state is S.PARTIALLY_FILLED for o in tracker.active_orders.values())
    assert len(tracker.cached_orders) == 1_000
    assert len(events.of(OrderCreatedEvent)) == n
    assert len(events.of(OrderFilledEvent)) == n + n // 2
    assert len(events.of(OrderCompletedEvent)) == n // 2
    assert tracker.get_order_by_exchange_id("9999") is tracker.get_order("c9999")


# ------------------------------------------------------------------------------------------- property
FILL_POOL = st.lists(st.integers(min_value=1, max_value=3), min_size=0, max_size=5)
STATES = st.sampled_from(list(OrderState))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, list[int], list[tuple[str, int]]]:
    sizes = draw(FILL_POOL)
    amount = max(sum(sizes), 1) + draw(st.integers(min_value=0, max_value=2))
    ops: list[tuple[str, int]] = []
    for _ in range(draw(st.integers(min_value=0, max_value=25))):
        use_fill: bool = draw(st.booleans())
        if sizes and use_fill:
            ops.append(("fill", draw(st.integers(min_value=0, max_value=len(sizes) - 1))))
        else:
            ops.append(("state", list(OrderState).index(draw(STATES))))
    return amount, sizes, ops


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_any_interleaving_of_updates_and_fills_ends_consistent(
    scenario: tuple[int, list[int], list[tuple[str, int]]],
) -> None:
    amount, sizes, ops = scenario
    tracker, events = new_tracker()
    order = make_order(amount=str(amount))
    tracker.start_tracking(order)
    counted: set[int] = set()
    history = [order.current_state]
    executed_when_final = D(0)
    for kind, value in ops:
        if kind == "fill":
            new = tracker.process_trade_update(trade("c1", f"t{value}", str(sizes[value])))
            assert new == (value not in counted)
            counted.add(value)
        else:
            tracker.process_order_update(upd("c1", list(OrderState)[value]))
        if order.current_state is not history[-1]:
            assert can_transition(history[-1], order.current_state)
            history.append(order.current_state)
            if order.current_state.is_final:
                executed_when_final = order.executed_amount_base
        assert order.executed_amount_base == sum(sizes[i] for i in counted) <= order.amount
    final_seen = [s for s in history if s.is_final]
    assert len(final_seen) <= 1 and (not final_seen or history[-1] is final_seen[0])
    if order.is_fully_executed and order.current_state is not S.FILLED:
        # only possible when the order had ended (cancelled, expired, failed) before the last fills came
        assert final_seen and executed_when_final < order.amount
    assert len(events.of(OrderFilledEvent)) == len(counted)
    completed = events.of(OrderCompletedEvent)
    assert len(completed) == (1 if order.current_state is S.FILLED and order.is_fully_executed else 0)
    assert len(events.of(OrderCreatedEvent)) <= 1
    partial = events.of(OrderPartiallyFilledEvent)
    assert all(e.remaining_amount > 0 for e in partial)  # type: ignore[attr-defined]


def test_not_found_is_ignored_while_the_placement_request_is_in_flight() -> None:
    tracker, events = new_tracker(lost_order_limit=1)
    tracker.start_tracking(make_order())
    tracker.process_order_not_found("c1")
    assert tracker.get_order("c1").current_state is S.PENDING_CREATE  # type: ignore[union-attr]
    assert events.events == []
