"""Orders are never lost or double-counted, whatever the network does: seeded faults of the local exchange
(5xx and timeouts before the action, answers lost after it was applied, duplicated and reordered
websocket frames, dropped connections) while orders are placed, filled and cancelled; afterwards the connector's view must
match the exchange's exactly."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from tests.conformance.suite import Session
from tests.connector.harness import LocalExchangeHarness
from wingbeat.core.enums import OrderType
from wingbeat.core.events import OrderFilledEvent
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.sim.protocol.faults import FaultKind

_RESTING = (OrderState.OPEN, OrderState.PARTIALLY_FILLED)


def _mismatches(conn: HyperliquidPerpetualConnector, harness: LocalExchangeHarness, cids: list[str]) -> list[str]:
    """Every way the connector's orders disagree with the exchange (empty = consistent)."""
    account = harness.exchange.engine.accounts[harness.user]
    filled: Counter[str] = Counter()
    for fill in account.fills:
        if fill.cloid:
            filled[fill.cloid] += fill.sz  # type: ignore[assignment]
    resting = {o.cloid for o in account.open_orders.values()}
    problems = []
    unknown = set(account.cloids) - set(cids)
    if unknown:
        problems.append(f"orders on the exchange the connector never placed: {unknown}")
    for cid in cids:
        order = conn.get_order(cid)
        if order is None:
            problems.append(f"{cid} forgotten")
            continue
        if order.executed_amount_base != filled.get(cid, 0):
            problems.append(f"{cid} executed {order.executed_amount_base}, exchange filled {filled.get(cid, 0)}")
        if cid in resting and order.current_state not in _RESTING:
            problems.append(f"{cid} rests on the exchange but is {order.current_state.name}")
        if cid not in resting and not order.is_done:
            problems.append(f"{cid} is gone from the book but still {order.current_state.name}")
        if order.current_state is OrderState.FAILED and cid in account.cloids:
            problems.append(f"{cid} is FAILED but the exchange accepted it")
    return problems


async def _settle(conn: HyperliquidPerpetualConnector, harness: LocalExchangeHarness, cids: list[str]) -> None:
    """Reconcile (real status queries and fill catch-up, each a network round trip) until consistent."""
    problems = _mismatches(conn, harness, cids)
    try:
        async with asyncio.timeout(15):
            while problems:
                active = [o for o in (conn.get_order(c) for c in cids) if isinstance(o, InFlightOrder) and not o.is_done]
                await conn._check_orders(active or conn.open_orders)
                assert conn._sync is not None
                await conn._sync.catch_up_orders([o for o in (conn.get_order(c) for c in cids) if o is not None])
                problems = _mismatches(conn, harness, cids)
    except TimeoutError:
        raise AssertionError("connector and exchange still disagree: " + "; ".join(problems[:10])) from None


@pytest.mark.parametrize("over_ws", [True, False], ids=["actions-over-ws-post", "actions-over-rest"])
async def test_no_order_is_lost_or_double_counted_under_injected_faults(
        make_connector: Any, harness: LocalExchangeHarness, over_ws: bool) -> None:
    ex, rng = harness.exchange, random.Random(7)
    config = HyperliquidConfig(actions_over_websocket=over_ws, request_timeout=1.0, order_validity=1.0,
                               dead_man_switch=None)
    s = await Session.open(lambda **kw: make_connector(config=config, reconcile_interval=0.1,
                                                       stale_order_after=1.0, **kw))
    conn = s.connector
    assert isinstance(conn, HyperliquidPerpetualConnector)
    faults = ex.faults
    faults.add(FaultKind.HTTP_5XX, count=1, path="/exchange", action="order")  # at least one of each, then random
    faults.add(FaultKind.LOSE_ANSWER, count=1, action="order")
    faults.add(FaultKind.HTTP_5XX, probability=0.15, path="/exchange")
    faults.add(FaultKind.LOSE_ANSWER, probability=0.15, action="order")
    faults.add(FaultKind.LOSE_ANSWER, probability=0.15, action="cancelByCloid")
    faults.add(FaultKind.TIMEOUT, count=2, path="/exchange", delay_ms=1500)  # held past our 1 s deadline
    faults.add(FaultKind.WS_DUPLICATE, probability=0.1)
    faults.add(FaultKind.WS_REORDER, probability=0.05)
    top = (harness.reference_price * Decimal("0.98")).quantize(Decimal(1))
    size = harness.order_size
    cids: list[str] = []
    try:
        for wave in range(12):
            batch = [conn.buy(harness.trading_pair, size, OrderType.LIMIT, top - rng.randint(0, 15))
                     for _ in range(rng.randint(1, 8))]
            cids += batch
            orders = [conn.get_order(c) for c in batch]
            await asyncio.wait_for(asyncio.gather(*(o.wait_until_open() for o in orders if o is not None)), 15)
            await harness.take_liquidity(is_buy=False, price=top - rng.randint(0, 6), size=size * rng.randint(1, 3))
            resting = [o for o in conn.open_orders if o.current_state in _RESTING]
            for order in rng.sample(resting, min(2, len(resting))):
                conn.cancel(harness.trading_pair, order.client_order_id)
            if wave % 4 == 3:
                faults.drop_websockets()
        injected = dict(faults.counters)
        faults.clear()
        await _settle(conn, harness, cids)
    finally:
        await s.close()

    assert injected.get(FaultKind.LOSE_ANSWER, 0) > 0, injected
    # 5xx and timeouts are HTTP faults: they hit REST (and REST fallbacks while the socket is down)
    assert over_ws or (injected.get(FaultKind.HTTP_5XX, 0) > 0 and injected.get(FaultKind.TIMEOUT, 0) > 0), injected
    fills = s.recorder.of(OrderFilledEvent)
    trade_ids = [f.trade_id for f in fills]
    assert len(trade_ids) == len(set(trade_ids)), "a fill was published twice"
    venue_fills = [f for f in ex.engine.accounts[harness.user].fills if f.cloid]
    assert len(fills) == len(venue_fills), (len(fills), len(venue_fills))
    assert any(conn.get_order(c).current_state is OrderState.FILLED for c in cids)  # type: ignore[union-attr]


async def test_a_cancel_left_unanswered_is_sent_again_while_the_order_still_rests(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    """The venue holds a cancel past the deadline without applying it (outcome unknown) while a reconciliation
    pass already found the order still resting: the user's cancel must go out again, never be dropped."""
    ex = harness.exchange
    conn = make_connector(config=HyperliquidConfig(request_timeout=0.5, order_validity=1.0, dead_man_switch=None),
                          reconcile_interval=0.05)
    await conn.start()
    try:
        price = (harness.reference_price * Decimal("0.9")).quantize(Decimal(1))
        cid = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, price)
        order = conn.get_order(cid)
        assert order is not None
        await asyncio.wait_for(order.wait_until_open(), 10)
        ex.faults.add(FaultKind.TIMEOUT, count=1, action="cancelByCloid", delay_ms=30_000)
        conn.cancel(harness.trading_pair, cid)
        await asyncio.wait_for(order.wait_until_done(), 10)
    finally:
        await conn.stop()
    assert ex.faults.counters.get(FaultKind.TIMEOUT) == 1, ex.faults.counters
    assert order.current_state is OrderState.CANCELED, order.current_state
    assert cid not in {o.cloid for o in ex.engine.accounts[harness.user].open_orders.values()}
