"""ConnectorBase.modify(): validation, one batch per tick, journal first, and the cancel-replace races.

An in-test exchange double stands in for the venue (this layer has no network) and behaves as Hyperliquid
does on a modify: the old order is cancelled, the replacement rests the size asked for under a new exchange
order id. Everything of ours runs for real: tracker, journal on a SQLite file, publisher, flush and
reconciliation.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from wingbeat.core import (
    EventListener,
    ExchangeRejection,
    InvalidOrderError,
    NotReadyError,
    OrderModifiedEvent,
    OrderModifyFailedEvent,
    OrderState,
    OrderType,
    OrderUpdate,
    TimeInForce,
    TradeType,
    TradeUpdate,
    TradingRule,
    TransportError,
)
from wingbeat.core.connector_base import ConnectorBase
from wingbeat.core.in_flight_order import InFlightOrder

D = Decimal
PAIR = "BTC-USD"
RULE = TradingRule(
    trading_pair=PAIR,
    min_order_size=D("0.001"),
    size_increment=D("0.001"),
    max_price_significant_figures=5,
    max_price_decimals=1,
    integer_price_always_valid=True,
    min_notional=D(10),
)
WAIT = 5.0


class Venue(ConnectorBase):
    """Exchange double: orders rest with oids 100, 101, ...; a modify answers a new oid (or ``modify_answer``)."""

    name = "modvenue"

    def __init__(self, journal_path: Path | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("reconcile_interval", 3600.0)
        super().__init__(trading_pairs=[PAIR], journal_path=journal_path, status_retry_delay=0, **kwargs)
        self.next_oid = 100
        self.modify_batches: list[list[tuple[str, Decimal, Decimal, Decimal]]] = []
        self.journaled_at_modify: list[list[tuple[Any, ...]]] = []
        self.modify_answer: Callable[[InFlightOrder], OrderUpdate | str] | None = None
        self.modify_raises: BaseException | None = None
        self.statuses: dict[str, OrderUpdate | None] = {}
        self.status_requests: list[str] = []
        self.undecided_for = 30.0
        self.modify_sent = asyncio.Event()

    def oid(self) -> str:
        self.next_oid += 1
        return str(self.next_oid)

    async def _update_trading_rules(self) -> Mapping[str, TradingRule]:
        return {PAIR: RULE}

    async def _place_orders(self, orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate]:
        return [update(o, OrderState.OPEN, exchange_order_id=self.oid()) for o in orders]

    async def _place_cancels(self, orders: Sequence[InFlightOrder]) -> Sequence[bool | str]:
        return [True] * len(orders)

    async def _place_modifies(self, orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate | str]:
        batch = []
        for o in orders:
            assert o.modification is not None
            batch.append(
                (o.client_order_id, o.modification.price, o.modification.amount, o.modification.remainder)
            )
        self.modify_batches.append(batch)
        self.modify_sent.set()
        if self.journal is not None:
            with sqlite3.connect(self.journal.path) as db:  # what would survive a crash right now
                self.journaled_at_modify.append(
                    db.execute(
                        "SELECT client_order_id, modify_price, modify_amount FROM orders"
                        " WHERE modify_price IS NOT NULL"
                    ).fetchall()
                )
        if self.modify_raises is not None:
            raise self.modify_raises
        answer = self.modify_answer
        return [
            answer(o) if answer is not None else update(o, OrderState.OPEN, exchange_order_id=self.oid())
            for o in orders
        ]

    async def _request_order_status(self, order: InFlightOrder) -> OrderUpdate | None:
        self.status_requests.append(order.client_order_id)
        return self.statuses.get(order.client_order_id)

    def _modify_undecided_for(self) -> float:
        return self.undecided_for


def update(order: InFlightOrder, state: OrderState, **kwargs: Any) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=order.client_order_id,
        trading_pair=order.trading_pair,
        update_timestamp=1.0,
        new_state=state,
        **kwargs,
    )


def fill(order: InFlightOrder, trade_id: str, amount: str, oid: str | None) -> TradeUpdate:
    return TradeUpdate(
        trade_id=trade_id,
        client_order_id=order.client_order_id,
        exchange_order_id=oid,
        trading_pair=PAIR,
        fill_timestamp=2.0,
        fill_price=order.price,
        fill_base_amount=D(amount),
        fill_quote_amount=D(amount) * order.price,
        fee_asset="USD",
        fee_amount=D(0),
        is_taker=False,
    )


class Events(EventListener):
    def __init__(self) -> None:
        self.modified: list[OrderModifiedEvent] = []
        self.modify_failed: list[OrderModifyFailedEvent] = []
        self.cancelled: list[str] = []
        self.changed = asyncio.Event()

    def on_order_modified(self, event: OrderModifiedEvent) -> None:
        self.modified.append(event)
        self.changed.set()

    def on_order_modify_failed(self, event: OrderModifyFailedEvent) -> None:
        self.modify_failed.append(event)
        self.changed.set()

    def on_order_cancelled(self, event: Any) -> None:
        self.cancelled.append(event.client_order_id)
        self.changed.set()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def venue(tmp_path: Path) -> AsyncIterator[Venue]:
    connector = Venue(tmp_path / "orders.db")
    await connector.start()
    yield connector
    await connector.stop()


@pytest.fixture
def events(venue: Venue) -> Events:
    recorder = Events()
    venue.add_listener(recorder)
    return recorder


async def resting(
    venue: Venue, price: str = "50000", amount: str = "0.01", side: TradeType = TradeType.BUY
) -> InFlightOrder:
    cid = venue.place_order(side, PAIR, D(amount), OrderType.LIMIT, D(price))
    order = venue.get_order(cid)
    assert order is not None
    async with asyncio.timeout(WAIT):
        await order.wait_until_open()
    return order


async def test_modifies_of_one_tick_go_out_as_one_batch_with_new_oids(venue: Venue, events: Events) -> None:
    orders = [await resting(venue, str(50000 - i)) for i in range(5)]
    old_oids = [o.exchange_order_id for o in orders]
    for i, order in enumerate(orders):
        assert venue.modify(order.client_order_id, price=D(49000 - i)) == order.client_order_id
    assert venue.modify_batches == []  # nothing sent synchronously
    await events.wait_for(lambda: len(events.modified) == 5)
    assert len(venue.modify_batches) == 1
    assert [b[0] for b in venue.modify_batches[0]] == [o.client_order_id for o in orders]
    for i, order in enumerate(orders):
        assert order.price == D(49000 - i) and order.amount == D("0.01")
        assert order.exchange_order_id not in old_oids and order.retired_exchange_order_ids == (old_oids[i],)
        # the same order under both ids: late news of the old one still finds it
        assert venue.order_tracker.get_order_by_exchange_id(old_oids[i] or "") is order
        assert venue.order_tracker.get_order_by_exchange_id(order.exchange_order_id or "") is order
    event = events.modified[0]
    assert (event.previous_price, event.price, event.previous_exchange_order_id) == (
        D(50000),
        D(49000),
        old_oids[0],
    )


async def test_the_journal_holds_the_requested_modify_before_it_is_sent(venue: Venue, events: Events) -> None:
    order = await resting(venue)
    venue.modify(order.client_order_id, price=D(49500), amount=D("0.02"))
    await events.wait_for(lambda: len(events.modified) == 1)
    assert venue.journaled_at_modify == [[(order.client_order_id, "49500", "0.020")]]


async def test_values_are_quantized_like_a_new_order(venue: Venue, events: Events) -> None:
    buy = await resting(venue)
    sell = await resting(venue, "60000", side=TradeType.SELL)
    venue.modify(buy.client_order_id, price=D("49999.97"), amount=D("0.0209"))
    venue.modify(sell.client_order_id, price=D("60000.01"))
    await events.wait_for(lambda: len(events.modified) == 2)
    assert (buy.price, buy.amount) == (D("49999"), D("0.020"))  # 5 significant figures: buy down, size down
    assert sell.price == D("60001")  # sell up


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs a new price"),
        ({"price": 50000.0}, "price must be a Decimal"),
        ({"price": D(-1)}, "price must be a positive number"),
        ({"amount": D("NaN")}, "amount must be a positive number"),
        ({"amount": True}, "amount must be a Decimal"),
        ({"amount": D("0.0001")}, "below the minimum"),
        ({"price": D("0.1")}, "notional"),
    ],
)
async def test_bad_values_raise_and_send_nothing(venue: Venue, kwargs: dict[str, Any], message: str) -> None:
    order = await resting(venue)
    with pytest.raises(InvalidOrderError, match=message):
        venue.modify(order.client_order_id, **kwargs)
    await asyncio.sleep(0)
    assert venue.modify_batches == [] and order.modification is None and order.price == D(50000)


async def test_unknown_final_and_ioc_orders_cannot_be_modified(venue: Venue, events: Events) -> None:
    with pytest.raises(InvalidOrderError, match="unknown order"):
        venue.modify("nope", price=D(1))
    with pytest.raises(InvalidOrderError, match="must be a str"):
        venue.modify(5, price=D(1))  # type: ignore[arg-type]
    order = await resting(venue)
    venue.cancel(PAIR, order.client_order_id)
    with pytest.raises(InvalidOrderError, match="being cancelled"):
        venue.modify(order.client_order_id, price=D(49000))
    await events.wait_for(lambda: order.client_order_id in events.cancelled)
    with pytest.raises(InvalidOrderError, match="CANCELED: a final order"):
        venue.modify(order.client_order_id, price=D(49000))
    cid = venue.place_order(
        TradeType.BUY, PAIR, D("0.01"), OrderType.LIMIT, D(50000), time_in_force=TimeInForce.IOC
    )
    with pytest.raises(InvalidOrderError, match="immediate-or-cancel"):
        venue.modify(cid, price=D(49000))
    assert venue.modify_batches == []


async def test_amount_must_stay_above_what_is_executed(venue: Venue, events: Events) -> None:
    order = await resting(venue, amount="0.02")
    venue.order_tracker.process_trade_update(fill(order, "t1", "0.01", order.exchange_order_id))
    with pytest.raises(InvalidOrderError, match=r"not above the 0\.01 already executed"):
        venue.modify(order.client_order_id, amount=D("0.01"))
    venue.modify(order.client_order_id, amount=D("0.03"))
    await events.wait_for(lambda: len(events.modified) == 1)
    assert venue.modify_batches[0][0][3] == D("0.02")  # the venue rests the remainder
    assert order.amount == D("0.03") and order.current_state is OrderState.PARTIALLY_FILLED


async def test_a_second_modify_in_one_tick_replaces_the_first_and_one_in_flight_is_refused(
    venue: Venue, events: Events
) -> None:
    order = await resting(venue)
    gate = asyncio.Event()
    answer_after_gate: list[OrderUpdate | str] = []

    async def held(orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate | str]:
        venue.modify_sent.set()
        await gate.wait()
        return answer_after_gate

    venue.modify(order.client_order_id, price=D(49000))
    venue.modify(order.client_order_id, price=D(48000))  # same tick: the latest wins, one request
    venue._place_modifies = held  # type: ignore[method-assign]
    answer_after_gate.append(update(order, OrderState.OPEN, exchange_order_id="999"))
    async with asyncio.timeout(WAIT):
        await venue.modify_sent.wait()
    with pytest.raises(InvalidOrderError, match="already in flight"):
        venue.modify(order.client_order_id, price=D(47000))
    gate.set()
    await events.wait_for(lambda: len(events.modified) == 1)
    assert order.price == D(48000) and order.exchange_order_id == "999"


async def test_an_unsent_order_is_changed_in_place(venue: Venue) -> None:
    cid = venue.place_order(TradeType.BUY, PAIR, D("0.01"), OrderType.LIMIT, D(50000))
    venue.modify(cid, price=D(49000), amount=D("0.02"))
    order = venue.get_order(cid)
    assert order is not None
    async with asyncio.timeout(WAIT):
        await order.wait_until_open()
    assert (order.price, order.amount) == (D(49000), D("0.02")) and venue.modify_batches == []


async def test_the_old_orders_cancellation_is_not_ours_and_its_late_fill_counts_on_top(
    venue: Venue, events: Events
) -> None:
    order = await resting(venue, amount="0.02")
    old = order.exchange_order_id
    venue.modify(order.client_order_id, price=D(49000))
    await events.wait_for(lambda: len(events.modified) == 1)
    tracker = venue.order_tracker
    # the stream's news of the replaced order: its cancellation, then a fill it made before the modify
    assert not tracker.process_order_update(update(order, OrderState.CANCELED, exchange_order_id=old))
    assert order.current_state is OrderState.OPEN and events.cancelled == []
    assert tracker.process_trade_update(fill(order, "late", "0.005", old))
    assert order.amount == D("0.025") and order.remaining_amount == D("0.02")  # the replacement rests 0.02
    assert tracker.process_trade_update(fill(order, "new", "0.02", order.exchange_order_id))
    assert order.current_state is OrderState.FILLED and order.executed_amount_base == D("0.025")


async def test_a_fill_racing_the_modify_counts_once_and_the_replacement_rests_on_top(
    venue: Venue, events: Events
) -> None:
    order = await resting(venue, amount="0.03")
    old = order.exchange_order_id
    gate, raced = asyncio.Event(), asyncio.Event()
    original = venue._place_modifies

    async def racing(orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate | str]:
        # the old order fills while the modify is on its way; then the venue applies it
        venue.order_tracker.process_trade_update(fill(order, "race", "0.01", old))
        raced.set()
        await gate.wait()
        return await original(orders)

    venue._place_modifies = racing  # type: ignore[method-assign]
    venue.modify(order.client_order_id, amount=D("0.02"))  # remainder asked: 0.02
    async with asyncio.timeout(WAIT):
        await raced.wait()
    venue.order_tracker.process_trade_update(fill(order, "race", "0.01", old))  # duplicate: counted once
    gate.set()
    await events.wait_for(lambda: len(events.modified) == 1)
    assert order.executed_amount_base == D("0.01") and order.amount == D("0.03")  # 0.01 filled + 0.02 resting


async def test_a_refused_modify_is_reported_and_the_order_checked(venue: Venue, events: Events) -> None:
    order = await resting(venue)
    venue.modify_answer = lambda o: "Cannot modify canceled or filled order."
    venue.statuses[order.client_order_id] = update(
        order, OrderState.FILLED, exchange_order_id=order.exchange_order_id, filled_amount=D("0.01")
    )
    venue.modify(order.client_order_id, price=D(49000))
    await events.wait_for(lambda: len(events.modify_failed) == 1)
    assert events.modify_failed[0].reason == "Cannot modify canceled or filled order."
    async with asyncio.timeout(WAIT):
        await order.wait_until_done()
    assert order.current_state is OrderState.FILLED and order.price == D(50000)  # as the venue says
    assert venue.status_requests == [order.client_order_id]


async def test_a_rejected_batch_leaves_every_order_as_it_was(venue: Venue, events: Events) -> None:
    orders = [await resting(venue), await resting(venue, "49990")]
    venue.modify_raises = ExchangeRejection("refused")
    for order in orders:
        venue.modify(order.client_order_id, price=D(45000))
    await events.wait_for(lambda: len(events.modify_failed) == 2)
    assert [o.price for o in orders] == [D(50000), D(49990)] and all(o.modification is None for o in orders)


async def test_a_lost_answer_is_decided_by_the_venue_status(venue: Venue, events: Events) -> None:
    applied, dropped = await resting(venue), await resting(venue, "49990")
    venue.modify_raises = TransportError("connection reset")
    venue.statuses[applied.client_order_id] = update(applied, OrderState.OPEN, exchange_order_id="777")
    venue.statuses[dropped.client_order_id] = update(
        dropped, OrderState.OPEN, exchange_order_id=dropped.exchange_order_id
    )
    venue.modify(applied.client_order_id, price=D(45000))
    venue.modify(dropped.client_order_id, price=D(45000))
    await events.wait_for(lambda: len(events.modified) == 1)
    assert applied.exchange_order_id == "777" and applied.price == D(45000)
    # the old order still stands, but the modify may yet arrive: undecided until its deadline
    assert dropped.modification is not None and dropped.price == D(49990)
    venue.undecided_for = 0.0
    assert dropped.modification.deadline is not None
    dropped.modification.deadline = 0.0
    await venue.reconcile_now()
    assert dropped.modification is None and dropped.price == D(49990)
    assert [e.client_order_id for e in events.modify_failed] == [dropped.client_order_id]


async def test_the_stream_showing_the_replacement_first_applies_the_modify(
    venue: Venue, events: Events
) -> None:
    order = await resting(venue)
    old = order.exchange_order_id
    gate = asyncio.Event()

    async def slow(orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate | str]:
        venue.modify_sent.set()
        await gate.wait()
        return [update(order, OrderState.OPEN, exchange_order_id="555")]

    venue._place_modifies = slow  # type: ignore[method-assign]
    venue.modify(order.client_order_id, price=D(49000))
    async with asyncio.timeout(WAIT):
        await venue.modify_sent.wait()
    tracker = venue.order_tracker
    assert not tracker.process_order_update(update(order, OrderState.CANCELED, exchange_order_id=old))
    tracker.process_order_update(update(order, OrderState.OPEN, exchange_order_id="555"))
    assert order.exchange_order_id == "555" and len(events.modified) == 1
    senders = [t for t in venue._tasks.tasks if t.get_name().endswith("modify-orders")]
    gate.set()
    async with asyncio.timeout(WAIT):
        await asyncio.gather(*senders)
    assert len(events.modified) == 1 and order.current_state is OrderState.OPEN


async def test_modify_needs_a_running_connector(tmp_path: Path) -> None:
    connector = Venue(tmp_path / "orders.db")
    with pytest.raises(NotReadyError):
        connector.modify("x", price=D(1))


async def test_a_modify_pending_at_a_crash_is_reconciled_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    first = Venue(path)
    await first.start()
    order = await resting(first)
    first.modify_raises = TransportError("killed mid-request")
    first.modify(order.client_order_id, price=D(48000), amount=D("0.02"))
    async with asyncio.timeout(WAIT):
        await first.modify_sent.wait()
    await first.stop()
    second = Venue(path)
    restored = Events()
    second.add_listener(restored)
    second.statuses[order.client_order_id] = update(order, OrderState.OPEN, exchange_order_id="4242")
    await second.start()
    await second.wait_recovered(timeout=WAIT)
    again = second.get_order(order.client_order_id)
    assert again is not None and again.modification is None
    assert (again.price, again.amount, again.exchange_order_id) == (D(48000), D("0.02"), "4242")
    assert again.retired_exchange_order_ids == (order.exchange_order_id,)
    assert [e.client_order_id for e in restored.modified] == [order.client_order_id]
    await second.stop()
    third = Venue(path)  # the applied modify is what the journal now says
    third.statuses[order.client_order_id] = update(order, OrderState.OPEN, exchange_order_id="4242")
    await third.start()
    latest = third.get_order(order.client_order_id)
    assert latest is not None and (latest.price, latest.exchange_order_id) == (D(48000), "4242")
    assert latest.modification is None and latest.retired_exchange_order_ids == (order.exchange_order_id,)
    await third.stop()
