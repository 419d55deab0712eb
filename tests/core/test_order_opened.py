"""OrderOpened, the cheap form of "the order rests, nothing filled": the tracker gives it exactly the effect of
the OrderUpdate it stands for (``as_update()``), in every state an order can be in, and in any sequence of
other news; an order awaiting its confirmation is woken by it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.test_order_tracker import make_order, new_tracker, trade, upd
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.journal import OrderJournal
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_tracker import ClientOrderTracker
from wingbeat.core.order_updates import OrderOpened, OrderUpdate

S = OrderState


def opened(cid: str = "c1", eid: str = "e1", at: float = 2.5) -> OrderOpened:
    return OrderOpened(cid, "BTC-USD", eid, at)


def test_it_reads_like_and_converts_to_the_update_it_stands_for() -> None:
    news = opened()
    assert (news.new_state, news.reason, news.filled_amount) == (S.OPEN, None, Decimal(0))
    assert news.as_update() == OrderUpdate(
        client_order_id="c1", trading_pair="BTC-USD", update_timestamp=2.5, new_state=S.OPEN,
        exchange_order_id="e1", filled_amount=Decimal(0),
    )


def test_a_pending_order_opens_under_the_exchange_id_with_one_created_event() -> None:
    tracker, events = new_tracker()
    order = make_order()
    tracker.start_tracking(order)
    assert tracker.process_order_update(opened()) is True
    assert order.current_state is S.OPEN and order.exchange_order_id == "e1"
    assert order.last_update_timestamp == 2.5
    assert tracker.get_order_by_exchange_id("e1") is order
    assert [type(e).__name__ for e in events.events] == ["BuyOrderCreatedEvent"]
    assert events.events[0].exchange_order_id == "e1"  # type: ignore[attr-defined]
    assert tracker.process_order_update(opened()) is False  # the echo again: nothing changes
    assert len(events.events) == 1


async def test_an_order_awaiting_its_confirmation_is_woken() -> None:
    tracker, _ = new_tracker()
    order = make_order()
    tracker.start_tracking(order)
    waiting = asyncio.Event()

    async def wait() -> OrderState:
        waiting.set()  # set in the same step in which wait_until_open() starts waiting
        return await order.wait_until_open()

    waiter = asyncio.ensure_future(wait())
    await asyncio.wait_for(waiting.wait(), 5)
    assert not waiter.done()
    tracker.process_order_update(opened())
    assert await asyncio.wait_for(waiter, 5) is S.OPEN


# ------------------------------------------------------------------------------------------- property
def _snapshot(tracker: ClientOrderTracker, order: InFlightOrder, events: list[Any]) -> tuple[Any, ...]:
    return (
        order.current_state, order.exchange_order_id, order.last_update_timestamp, order.venue_filled_amount,
        order.not_found_count, order.reason, order.executed_amount_base,
        tracker.get_order_by_exchange_id("e1") is order, tracker.get_order_by_exchange_id("e2") is order,
        "c1" in tracker.active_orders, list(events),
    )


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("opened"), st.sampled_from(["c1", "c2"]), st.sampled_from(["e1", "e2"]),
                  st.sampled_from([0.5, 2.5])),
        st.tuples(st.just("state"), st.sampled_from(list(OrderState)), st.sampled_from([None, "e1", "e2"]),
                  st.just(0.0)),
        st.tuples(st.just("fill"), st.sampled_from(["t1", "t2"]), st.sampled_from(["1", "2"]), st.just(0.0)),
        st.tuples(st.just("not_found"), st.just(""), st.just(""), st.just(0.0)),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(list(OrderState)), st.sampled_from([None, "e1"]), OPS)
def test_opened_news_has_the_effect_of_its_update_in_any_state_and_sequence(
    start: OrderState, known_eid: str | None, ops: list[tuple[str, Any, Any, float]],
) -> None:
    """Two trackers get the same news; one takes each OrderOpened as is, the other as its OrderUpdate."""
    runs = []
    for cheap in (True, False):
        changes: list[tuple[str, OrderState, OrderState]] = []  # the connector's hook sees the same changes
        tracker, events = new_tracker(
            on_state_change=lambda o, prev, changes=changes: changes.append((o.client_order_id, prev, o.current_state)))
        order = make_order(amount="3")
        order.current_state = start
        order.exchange_order_id = known_eid
        tracker.restore([order])
        other = make_order(cid="c2")
        tracker.start_tracking(other)
        seen = []
        for kind, a, b, at in ops:
            if kind == "opened":
                news = opened(a, b, at)
                result: object = tracker.process_order_update(news if cheap else news.as_update())
            elif kind == "state":
                result = tracker.process_order_update(upd("c1", a, b))
            elif kind == "fill":
                result = tracker.process_trade_update(trade("c1", a, b))
            else:
                result = tracker.process_order_not_found("c1")
            seen.append((result, _snapshot(tracker, order, events.events), other.current_state,
                         other.exchange_order_id, list(changes)))
        runs.append(seen)
    assert runs[0] == runs[1]


async def test_an_order_opened_by_the_cheap_news_is_journaled_open_under_its_exchange_id(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    async with OrderJournal(path) as journal:
        tracker = ClientOrderTracker(journal=journal)
        tracker.start_tracking(make_order())
        assert tracker.process_order_update(opened(eid="42"))
    [restored] = OrderJournal(path).iter_orders()
    assert (restored.current_state, restored.exchange_order_id) == (S.OPEN, "42")
