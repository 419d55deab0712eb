"""Final orders whose fills have not all arrived ("awaiting fills"): the tracker keeps and exposes them until
their fills add up, the journal persists what the venue reported filled (and restores such orders), and the
connector base fetches their missing fills after a grace period, a bounded number of times."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.core.test_connector_base import PAIR, FakeExchange, update
from tests.core.test_order_tracker import AllEvents
from wingbeat.core.enums import OrderType, TradeType
from wingbeat.core.events import EventPublisher, OrderCompletedEvent, OrderFilledEvent
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.journal import OrderJournal
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_tracker import ClientOrderTracker
from wingbeat.core.order_updates import OrderUpdate, TradeUpdate

D = Decimal
S = OrderState


def make_order(cid: str = "c1", amount: str = "1") -> InFlightOrder:
    return InFlightOrder(client_order_id=cid, trading_pair=PAIR, trade_type=TradeType.BUY,
                         order_type=OrderType.LIMIT, amount=D(amount), price=D(100), creation_timestamp=1.0)


def upd(cid: str, state: OrderState, filled: str | None = None, eid: str | None = "7") -> OrderUpdate:
    return OrderUpdate(client_order_id=cid, trading_pair=PAIR, update_timestamp=2.0, new_state=state,
                       exchange_order_id=eid, filled_amount=None if filled is None else D(filled))


def trade(cid: str, trade_id: str, base: str) -> TradeUpdate:
    return TradeUpdate(trade_id=trade_id, client_order_id=cid, exchange_order_id="7", trading_pair=PAIR,
                       fill_timestamp=3.0, fill_price=D(100), fill_base_amount=D(base),
                       fill_quote_amount=D(base) * 100, fee_asset="USDC", fee_amount=D("0.01"), is_taker=True)


def new_tracker(**kwargs: Any) -> tuple[ClientOrderTracker, AllEvents]:
    publisher, events = EventPublisher(), AllEvents()
    publisher.add_listener(events)
    return ClientOrderTracker(publisher=publisher, clock=lambda: 5.0, **kwargs), events


# ------------------------------------------------------------------------------------------- tracker
def test_filled_before_its_fills_awaits_them_until_they_add_up_then_completes_once() -> None:
    tracker, events = new_tracker()
    order = make_order(amount="1")
    tracker.start_tracking(order)
    tracker.process_order_update(upd("c1", S.FILLED, filled="1"))
    assert order.venue_filled_amount == D(1)
    assert dict(tracker.orders_awaiting_fills) == {"c1": order}
    assert tracker.process_trade_update(trade("c1", "t1", "0.4"))
    assert "c1" in tracker.orders_awaiting_fills
    assert not events.of(OrderCompletedEvent)
    assert tracker.process_trade_update(trade("c1", "t2", "0.6"))
    assert not tracker.orders_awaiting_fills
    assert len(events.of(OrderCompletedEvent)) == 1
    assert len(events.of(OrderFilledEvent)) == 2


def test_filled_without_a_reported_amount_still_awaits_the_whole_amount() -> None:
    tracker, _events = new_tracker()
    order = make_order(amount="2")
    tracker.start_tracking(order)
    tracker.process_order_update(upd("c1", S.FILLED))
    assert order.venue_filled_amount == D(2) and order.awaits_fills
    assert "c1" in tracker.orders_awaiting_fills


def test_expired_with_a_partial_total_awaits_only_that_much() -> None:
    tracker, events = new_tracker()
    order = make_order(amount="1")
    tracker.start_tracking(order)
    tracker.process_order_update(upd("c1", S.EXPIRED, filled="0.3"))
    assert "c1" in tracker.orders_awaiting_fills
    assert tracker.process_trade_update(trade("c1", "t1", "0.3"))
    assert not tracker.orders_awaiting_fills
    assert order.executed_amount_base == D("0.3") and order.current_state is S.EXPIRED
    assert not events.of(OrderCompletedEvent)  # only FILLED completes


def test_duplicate_fills_never_count_twice_nor_end_the_wait() -> None:
    tracker, _events = new_tracker()
    order = make_order(amount="1")
    tracker.start_tracking(order)
    tracker.process_order_update(upd("c1", S.FILLED, filled="1"))
    assert tracker.process_trade_update(trade("c1", "t1", "0.5"))
    assert not tracker.process_trade_update(trade("c1", "t1", "0.5"))
    assert order.executed_amount_base == D("0.5")
    assert "c1" in tracker.orders_awaiting_fills


def test_fills_arriving_before_the_final_state_leave_nothing_awaited() -> None:
    tracker, _events = new_tracker()
    tracker.start_tracking(make_order(amount="1"))
    tracker.process_order_update(upd("c1", S.OPEN))
    tracker.process_trade_update(trade("c1", "t1", "0.2"))
    tracker.process_order_update(upd("c1", S.CANCELED, filled="0.2"))
    assert not tracker.orders_awaiting_fills


def test_a_later_status_reporting_more_filled_makes_a_final_order_await_fills() -> None:
    tracker, _events = new_tracker()
    order = make_order(amount="1")
    tracker.start_tracking(order)
    tracker.process_order_update(upd("c1", S.CANCELED))
    assert not tracker.orders_awaiting_fills
    assert not tracker.process_order_update(upd("c1", S.CANCELED, filled="0.4"))  # no state change
    assert order.venue_filled_amount == D("0.4")
    assert "c1" in tracker.orders_awaiting_fills


def test_reported_amounts_never_decrease_nor_exceed_the_order() -> None:
    order = make_order(amount="1")
    order.apply_order_update(upd("c1", S.OPEN, filled="0.5"))
    order.apply_order_update(upd("c1", S.OPEN, filled="0.2"))
    assert order.venue_filled_amount == D("0.5")
    order.apply_order_update(upd("c1", S.OPEN, filled="7"))
    order.apply_order_update(upd("c1", S.OPEN, filled="NaN"))
    assert order.venue_filled_amount == D(1)


def test_orders_awaiting_fills_are_not_evicted_from_the_completed_cache() -> None:
    tracker, _events = new_tracker(completed_cache_size=2)
    waiting = make_order("w", amount="1")
    tracker.start_tracking(waiting)
    tracker.process_order_update(upd("w", S.FILLED, eid="70"))
    for i in range(5):
        tracker.start_tracking(make_order(f"x{i}"))
        tracker.process_order_update(upd(f"x{i}", S.CANCELED, eid=f"8{i}"))
    assert tracker.get_order("w") is waiting
    assert tracker.get_order_by_exchange_id("70") is waiting
    assert len(tracker.cached_orders) == 2
    tracker.process_trade_update(trade("w", "t1", "1"))  # its fill is matched and counted
    assert waiting.executed_amount_base == D(1) and not tracker.orders_awaiting_fills


def test_given_up_orders_leave_the_set() -> None:
    tracker, _events = new_tracker()
    tracker.start_tracking(make_order())
    tracker.process_order_update(upd("c1", S.FILLED))
    tracker.stop_awaiting_fills("c1")
    assert not tracker.orders_awaiting_fills


# ------------------------------------------------------------------------------------------- journal
async def test_journal_round_trips_the_venue_filled_amount_and_restores_final_orders_awaiting_fills(
        tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    async with OrderJournal(path) as journal:
        tracker = ClientOrderTracker(journal=journal)
        for cid in ("filled", "expired", "done", "canceled", "open"):
            tracker.start_tracking(make_order(cid, amount="1"))
        tracker.process_order_update(upd("filled", S.FILLED, filled="1"))
        tracker.process_trade_update(trade("filled", "t1", "0.25"))
        tracker.process_order_update(upd("expired", S.EXPIRED, filled="0.5", eid="8"))
        tracker.process_order_update(upd("done", S.FILLED, eid="9"))
        tracker.process_trade_update(trade("done", "t2", "1"))
        tracker.process_order_update(upd("canceled", S.CANCELED, eid="10"))
        tracker.process_order_update(upd("open", S.OPEN, filled="0.1", eid="11"))
        await journal.commit()
        restored = {o.client_order_id: o for o in await journal.load_unfinished()}
    assert set(restored) == {"filled", "expired", "open"}
    assert restored["filled"].venue_filled_amount == D(1) and restored["filled"].executed_amount_base == D("0.25")
    assert restored["expired"].venue_filled_amount == D("0.5") and restored["expired"].awaits_fills
    assert restored["open"].venue_filled_amount == D("0.1")
    fresh = ClientOrderTracker()
    fresh.restore(restored.values())
    assert set(fresh.orders_awaiting_fills) == {"filled", "expired"}
    by_id = {o.client_order_id: o for o in OrderJournal(path).iter_orders()}
    assert by_id["expired"].venue_filled_amount == D("0.5")


_OLD_SCHEMA = """
CREATE TABLE orders (client_order_id TEXT PRIMARY KEY, exchange_order_id TEXT, trading_pair TEXT NOT NULL,
    trade_type TEXT NOT NULL, order_type TEXT NOT NULL, time_in_force TEXT NOT NULL, amount TEXT NOT NULL,
    price TEXT NOT NULL, position_action TEXT NOT NULL, reduce_only INTEGER NOT NULL, leverage INTEGER,
    creation_timestamp REAL NOT NULL, state TEXT NOT NULL, reason TEXT, last_update_timestamp REAL NOT NULL);
CREATE TABLE fills (client_order_id TEXT NOT NULL, trade_id TEXT NOT NULL, exchange_order_id TEXT,
    trading_pair TEXT NOT NULL, fill_timestamp REAL NOT NULL, fill_price TEXT NOT NULL,
    fill_base_amount TEXT NOT NULL, fill_quote_amount TEXT NOT NULL, fee_asset TEXT NOT NULL,
    fee_amount TEXT NOT NULL, is_taker INTEGER NOT NULL, PRIMARY KEY (client_order_id, trade_id));
"""


async def test_a_journal_without_the_column_is_read_then_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(_OLD_SCHEMA)
        row = ("BTC-USD", "BUY", "LIMIT", "GTC", "1", "100", "NIL", 0, None, 1.0)
        conn.execute("INSERT INTO orders VALUES ('short', '1', ?,?,?,?,?,?,?,?,?,?, 'FILLED', NULL, 2.0)", row)
        conn.execute("INSERT INTO orders VALUES ('full', '2', ?,?,?,?,?,?,?,?,?,?, 'FILLED', NULL, 2.0)", row)
        conn.execute("INSERT INTO orders VALUES ('gone', '3', ?,?,?,?,?,?,?,?,?,?, 'CANCELED', NULL, 2.0)", row)
        fill = ("BTC-USD", 3.0, "100", "0.5", "50", "USDC", "0.01", 1)
        conn.execute("INSERT INTO fills VALUES ('short', 't1', '1', ?,?,?,?,?,?,?,?)", fill)
        conn.execute("INSERT INTO fills VALUES ('full', 't2', '2', ?,?,?,?,?,?,?,?)", fill)
        conn.execute("INSERT INTO fills VALUES ('full', 't3', '2', ?,?,?,?,?,?,?,?)", fill)
    conn.close()
    assert {o.client_order_id for o in OrderJournal(path).iter_orders()} == {"short", "full", "gone"}
    async with OrderJournal(path) as journal:
        restored = await journal.load_unfinished()
        assert [o.client_order_id for o in restored] == ["short"]
        assert restored[0].awaits_fills and restored[0].executed_amount_base == D("0.5")
        order = make_order("new", amount="1")
        journal.record_order(order)
        order.apply_order_update(upd("new", S.EXPIRED, filled="0.5"))
        journal.record_state(order)
        await journal.commit()
    assert {o.client_order_id: o.venue_filled_amount for o in OrderJournal(path).iter_orders()}["new"] == D("0.5")


# ---------------------------------------------------------------------------------- connector base
class FillFetchingExchange(FakeExchange):
    """Fake venue that holds back fills until ``_fetch_missing_fills`` asks for them."""

    def __init__(self, journal_path: Path | None = None, **kwargs: Any) -> None:
        super().__init__(journal_path, **kwargs)
        self.held: list[TradeUpdate] = []
        self.fetches: list[list[str]] = []
        self.fetched = asyncio.Event()
        self.release = True

    async def _fetch_missing_fills(self, orders: Sequence[InFlightOrder]) -> None:
        self.fetches.append([o.client_order_id for o in orders])
        self.fetched.set()
        if self.release:
            for fill in self.held:
                self.order_tracker.process_trade_update(fill)


def filled_at_placement(conn: FillFetchingExchange) -> None:
    def place(orders: Sequence[InFlightOrder]) -> list[OrderUpdate]:
        conn.held += [trade(o.client_order_id, f"t-{o.client_order_id}", str(o.amount)) for o in orders]
        return [update(o, S.FILLED, exchange_order_id="5", filled_amount=o.amount) for o in orders]
    conn.place = place


async def place_and_wait(conn: FakeExchange) -> InFlightOrder:
    cid = conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50_000))
    order = conn.get_order(cid)
    assert order is not None
    assert await asyncio.wait_for(order.wait_until_done(), 5) is S.FILLED
    return order


async def test_missing_fills_are_fetched_after_the_grace_period_only(tmp_path: Path) -> None:
    clock = [1000.0]
    conn = FillFetchingExchange(tmp_path / "j.db", missing_fills_after=2.0, clock=lambda: clock[0])
    filled_at_placement(conn)
    await conn.start()
    try:
        order = await place_and_wait(conn)
        await conn.reconcile_now()
        assert conn.fetches == [] and order.awaits_fills  # within the grace period
        clock[0] += 2.5
        await conn.reconcile_now()
        assert conn.fetches == [[order.client_order_id]]
        assert order.executed_amount_base == order.amount
        assert not conn.order_tracker.orders_awaiting_fills
        clock[0] += 100
        await conn.reconcile_now()
        assert len(conn.fetches) == 1  # nothing awaited any more
    finally:
        await conn.stop()


async def test_fetching_gives_up_loudly_after_the_last_attempt_with_growing_delays(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = [1000.0]
    conn = FillFetchingExchange(tmp_path / "j.db", missing_fills_after=1.0, missing_fills_attempts=3,
                                clock=lambda: clock[0])
    conn.release = False
    filled_at_placement(conn)
    await conn.start()
    try:
        order = await place_and_wait(conn)
        fetched_at = []
        for _ in range(40):
            clock[0] += 0.5
            before = len(conn.fetches)
            with caplog.at_level(logging.WARNING, "wingbeat.core.connector.fake"):
                await conn.reconcile_now()
            if len(conn.fetches) > before:
                fetched_at.append(clock[0])
        assert len(fetched_at) == 3
        assert fetched_at[2] - fetched_at[1] > fetched_at[1] - fetched_at[0]  # backoff
        assert not conn.order_tracker.orders_awaiting_fills
        assert any(order.client_order_id in r.getMessage() and "giving up" in r.getMessage()
                   for r in caplog.records)
    finally:
        await conn.stop()
    async with OrderJournal(tmp_path / "j.db") as journal:  # still there for the next start
        assert [o.client_order_id for o in await journal.load_unfinished()] == [order.client_order_id]


async def test_restart_fetches_the_fills_of_orders_final_before_their_fills_at_once(tmp_path: Path) -> None:
    first = FillFetchingExchange(tmp_path / "j.db")
    first.release = False
    filled_at_placement(first)
    await first.start()
    order = await place_and_wait(first)
    held = list(first.held)
    await first.stop()
    second = FillFetchingExchange(tmp_path / "j.db")
    second.held = held
    await second.start()
    try:
        assert second.fetches == [[order.client_order_id]]
        restored = second.get_order(order.client_order_id)
        assert restored is not None and restored.executed_amount_base == order.amount
        assert second.status_requests == []  # final: nothing to ask the venue about
    finally:
        await second.stop()
