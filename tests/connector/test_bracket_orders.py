"""Bracket orders (an entry with a take-profit and a stop-loss, ``normalTpsl``) on the local exchange, as a trader
uses them: the legs wait for the entry, protect the position it opens, go with the entry when it is cancelled;
a burst or a journal never splits a bracket; a bracket that could not protect its entry is refused whole."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.recorder import EventRecorder
from tests.conformance.suite import Session, wait_book
from tests.connector.harness import LocalExchangeHarness
from wingbeat.core.enums import OrderType, TradeType
from wingbeat.core.errors import InvalidOrderError
from wingbeat.core.events import (
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderFailedEvent,
)
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import OrderUpdate
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.sim.protocol.faults import FaultKind
from wingbeat.sim.venue.book import Order


def _px(harness: LocalExchangeHarness, factor: str) -> Decimal:
    return (harness.reference_price * Decimal(factor)).quantize(Decimal(1))


def _venue_orders(harness: LocalExchangeHarness) -> list[Order]:
    return list(harness.exchange.engine.accounts[harness.user].open_orders.values())


def _connector(session: Session) -> HyperliquidPerpetualConnector:
    conn = session.connector
    assert isinstance(conn, HyperliquidPerpetualConnector)
    return conn


async def test_the_legs_wait_for_the_entry_then_the_stop_loss_closes_the_position(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn, size = _connector(session), harness.order_size
    entry_px, tp, sl = _px(harness, "0.99"), _px(harness, "1.05"), _px(harness, "0.95")
    bracket = conn.place_bracket_order(harness.trading_pair, TradeType.BUY, size, entry_px, take_profit=tp,
                                       stop_loss=sl)
    assert bracket.take_profit is not None and bracket.stop_loss is not None
    for cid in (bracket.entry, bracket.take_profit, bracket.stop_loss):
        await session.recorder.wait_event(OrderCreatedEvent, cid)
    [entry] = [o for o in _venue_orders(harness) if o.trigger is None]
    assert entry.is_buy and entry.limit_px == entry_px
    legs = {o.trigger.tpsl: o for o in entry.children if o.trigger is not None}  # waiting for the entry to fill
    assert set(legs) == {"tp", "sl"} and all(o.reduce_only and not o.is_buy and o.sz == size for o in legs.values())
    assert legs["tp"].trigger is not None and legs["tp"].trigger.trigger_px == tp
    assert legs["sl"].trigger is not None and legs["sl"].trigger.trigger_px == sl
    assert await harness.position_size() == 0

    await harness.take_liquidity(is_buy=False, price=entry_px, size=size)  # the entry fills: long
    await session.recorder.wait_event(OrderCompletedEvent, bracket.entry)
    assert await harness.position_size() == size
    assert {o.oid for o in _venue_orders(harness)} == {legs["tp"].oid, legs["sl"].oid}  # now plain triggers

    await harness.provide_liquidity(is_buy=True, price=_px(harness, "0.94"), size=size)
    engine = harness.exchange.engine
    engine.set_oracle_price("BTC", harness.reference_price * Decimal("0.93"))
    engine.advance(engine.now)  # the mark falls through the stop
    await session.recorder.wait_event(OrderCompletedEvent, bracket.stop_loss)
    [cancelled] = await session.recorder.wait_event(OrderCancelledEvent, bracket.take_profit)
    assert "sibling" in (cancelled.reason or "")
    assert await harness.position_size() == 0 and _venue_orders(harness) == []
    assert conn.open_orders == []


async def test_cancelling_the_entry_takes_its_legs_with_it(session: Session, harness: LocalExchangeHarness) -> None:
    conn = _connector(session)
    bracket = conn.place_bracket_order(harness.trading_pair, TradeType.SELL, harness.order_size, _px(harness, "1.01"),
                                       take_profit=_px(harness, "0.95"), stop_loss=_px(harness, "1.05"))
    for cid in (bracket.entry, bracket.take_profit, bracket.stop_loss):
        await session.recorder.wait_event(OrderCreatedEvent, cid)
    with pytest.raises(InvalidOrderError, match="entry of a bracket"):
        conn.modify(bracket.entry, price=_px(harness, "1.02"))
    conn.cancel(harness.trading_pair, bracket.entry)
    for cid in (bracket.entry, bracket.take_profit, bracket.stop_loss):
        await session.recorder.wait_event(OrderCancelledEvent, cid)
    assert _venue_orders(harness) == [] and conn.open_orders == []


async def test_an_entry_cancelled_before_it_was_sent_sends_no_leg(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn = _connector(session)
    bracket = conn.place_bracket_order(harness.trading_pair, TradeType.BUY, harness.order_size, _px(harness, "0.99"),
                                       stop_loss=_px(harness, "0.95"))
    assert bracket.take_profit is None and bracket.stop_loss is not None
    conn.cancel(harness.trading_pair, bracket.entry)  # same tick: still queued
    await session.recorder.wait_event(OrderCancelledEvent, bracket.entry)
    [failed] = await session.recorder.wait_event(OrderFailedEvent, bracket.stop_loss)
    assert "entry ended before it was sent" in failed.reason
    plain = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _px(harness, "0.98"))
    await session.recorder.wait_event(OrderCreatedEvent, plain)  # the stream after: nothing else arrived
    assert [o.trigger for o in _venue_orders(harness)] == [None]


@pytest.mark.parametrize("journaled", [False, True], ids=["burst-sent-early", "journaled"])
async def test_a_burst_never_splits_a_bracket(
        make_connector: Any, harness: LocalExchangeHarness, tmp_path: Path, journaled: bool) -> None:
    # without a journal the 100th order of a burst is sent at once: here that is the bracket's entry
    conn = make_connector(journal_path=tmp_path / "orders.db" if journaled else None, eager_send_at=100,
                          config=HyperliquidConfig(dead_man_switch=None))
    recorder = EventRecorder()
    conn.add_listener(recorder)
    await conn.start()
    try:
        await conn.wait_ready(15)
        bids = [conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _px(harness, "0.97") - i)
                for i in range(99)]
        bracket = conn.place_bracket_order(harness.trading_pair, TradeType.BUY, harness.order_size,
                                           _px(harness, "0.99"), take_profit=_px(harness, "1.05"),
                                           stop_loss=_px(harness, "0.9"))
        after = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _px(harness, "0.96"))
        for cid in (*bids, bracket.entry, bracket.take_profit, bracket.stop_loss, after):
            await recorder.wait_event(OrderCreatedEvent, cid, timeout=15)
        entries = [o for o in _venue_orders(harness) if o.trigger is None and o.children]
        assert len(entries) == 1 and entries[0].limit_px == _px(harness, "0.99")
        assert sorted(c.trigger.tpsl for c in entries[0].children if c.trigger is not None) == ["sl", "tp"]
        assert len(_venue_orders(harness)) == 99 + 3 + 1
    finally:
        await conn.stop()


@pytest.mark.parametrize(("side", "price", "legs", "needle"), [
    (TradeType.BUY, "0.99", {}, "needs a take_profit, a stop_loss or both"),
    (TradeType.BUY, "0.99", {"take_profit": "0.98"}, "take_profit of a buy must be above its entry price"),
    (TradeType.BUY, "0.99", {"stop_loss": "1.0"}, "stop_loss of a buy must be below its entry price"),
    (TradeType.SELL, "1.01", {"take_profit": "1.02"}, "take_profit of a sell must be below its entry price"),
    (TradeType.SELL, "1.01", {"stop_loss": "1.0"}, "stop_loss of a sell must be above its entry price"),
    (TradeType.BUY, "0.99", {"stop_loss": "-1"}, "stop_loss must be a positive Decimal"),
])
async def test_a_bracket_that_cannot_protect_its_entry_is_refused_whole(
        session: Session, harness: LocalExchangeHarness, side: TradeType, price: str, legs: dict[str, str],
        needle: str) -> None:
    conn = _connector(session)
    given = {name: _px(harness, factor) if not factor.startswith("-") else Decimal(factor)
             for name, factor in legs.items()}
    with pytest.raises(InvalidOrderError, match=needle):
        conn.place_bracket_order(harness.trading_pair, side, harness.order_size, _px(harness, price), **given)
    assert conn.open_orders == [] and _venue_orders(harness) == []


async def test_an_entry_refused_at_once_places_no_leg(session: Session, harness: LocalExchangeHarness) -> None:
    conn = _connector(session)
    bracket = conn.place_bracket_order(harness.trading_pair, TradeType.BUY, Decimal(0), _px(harness, "0.99"),
                                       take_profit=_px(harness, "1.05"))
    assert (bracket.take_profit, bracket.stop_loss) == (None, None)
    [failed] = await session.recorder.wait_event(OrderFailedEvent, bracket.entry)
    assert "amount" in failed.reason
    order = conn.get_order(bracket.entry)
    assert order is not None and order.current_state is OrderState.FAILED and conn.open_orders == []


async def test_a_market_entry_fills_and_arms_its_legs_at_once(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn, size = _connector(session), harness.order_size
    ask = _px(harness, "1.001")
    await harness.provide_liquidity(is_buy=False, price=ask, size=size)
    await wait_book(conn, harness.trading_pair, lambda book: book.best_ask == ask)
    bracket = conn.place_bracket_order(harness.trading_pair, TradeType.BUY, size, order_type=OrderType.MARKET,
                                       take_profit=_px(harness, "1.1"), stop_loss=_px(harness, "0.9"))
    await session.recorder.wait_event(OrderCompletedEvent, bracket.entry)
    for cid in (bracket.take_profit, bracket.stop_loss):
        await session.recorder.wait_event(OrderCreatedEvent, cid)
    assert await harness.position_size() == size
    triggers = sorted(o.trigger.tpsl for o in _venue_orders(harness) if o.trigger is not None)
    assert triggers == ["sl", "tp"]  # resting as triggers of the position now open


async def test_a_leg_waiting_for_its_entry_is_not_asked_about(session: Session, harness: LocalExchangeHarness) -> None:
    # the venue answers a waiting leg with a bare "waitingForFill" (no oid): a status check must not count
    # "not found" against it while its entry is open; its news is the entry's
    conn, size = _connector(session), harness.order_size
    entry_px = _px(harness, "0.99")
    bracket = conn.place_bracket_order(harness.trading_pair, TradeType.BUY, size, entry_px,
                                       stop_loss=_px(harness, "0.95"))
    assert bracket.stop_loss is not None
    for cid in (bracket.entry, bracket.stop_loss):
        await session.recorder.wait_event(OrderCreatedEvent, cid)
    leg, entry = conn.get_order(bracket.stop_loss), conn.get_order(bracket.entry)
    assert leg is not None and entry is not None
    harness.exchange.faults.add(FaultKind.HTTP_5XX, path="/info")  # any question to the venue fails
    [answer] = await conn._request_order_statuses([leg])
    assert isinstance(answer, OrderUpdate) and answer.new_state is OrderState.OPEN  # not asked: as it stands
    [asked] = await conn._request_order_statuses([entry])
    assert isinstance(asked, BaseException)  # the entry is asked about
    harness.exchange.faults.clear()

    await harness.take_liquidity(is_buy=False, price=entry_px, size=size)
    await session.recorder.wait_event(OrderCompletedEvent, bracket.entry)
    harness.exchange.faults.add(FaultKind.HTTP_5XX, path="/info")
    [armed] = await conn._request_order_statuses([leg])  # a plain trigger now: asked like any order
    assert isinstance(armed, BaseException)


async def test_a_leg_refused_at_once_cancels_the_whole_bracket(
        session: Session, harness: LocalExchangeHarness) -> None:
    conn = _connector(session)
    # a stop this deep leaves the leg below the minimum order value: refused before anything is sent
    bracket = conn.place_bracket_order(harness.trading_pair, TradeType.BUY, harness.order_size, _px(harness, "0.99"),
                                       take_profit=_px(harness, "1.05"), stop_loss=_px(harness, "0.04"))
    assert bracket.take_profit is not None and bracket.stop_loss is not None
    [failed] = await session.recorder.wait_event(OrderFailedEvent, bracket.stop_loss)
    assert "below the minimum" in failed.reason
    for cid in (bracket.entry, bracket.take_profit):
        [cancelled] = await session.recorder.wait_event(OrderCancelledEvent, cid)
        assert cancelled.reason == "cancelled before it was sent"
    assert conn.open_orders == [] and _venue_orders(harness) == [] and not conn._triggers
