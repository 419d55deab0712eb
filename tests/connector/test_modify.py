"""``modify()`` on Hyperliquid, end to end against the local exchange on loopback: ``batchModify`` by oid, the
client order id kept through the new oid, one action per tick, and the cancel-replace races."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hyperliquid.info import Info

from tests.conformance.recorder import assert_legal_order_events
from tests.conformance.suite import Session, wait_book
from tests.connector.harness import COIN, LocalExchangeHarness
from tests.connector.test_spot_connector import PURR, SpotSession, spot
from wingbeat.core.enums import OrderType, TradeType
from wingbeat.core.errors import InvalidOrderError
from wingbeat.core.events import (
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderFilledEvent,
    OrderModifiedEvent,
    OrderModifyFailedEvent,
)
from wingbeat.core.in_flight_order import InFlightOrder, OrderModification
from wingbeat.core.journal import OrderJournal
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.order_placement import order_grouping
from wingbeat.hyperliquid.wire import (
    Cloid,
    LimitType,
    OrderSpec,
    PriorityFee,
    Tif,
    TriggerType,
    order_wire,
    wired_order_action,
)
from wingbeat.sim.protocol.actions import ParsedAction
from wingbeat.sim.protocol.faults import FaultKind
from wingbeat.sim.venue.types import OrderRequest

__all__ = ["spot"]  # the fixture, re-exported for pytest

FAST = {"reconcile_interval": 0.1, "stale_order_after": 30.0}


def _bid(harness: LocalExchangeHarness, offset: int = 0) -> Decimal:
    return (harness.reference_price * Decimal("0.98")).quantize(Decimal(1)) - offset


def _venue_orders(harness: LocalExchangeHarness) -> dict[str, Any]:
    """Our resting orders on the venue, by cloid."""
    return {o.cloid: o for o in harness.exchange.engine.accounts[harness.user].open_orders.values()}


@contextlib.contextmanager
def _actions_received(harness: LocalExchangeHarness) -> Iterator[list[dict[str, Any]]]:
    """The signed actions the local exchange applies meanwhile, canonical (its recorder hook, as its state
    file uses it)."""
    received: list[dict[str, Any]] = []

    def record(parsed: ParsedAction) -> contextlib.AbstractContextManager[object]:
        received.append(parsed.canonical)
        return contextlib.nullcontext()

    processor = harness.exchange.actions
    assert processor.recorder is None
    processor.recorder = record
    try:
        yield received
    finally:
        processor.recorder = None


def _venue_filled(harness: LocalExchangeHarness, cid: str) -> Decimal:
    return sum((f.sz for f in harness.exchange.engine.accounts[harness.user].fills if f.cloid == cid), Decimal(0))


async def _rest(session: Session, harness: LocalExchangeHarness, offset: int = 0) -> tuple[str, InFlightOrder]:
    conn = session.connector
    cid = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness, offset))
    await session.recorder.wait_event(OrderCreatedEvent, cid)
    order = conn.get_order(cid)
    assert order is not None and order.exchange_order_id is not None
    return cid, order


async def test_price_amount_and_both_modified_in_one_tick_are_one_batch_modify_keeping_the_cloids(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn = session.connector
    assert isinstance(conn, HyperliquidPerpetualConnector)
    placed = [await _rest(session, harness, i) for i in range(3)]
    old_oids = [order.exchange_order_id for _, order in placed]
    size = harness.order_size
    wanted = [(_bid(harness, 10), size), (_bid(harness, 1), size * 2), (_bid(harness, 12), size * 3)]
    before = conn.actions_sent
    with _actions_received(harness) as received:
        conn.modify(placed[0][0], price=wanted[0][0])
        conn.modify(placed[1][0], amount=wanted[1][1])
        conn.modify(placed[2][0], price=wanted[2][0], amount=wanted[2][1])
        events = await session.recorder.wait_event(OrderModifiedEvent, count=3)
    assert conn.actions_sent - before == 1  # three modifies: one signed batchModify
    [action] = received
    assert action["type"] == "batchModify"
    assert [m["oid"] for m in action["modifies"]] == [int(oid) for oid in old_oids if oid is not None]  # by oid
    assert [m["order"]["c"] for m in action["modifies"]] == [cid for cid, _ in placed]  # the cloids kept
    venue = _venue_orders(harness)
    for (cid, order), old, (price, amount) in zip(placed, old_oids, wanted, strict=True):
        [event] = [e for e in events if e.client_order_id == cid]
        assert (event.price, event.amount, event.previous_exchange_order_id) == (price, amount, old)
        assert event.exchange_order_id != old and order.exchange_order_id == event.exchange_order_id
        assert (order.price, order.amount, order.current_state) == (price, amount, OrderState.OPEN)
        assert conn.get_order(cid) is order  # the same client order id, the venue's new oid adopted
        assert str(venue[cid].oid) == order.exchange_order_id
        assert (venue[cid].limit_px, venue[cid].sz) == (price, amount)
    assert len(venue) == 3  # replaced, not added
    # the official SDK sees the new prices and sizes under the same cloids
    info = await asyncio.to_thread(Info, harness.exchange.base_url, True)
    opens = await asyncio.to_thread(info.frontend_open_orders, harness.user)
    seen = {o["cloid"]: (Decimal(o["limitPx"]), Decimal(o["sz"]), str(o["oid"])) for o in opens}
    assert seen == {cid: (order.price, order.amount, order.exchange_order_id) for cid, order in placed}


async def test_fills_on_the_new_oid_complete_the_same_order(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn = session.connector
    cid, order = await _rest(session, harness)
    amount = harness.order_size * 2
    conn.modify(cid, amount=amount)
    [event] = await session.recorder.wait_event(OrderModifiedEvent, cid)
    await harness.take_liquidity(is_buy=False, price=order.price, size=amount)
    await session.recorder.wait_event(OrderCompletedEvent, cid)
    fills = session.recorder.of(OrderFilledEvent, cid)
    assert sum(f.amount for f in fills) == amount == order.executed_amount_base == _venue_filled(harness, cid)
    assert {f.exchange_order_id for f in fills} == {event.exchange_order_id}
    assert order.current_state is OrderState.FILLED
    assert_legal_order_events(session.recorder.for_order(cid), amount)


async def test_a_fill_of_the_old_oid_before_the_modify_counts_once_and_the_replacement_rests_on_top(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    s = await Session.open(lambda **kw: make_connector(**FAST, **kw))
    conn, faults = s.connector, harness.exchange.faults
    try:
        cid, order = await _rest(s, harness)
        half = harness.order_size / 2
        for channel in ("userFills", "user", "orderUpdates"):  # the connector does not hear of the fill
            faults.silence(channel)
        await harness.take_liquidity(is_buy=False, price=order.price, size=half)
        new_price = _bid(harness, 5)
        conn.modify(cid, price=new_price)  # asks the venue to rest the whole 0.002 again
        [event] = await s.recorder.wait_event(OrderModifiedEvent, cid)
        assert event.amount == harness.order_size and order.executed_amount_base == 0
        for channel in ("userFills", "user", "orderUpdates"):
            faults.silence(channel, False)
        faults.drop_websockets()  # the reconnect asks the venue and fetches the missed fill
        await s.recorder.wait_event(OrderFilledEvent, cid, timeout=10)
        assert order.executed_amount_base == half
        assert order.amount == half + harness.order_size  # the old order's fill, plus the replacement
        assert order.current_state is OrderState.PARTIALLY_FILLED
        await harness.take_liquidity(is_buy=False, price=new_price, size=harness.order_size)
        await s.recorder.wait_event(OrderCompletedEvent, cid)
        fills = s.recorder.of(OrderFilledEvent, cid)
        total = half + harness.order_size
        assert sum(f.amount for f in fills) == total == order.executed_amount_base == _venue_filled(harness, cid)
        assert len({f.trade_id for f in fills}) == len(fills) == 2  # each venue fill once
        assert not _venue_orders(harness)
    finally:
        await s.close()


async def test_a_modify_of_an_order_the_venue_filled_is_refused_with_its_text_and_the_order_ends_filled(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn, faults = session.connector, harness.exchange.faults
    cid, order = await _rest(session, harness)
    for channel in ("userFills", "user", "orderUpdates"):
        faults.silence(channel)
    await harness.take_liquidity(is_buy=False, price=order.price, size=harness.order_size)
    conn.modify(cid, price=_bid(harness, 7))
    [failed] = await session.recorder.wait_event(OrderModifyFailedEvent, cid)
    assert failed.reason == "Cannot modify canceled or filled order."
    for channel in ("userFills", "user", "orderUpdates"):
        faults.silence(channel, False)
    await session.recorder.wait_event(OrderCompletedEvent, cid, timeout=10)  # the check after the refusal
    assert order.current_state is OrderState.FILLED and order.price == _bid(harness)
    assert order.executed_amount_base == harness.order_size == _venue_filled(harness, cid)
    assert not session.recorder.of(OrderModifiedEvent, cid)


async def test_a_modify_of_an_order_cancelled_elsewhere_is_refused_and_the_order_ends_cancelled(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn, faults = session.connector, harness.exchange.faults
    cid, order = await _rest(session, harness)
    faults.silence("orderUpdates")
    harness.exchange.engine.cancel_by_cloid(harness.user, [(harness.exchange.engine.asset_index(COIN) or 0, cid)])
    conn.modify(cid, amount=harness.order_size * 2)
    [failed] = await session.recorder.wait_event(OrderModifyFailedEvent, cid)
    assert failed.reason == "Cannot modify canceled or filled order."
    faults.silence("orderUpdates", False)
    await asyncio.wait_for(order.wait_until_done(), 10)
    assert order.current_state is OrderState.CANCELED and order.amount == harness.order_size


async def test_invalid_modifies_raise_and_send_nothing(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn = session.connector
    assert isinstance(conn, HyperliquidPerpetualConnector)
    cid, order = await _rest(session, harness)
    before = conn.actions_sent
    for kwargs in ({"price": Decimal(-1)}, {"price": Decimal("NaN")}, {"amount": Decimal(0)},
                   {"amount": Decimal("0.00001")}, {}, {"price": 60000.0}):
        with pytest.raises(InvalidOrderError):
            conn.modify(cid, **kwargs)
    with pytest.raises(InvalidOrderError, match="unknown order"):
        conn.modify(Cloid.new().raw, price=_bid(harness))
    await asyncio.sleep(0)  # a flush would run now: nothing was queued
    assert conn.actions_sent == before and order.modification is None
    assert str(_venue_orders(harness)[cid].oid) == order.exchange_order_id


async def test_a_trigger_order_is_not_modified(session: Session, harness: LocalExchangeHarness) -> None:
    conn = session.connector
    assert isinstance(conn, HyperliquidPerpetualConnector)
    cid = conn.place_trigger_order(harness.trading_pair, TradeType.SELL, harness.order_size,
                                   _bid(harness, 100), tpsl="sl", reduce_only=False)
    await session.recorder.wait_event(OrderCreatedEvent, cid)
    with pytest.raises(InvalidOrderError, match="trigger order"):
        conn.modify(cid, price=_bid(harness, 200))


def test_the_priority_fee_grouping_is_chosen_only_for_batches_the_venue_takes_it_on() -> None:
    def spec(tif: Tif, reduce_only: bool = False) -> dict[str, Any]:
        return order_wire(OrderSpec(asset=0, is_buy=True, price=Decimal(100), size=Decimal(1),
                                    reduce_only=reduce_only, order_type=LimitType(tif)))

    assert order_grouping([spec("Ioc"), spec("Ioc", reduce_only=True)], 500) == PriorityFee(500)
    assert order_grouping([spec("Alo"), spec("Alo")], 500) == PriorityFee(500)
    assert wired_order_action([spec("Alo")], grouping=order_grouping([spec("Alo")], 500))["grouping"] == {"p": 500}
    trigger = order_wire(OrderSpec(asset=0, is_buy=True, price=Decimal(100), size=Decimal(1),
                                   order_type=TriggerType(trigger_px=Decimal(90), is_market=True, tpsl="sl")))
    assert order_grouping([trigger], 500) == "na"
    for batch in ([spec("Gtc")], [spec("Alo"), spec("Ioc")], [spec("Alo", reduce_only=True)]):
        assert order_grouping(batch, 500) == "na"
    assert order_grouping([spec("Ioc")], None) == "na"
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="priority_fee"):
            HyperliquidConfig(priority_fee=bad)  # type: ignore[arg-type]


async def test_a_priority_fee_rides_on_post_only_and_ioc_batches_and_never_on_others(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    config = HyperliquidConfig(order_validity=1.0, priority_fee=10_000)
    s = await Session.open(lambda **kw: make_connector(config=config, **kw))
    conn = s.connector
    try:
        ask = (harness.reference_price * Decimal("1.001")).quantize(Decimal(1))
        await harness.provide_liquidity(is_buy=False, price=ask, size=harness.order_size)
        await wait_book(conn, harness.trading_pair, lambda book: book.best_ask == ask)
        with _actions_received(harness) as received:
            maker = [conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT_MAKER, _bid(harness, i))
                     for i in range(2)]
            await s.recorder.wait_event(OrderCreatedEvent, count=2)
            plain = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness, 3))
            await s.recorder.wait_event(OrderCreatedEvent, plain)
            mixed = [conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT_MAKER, _bid(harness, 4)),
                     conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness, 5))]
            await s.recorder.wait_event(OrderCreatedEvent, count=5)
            taker = conn.buy(harness.trading_pair, harness.order_size, OrderType.MARKET)
            await s.recorder.wait_event(OrderCompletedEvent, taker)
        groupings = [(len(a["orders"]), a["grouping"]) for a in received if a["type"] == "order"]
        assert groupings == [(2, {"p": 10_000}), (1, "na"), (2, "na"), (1, {"p": 10_000})]
        for cid in (*maker, plain, *mixed):  # the venue took every batch (it refuses a fee where not allowed)
            order = conn.get_order(cid)
            assert order is not None and order.current_state is OrderState.OPEN, order
    finally:
        await s.close()


async def test_a_modify_in_flight_at_a_crash_is_resolved_from_the_journal_by_the_venues_status(
        make_connector: Any, harness: LocalExchangeHarness, tmp_path: Path) -> None:
    journal_path = tmp_path / "orders.db"
    engine = harness.exchange.engine
    asset = engine.asset_index(COIN)
    assert asset is not None
    cid, old_price, new_price = Cloid.new().raw, _bid(harness), _bid(harness, 9)
    request = OrderRequest(asset=asset, is_buy=True, price=old_price, size=harness.order_size, reduce_only=False,
                           tif="Gtc", cloid=cid)
    [placed] = engine.place_orders(harness.user, [request])
    old_oid = str(placed["resting"]["oid"])
    order = InFlightOrder(client_order_id=cid, trading_pair=harness.trading_pair, trade_type=TradeType.BUY,
                          order_type=OrderType.LIMIT, amount=harness.order_size, price=old_price,
                          creation_timestamp=time.time())
    order.exchange_order_id = old_oid
    order.current_state = OrderState.OPEN
    async with OrderJournal(journal_path) as journal:  # the crash came after the modify left, before its answer
        journal.record_order(order)
        journal.record_state(order)
        order.modification = OrderModification(price=new_price, amount=harness.order_size,
                                               remainder=harness.order_size, requested_at=time.time())
        journal.record_modify(order)
        await journal.commit()
    [replaced] = engine.batch_modify(harness.user, [(int(old_oid), OrderRequest(
        asset=asset, is_buy=True, price=new_price, size=harness.order_size, reduce_only=False, tif="Gtc",
        cloid=cid))])  # ...and the venue applied it
    new_oid = str(replaced["resting"]["oid"])
    s = await Session.open(lambda **kw: make_connector(**FAST, **kw), journal_path)
    try:
        [event] = await s.recorder.wait_event(OrderModifiedEvent, cid, timeout=10)
        assert (event.previous_exchange_order_id, event.exchange_order_id) == (old_oid, new_oid)
        restored = s.connector.get_order(cid)
        assert restored is not None and restored.modification is None
        assert (restored.price, restored.current_state) == (new_price, OrderState.OPEN)
        assert not s.recorder.of(OrderModifyFailedEvent, cid)
        await s.connector.wait_recovered(10)  # the venue showed it is no trigger order: it may be modified
        s.connector.modify(cid, price=old_price)
        await s.recorder.wait_event(OrderModifiedEvent, cid, count=2)
        assert _venue_orders(harness)[cid].limit_px == old_price
    finally:
        await s.close()


async def test_a_status_check_by_history_reads_the_replacement_not_the_oid_it_replaced(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    s = await Session.open(lambda **kw: make_connector(reconcile_interval=0.1, stale_order_after=1.0, **kw))
    conn, faults = s.connector, harness.exchange.faults
    assert isinstance(conn, HyperliquidPerpetualConnector)
    try:
        count = 36  # above what orderStatus one by one answers: frontendOpenOrders + one historicalOrders
        cids = [conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness, i))
                for i in range(count)]
        await s.recorder.wait_event(OrderCreatedEvent, count=count)
        for cid in cids:
            conn.modify(cid, price=_bid(harness, 50))  # every cloid now also names a canceled older oid
        await s.recorder.wait_event(OrderModifiedEvent, count=count)
        for channel in ("userFills", "user", "orderUpdates"):  # only the stale-order checks can tell
            faults.silence(channel)
        await harness.take_liquidity(is_buy=False, price=_bid(harness, 60), size=harness.order_size * count)
        await s.recorder.wait_event(OrderCompletedEvent, count=count, timeout=15)
        assert conn._status_checker.batched_checks > 0
        for cid in cids:
            order = conn.get_order(cid)
            assert order is not None and order.current_state is OrderState.FILLED
            assert order.executed_amount_base == harness.order_size == _venue_filled(harness, cid)
    finally:
        await s.close()


async def test_a_post_only_replacement_that_would_cross_ends_the_order_as_the_venue_does(
        session: Session, harness: LocalExchangeHarness) -> None:
    # the venue cancels the old order and refuses the post-only replacement: nothing rests, the order ends
    conn = session.connector
    ask = (harness.reference_price * Decimal("1.001")).quantize(Decimal(1))
    await harness.provide_liquidity(is_buy=False, price=ask, size=harness.order_size)
    cid = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT_MAKER, _bid(harness))
    await session.recorder.wait_event(OrderCreatedEvent, cid)
    order = conn.get_order(cid)
    assert order is not None
    conn.modify(cid, price=ask + 10)
    await asyncio.wait_for(order.wait_until_done(), 10)
    assert order.current_state is OrderState.CANCELED and not _venue_orders(harness)
    assert_legal_order_events(session.recorder.for_order(cid), harness.order_size)


async def test_a_modify_in_flight_at_a_crash_that_never_reached_the_venue_fails_after_its_deadline(
        make_connector: Any, harness: LocalExchangeHarness, tmp_path: Path) -> None:
    journal_path = tmp_path / "orders.db"
    engine = harness.exchange.engine
    asset = engine.asset_index(COIN)
    assert asset is not None
    cid, old_price = Cloid.new().raw, _bid(harness)
    [placed] = engine.place_orders(harness.user, [OrderRequest(
        asset=asset, is_buy=True, price=old_price, size=harness.order_size, reduce_only=False, tif="Gtc",
        cloid=cid)])
    order = InFlightOrder(client_order_id=cid, trading_pair=harness.trading_pair, trade_type=TradeType.BUY,
                          order_type=OrderType.LIMIT, amount=harness.order_size, price=old_price,
                          creation_timestamp=time.time())
    order.exchange_order_id = str(placed["resting"]["oid"])
    order.current_state = OrderState.OPEN
    async with OrderJournal(journal_path) as journal:  # journaled, then the process died before sending it
        journal.record_order(order)
        journal.record_state(order)
        order.modification = OrderModification(price=_bid(harness, 9), amount=harness.order_size * 2,
                                               remainder=harness.order_size * 2, requested_at=time.time())
        journal.record_modify(order)
        await journal.commit()
    s = await Session.open(lambda **kw: make_connector(**FAST, **kw), journal_path)
    try:
        [failed] = await s.recorder.wait_event(OrderModifyFailedEvent, cid, timeout=10)
        assert "deadline" in failed.reason
        restored = s.connector.get_order(cid)
        assert restored is not None and restored.modification is None
        assert (restored.price, restored.amount, restored.current_state) == (
            old_price, harness.order_size, OrderState.OPEN)
        assert restored.exchange_order_id == order.exchange_order_id
        assert not s.recorder.of(OrderModifiedEvent, cid)
    finally:
        await s.close()


async def test_a_spot_order_is_modified_through_the_same_batch_modify(spot: SpotSession) -> None:
    conn, recorder = spot.conn, spot.recorder
    cid = conn.buy(PURR, Decimal(100), OrderType.LIMIT, Decimal("0.19"))
    await recorder.wait_event(OrderCreatedEvent, cid)
    with pytest.raises(InvalidOrderError):  # 40 x 0.2 = 8 USDC: under the spot minimum of 10, nothing sent
        conn.modify(cid, price=Decimal("0.2"), amount=Decimal(40))
    conn.modify(cid, price=Decimal("0.18"), amount=Decimal(150))
    [event] = await recorder.wait_event(OrderModifiedEvent, cid)
    [venue] = spot.exchange.engine.accounts[spot.signer.address].open_orders.values()
    assert (venue.cloid, str(venue.oid)) == (cid, event.exchange_order_id)
    assert (venue.limit_px, venue.sz) == (Decimal("0.18"), Decimal(150))
    await conn._update_balances_and_positions()
    assert conn.get_available_balance("USDC") == Decimal(1000) - Decimal(27)  # the hold follows: 150 x 0.18


async def test_a_trigger_order_restored_from_the_journal_is_not_modified(
        make_connector: Any, harness: LocalExchangeHarness, tmp_path: Path) -> None:
    journal_path = tmp_path / "orders.db"
    first = await Session.open(make_connector, journal_path)
    try:
        conn = first.connector
        assert isinstance(conn, HyperliquidPerpetualConnector)
        stop = conn.place_trigger_order(harness.trading_pair, TradeType.SELL, harness.order_size,
                                        _bid(harness, 100), tpsl="sl", reduce_only=False)
        plain = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness))
        await first.recorder.wait_event(OrderCreatedEvent, count=2)
    finally:
        await first.close()  # both keep resting; the journal does not say which one is a trigger
    second = await Session.open(make_connector, journal_path)
    try:
        conn = second.connector
        await conn.wait_recovered(10)
        with pytest.raises(InvalidOrderError, match="trigger order"):
            conn.modify(stop, price=_bid(harness, 200))
        conn.modify(plain, price=_bid(harness, 3))
        await second.recorder.wait_event(OrderModifiedEvent, plain)
        venue = _venue_orders(harness)
        assert venue[stop].trigger is not None and venue[plain].limit_px == _bid(harness, 3)
    finally:
        await second.close()


@pytest.mark.parametrize("path", ["/exchange", "/ws"])
async def test_a_lost_batch_modify_answer_is_resolved_by_the_venues_status_and_never_resent(
        make_connector: Any, harness: LocalExchangeHarness, path: str) -> None:
    faults = harness.exchange.faults
    config = HyperliquidConfig(actions_over_websocket=path == "/ws", request_timeout=2.0, order_validity=1.0,
                               dead_man_switch=None)
    s = await Session.open(lambda **kw: make_connector(config=config, **FAST, **kw))
    try:
        conn = s.connector
        assert isinstance(conn, HyperliquidPerpetualConnector)
        cid, order = await _rest(s, harness)
        old_oid = order.exchange_order_id
        faults.add(FaultKind.LOSE_ANSWER, count=1, action="batchModify", path=path)
        faults.silence("orderUpdates")  # only the status check can tell
        before = conn.actions_sent
        conn.modify(cid, price=_bid(harness, 4))
        [event] = await s.recorder.wait_event(OrderModifiedEvent, cid, timeout=10)
        assert faults.counters.get(FaultKind.LOSE_ANSWER, 0) == 1
        assert conn.actions_sent - before == 1  # applied once, never resent
        assert event.previous_exchange_order_id == old_oid != order.exchange_order_id
        venue = _venue_orders(harness)
        assert len(venue) == 1 and str(venue[cid].oid) == order.exchange_order_id
        assert order.price == venue[cid].limit_px == _bid(harness, 4)
        assert not s.recorder.of(OrderModifyFailedEvent, cid)
    finally:
        await s.close()


async def test_a_batch_modify_dropped_before_the_venue_saw_it_fails_once_its_deadline_passed(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    faults = harness.exchange.faults
    config = HyperliquidConfig(actions_over_websocket=False, request_timeout=2.0, order_validity=1.0,
                               dead_man_switch=None)
    s = await Session.open(lambda **kw: make_connector(config=config, **FAST, **kw))
    try:
        conn = s.connector
        cid, order = await _rest(s, harness)
        old_oid, old_price = order.exchange_order_id, order.price
        faults.add(FaultKind.TIMEOUT, count=1, action="batchModify", path="/exchange")
        conn.modify(cid, price=_bid(harness, 4))
        [failed] = await s.recorder.wait_event(OrderModifyFailedEvent, cid, timeout=10)
        assert "deadline" in failed.reason and faults.counters.get(FaultKind.TIMEOUT, 0) == 1
        assert (order.exchange_order_id, order.price, order.current_state) == (old_oid, old_price, OrderState.OPEN)
        assert str(_venue_orders(harness)[cid].oid) == old_oid
        conn.modify(cid, price=_bid(harness, 4))  # decided: a new modify may go
        await s.recorder.wait_event(OrderModifiedEvent, cid)
        assert _venue_orders(harness)[cid].limit_px == _bid(harness, 4)
    finally:
        await s.close()


async def test_a_modify_across_the_book_fills_the_replacement_at_once(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn = session.connector
    cid, order = await _rest(session, harness)
    half = harness.order_size / 2
    await harness.take_liquidity(is_buy=False, price=order.price, size=half)  # the old oid fills half first
    await session.recorder.wait_event(OrderFilledEvent, cid)
    ask = (harness.reference_price * Decimal("1.001")).quantize(Decimal(1))
    await harness.provide_liquidity(is_buy=False, price=ask, size=harness.order_size)
    await wait_book(conn, harness.trading_pair, lambda book: book.best_ask == ask)
    conn.modify(cid, price=ask)  # the remainder crosses: taken at the ask
    [modified] = await session.recorder.wait_event(OrderModifiedEvent, cid)
    [completed] = await session.recorder.wait_event(OrderCompletedEvent, cid)
    fills = session.recorder.of(OrderFilledEvent, cid)
    assert [(f.price, f.amount, f.is_taker) for f in fills] == [(_bid(harness), half, False), (ask, half, True)]
    assert completed.executed_amount_base == harness.order_size == order.amount == _venue_filled(harness, cid)
    assert {f.exchange_order_id for f in fills} == {modified.previous_exchange_order_id, modified.exchange_order_id}
    assert order.current_state is OrderState.FILLED and not _venue_orders(harness)
    assert_legal_order_events(session.recorder.for_order(cid), harness.order_size)


async def test_a_cancel_in_the_same_tick_as_a_modify_wins_and_the_modify_is_not_sent(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn = session.connector
    cid, order = await _rest(session, harness)
    with _actions_received(harness) as received:
        conn.modify(cid, price=_bid(harness, 6))
        conn.cancel(harness.trading_pair, cid)
        await asyncio.wait_for(order.wait_until_done(), 10)
    assert order.current_state is OrderState.CANCELED and order.modification is None
    [failed] = session.recorder.of(OrderModifyFailedEvent, cid)
    assert "not sent" in failed.reason and [a["type"] for a in received] == ["cancelByCloid"]
    assert not _venue_orders(harness)
    assert_legal_order_events(session.recorder.for_order(cid), harness.order_size)


async def test_a_cancel_sent_while_the_modify_is_in_flight_cancels_the_replacement(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn = session.connector
    cid, order = await _rest(session, harness)
    processor = harness.exchange.actions

    def cancel_on_arrival(parsed: ParsedAction) -> contextlib.AbstractContextManager[object]:
        if parsed.action_type == "batchModify":  # the venue has it, not applied yet: our cancel is on its way
            conn.cancel(harness.trading_pair, cid)
        return contextlib.nullcontext()

    processor.recorder = cancel_on_arrival
    try:
        conn.modify(cid, price=_bid(harness, 6))
        await asyncio.wait_for(order.wait_until_done(), 10)
    finally:
        processor.recorder = None
    assert order.current_state is OrderState.CANCELED and order.modification is None
    [modified] = session.recorder.of(OrderModifiedEvent, cid)  # applied first; the cancel took the new oid
    assert order.exchange_order_id == modified.exchange_order_id
    assert not _venue_orders(harness) and not session.recorder.of(OrderModifyFailedEvent, cid)
    assert_legal_order_events(session.recorder.for_order(cid), harness.order_size)
