"""TWAP: slices over time, never beyond the price limit, done when filled or out of time."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.engine.venue import connector_for, exchange_open_orders, make_book, place, wait_book
from wingbeat.engine.clock import Clock
from wingbeat.engine.twap import TwapConfig, TwapExecutor

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange

D = Decimal
PAIR = "BTC-USD"


async def _run(ex: LocalExchange, trader: Trader, config: TwapConfig) -> TwapExecutor:
    async with connector_for(ex, trader) as conn:
        twap = TwapExecutor(conn, config)
        clock = Clock(0.05)
        clock.add(twap)
        await twap.start()
        clock.start()
        try:
            await asyncio.wait_for(twap.done.wait(), 15)
        finally:
            await clock.stop()
            await twap.stop()
        assert conn.open_orders == []
    assert await exchange_open_orders(ex, trader.address) == []
    return twap


async def test_buys_the_total_in_slices_within_the_limit(local_exchange: LocalExchange, trader: Trader) -> None:
    await make_book(local_exchange, ask="60010", size="1")
    twap = await _run(local_exchange, trader, TwapConfig(trading_pair=PAIR, is_buy=True, total_amount=D("0.003"),
                                                          duration=0.6, slices=3, price_limit=D(60020)))
    assert twap.executed == D("0.003")
    assert twap.average_price == D(60010)
    assert twap.slices_sent == 3
    assert twap.orders_placed == 3


async def test_never_pays_above_the_limit_and_stops_after_the_duration(local_exchange: LocalExchange,
                                                                       trader: Trader) -> None:
    await make_book(local_exchange, bid="59990", ask="60010")
    twap = await _run(local_exchange, trader, TwapConfig(trading_pair=PAIR, is_buy=True, total_amount=D("0.003"),
                                                          duration=0.4, slices=2, price_limit=D(60000)))
    assert twap.executed == 0 and twap.average_price is None
    assert twap.orders_placed >= 1  # it rested at the limit, below the ask, and was cancelled at the end


async def test_sell_side_takes_the_bid(local_exchange: LocalExchange, trader: Trader) -> None:
    await make_book(local_exchange, bid="59990", ask="60010")
    twap = await _run(local_exchange, trader, TwapConfig(trading_pair=PAIR, is_buy=False, total_amount=D("0.002"),
                                                          duration=0.3, slices=2, price_limit=D(59000)))
    assert twap.executed == D("0.002") and twap.average_price == D(59990)



async def test_a_last_slice_the_book_moved_away_from_is_sent_again_at_the_new_price(
        local_exchange: LocalExchange, trader: Trader) -> None:
    # The makers re-quote while a slice is on its way (more often so on a loaded machine): the last slice meets
    # less than it wants at its price and rests below a new ask. It used to rest there until the end and be
    # cancelled ("executed 0.0025 of 0.003"); the remainder now follows the book, within the limit.
    maker = await make_book(local_exchange, ask="60010", size="0.0025")
    config = TwapConfig(trading_pair=PAIR, is_buy=True, total_amount=D("0.003"), duration=1.5, slices=3,
                        price_limit=D(60020))
    async with connector_for(local_exchange, trader) as conn:
        twap = TwapExecutor(conn, config)
        clock = Clock(0.05)
        clock.add(twap)
        await twap.start()
        clock.start()
        try:
            book = conn.get_order_book(PAIR)
            await wait_book(conn, lambda: twap.slices_sent == 3 and book.best_ask is None)  # the last slice rests
            await place(local_exchange, maker, is_buy=False, price="60015", size="1")  # the book moved up
            await asyncio.wait_for(twap.done.wait(), 15)
        finally:
            await clock.stop()
            await twap.stop()
        assert conn.open_orders == []
    assert twap.executed == D("0.003")
    assert twap.average_price is not None and twap.average_price <= D(60015)
    assert await exchange_open_orders(local_exchange, trader.address) == []
