"""Public API misuse of the Hyperliquid connector: wrong types, NaN, infinite, negative, zero or absurd amounts and
prices, unknown pairs, cancels of unknown ids, calls before start and after stop. Each gives a clear error or an
``OrderFailedEvent`` - never a crash of the caller's code path and never a request to the exchange."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.truth import VenueRecorder
from tests.conformance.recorder import EventRecorder
from tests.conftest import Trader
from wingbeat.core.enums import OrderType, TradeType
from wingbeat.core.errors import InvalidOrderError, NotReadyError, WingbeatError
from wingbeat.core.events import OrderFailedEvent
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.protocol.server import LocalExchange

PAIR = "BTC-USD"
SIZE, PRICE = Decimal("0.001"), Decimal(50_000)


def _connector(exchange: LocalExchange, trader: Trader) -> HyperliquidPerpetualConnector:
    return HyperliquidPerpetualConnector(Signer(trader.key), [PAIR], network=exchange.base_url,
                                         config=HyperliquidConfig(dead_man_switch=None))


@pytest.fixture
async def started(local_exchange: LocalExchange, trader: Trader) -> AsyncIterator[
        tuple[HyperliquidPerpetualConnector, VenueRecorder, EventRecorder]]:
    recorder = VenueRecorder.attach(local_exchange, [trader.address])
    conn = _connector(local_exchange, trader)
    events = EventRecorder()
    conn.add_listener(events)
    await conn.start()
    try:
        yield conn, recorder, events
    finally:
        await conn.stop()


BAD_ORDERS: dict[str, Callable[[HyperliquidPerpetualConnector], str]] = {
    "float amount": lambda c: c.buy(PAIR, 0.001, OrderType.LIMIT, PRICE),  # type: ignore[arg-type]
    "str amount": lambda c: c.buy(PAIR, "0.001", OrderType.LIMIT, PRICE),  # type: ignore[arg-type]
    "None amount": lambda c: c.buy(PAIR, None, OrderType.LIMIT, PRICE),  # type: ignore[arg-type]
    "bool amount": lambda c: c.buy(PAIR, True, OrderType.LIMIT, PRICE),  # type: ignore[arg-type]
    "NaN amount": lambda c: c.buy(PAIR, Decimal("NaN"), OrderType.LIMIT, PRICE),
    "sNaN amount": lambda c: c.sell(PAIR, Decimal("sNaN"), OrderType.LIMIT, PRICE),
    "infinite amount": lambda c: c.buy(PAIR, Decimal("Infinity"), OrderType.LIMIT, PRICE),
    "negative amount": lambda c: c.sell(PAIR, Decimal("-0.001"), OrderType.LIMIT, PRICE),
    "zero amount": lambda c: c.buy(PAIR, Decimal(0), OrderType.LIMIT, PRICE),
    "amount below the lot": lambda c: c.buy(PAIR, Decimal("0.000001"), OrderType.LIMIT, PRICE),
    "notional below $10": lambda c: c.buy(PAIR, Decimal("0.0001"), OrderType.LIMIT, PRICE),
    "float price": lambda c: c.buy(PAIR, SIZE, OrderType.LIMIT, 50_000.0),  # type: ignore[arg-type]
    "NaN price": lambda c: c.buy(PAIR, SIZE, OrderType.LIMIT, Decimal("NaN")),
    "negative price": lambda c: c.sell(PAIR, SIZE, OrderType.LIMIT, Decimal(-50_000)),
    "zero price": lambda c: c.buy(PAIR, SIZE, OrderType.LIMIT, Decimal(0)),
    "price below one tick": lambda c: c.buy(PAIR, SIZE, OrderType.LIMIT, Decimal("1e-40")),
    "limit without price": lambda c: c.buy(PAIR, SIZE, OrderType.LIMIT),
    "unknown pair": lambda c: c.buy("DOGE-USD", SIZE, OrderType.LIMIT, PRICE),
    "None pair": lambda c: c.buy(None, SIZE, OrderType.LIMIT, PRICE),  # type: ignore[arg-type]
    "str order type": lambda c: c.buy(PAIR, SIZE, "LIMIT", PRICE),  # type: ignore[arg-type]
    "str time in force": lambda c: c.buy(PAIR, SIZE, OrderType.LIMIT, PRICE, time_in_force="IOC"),
    "str position action": lambda c: c.buy(PAIR, SIZE, OrderType.LIMIT, PRICE, position_action="OPEN"),
    "leverage 0": lambda c: c.buy(PAIR, SIZE, OrderType.LIMIT, PRICE, leverage=0),
    "leverage above max": lambda c: c.buy(PAIR, SIZE, OrderType.LIMIT, PRICE, leverage=10_000),
    "float leverage": lambda c: c.buy(PAIR, SIZE, OrderType.LIMIT, PRICE, leverage=2.5),
    "NaN market amount": lambda c: c.sell(PAIR, Decimal("NaN"), OrderType.MARKET),
    "NaN trigger amount": lambda c: c.place_trigger_order(PAIR, TradeType.SELL, Decimal("NaN"), PRICE, tpsl="sl"),
}


async def _no_request(conn: HyperliquidPerpetualConnector, recorder: VenueRecorder, sent_before: int) -> None:
    """Nothing reached the exchange: a valid sentinel order, queued after the bad input and acknowledged,
    is the only order the exchange received (the submit queue is flushed in order)."""
    sentinel = conn.buy(PAIR, SIZE, OrderType.LIMIT, Decimal(30_000))
    order = conn.get_order(sentinel)
    assert order is not None
    assert await asyncio.wait_for(order.wait_until_open(), 10) is OrderState.OPEN
    assert conn.actions_sent == sent_before + 1, "a request was sent for the bad input"
    assert set(recorder.submissions) == {sentinel}, f"the exchange received {dict(recorder.submissions)}"


@pytest.mark.parametrize("case", list(BAD_ORDERS))
async def test_bad_order_fails_with_a_reason_and_sends_nothing(
        started: tuple[HyperliquidPerpetualConnector, VenueRecorder, EventRecorder], case: str) -> None:
    conn, recorder, events = started
    sent = conn.actions_sent
    cid = BAD_ORDERS[case](conn)
    order = conn.get_order(cid)
    assert order is not None and order.current_state is OrderState.FAILED
    assert order.reason
    await events.wait_event(OrderFailedEvent, cid)
    await _no_request(conn, recorder, sent)
    assert conn.ready


async def test_cancel_of_unknown_or_finished_ids_is_ignored_without_a_request(
        started: tuple[HyperliquidPerpetualConnector, VenueRecorder, EventRecorder]) -> None:
    conn, recorder, _events = started
    sent = conn.actions_sent
    refused = conn.buy(PAIR, Decimal("NaN"), OrderType.LIMIT, PRICE)
    for pair, cid in [(PAIR, "0x" + "ab" * 16), (PAIR, "not-an-id"), (PAIR, ""), ("DOGE-USD", refused),
                      (PAIR, refused), (None, None)]:
        assert conn.cancel(pair, cid) == cid  # type: ignore[arg-type]
    assert await conn.cancel_all(timeout=1) == []
    await _no_request(conn, recorder, sent)


async def test_leverage_and_trigger_misuse_raise_clear_errors_without_a_request(
        started: tuple[HyperliquidPerpetualConnector, VenueRecorder, EventRecorder]) -> None:
    conn, recorder, _events = started
    sent = conn.actions_sent
    for bad in (0, -1, 10_000, 2.5, "5", None):
        with pytest.raises(InvalidOrderError):
            await conn.set_leverage(PAIR, bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidOrderError):
        await conn.set_leverage("DOGE-USD", 5)
    cases: list[dict[str, Any]] = [
        {"trigger_price": Decimal("NaN"), "tpsl": "sl"}, {"trigger_price": Decimal(-1), "tpsl": "sl"},
        {"trigger_price": 50_000.0, "tpsl": "tp"}, {"trigger_price": PRICE, "tpsl": "stop"},
    ]
    for kwargs in cases:
        with pytest.raises(InvalidOrderError):
            conn.place_trigger_order(PAIR, TradeType.SELL, SIZE, **kwargs)
    await _no_request(conn, recorder, sent)


async def test_calls_before_start_and_after_stop_fail_cleanly_without_a_request(
        local_exchange: LocalExchange, trader: Trader) -> None:
    recorder = VenueRecorder.attach(local_exchange, [trader.address])
    conn = _connector(local_exchange, trader)
    events = EventRecorder()
    conn.add_listener(events)
    before = conn.buy(PAIR, SIZE, OrderType.LIMIT, PRICE)
    assert conn.get_order(before) is not None and conn.get_order(before).is_failure  # type: ignore[union-attr]
    assert conn.cancel(PAIR, before) == before
    with pytest.raises(NotReadyError):
        conn.get_order_book(PAIR)
    with pytest.raises(WingbeatError):
        await conn.set_leverage(PAIR, 5)
    await conn.stop()  # stop before start: a no-op
    await conn.start()
    await conn.stop()
    after = conn.sell(PAIR, SIZE, OrderType.LIMIT, PRICE)
    order = conn.get_order(after)
    assert order is not None and order.is_failure and "stopped" in (order.reason or "")
    await conn.stop()  # twice: a no-op
    await events.wait_event(OrderFailedEvent, after)
    assert {e.client_order_id for e in events.of(OrderFailedEvent)} == {before, after}
    assert not recorder.submissions and conn.actions_sent == 0


_CRASHING: dict[str, Callable[[HyperliquidPerpetualConnector], Any]] = {
    "unhashable pair": lambda c: c.buy(["BTC-USD"], SIZE, OrderType.LIMIT, PRICE),  # type: ignore[arg-type]
    "amount beyond Decimal precision": lambda c: c.buy(PAIR, Decimal("1e40"), OrderType.LIMIT, PRICE),
    "market amount beyond Decimal precision": lambda c: c.buy(PAIR, Decimal("1e40"), OrderType.MARKET),
    "unhashable cancel id": lambda c: c.cancel(PAIR, ["x"]),  # type: ignore[arg-type]
    "str trade type": lambda c: c.place_order("BUY", PAIR, SIZE, OrderType.LIMIT, PRICE),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("case", list(_CRASHING))
async def test_wrongly_typed_or_out_of_range_input_is_refused_and_never_sent(
        started: tuple[HyperliquidPerpetualConnector, VenueRecorder, EventRecorder], case: str) -> None:
    conn, recorder, _events = started
    sent = conn.actions_sent
    result = _CRASHING[case](conn)
    order = conn.get_order(result) if isinstance(result, str) else None
    assert order is None or order.current_state is OrderState.FAILED
    await _no_request(conn, recorder, sent)


@pytest.mark.parametrize("stage", ["l2Book", "metaAndAssetCtxs", "clearinghouseState"])
async def test_stop_during_start_leaves_nothing_running(
        local_exchange: LocalExchange, trader: Trader, monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    reached = asyncio.Event()

    def watching_info(engine: Any, body: dict[str, Any], **kwargs: Any) -> Any:
        if body.get("type") == stage:
            reached.set()  # start() is waiting for this answer right now
        return handle_info(engine, body, **kwargs)

    monkeypatch.setattr("wingbeat.sim.protocol.server.handle_info", watching_info)
    baseline = set(asyncio.all_tasks())
    conn = _connector(local_exchange, trader)
    starting = asyncio.ensure_future(conn.start())
    await asyncio.wait_for(reached.wait(), 10)
    await conn.stop()
    with contextlib.suppress(Exception):  # start() may fail now: it was stopped
        await asyncio.wait_for(starting, 30)
    assert not conn.ready
    assert not [t.get_name() for t in conn._tasks.tasks if not t.done()]
    current = asyncio.current_task()
    # the exchange's own per-connection handlers end when it notices the closed sockets: not ours
    assert not [(t.get_name(), t.get_coro()) for t in asyncio.all_tasks() - baseline
                if t is not current and not t.done()
                and "RequestHandler" not in getattr(t.get_coro(), "__qualname__", "")]
    refused = conn.get_order(conn.buy(PAIR, SIZE, OrderType.LIMIT, PRICE))
    assert refused is not None and refused.is_failure
    await conn.stop()


async def test_a_second_connector_on_a_journal_in_use_is_refused(
        local_exchange: LocalExchange, trader: Trader, tmp_path: Path) -> None:
    journal = tmp_path / "orders.db"
    first = HyperliquidPerpetualConnector(Signer(trader.key), [PAIR], network=local_exchange.base_url,
                                          journal_path=journal, config=HyperliquidConfig(dead_man_switch=None))
    second = HyperliquidPerpetualConnector(Signer(trader.key), [PAIR], network=local_exchange.base_url,
                                           journal_path=journal, config=HyperliquidConfig(dead_man_switch=None))
    await first.start()
    try:
        with pytest.raises(WingbeatError):  # two writers would reconcile, cancel and journal each other's orders
            await second.start()
        assert not second.ready
    finally:
        await second.stop()
        await first.stop()
