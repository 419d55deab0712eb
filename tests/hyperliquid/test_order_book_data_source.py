"""HyperliquidOrderBookDataSource end to end: local exchange, real REST + websocket clients, core tracker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest

from wingbeat.core.data_sources import OrderBookDiff, OrderBookSnapshot, PublicTrade
from wingbeat.core.order_book_tracker import OrderBookTracker
from wingbeat.core.positions import FundingInfo
from wingbeat.core.ws_client import WebSocketConfig
from wingbeat.hyperliquid.order_book_data_source import HyperliquidOrderBookDataSource, next_funding_time
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.schemas import L2Book
from wingbeat.hyperliquid.ws import HyperliquidWebSocket
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

MAKER = "0x" + "a1" * 20
TAKER = "0x" + "b2" * 20
FAST = WebSocketConfig(heartbeat_interval=5.0, stale_timeout=10.0, backoff_initial=0.01, backoff_max=0.05)


class RecordingSink:
    """The sink side of the contract, recording what the source pushes."""

    def __init__(self) -> None:
        self.snapshots: list[OrderBookSnapshot] = []
        self.trades: list[PublicTrade] = []
        self.funding: list[FundingInfo] = []
        self.reconnects = 0
        self._changed = asyncio.Event()

    def _touch(self) -> None:
        self._changed.set()

    def on_snapshot(self, snapshot: OrderBookSnapshot) -> None:
        self.snapshots.append(snapshot)
        self._touch()

    def on_diff(self, diff: OrderBookDiff) -> None:
        raise AssertionError("Hyperliquid streams snapshots, never diffs")

    def on_trades(self, trades: Sequence[PublicTrade]) -> None:
        self.trades.extend(trades)
        self._touch()

    def on_funding_info(self, info: FundingInfo) -> None:
        self.funding.append(info)
        self._touch()

    def on_stream_reconnected(self) -> None:
        self.reconnects += 1
        self._touch()

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with LocalExchange(liquidity=False) as ex:
        await ex.fund(MAKER)
        await ex.fund(TAKER)
        yield ex


@pytest.fixture
async def clients(
    exchange: LocalExchange,
) -> AsyncIterator[tuple[HyperliquidRestClient, HyperliquidWebSocket]]:
    async with (
        HyperliquidRestClient(exchange.base_url) as rest,
        HyperliquidWebSocket(exchange.ws_url, config=FAST) as ws,
    ):
        yield rest, ws


@pytest.fixture
def source(clients: tuple[HyperliquidRestClient, HyperliquidWebSocket]) -> HyperliquidOrderBookDataSource:
    rest, ws = clients
    return HyperliquidOrderBookDataSource(rest, ws, clock=lambda: 7_200.5)


def place(
    exchange: LocalExchange, user: str, asset: int, is_buy: bool, px: str, sz: str, tif: Any = "Gtc"
) -> None:
    exchange.engine.place_orders(user, [OrderRequest(asset, is_buy, Decimal(px), Decimal(sz), False, tif)])


def test_next_funding_time_is_the_next_whole_hour() -> None:
    assert next_funding_time(7_200.0) == 10_800.0
    assert next_funding_time(7_199.9) == 7_200.0


async def test_rest_snapshot_maps_coin_to_trading_pair(
    exchange: LocalExchange, source: HyperliquidOrderBookDataSource
) -> None:
    place(exchange, MAKER, 0, True, "50000", "0.5")
    place(exchange, MAKER, 0, False, "50100", "0.25")
    snapshot = await source.get_snapshot("BTC-USD")
    assert snapshot.trading_pair == "BTC-USD"
    assert snapshot.bids[0] == (Decimal("50000"), Decimal("0.5")) and snapshot.asks[0][0] == Decimal("50100")
    assert snapshot.timestamp > 1_600_000_000


async def test_funding_info_from_asset_contexts(source: HyperliquidOrderBookDataSource) -> None:
    info = await source.get_funding_info("ETH-USD")
    assert info.trading_pair == "ETH-USD" and info.mark_price > 0 and info.index_price > 0
    assert info.next_funding_utc_timestamp == 10_800.0


async def test_unknown_pair_is_refused(source: HyperliquidOrderBookDataSource) -> None:
    with pytest.raises(ValueError, match="pair"):
        await source.get_snapshot("BTC-USDT")


async def test_stream_delivers_books_trades_and_funding(
    exchange: LocalExchange, source: HyperliquidOrderBookDataSource
) -> None:
    sink = RecordingSink()
    await source.start(["BTC-USD", "ETH-USD"], sink)
    await sink.wait_until(lambda: {s.trading_pair for s in sink.snapshots} == {"BTC-USD", "ETH-USD"})
    await sink.wait_until(lambda: {f.trading_pair for f in sink.funding} >= {"BTC-USD", "ETH-USD"})
    place(exchange, MAKER, 0, True, "50000", "0.5")
    await sink.wait_until(lambda: any(s.bids and s.bids[0][0] == Decimal("50000") for s in sink.snapshots))
    place(exchange, TAKER, 0, False, "50000", "0.2", tif="Ioc")
    await sink.wait_until(lambda: bool(sink.trades))
    trade = sink.trades[0]
    assert trade.trading_pair == "BTC-USD" and trade.size == Decimal("0.2") and not trade.is_buy
    assert trade.trade_id.isdigit()
    await source.stop()


async def test_reconnect_brings_a_fresh_rest_snapshot(
    exchange: LocalExchange, source: HyperliquidOrderBookDataSource
) -> None:
    sink = RecordingSink()
    await source.start(["BTC-USD"], sink)
    await sink.wait_until(lambda: bool(sink.snapshots))
    exchange.faults.silence("l2Book")  # from now on only a REST snapshot can show the new bid
    place(exchange, MAKER, 0, True, "49500", "1")
    exchange.faults.drop_websockets()
    await sink.wait_until(lambda: sink.reconnects == 1)
    await sink.wait_until(lambda: any(s.bids and s.bids[0][0] == Decimal("49500") for s in sink.snapshots))
    await source.stop()


async def test_older_snapshot_never_replaces_a_newer_book(
    exchange: LocalExchange, source: HyperliquidOrderBookDataSource
) -> None:
    sink = RecordingSink()
    await source.start(["BTC-USD"], sink)
    await sink.wait_until(lambda: bool(sink.snapshots))
    latest = sink.snapshots[-1]
    # A slow REST answer from before the last push, as the websocket router would hand it over.
    stale = L2Book("BTC", int(latest.timestamp * 1000) - 1, [(Decimal("1"), Decimal("1"))], [])
    source._on_l2_book(stale)
    assert sink.snapshots[-1] is latest
    await source.stop()


async def test_core_tracker_keeps_the_book(
    exchange: LocalExchange, source: HyperliquidOrderBookDataSource
) -> None:
    place(exchange, MAKER, 2, True, "149", "3")
    place(exchange, MAKER, 2, False, "151", "2")
    tracker = OrderBookTracker(source, ["SOL-USD"])
    await tracker.start()
    try:
        await tracker.wait_ready(5.0)
        book = tracker.order_book("SOL-USD")
        assert book.best_bid == Decimal("149") and book.best_ask == Decimal("151")
        place(exchange, MAKER, 2, True, "150", "1")
        while book.best_bid != Decimal("150"):
            await tracker.wait_for_update("SOL-USD", timeout=5.0)
    finally:
        await tracker.stop()
