"""The engine's market maker and TWAP run on a spot pair (HyperliquidSpotConnector, PURR-USDC) unchanged, against
the local exchange over sockets: quotes on the spot price grid both sides of the book with tokens held as the
asks' stock, a TWAP buys its total in slices with the fee taken in PURR."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

from tests.connector.harness import new_signer
from tests.engine.venue import Pulse, wait_until
from wingbeat.engine.clock import Clock
from wingbeat.engine.market_maker import MarketMakerConfig, MarketMakerStrategy
from wingbeat.engine.twap import TwapConfig, TwapExecutor
from wingbeat.hyperliquid.connector import HyperliquidConfig
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.spot_connector import HyperliquidSpotConnector
from wingbeat.sim import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

D = Decimal
PAIR = "PURR-USDC"
PURR_ASSET = 10_000


def _maker_quotes(ex: LocalExchange, maker: str, *, bid: str, ask: str, size: str = "10000") -> None:
    requests = [OrderRequest(asset=PURR_ASSET, is_buy=is_buy, price=D(px), size=D(size), reduce_only=False,
                             tif="Gtc") for is_buy, px in ((True, bid), (False, ask))]
    for status in ex.engine.place_orders(maker, requests):
        assert "resting" in status, status  # type: ignore[operator]


@asynccontextmanager
async def _spot(ex: LocalExchange, *, purr: int = 5000) -> AsyncIterator[tuple[HyperliquidSpotConnector, str,
                                                                             Signer]]:
    signer, maker = new_signer(), new_signer().address
    await ex.fund(signer.address, 0, spot={"USDC": 1000, "PURR": purr})
    await ex.fund(maker, 0, spot={"USDC": 100_000, "PURR": 1_000_000})
    _maker_quotes(ex, maker, bid="0.199", ask="0.201")
    conn = HyperliquidSpotConnector(signer, [PAIR], network=ex.base_url,
                                    config=HyperliquidConfig(dead_man_switch=None))
    await conn.start()
    await conn.wait_ready(timeout=10)
    try:
        yield conn, maker, signer
    finally:
        await conn.stop()


async def test_the_market_maker_quotes_both_sides_of_a_spot_pair_on_its_price_grid(
        local_exchange: LocalExchange) -> None:
    async with _spot(local_exchange) as (conn, _maker, signer):
        await _wait_book(conn)
        config = MarketMakerConfig(trading_pair=PAIR, order_amount=D(100), bid_spread=D("0.00123"),
                                   ask_spread=D("0.00123"), order_refresh_time=60.0, max_inventory=D(500))
        mm = MarketMakerStrategy(conn, config)
        await mm.start()
        # 5000 PURR held before it started: the asks' stock, not inventory to skew away (both sides full size)
        assert [(q.is_buy, q.price, q.amount) for q in mm.proposal()] == [
            (True, D("0.19975"), D(100)), (False, D("0.20025"), D(100))]  # 0.2 x (1 -+ 0.00123), 5 figures
        await mm.tick(0)
        pulse = Pulse()
        conn.add_listener(pulse)
        await wait_until(lambda: len(mm.active_orders()) == 2 and all(o.exchange_order_id for o in mm.active_orders()),
                         pulse)
        resting = local_exchange.engine.accounts[signer.address].open_orders.values()
        assert sorted((o.coin, o.limit_px) for o in resting) == [("PURR/USDC", D("0.19975")), ("PURR/USDC", D("0.20025"))]
        await mm.stop()
        assert not local_exchange.engine.accounts[signer.address].open_orders


async def test_the_twap_buys_its_total_in_slices_with_the_fee_in_the_base_token(
        local_exchange: LocalExchange) -> None:
    async with _spot(local_exchange) as (conn, _maker, _signer):
        await _wait_book(conn)
        twap = TwapExecutor(conn, TwapConfig(trading_pair=PAIR, is_buy=True, total_amount=D(300), duration=0.6,
                                             slices=3, price_limit=D("0.205")))
        clock = Clock(0.05)
        clock.add(twap)
        await twap.start()
        clock.start()
        try:
            await asyncio.wait_for(twap.done.wait(), 15)
        finally:
            await clock.stop()
            await twap.stop()
        assert twap.executed == D(300) and twap.average_price == D("0.201") and twap.slices_sent == 3
        fees = [f.fee_amount for f in twap.recent_fills]
        assert {f.fee_asset for f in twap.recent_fills} == {"PURR"} and all(fee > 0 for fee in fees)
        await conn.refresh_balances()
        assert conn.get_balance("PURR") == D(5000) + D(300) - sum(fees, D(0))
        assert conn.get_balance("USDC") == D(1000) - D(300) * D("0.201")
        assert twap.position(PAIR) == D(5000) + D(300) - sum(fees, D(0))  # tokens held: start balance + fills


async def _wait_book(conn: HyperliquidSpotConnector) -> None:
    async with asyncio.timeout(10):
        while conn.get_order_book(PAIR).mid_price != D("0.2"):
            await conn.order_book_tracker.wait_for_update(PAIR)
