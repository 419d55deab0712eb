"""An order request that times out at the client but still lands at the venue later.

Hyperliquid does not cancel an action because its HTTP client went away: a request that was slow (network,
congested node) can be applied after the connector's deadline, and meanwhile ``orderStatus`` truthfully
answers ``unknownOid``. The local exchange cancels a handler whose client disconnected, so here the
``/exchange`` handler is shielded (the venue keeps working on it) and a one-off DELAY fault holds the order
past the client's deadline. Arriving within its ``expiresAfter`` it rests, arriving later it is refused: either
way the connector must end in the venue's state and never settle on one the venue later contradicts.
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

import pytest

from tests.chaos.truth import EventLog, count_venue_requests, venue_state
from tests.conftest import exchange_options, new_trader
from wingbeat.core.enums import OrderType
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim.protocol.faults import FaultKind
from wingbeat.sim.protocol.server import LocalExchange


@pytest.mark.parametrize(("delay_ms", "venue_final"), [(800, OrderState.OPEN), (2_500, None)],
                         ids=["applied-late-within-validity", "arrives-after-expiresAfter"])
async def test_order_answered_after_the_client_deadline_ends_in_the_venues_state(
        delay_ms: int, venue_final: OrderState | None) -> None:
    exchange = LocalExchange(**exchange_options())
    requests = count_venue_requests(exchange)
    async with exchange:
        trader = new_trader()
        await exchange.fund(trader.address, Decimal(100_000))
        config = HyperliquidConfig(actions_over_websocket=False, request_timeout=0.5, order_validity=1.5,
                                   dead_man_switch=None)
        conn = HyperliquidPerpetualConnector(Signer(trader.key), ["BTC-USD"], network=exchange.base_url,
                                             config=config, reconcile_interval=0.2, status_retry_delay=0.05)
        log = EventLog()
        conn.add_listener(log)
        await conn.start()
        try:
            exchange.faults.add(FaultKind.DELAY, delay_ms=delay_ms, count=1, action="order")
            cid = conn.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, Decimal(50_000))
            order = conn.get_order(cid)
            assert order is not None
            await asyncio.wait_for(requests.wait_finished(), 10)  # the venue is done with it (applied or refused)
            assert venue_state(exchange, trader.address, cid) is venue_final
            expected = OrderState.OPEN if venue_final is OrderState.OPEN else OrderState.FAILED
            async with asyncio.timeout(10):
                while order.current_state is not expected:
                    await conn.reconcile_now()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(log.changed.wait(), 0.5)
                    log.changed.clear()
            # and it stays so: the venue never holds an order the connector gave up
            await conn.reconcile_now()
            assert order.current_state is expected, (order.current_state, order.reason)
            assert venue_state(exchange, trader.address, cid) is venue_final
        finally:
            await conn.stop()
