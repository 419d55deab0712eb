"""The connector stays live when the venue misbehaves (issue 12): an absurd ``Retry-After`` pauses REST for a
bounded time only, with ``ready`` False meanwhile, and every order placed then ends instead of waiting for
ever."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.conftest import exchange_options, new_trader
from tests.connector.harness import LocalExchangeHarness
from wingbeat.core.enums import OrderType, TradeType
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.journal import OrderJournal
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.wire import Cloid
from wingbeat.sim.protocol.faults import FaultKind
from wingbeat.sim.protocol.rate_limits import RateLimitConfig
from wingbeat.sim.protocol.server import LocalExchange


async def test_an_absurd_retry_after_pauses_rest_for_max_pause_only(
    make_connector: Any, harness: LocalExchangeHarness
) -> None:
    config = HyperliquidConfig(
        actions_over_websocket=False,
        request_timeout=0.5,
        order_validity=1.0,
        dead_man_switch=None,
        max_rate_limit_pause=1.5,
    )
    conn = make_connector(config=config)
    await conn.start()
    try:
        price = harness.reference_price * Decimal("0.9")
        harness.exchange.faults.add(FaultKind.RATE_LIMIT, count=1, path="/exchange", retry_after="99999999")
        first = conn.get_order(conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, price))
        assert first is not None
        await asyncio.wait_for(first.wait_until_done(), 5)
        assert first.current_state is OrderState.FAILED  # refused with the 429: nothing was done
        assert not conn.ready  # paused by the venue: not ready to trade
        started = time.monotonic()
        second = conn.get_order(conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, price))
        assert second is not None
        await asyncio.wait_for(second.wait_until_done(), 2)  # refused unsent, not PENDING_CREATE for ever
        assert second.current_state is OrderState.FAILED and "rate" in (second.reason or "").lower()
        assert time.monotonic() - started < 1.0
        await conn.wait_ready(3)  # the capped pause is over
        assert conn.ready
        third = conn.get_order(conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, price))
        assert third is not None
        await asyncio.wait_for(third.wait_until_open(), 3)
        assert third.current_state is OrderState.OPEN
    finally:
        await asyncio.wait_for(conn.stop(grace=0.5), 5)


async def test_after_an_outage_new_orders_go_out_at_once_while_hundreds_are_reconciled() -> None:
    """Hyperliquid's real IP budget (1200 weight a minute, /info and /exchange together): a venue outage with
    300 orders sent into it leaves them all unanswered; once it is back, reconciling them must not delay the
    new orders placed meanwhile, and every one of the 300 is decided soon after its validity has passed."""
    trader = new_trader()
    async with LocalExchange(**exchange_options(rate_limits=RateLimitConfig())) as exchange:
        await exchange.fund(trader.address, Decimal(10_000_000))
        config = HyperliquidConfig(request_timeout=1.0, order_validity=2.0, dead_man_switch=None)
        conn = HyperliquidPerpetualConnector(
            Signer(trader.key),
            ["BTC-USD"],
            network=exchange.base_url,
            config=config,
            reconcile_interval=0.5,
            status_retry_delay=0.05,
        )
        await conn.start()
        try:
            exchange.faults.outage(60.0)
            in_flight = []
            for i in range(30):  # 30 actions of 10 orders, all into the outage
                in_flight += [
                    conn.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, Decimal(40_000 + 10 * i + j))
                    for j in range(10)
                ]
                await asyncio.sleep(0)  # one flush (one action) per batch
            orders = [o for c in in_flight if (o := conn.get_order(c)) is not None]
            await asyncio.sleep(0)
            senders = [t for t in conn._tasks.tasks if t.get_name().endswith("place-orders")]
            await asyncio.wait_for(
                asyncio.gather(*senders), 10
            )  # every send has failed: 503, outcome unknown
            assert len(orders) == 300 and {o.current_state for o in orders} == {
                OrderState.PENDING_SUBMIT_UNKNOWN
            }
            exchange.faults.clear()  # the venue is back
            late: list[float] = []
            for i in range(40):  # 10 new orders a second while the 300 are being reconciled
                order = conn.get_order(
                    conn.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, Decimal(30_000 + i))
                )
                assert order is not None
                started = time.monotonic()
                await asyncio.wait_for(order.wait_until_open(), 10)
                late.append(time.monotonic() - started)
                await asyncio.sleep(max(0.0, 0.1 - late[-1]))  # the pace of a quoting strategy
            assert max(late) < 1.0, sorted(late)[-5:]
            await asyncio.wait_for(_all(o.wait_until_done() for o in orders), 20)  # every one decided
            assert {o.current_state for o in orders} == {OrderState.FAILED}  # the venue never saw them
            assert "rate_limit" not in exchange.faults.counters
        finally:
            await asyncio.wait_for(conn.stop(grace=0.5), 10)


async def _all(waiters: Iterable[Awaitable[object]]) -> None:
    await asyncio.gather(*waiters)


async def test_a_restart_on_500_unresolved_orders_is_ready_at_once_and_resolves_them_in_the_background(
    tmp_path: Path,
) -> None:
    trader = new_trader()
    journal_path = tmp_path / "orders.db"
    now = time.time()
    async with OrderJournal(journal_path) as journal:  # a crash right after journaling 500 orders, none sent
        for i in range(500):
            journal.record_order(
                InFlightOrder(
                    client_order_id=Cloid.new().raw,
                    trading_pair="BTC-USD",
                    trade_type=TradeType.BUY,
                    order_type=OrderType.LIMIT,
                    amount=Decimal("0.001"),
                    price=Decimal(40_000 + i),
                    creation_timestamp=now,
                )
            )
        await journal.commit()
    async with LocalExchange(**exchange_options(rate_limits=RateLimitConfig())) as exchange:
        await exchange.fund(trader.address, Decimal(10_000_000))
        config = HyperliquidConfig(request_timeout=1.0, order_validity=2.0, dead_man_switch=None)
        conn = HyperliquidPerpetualConnector(
            Signer(trader.key),
            ["BTC-USD"],
            network=exchange.base_url,
            config=config,
            journal_path=journal_path,
            reconcile_interval=0.5,
            status_retry_delay=0.05,
        )
        started = time.monotonic()
        await asyncio.wait_for(conn.start(), 10)
        try:
            assert time.monotonic() - started < 5.0 and conn.ready
            assert conn.recovering and len(conn.open_orders) == 500
            order = conn.get_order(conn.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, Decimal(30_000)))
            assert order is not None
            placed = time.monotonic()
            await asyncio.wait_for(order.wait_until_open(), 5)
            assert time.monotonic() - placed < 1.0
            await conn.wait_recovered(20)
            assert [o.current_state for o in conn.open_orders] == [
                OrderState.OPEN
            ]  # the 500 FAILED, ours rests
        finally:
            await asyncio.wait_for(conn.stop(grace=0.5), 10)
