"""OrderBookTracker: readiness, buffering and replay of diffs, resync on reconnect, trades, funding, waits.

Most tests drive the tracker through a scripted data source (the ABC's contract, no venue); the last one
runs a complete diff-streaming venue over loopback HTTP + websocket with ReconnectingWebSocket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from wingbeat.core.data_sources import (
    OrderBookDiff,
    OrderBookEventSink,
    OrderBookSnapshot,
    OrderBookTrackerDataSource,
    PublicTrade,
)
from wingbeat.core.errors import NotReadyError, RequestTimeout
from wingbeat.core.order_book import Level
from wingbeat.core.order_book_tracker import OrderBookTracker
from wingbeat.core.positions import FundingInfo
from wingbeat.core.ws_client import ReconnectingWebSocket

D = Decimal


def lv(price: str, size: str) -> Level:
    return (D(price), D(size))


def snap(pair: str, bid: str = "100", ask: str = "101", update_id: int | None = None) -> OrderBookSnapshot:
    return OrderBookSnapshot(
        trading_pair=pair, bids=[lv(bid, "1")], asks=[lv(ask, "1")], timestamp=1.0, update_id=update_id
    )


def diff(pair: str, bids: Sequence[Level], update_id: int | None = None) -> OrderBookDiff:
    return OrderBookDiff(trading_pair=pair, bids=bids, asks=[], timestamp=2.0, update_id=update_id)


def trade(pair: str, price: str, trade_id: str) -> PublicTrade:
    return PublicTrade(
        trading_pair=pair, trade_id=trade_id, price=D(price), size=D(1), is_buy=True, timestamp=3.0
    )


class ScriptedSource(OrderBookTrackerDataSource):
    """A data source whose REST answers the test scripts; the test pushes stream messages via ``sink``."""

    def __init__(self, *, diff_stream: bool) -> None:
        self.snapshot_after_reconnect = diff_stream  # type: ignore[misc]
        self.sink: OrderBookEventSink | None = None
        self.rest: asyncio.Queue[OrderBookSnapshot | Exception] = asyncio.Queue()
        self.rest_calls: list[str] = []
        self.stopped = False

    async def get_snapshot(self, trading_pair: str) -> OrderBookSnapshot:
        self.rest_calls.append(trading_pair)
        answer = await self.rest.get()
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        raise NotImplementedError

    async def start(self, trading_pairs: Sequence[str], sink: OrderBookEventSink) -> None:
        self.sink = sink

    async def stop(self) -> None:
        self.stopped = True


async def started(
    source: ScriptedSource, pairs: Sequence[str] = ("BTC", "ETH"), **kw: Any
) -> OrderBookTracker:
    tracker = OrderBookTracker(source, pairs, **kw)
    await tracker.start()
    return tracker


async def test_ready_only_after_every_pair_has_a_snapshot() -> None:
    source = ScriptedSource(diff_stream=False)
    tracker = await started(source)
    assert source.sink is tracker and source.rest_calls == []
    tracker.on_snapshot(snap("BTC"))
    assert not tracker.ready
    with pytest.raises(RequestTimeout, match="ETH"):
        await tracker.wait_ready(0.01)
    tracker.on_snapshot(snap("ETH", "2000", "2001"))
    await tracker.wait_ready(1)
    assert tracker.order_book("ETH").best_ask == D("2001")
    assert set(tracker.order_books) == {"BTC", "ETH"}
    await tracker.stop()
    assert source.stopped


async def test_snapshot_stream_replaces_the_book_on_every_push() -> None:
    source = ScriptedSource(diff_stream=False)
    tracker = await started(source, ["BTC"])
    tracker.on_snapshot(snap("BTC", "100", "101"))
    tracker.on_snapshot(snap("BTC", "105", "106"))
    book = tracker.order_book("BTC")
    assert (book.best_bid, book.best_ask) == (D("105"), D("106"))
    tracker.on_stream_reconnected()  # full snapshots follow on their own: nothing fetched
    assert source.rest_calls == [] and tracker.resyncs == 0
    assert tracker.snapshots == 2
    await tracker.stop()


async def test_diff_stream_buffers_until_the_rest_snapshot_then_replays_newer_diffs() -> None:
    source = ScriptedSource(diff_stream=True)
    tracker = await started(source, ["BTC"])
    tracker.on_diff(diff("BTC", [lv("99", "5")], update_id=9))  # already inside the snapshot
    tracker.on_diff(diff("BTC", [lv("98", "2")], update_id=11))
    assert tracker.order_book("BTC").is_empty and not tracker.ready
    await source.rest.put(snap("BTC", update_id=10))
    await tracker.wait_ready(1)
    assert source.rest_calls == ["BTC"]
    assert list(tracker.order_book("BTC").bids()) == [lv("100", "1"), lv("98", "2")]
    tracker.on_diff(diff("BTC", [lv("100", "0")], update_id=11))  # stale: ignored
    tracker.on_diff(diff("BTC", [lv("100", "0")], update_id=12))
    assert list(tracker.order_book("BTC").bids()) == [lv("98", "2")]
    assert tracker.diffs == 2
    await tracker.stop()


async def test_failed_rest_snapshot_is_retried_with_growing_delays() -> None:
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)

    source = ScriptedSource(diff_stream=True)
    tracker = await started(source, ["BTC"], sleep=fake_sleep)
    await source.rest.put(ConnectionError("refused"))
    await source.rest.put(snap("BTC", "101", "100"))  # crossed: unusable, retried too
    await source.rest.put(snap("BTC"))
    await tracker.wait_ready(1)
    assert delays == [0.5, 1.0]
    assert source.rest_calls == ["BTC"] * 3
    await tracker.stop()


async def test_reconnect_of_a_diff_stream_resyncs_from_a_fresh_snapshot() -> None:
    source = ScriptedSource(diff_stream=True)
    tracker = await started(source, ["BTC"])
    await source.rest.put(snap("BTC", update_id=5))
    await tracker.wait_ready(1)
    tracker.on_stream_reconnected()
    tracker.on_diff(diff("BTC", [lv("99.5", "1")], update_id=21))  # parked until the snapshot
    assert tracker.order_book("BTC").best_bid == D("100")
    await source.rest.put(snap("BTC", "99", "99.9", update_id=20))
    await tracker.wait_for_update("BTC", timeout=1)
    assert list(tracker.order_book("BTC").bids()) == [lv("99.5", "1"), lv("99", "1")]
    assert tracker.resyncs == 2
    await tracker.stop()


async def test_bad_messages_are_skipped_and_the_previous_state_kept() -> None:
    source = ScriptedSource(diff_stream=False)
    tracker = await started(source, ["BTC"])
    tracker.on_snapshot(snap("BTC"))
    tracker.on_snapshot(snap("BTC", "102", "101"))  # crossed
    tracker.on_snapshot(snap("DOGE"))  # untracked
    tracker.on_diff(diff("BTC", [lv("99", "-1")]))  # negative size
    tracker.on_trades([trade("BTC", "0", "t0"), trade("XRP", "1", "t1")])
    tracker.on_funding_info(
        FundingInfo(
            trading_pair="XRP", index_price=D(1), mark_price=D(1), next_funding_utc_timestamp=0, rate=D(0)
        )
    )
    book = tracker.order_book("BTC")
    assert (book.best_bid, book.best_ask, book.last_trade_price) == (D("100"), D("101"), None)
    assert tracker.skipped == 6
    with pytest.raises(KeyError, match="DOGE"):
        tracker.order_book("DOGE")
    await tracker.stop()


async def test_trades_set_last_price_and_keep_a_bounded_history() -> None:
    source = ScriptedSource(diff_stream=False)
    tracker = await started(source, ["BTC", "ETH"], recent_trades=2)
    waiter = asyncio.create_task(tracker.wait_for_update("ETH", timeout=5))
    await asyncio.sleep(0)
    tracker.on_trades([trade("BTC", "100", "1"), trade("BTC", "101", "2"), trade("ETH", "7", "3")])
    tracker.on_trades([trade("BTC", "102", "4")])
    assert [t.trade_id for t in tracker.recent_trades("BTC")] == ["2", "4"]
    assert tracker.order_book("BTC").last_trade_price == D("102")
    assert (await waiter).last_trade_price == D("7")
    assert tracker.trades == 4
    await tracker.stop()


async def test_funding_info_is_kept_per_pair() -> None:
    source = ScriptedSource(diff_stream=False)
    tracker = await started(source, ["BTC"])
    assert tracker.funding_info("BTC") is None
    info = FundingInfo(
        trading_pair="BTC",
        index_price=D("100"),
        mark_price=D("100.1"),
        next_funding_utc_timestamp=3600,
        rate=D("1e-5"),
    )
    tracker.on_funding_info(info)
    assert tracker.funding_info("BTC") == info
    await tracker.stop()


async def test_wait_for_update_wakes_every_waiter_of_that_pair_only() -> None:
    source = ScriptedSource(diff_stream=False)
    tracker = await started(source)
    btc = [asyncio.create_task(tracker.wait_for_update("BTC", timeout=5)) for _ in range(2)]
    eth = asyncio.create_task(tracker.wait_for_update("ETH", timeout=5))
    await asyncio.sleep(0)
    tracker.on_snapshot(snap("BTC"))
    books = await asyncio.gather(*btc)
    assert all(b is tracker.order_book("BTC") for b in books)
    assert not eth.done()
    with pytest.raises(RequestTimeout):
        await tracker.wait_for_update("BTC", timeout=0.01)
    await tracker.stop()
    with pytest.raises(NotReadyError):
        await eth
    with pytest.raises(NotReadyError):
        await tracker.wait_for_update("BTC", timeout=1)


async def test_stop_cancels_pending_snapshot_fetches() -> None:
    before = asyncio.all_tasks()
    source = ScriptedSource(diff_stream=True)
    tracker = await started(source)
    await asyncio.sleep(0)
    assert sorted(source.rest_calls) == ["BTC", "ETH"]  # both fetches are waiting on the queue
    await tracker.stop()
    assert not {t for t in asyncio.all_tasks() - before if not t.done()}


async def test_failed_source_start_leaves_nothing_running_and_can_be_retried() -> None:
    before = asyncio.all_tasks()

    class FailingOnce(ScriptedSource):
        attempts = 0

        async def start(self, trading_pairs: Sequence[str], sink: OrderBookEventSink) -> None:
            self.attempts += 1
            if self.attempts == 1:
                raise ConnectionError("venue down")
            await super().start(trading_pairs, sink)

    source = FailingOnce(diff_stream=True)
    tracker = OrderBookTracker(source, ["BTC"])
    with pytest.raises(ConnectionError):
        await tracker.start()
    assert not {t for t in asyncio.all_tasks() - before if not t.done()}
    await tracker.start()
    await source.rest.put(snap("BTC"))
    await tracker.wait_ready(1)
    await tracker.stop()


def test_invalid_construction_is_rejected() -> None:
    source = ScriptedSource(diff_stream=False)
    with pytest.raises(ValueError):
        OrderBookTracker(source, [])
    with pytest.raises(ValueError):
        OrderBookTracker(source, ["BTC"], recent_trades=0)
    assert "BTC" in repr(OrderBookTracker(source, ["BTC"]))


# ---------------------------------------------------------------- a diff venue over loopback sockets


class DiffVenue:
    """Serves ``GET /book`` (snapshot with sequence) and ``/ws`` (a diff per push) for one pair."""

    def __init__(self) -> None:
        self.seq = 0
        self.bids: dict[str, str] = {"100": "1"}
        self.sockets: list[web.WebSocketResponse] = []
        self.new_socket = asyncio.Event()
        self.url = ""
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/book", self._book)
        app.router.add_get("/ws", self._ws)
        self.runner = web.AppRunner(app, handle_signals=False)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def _book(self, request: web.Request) -> web.Response:
        bids = sorted(self.bids.items(), key=lambda kv: -D(kv[0]))
        return web.json_response({"seq": self.seq, "bids": bids, "asks": [["200", "1"]]})

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        self.new_socket.set()
        async for _ in ws:
            pass
        return ws

    async def set_bid(self, price: str, size: str, *, publish: bool = True) -> None:
        self.seq += 1
        if size == "0":
            self.bids.pop(price, None)
        else:
            self.bids[price] = size
        if publish and self.sockets and not self.sockets[-1].closed:
            await self.sockets[-1].send_bytes(orjson.dumps({"seq": self.seq, "bids": [[price, size]]}))


class LoopbackDiffSource(OrderBookTrackerDataSource):
    """A tiny but real venue data source: REST snapshots over HTTP, diffs over ReconnectingWebSocket."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self.session = session
        self.ws: ReconnectingWebSocket | None = None
        self.sink: OrderBookEventSink | None = None

    async def get_snapshot(self, trading_pair: str) -> OrderBookSnapshot:
        async with self.session.get(f"{self.base_url}/book") as resp:
            body = orjson.loads(await resp.read())
        return OrderBookSnapshot(
            trading_pair=trading_pair,
            bids=[(D(p), D(s)) for p, s in body["bids"]],
            asks=[(D(p), D(s)) for p, s in body["asks"]],
            timestamp=0.0,
            update_id=body["seq"],
        )

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        raise NotImplementedError

    async def start(self, trading_pairs: Sequence[str], sink: OrderBookEventSink) -> None:
        self.sink = sink
        first = True

        async def on_connected() -> None:
            nonlocal first
            if not first:
                sink.on_stream_reconnected()
            first = False

        def on_message(frame: bytes) -> None:
            msg = orjson.loads(frame)
            bids = [(D(p), D(s)) for p, s in msg["bids"]]
            sink.on_diff(
                OrderBookDiff(trading_pair="BTC", bids=bids, asks=[], timestamp=0.0, update_id=msg["seq"])
            )

        self.ws = ReconnectingWebSocket(
            self.base_url.replace("http", "ws") + "/ws",
            on_message=on_message,
            on_connected=on_connected,
            session=self.session,
            rng=lambda: 0.0,
        )
        await self.ws.start()

    async def stop(self) -> None:
        if self.ws is not None:
            await self.ws.stop()


@pytest.fixture
async def venue() -> AsyncIterator[DiffVenue]:
    v = DiffVenue()
    await v.start()
    yield v
    assert v.runner is not None
    await v.runner.cleanup()


async def test_diff_venue_over_sockets_recovers_missed_diffs_after_a_reconnect(venue: DiffVenue) -> None:
    async with aiohttp.ClientSession() as session:
        tracker = OrderBookTracker(LoopbackDiffSource(venue.url, session), ["BTC"])
        await tracker.start()
        await tracker.wait_ready(5)
        await asyncio.wait_for(venue.new_socket.wait(), 5)
        book = tracker.order_book("BTC")

        async def until_bids(expected: list[Level]) -> None:
            while list(book.bids()) != expected:
                await tracker.wait_for_update("BTC", timeout=5)

        await venue.set_bid("99", "3")
        await until_bids([lv("100", "1"), lv("99", "3")])

        # the connection drops and a change happens while nobody listens
        venue.new_socket.clear()
        await venue.sockets[-1].close()
        await venue.set_bid("100", "0", publish=False)
        await asyncio.wait_for(venue.new_socket.wait(), 5)
        await until_bids([lv("99", "3")])
        assert tracker.resyncs == 2

        await venue.set_bid("98", "1")
        await until_bids([lv("99", "3"), lv("98", "1")])
        await tracker.stop()
