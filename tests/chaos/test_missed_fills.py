"""Fill news lost without a reconnect: the websocket stays up (pings answered) but the fill channels are silent
while an order fills. The order's state comes from the placement reply; its fills must still be found and
reported exactly once, with the right executed amount and fees, once the channels speak again."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

import pytest

from tests.chaos.truth import EventLog, VenueRecorder
from tests.conftest import Trader
from wingbeat.core.enums import OrderType, TimeInForce, TradeType
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.types import OrderRequest


@pytest.mark.parametrize(("size", "final"), [("0.001", OrderState.FILLED), ("0.02", OrderState.EXPIRED)],
                         ids=["ioc-filled", "ioc-partially-filled-then-expired"])
async def test_fills_missed_on_a_silent_channel_are_still_counted(
        local_exchange: LocalExchange, trader: Trader, size: str, final: OrderState) -> None:
    exchange = local_exchange
    counterparty = "0x" + "c3" * 20
    await exchange.fund(counterparty, Decimal(10_000_000))
    market = exchange.engine.market("BTC")
    assert market is not None
    exchange.engine.place_orders(counterparty, [OrderRequest(
        asset=market.index, is_buy=False, price=Decimal(60_000), size=Decimal("0.01"), reduce_only=False,
        tif="Gtc")])
    recorder = VenueRecorder.attach(exchange, [trader.address])
    conn = HyperliquidPerpetualConnector(
        Signer(trader.key), ["BTC-USD"], network=exchange.base_url,
        config=HyperliquidConfig(dead_man_switch=None, account_refresh_interval=1.0),
        reconcile_interval=0.2, stale_order_after=1.0)
    log = EventLog()
    conn.add_listener(log)
    await conn.start()
    try:
        for channel in ("userFills", "user"):
            exchange.faults.silence(channel)
        cid = conn.place_order(TradeType.BUY, "BTC-USD", Decimal(size), OrderType.LIMIT, Decimal(61_000),
                               time_in_force=TimeInForce.IOC)
        order = conn.get_order(cid)
        assert order is not None
        assert await asyncio.wait_for(order.wait_until_done(), 10) is final
        exchange.faults.clear()  # the channels speak again; nothing else happens
        venue = [f for f in recorder.fills.values() if f.cloid == cid]
        assert venue
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                while order.executed_amount_base < sum(f.size for f in venue):
                    await conn.reconcile_now()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(log.changed.wait(), 0.5)
                    log.changed.clear()
    finally:
        await conn.stop()
    assert order.executed_amount_base == sum(f.size for f in venue)
    assert sum(order.cumulative_fee_paid.values()) == sum(f.fee for f in venue)
    assert sorted(f.trade_id for f in log.fills) == sorted(f.trade_id for f in venue)
