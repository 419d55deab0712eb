"""ConnectorBase with an in-test exchange double whose hooks record calls.

The double stands in for the *exchange* (this layer has no network); everything of ours runs for real:
tracker, journal on a real SQLite file, publisher, flush and reconciliation loops.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from wingbeat.core import (
    EventListener,
    ExchangeRejection,
    FundingInfo,
    OrderCancelledEvent,
    OrderCreatedEvent,
    OrderFailedEvent,
    OrderState,
    OrderType,
    OrderUpdate,
    Position,
    PositionAction,
    PositionSide,
    TaskOwner,
    TimeInForce,
    TradeType,
    TradingRule,
    TransportError,
)
from wingbeat.core.connector_base import PerpetualConnectorBase
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.journal import OrderJournal

D = Decimal
PAIR = "BTC-USD"
RULE = TradingRule(trading_pair=PAIR, min_order_size=D("0.001"), size_increment=D("0.001"),
                   max_price_significant_figures=5, max_price_decimals=1, integer_price_always_valid=True,
                   min_notional=D(10), max_leverage=50)
WAIT = 5.0


class FakeExchange(PerpetualConnectorBase):
    """Exchange double: records every hook call; behaviour per test through attributes."""

    name = "fake"

    def __init__(self, journal_path: Path | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("reconcile_interval", 3600.0)  # tests drive reconciliation with reconcile_now()
        super().__init__(trading_pairs=[PAIR], journal_path=journal_path, status_retry_delay=0, **kwargs)
        self.batches: list[list[InFlightOrder]] = []
        self.cancel_batches: list[list[InFlightOrder]] = []
        self.status_requests: list[str] = []
        self.journaled_at_send: list[set[str]] = []
        self.place: Callable[[Sequence[InFlightOrder]], Sequence[OrderUpdate]] = self.rest_all
        self.cancel_answer: bool | str = True
        self.statuses: dict[str, OrderUpdate | None] = {}
        self.gate: asyncio.Event | None = None
        self.sent = asyncio.Event()
        self.next_oid = 100

    async def _update_trading_rules(self) -> Mapping[str, TradingRule]:
        return {PAIR: RULE}

    async def _place_orders(self, orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate]:
        self.batches.append(list(orders))
        if self.journal is not None:  # read the file on another connection: what would survive a crash
            self.journaled_at_send.append({o.client_order_id for o in self.journal.iter_orders()})
        self.sent.set()
        if self.gate is not None:
            await self.gate.wait()
        return self.place(orders)

    def rest_all(self, orders: Sequence[InFlightOrder]) -> list[OrderUpdate]:
        updates = []
        for order in orders:
            self.next_oid += 1
            updates.append(update(order, OrderState.OPEN, exchange_order_id=str(self.next_oid)))
        return updates

    async def _place_cancels(self, orders: Sequence[InFlightOrder]) -> Sequence[bool | str]:
        self.cancel_batches.append(list(orders))
        return [self.cancel_answer] * len(orders)

    async def _request_order_status(self, order: InFlightOrder) -> OrderUpdate | None:
        self.status_requests.append(order.client_order_id)
        return self.statuses.get(order.client_order_id)

    def _market_order_price(self, trading_pair: str, trade_type: TradeType, amount: Decimal) -> Decimal:
        return D("50000.55") * (D("1.05") if trade_type is TradeType.BUY else D("0.95"))

    async def set_leverage(self, trading_pair: str, leverage: int) -> None:
        raise NotImplementedError


def update(order: InFlightOrder, state: OrderState, **kwargs: Any) -> OrderUpdate:
    return OrderUpdate(client_order_id=order.client_order_id, trading_pair=order.trading_pair,
                       update_timestamp=1.0, new_state=state, **kwargs)


def state_of(order: InFlightOrder) -> OrderState:
    """The state now (a call, so that mypy does not keep an earlier narrowing)."""
    return order.current_state


class Recorder(EventListener):
    def __init__(self) -> None:
        self.created: list[OrderCreatedEvent] = []
        self.failed: list[OrderFailedEvent] = []
        self.cancelled: list[OrderCancelledEvent] = []
        self.changed = asyncio.Event()

    def on_order_created(self, event: OrderCreatedEvent) -> None:
        self.created.append(event)
        self.changed.set()

    def on_order_failed(self, event: OrderFailedEvent) -> None:
        self.failed.append(event)
        self.changed.set()

    def on_order_cancelled(self, event: OrderCancelledEvent) -> None:
        self.cancelled.append(event)
        self.changed.set()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[FakeExchange]:
    connector = FakeExchange(tmp_path / "orders.db")
    await connector.start()
    await connector.wait_ready(timeout=WAIT)
    yield connector
    await connector.stop()


@pytest.fixture
def events(conn: FakeExchange) -> Recorder:
    recorder = Recorder()
    conn.add_listener(recorder)
    return recorder


async def test_buy_returns_at_once_with_a_tracked_pending_order(conn: FakeExchange) -> None:
    cid = conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000), position_action=PositionAction.OPEN)
    order = conn.get_order(cid)
    assert order is not None and order.current_state is OrderState.PENDING_CREATE
    assert conn.batches == []  # nothing sent synchronously
    async with asyncio.timeout(WAIT):
        assert await order.wait_until_open() is OrderState.OPEN
    assert order.exchange_order_id == "101"
    assert order.time_in_force is TimeInForce.GTC and order.position_action is PositionAction.OPEN


async def test_same_tick_orders_arrive_as_one_batch(conn: FakeExchange) -> None:
    cids = [conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000 - i)) for i in range(50)]
    cids += [conn.sell(PAIR, D("0.01"), OrderType.LIMIT_MAKER, D(60000 + i)) for i in range(50)]
    async with asyncio.timeout(WAIT):
        for cid in cids:
            order = conn.get_order(cid)
            assert order is not None
            await order.wait_until_open()
    assert len(conn.batches) == 1
    assert [o.client_order_id for o in conn.batches[0]] == cids
    assert conn.batches[0][60].time_in_force is TimeInForce.ALO


async def test_journal_commit_happens_before_place_orders(conn: FakeExchange) -> None:
    journal = conn.journal
    assert journal is not None
    entered, gate = threading.Event(), threading.Event()
    write = journal._write_sync

    def held_write(batch: list[Any]) -> None:  # the disk write cannot finish until the test opens the gate
        entered.set()
        gate.wait(WAIT)
        write(batch)

    journal._write_sync = held_write  # type: ignore[method-assign]
    cids = [conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)) for _ in range(3)]
    assert await asyncio.to_thread(entered.wait, WAIT)
    for _ in range(5):  # give a flush that did not wait for the commit every chance to send now
        await asyncio.sleep(0)
    assert conn.batches == []
    gate.set()
    async with asyncio.timeout(WAIT):
        await conn.sent.wait()
    assert set(cids) <= conn.journaled_at_send[0]


async def test_prices_and_sizes_are_quantized_in_the_safe_direction(conn: FakeExchange) -> None:
    buy = conn.get_order(conn.buy(PAIR, D("0.0129"), OrderType.LIMIT, D("50000.55")))
    sell = conn.get_order(conn.sell(PAIR, D("0.0129"), OrderType.LIMIT, D("50000.55")))
    assert buy is not None and sell is not None
    assert (buy.price, buy.amount) == (D(50000), D("0.012"))
    assert (sell.price, sell.amount) == (D(50001), D("0.012"))


async def test_market_order_takes_its_price_from_the_subclass(conn: FakeExchange) -> None:
    order = conn.get_order(conn.buy(PAIR, D("0.01"), OrderType.MARKET))
    assert order is not None
    assert order.price == D(52500)  # 52500.5775 rounded down for a buy
    assert order.time_in_force is TimeInForce.IOC


async def test_exchange_rejection_fails_the_whole_batch_with_its_reason(
    conn: FakeExchange, events: Recorder
) -> None:
    def reject(orders: Sequence[InFlightOrder]) -> list[OrderUpdate]:
        raise ExchangeRejection("Insufficient margin to place order.")

    conn.place = reject
    cids = [conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)) for _ in range(2)]
    await events.wait_for(lambda: len(events.failed) == 2)
    for cid in cids:
        order = conn.get_order(cid)
        assert order is not None and order.current_state is OrderState.FAILED
        assert order.reason == "Insufficient margin to place order."
    assert {e.client_order_id for e in events.failed} == set(cids)


async def test_per_order_failure_updates_are_applied_one_by_one(conn: FakeExchange, events: Recorder) -> None:
    conn.place = lambda orders: [update(orders[0], OrderState.OPEN, exchange_order_id="7"),
                                 update(orders[1], OrderState.FAILED, reason="Post only order would have "
                                        "immediately matched")]
    ok = conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000))
    bad = conn.buy(PAIR, D("0.01"), OrderType.LIMIT_MAKER, D(50000))
    await events.wait_for(lambda: len(events.failed) == 1 and len(events.created) == 1)
    assert events.created[0].client_order_id == ok
    assert events.failed[0].client_order_id == bad and "Post only" in events.failed[0].reason


async def test_transport_error_leaves_orders_unknown_then_reconciliation_decides(
    conn: FakeExchange, events: Recorder
) -> None:
    def lost(orders: Sequence[InFlightOrder]) -> list[OrderUpdate]:
        raise TransportError("connection reset after the request left")

    conn.place = lost
    reached = conn.get_order(conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)))
    never = conn.get_order(conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(49000)))
    assert reached is not None and never is not None
    async with asyncio.timeout(WAIT):
        await conn.sent.wait()  # the send task raised and marked both right after setting it
    assert reached.current_state is OrderState.PENDING_SUBMIT_UNKNOWN
    assert never.current_state is OrderState.PENDING_SUBMIT_UNKNOWN
    conn.statuses[reached.client_order_id] = update(reached, OrderState.OPEN, exchange_order_id="55")
    for _ in range(3):  # lost_order_limit defaults to 3
        await conn.reconcile_now()
    assert state_of(reached) is OrderState.OPEN and reached.exchange_order_id == "55"
    assert state_of(never) is OrderState.FAILED
    assert never.reason is not None and "lost" in never.reason
    assert [e.client_order_id for e in events.failed] == [never.client_order_id]


async def test_invalid_input_fails_the_order_and_sends_nothing(conn: FakeExchange, events: Recorder) -> None:
    bad_calls: list[Callable[[], str]] = [
        lambda: conn.buy("NOPE-USD", D("0.01"), OrderType.LIMIT, D(50000)),
        lambda: conn.buy(PAIR, D(0), OrderType.LIMIT, D(50000)),
        lambda: conn.buy(PAIR, D("-1"), OrderType.LIMIT, D(50000)),
        lambda: conn.buy(PAIR, D("NaN"), OrderType.LIMIT, D(50000)),
        lambda: conn.buy(PAIR, D("Infinity"), OrderType.LIMIT, D(50000)),
        lambda: conn.buy(PAIR, D("0.0001"), OrderType.LIMIT, D(50000)),  # below min size
        lambda: conn.buy(PAIR, D("0.001"), OrderType.LIMIT, D(5000)),  # notional 5 < 10
        lambda: conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(0)),
        lambda: conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(-5)),
        lambda: conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D("NaN")),
        lambda: conn.buy(PAIR, D("0.01"), OrderType.LIMIT, None),
        lambda: conn.buy(PAIR, 0.01, OrderType.LIMIT, D(50000)),  # type: ignore[arg-type]
        lambda: conn.buy(PAIR, D("0.01"), OrderType.LIMIT, "50000"),  # type: ignore[arg-type]
        lambda: conn.buy(PAIR, D("0.01"), "LIMIT", D(50000)),  # type: ignore[arg-type]
        lambda: conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000), leverage=100),
        lambda: conn.sell(PAIR, D("0.01"), OrderType.LIMIT, D(50000), position_action="CLOSE"),
    ]
    cids = [call() for call in bad_calls]
    assert len(set(cids)) == len(cids)
    for cid in cids:
        order = conn.get_order(cid)
        assert order is not None and order.current_state is OrderState.FAILED and order.reason
    await events.wait_for(lambda: len(events.failed) == len(cids))
    assert [e.client_order_id for e in events.failed] == cids
    assert all(e.reason for e in events.failed)
    assert conn.batches == []
    assert not set(cids) & {o.client_order_id for o in conn.journal.iter_orders()}  # type: ignore[union-attr]


async def test_calls_before_start_and_after_stop_fail_without_sending(tmp_path: Path) -> None:
    connector = FakeExchange(tmp_path / "j.db")
    recorder = Recorder()
    connector.add_listener(recorder)
    early = connector.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000))
    await connector.start()
    await connector.stop()
    late = connector.sell(PAIR, D("0.01"), OrderType.LIMIT, D(50000))
    await recorder.wait_for(lambda: len(recorder.failed) == 2)
    assert [e.reason for e in recorder.failed] == ["connector is not started", "connector is stopped"]
    assert {e.client_order_id for e in recorder.failed} == {early, late}
    assert connector.batches == []


async def test_cancel_of_an_open_order(conn: FakeExchange, events: Recorder) -> None:
    order = conn.get_order(conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)))
    assert order is not None
    async with asyncio.timeout(WAIT):
        await order.wait_until_open()
    conn.cancel(PAIR, order.client_order_id)
    assert order.current_state is OrderState.PENDING_CANCEL
    async with asyncio.timeout(WAIT):
        assert await order.wait_until_done() is OrderState.CANCELED
    assert [e.client_order_id for e in events.cancelled] == [order.client_order_id]
    assert conn.cancel_batches == [[order]]


async def test_refused_cancel_restores_the_order_and_asks_the_exchange(conn: FakeExchange) -> None:
    order = conn.get_order(conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)))
    assert order is not None
    async with asyncio.timeout(WAIT):
        await order.wait_until_open()
    conn.cancel_answer = "Order was never placed, already canceled, or filled."
    conn.statuses[order.client_order_id] = update(order, OrderState.FILLED)
    conn.cancel(PAIR, order.client_order_id)
    async with asyncio.timeout(WAIT):
        assert await order.wait_until_done() is OrderState.FILLED
    assert conn.status_requests == [order.client_order_id]


async def test_cancel_before_the_flush_never_sends_the_order(conn: FakeExchange, events: Recorder) -> None:
    cid = conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000))
    conn.cancel(PAIR, cid)
    order = conn.get_order(cid)
    assert order is not None and order.current_state is OrderState.CANCELED
    await events.wait_for(lambda: len(events.cancelled) == 1)
    other = conn.get_order(conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)))
    assert other is not None
    async with asyncio.timeout(WAIT):
        await other.wait_until_open()
    assert [o.client_order_id for batch in conn.batches for o in batch] == [other.client_order_id]


async def test_cancel_during_submission_is_sent_once_the_order_is_confirmed(conn: FakeExchange) -> None:
    conn.gate = asyncio.Event()
    order = conn.get_order(conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)))
    assert order is not None
    async with asyncio.timeout(WAIT):
        await conn.sent.wait()
    conn.cancel(PAIR, order.client_order_id)
    assert order.current_state is OrderState.PENDING_CREATE and order.cancel_requested
    conn.gate.set()
    async with asyncio.timeout(WAIT):
        assert await order.wait_until_done() is OrderState.CANCELED
    assert conn.cancel_batches == [[order]]


async def test_cancel_all_cancels_every_open_order(conn: FakeExchange) -> None:
    cids = [conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(40000 + i)) for i in range(20)]
    async with asyncio.timeout(WAIT):
        for cid in cids:
            await conn.get_order(cid).wait_until_open()  # type: ignore[union-attr]
    results = await conn.cancel_all(timeout=WAIT)
    assert sorted(r.client_order_id for r in results) == sorted(cids)
    assert all(r.success for r in results)
    assert conn.open_orders == []
    assert len(conn.cancel_batches) == 1 and len(conn.cancel_batches[0]) == 20


async def test_cancel_all_reports_orders_that_did_not_end_in_time(conn: FakeExchange) -> None:
    conn.gate = asyncio.Event()  # the submission never answers
    cid = conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000))
    async with asyncio.timeout(WAIT):
        await conn.sent.wait()
    results = await conn.cancel_all(timeout=0.01)
    assert [(r.client_order_id, r.success) for r in results] == [(cid, False)]
    assert results[0].reason is not None and "PENDING_CREATE" in results[0].reason
    conn.gate.set()


async def test_listener_that_raises_never_breaks_the_connector(conn: FakeExchange, events: Recorder) -> None:
    class Broken(EventListener):
        def on_order_created(self, event: OrderCreatedEvent) -> None:
            raise RuntimeError("strategy bug")

    conn.add_listener(Broken())
    conn.add_listener(events)  # re-add: now after the broken one
    first = conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000))
    await events.wait_for(lambda: len(events.created) == 1)
    second = conn.get_order(conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)))
    assert second is not None
    async with asyncio.timeout(WAIT):
        await second.wait_until_open()
    assert [e.client_order_id for e in events.created] == [first, second.client_order_id]


async def test_stale_open_orders_are_checked_and_lost_ones_failed(tmp_path: Path) -> None:
    now = [1000.0]
    connector = FakeExchange(None, stale_order_after=30.0, lost_order_limit=2, clock=lambda: now[0])
    await connector.start()
    try:
        order = connector.get_order(connector.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)))
        assert order is not None
        async with asyncio.timeout(WAIT):
            await order.wait_until_open()
        await connector.reconcile_now()
        assert connector.status_requests == []  # fresh: not checked
        now[0] += 31
        connector.statuses[order.client_order_id] = update(order, OrderState.OPEN)
        await connector.reconcile_now()
        assert connector.status_requests == [order.client_order_id]
        await connector.reconcile_now()  # confirmed unchanged: fresh again
        assert len(connector.status_requests) == 1
        now[0] += 31
        connector.statuses[order.client_order_id] = None
        await connector.reconcile_now()
        now[0] += 31
        await connector.reconcile_now()
        assert order.current_state is OrderState.FAILED
        assert order.reason is not None and "lost" in order.reason
    finally:
        await connector.stop()


async def test_restart_restores_unfinished_orders_and_reconciles_them_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    first = FakeExchange(path)
    await first.start()
    resting = first.get_order(first.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)))
    done = first.get_order(first.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)))
    assert resting is not None and done is not None
    async with asyncio.timeout(WAIT):
        await resting.wait_until_open()
    first.cancel(PAIR, done.client_order_id)
    async with asyncio.timeout(WAIT):
        await done.wait_until_done()
    await first.stop()

    # An order journaled right before a crash, never answered.
    journal = OrderJournal(path)
    crashed = InFlightOrder(client_order_id="crashed-1", trading_pair=PAIR, trade_type=TradeType.SELL,
                            order_type=OrderType.LIMIT, amount=D("0.02"), price=D(60000), creation_timestamp=2.0)
    async with journal:
        journal.record_order(crashed)
        await journal.commit()

    second = FakeExchange(path)
    second.statuses[resting.client_order_id] = update(resting, OrderState.FILLED)
    await second.start()
    await second.wait_ready(timeout=WAIT)
    await second.wait_recovered(timeout=WAIT)
    try:
        assert second.get_order(done.client_order_id) is None  # final orders are not reloaded
        restored = second.get_order(resting.client_order_id)
        assert restored is not None and restored.current_state is OrderState.FILLED
        assert restored.exchange_order_id == resting.exchange_order_id
        lost = second.get_order("crashed-1")
        assert lost is not None and lost.current_state is OrderState.FAILED
        assert second.status_requests.count("crashed-1") == 3  # rechecked up to the lost-order limit
        assert second.batches == []  # nothing is ever re-sent
    finally:
        await second.stop()


async def test_memory_only_connector_works_without_a_journal() -> None:
    connector = FakeExchange(None)
    await connector.start()
    try:
        assert connector.journal is None
        order = connector.get_order(connector.sell(PAIR, D("0.01"), OrderType.LIMIT, D(60000)))
        assert order is not None
        async with asyncio.timeout(WAIT):
            await order.wait_until_open()
    finally:
        await connector.stop()


async def test_perpetual_account_state_defaults(conn: FakeExchange) -> None:
    assert conn.get_balance("USDC") == 0 and conn.get_available_balance("USDC") == 0
    assert conn.account_positions == {} and conn.get_funding_info(PAIR) is None
    assert conn.trading_rules[PAIR] is RULE and conn.ready


async def test_orders_are_not_sent_when_the_journal_cannot_record_them(
    conn: FakeExchange, events: Recorder
) -> None:
    assert conn.journal is not None
    with sqlite3.connect(conn.journal.path) as other:
        other.execute("DROP TABLE orders")
    cid = conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000))
    await events.wait_for(lambda: len(events.failed) == 1)
    assert events.failed[0].client_order_id == cid and "not sent" in events.failed[0].reason
    assert conn.batches == []


async def test_cancel_lost_in_transport_is_sent_again_once_the_order_is_seen_resting(conn: FakeExchange) -> None:
    order = conn.get_order(conn.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)))
    assert order is not None
    async with asyncio.timeout(WAIT):
        await order.wait_until_open()
    attempts: list[int] = []
    original = conn._place_cancels

    async def flaky(orders: Sequence[InFlightOrder]) -> Sequence[bool | str]:
        attempts.append(len(orders))
        if len(attempts) == 1:
            raise TransportError("reset while cancelling")
        return await original(orders)

    conn._place_cancels = flaky  # type: ignore[method-assign]
    conn.statuses[order.client_order_id] = update(order, OrderState.OPEN)
    conn.cancel(PAIR, order.client_order_id)
    async with asyncio.timeout(WAIT):
        assert await order.wait_until_done() is OrderState.CANCELED
    assert attempts == [1, 1]
    assert conn.status_requests == [order.client_order_id]


async def test_stop_fails_orders_that_were_never_sent(tmp_path: Path) -> None:
    connector = FakeExchange(tmp_path / "orders.db")
    await connector.start()
    cids = [connector.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)) for _ in range(3)]
    await connector.stop()
    for cid in cids:
        order = connector.get_order(cid)
        assert order is not None and order.current_state is OrderState.FAILED
        assert order.reason == "connector stopped before the order was sent"
    assert connector.batches == []
    stored = {o.client_order_id: o.current_state for o in OrderJournal(tmp_path / "orders.db").iter_orders()}
    assert all(stored[cid] is OrderState.FAILED for cid in cids)


async def test_stop_leaves_no_task_behind(tmp_path: Path) -> None:
    connector = FakeExchange(tmp_path / "orders.db")
    await connector.start()
    order = connector.get_order(connector.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)))
    assert order is not None
    async with asyncio.timeout(WAIT):
        await order.wait_until_open()
    connector.cancel(PAIR, order.client_order_id)
    assert any(t.get_name().startswith("connector.fake.") for t in asyncio.all_tasks())
    await connector.stop()
    assert [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("connector.fake.")] == []
    assert connector.journal is not None and not connector.journal.is_open


async def test_task_owner_logs_a_failed_task_and_stops_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    owner = TaskOwner("unit", logging.getLogger("wingbeat.test.tasks"))

    async def boom() -> None:
        raise RuntimeError("background bug")

    failed = owner.create_task(boom(), name="boom")
    forever = owner.create_task(asyncio.Event().wait(), name="forever")
    assert forever.get_name() == "unit.forever"
    with caplog.at_level(logging.ERROR, logger="wingbeat.test.tasks"):
        await asyncio.wait([failed], timeout=WAIT)
    assert any("unit.boom failed" in r.getMessage() for r in caplog.records)
    assert owner.tasks == frozenset({forever})
    await owner.stop()
    assert forever.cancelled() and owner.tasks == frozenset()


async def test_perpetual_account_state_is_fed_by_the_subclass(conn: FakeExchange) -> None:
    long = Position(trading_pair=PAIR, position_side=PositionSide.LONG, amount=D("0.5"), entry_price=D(50000),
                    unrealized_pnl=D(12), leverage=10)
    flat = Position(trading_pair="ETH-USD", position_side=PositionSide.BOTH, amount=D(0), entry_price=D(0),
                    unrealized_pnl=D(0), leverage=1)
    conn._set_positions({PAIR: long, "ETH-USD": flat})
    conn._set_balance("USDC", D(1000), D(750))
    conn._set_funding_info(FundingInfo(trading_pair=PAIR, index_price=D(50010), mark_price=D(50005),
                                       next_funding_utc_timestamp=3600.0, rate=D("0.0000125")))
    assert conn.account_positions == {PAIR: long}  # flat positions are dropped
    assert long.notional == D(25000)
    assert (conn.get_balance("USDC"), conn.get_available_balance("USDC")) == (D(1000), D(750))
    funding = conn.get_funding_info(PAIR)
    assert funding is not None and funding.rate == D("0.0000125")


async def test_reconciliation_loop_resolves_an_unknown_submission_on_its_own() -> None:
    connector = FakeExchange(None, reconcile_interval=0.01)

    def lost(orders: Sequence[InFlightOrder]) -> list[OrderUpdate]:
        raise TransportError("answer lost")

    connector.place = lost
    await connector.start()
    try:
        order = connector.get_order(connector.buy(PAIR, D("0.01"), OrderType.LIMIT, D(50000)))
        assert order is not None
        connector.statuses[order.client_order_id] = update(order, OrderState.OPEN, exchange_order_id="9")
        async with asyncio.timeout(WAIT):
            assert await order.wait_until_open() is OrderState.OPEN
        assert order.exchange_order_id == "9" and connector.status_requests
    finally:
        await connector.stop()
