"""Paper trading: ``wingbeat sim`` in its own process, a connector trading on it, Ctrl-C stops it."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from tests.journeys.conftest import new_trader, sim_process
from wingbeat.core import OrderState, OrderType
from wingbeat.hyperliquid import HyperliquidPerpetualConnector, Signer


async def test_a_market_order_fills_against_the_sims_built_in_liquidity() -> None:
    account = new_trader()
    async with sim_process("--fund", f"{account.address}=5000") as sim:
        conn = HyperliquidPerpetualConnector(Signer(account.key), ["BTC-USD"], network=sim.url)
        await conn.start()
        try:
            await asyncio.wait_for(conn.wait_ready(), 20)
            book = conn.get_order_book("BTC-USD")
            assert book.best_bid is not None and book.best_ask is not None  # the sim's makers quote
            cid = conn.buy("BTC-USD", Decimal("0.001"), OrderType.MARKET)
            order = conn.get_order(cid)
            assert order is not None
            assert await asyncio.wait_for(order.wait_until_done(), 20) is OrderState.FILLED
            assert order.executed_amount_base == Decimal("0.001")
        finally:
            await conn.stop()
    assert sim.exit_code == 0, "".join(sim.err)
