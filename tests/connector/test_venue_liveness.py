"""The connector stays live when the venue misbehaves (issue 12): an absurd ``Retry-After`` pauses REST for a
bounded time only, with ``ready`` False meanwhile, and every order placed then ends instead of waiting for
ever."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

from tests.connector.harness import LocalExchangeHarness
from wingbeat.core.enums import OrderType
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig
from wingbeat.sim.faults import FaultKind


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
