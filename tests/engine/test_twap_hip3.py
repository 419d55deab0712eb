"""The TWAP executor runs on a HIP-3 builder-dex pair unchanged: on the local exchange's ``xyz:XYZ100-USD``
(isolated margin only), traded beside ``BTC-USD`` by one connector, it buys its total in slices on the dex's
book within the limit, the venue holds exactly that (isolated) position on the dex and none on the main dex,
and the connector's position agrees with the venue's all along (no divergence warning)."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import TRADER_FUNDS, Trader, limit_order_action, new_trader, signed_body
from tests.engine.venue import post
from wingbeat.engine.clock import Clock
from wingbeat.engine.twap import TwapConfig, TwapExecutor
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim import LocalExchange

D = Decimal
PAIR = "xyz:XYZ100-USD"
ASSET = 110_000  # xyz:XYZ100: the first builder dex's first perp


async def _order(ex: LocalExchange, who: Trader, *, is_buy: bool, price: str, size: str) -> None:
    action = limit_order_action(ASSET, is_buy=is_buy, price=price, size=size, tif="Gtc")
    reply = await post(ex, "/exchange", signed_body(who.key, action))
    assert reply["status"] == "ok" and "resting" in reply["response"]["data"]["statuses"][0], reply


async def _book_ready(conn: HyperliquidPerpetualConnector) -> None:
    async with asyncio.timeout(10):
        while conn.get_order_book(PAIR).best_ask != D(25010):
            await conn.order_book_tracker.wait_for_update(PAIR)


async def test_the_twap_buys_its_total_on_a_builder_dex_pair(
    local_exchange: LocalExchange, trader: Trader, caplog: pytest.LogCaptureFixture
) -> None:
    ex = local_exchange
    maker = new_trader()
    await ex.fund(maker.address, 0, dexes={"xyz": TRADER_FUNDS})
    await ex.fund(trader.address, 0, dexes={"xyz": 10_000})
    await _order(ex, maker, is_buy=True, price="24990", size="1")
    for ask in ("25010", "25020", "25030"):  # one slice each: the entry price moves with every fill
        await _order(ex, maker, is_buy=False, price=ask, size="0.001")
    conn = HyperliquidPerpetualConnector(Signer(trader.key), ["BTC-USD", PAIR], ex.base_url,
                                         config=HyperliquidConfig(dead_man_switch=None))
    await conn.start()
    try:
        await conn.wait_ready(15)
        await _book_ready(conn)
        twap = TwapExecutor(conn, TwapConfig(trading_pair=PAIR, is_buy=True, total_amount=D("0.003"),
                                             duration=0.6, slices=3, price_limit=D(25040)))
        clock = Clock(0.05)
        clock.add(twap)
        with caplog.at_level(logging.WARNING, logger="wingbeat"):
            await twap.start()
            clock.start()
            try:
                await asyncio.wait_for(twap.done.wait(), 15)
            finally:
                await clock.stop()
                await twap.stop()
            assert twap.executed == D("0.003") and twap.average_price == D(25020) and twap.slices_sent == 3
            state: dict[str, Any] = await post(ex, "/info", {"type": "clearinghouseState", "user": trader.address,
                                                             "dex": "xyz"})
            [held] = state["assetPositions"]
            assert held["position"]["coin"] == "xyz:XYZ100" and D(held["position"]["szi"]) == twap.executed
            assert held["position"]["leverage"]["type"] == "isolated"
            main = await post(ex, "/info", {"type": "clearinghouseState", "user": trader.address})
            assert main["assetPositions"] == []
            position = conn.account_positions[PAIR]
            assert (position.amount, position.entry_price) == (D("0.003"), D(25020))
        diverged = [r.getMessage() for r in caplog.records if "diverged" in r.getMessage()]
        assert diverged == []  # ours followed each fill as the venue booked it
    finally:
        await conn.stop()
