"""One live order book per trading pair, fed by a venue's :class:`OrderBookTrackerDataSource`.

The tracker is the data source's sink: decoded snapshots, diffs, trades and funding updates are applied
synchronously in the stream's message callback, so a book is current as soon as its message is read.
Venues that stream diffs (``snapshot_after_reconnect``) get a REST snapshot at start and after every
reconnect; diffs that arrive meanwhile are buffered and replayed on top of the snapshot by
``update_id``. Strategies await ``wait_ready()`` once and ``wait_for_update(pair)`` per change.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType

from wingbeat.core.data_sources import (
    OrderBookDiff,
    OrderBookSnapshot,
    OrderBookTrackerDataSource,
    PublicTrade,
)
from wingbeat.core.errors import NotReadyError, RequestTimeout
from wingbeat.core.order_book import OrderBook
from wingbeat.core.positions import FundingInfo
from wingbeat.core.tasks import TaskOwner

__all__ = ["OrderBookTracker"]

_logger = logging.getLogger("wingbeat.core.order_book_tracker")

_MAX_BUFFERED_DIFFS = 10_000
_RETRY_INITIAL = 0.5
_RETRY_MAX = 30.0


class _PairState:
    """Everything the tracker keeps for one pair."""

    __slots__ = ("book", "buffer", "funding", "last_update_id", "trades", "waiters")

    def __init__(self, trading_pair: str, recent_trades: int) -> None:
        self.book = OrderBook(trading_pair)
        self.trades: deque[PublicTrade] = deque(maxlen=recent_trades)
        self.funding: FundingInfo | None = None
        self.last_update_id: int | None = None
        # not None while waiting for a REST snapshot: diffs are parked here
        self.buffer: deque[OrderBookDiff] | None = None
        self.waiters: list[asyncio.Future[OrderBook]] = []

    def wake(self) -> None:
        if self.waiters:
            for fut in self.waiters:
                if not fut.done():
                    fut.set_result(self.book)
            self.waiters.clear()


class OrderBookTracker:
    """Keeps an :class:`OrderBook`, recent public trades and funding info per trading pair.

    Implements :class:`~wingbeat.core.data_sources.OrderBookEventSink`. Malformed or inconsistent
    messages (unknown pair, unsorted or crossed levels) are logged and skipped; the previous state
    stays. ``sleep`` is injectable for the REST snapshot retry backoff.
    """

    def __init__(
        self,
        data_source: OrderBookTrackerDataSource,
        trading_pairs: Sequence[str],
        *,
        recent_trades: int = 100,
        name: str = "order_book_tracker",
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not trading_pairs:
            raise ValueError("an order book tracker needs at least one trading pair")
        if recent_trades < 1:
            raise ValueError(f"recent_trades must be >= 1, got {recent_trades}")
        self._data_source = data_source
        self._pairs = {pair: _PairState(pair, recent_trades) for pair in trading_pairs}
        self._books = MappingProxyType({pair: state.book for pair, state in self._pairs.items()})
        self._not_ready = set(self._pairs)
        self._ready = asyncio.Event()
        self._tasks = TaskOwner(name, _logger)
        self._sleep = sleep
        self._running = False
        self.snapshots = 0
        """Snapshots applied."""
        self.diffs = 0
        """Diffs applied."""
        self.trades = 0
        """Public trades recorded."""
        self.skipped = 0
        """Messages dropped as malformed, inconsistent, stale or for an unknown pair."""
        self.resyncs = 0
        """REST snapshot rounds started (at start and after reconnects of a diff stream)."""

    def __repr__(self) -> str:
        return f"OrderBookTracker(pairs={list(self._pairs)}, ready={self.ready})"

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the data source's stream (and, for diff streams, the initial REST snapshots)."""
        if self._running:
            return
        self._running = True
        if self._data_source.snapshot_after_reconnect:
            self._resync()
        try:
            await self._data_source.start(list(self._pairs), self)
        except BaseException:
            # leave nothing running behind a failed start; the caller may retry
            self._running = False
            await self._tasks.stop()
            raise

    async def stop(self) -> None:
        """Stop the data source and every task; pending ``wait_for_update`` calls get NotReadyError."""
        if not self._running:
            return
        self._running = False
        try:
            await self._data_source.stop()
        finally:
            await self._tasks.stop()
            for state in self._pairs.values():
                for fut in state.waiters:
                    if not fut.done():
                        fut.set_exception(NotReadyError("order book tracker stopped"))
                state.waiters.clear()

    # ------------------------------------------------------------------ queries

    @property
    def trading_pairs(self) -> list[str]:
        """The tracked pairs, in the order given."""
        return list(self._pairs)

    @property
    def order_books(self) -> Mapping[str, OrderBook]:
        """Read-only view of the books by trading pair."""
        return self._books

    def order_book(self, trading_pair: str) -> OrderBook:
        """The live book of ``trading_pair`` (KeyError for a pair that is not tracked)."""
        return self._state(trading_pair).book

    def recent_trades(self, trading_pair: str) -> tuple[PublicTrade, ...]:
        """The latest public trades of ``trading_pair``, oldest first."""
        return tuple(self._state(trading_pair).trades)

    def funding_info(self, trading_pair: str) -> FundingInfo | None:
        """Latest funding info of ``trading_pair``, None until the first one arrived."""
        return self._state(trading_pair).funding

    @property
    def ready(self) -> bool:
        """True once every pair has received its first snapshot."""
        return self._ready.is_set()

    async def wait_ready(self, timeout: float) -> None:  # noqa: ASYNC109 - a plain deadline is the API
        """Wait until every pair has a snapshot; :class:`RequestTimeout` names the missing pairs."""
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError:
            missing = ", ".join(sorted(self._not_ready))
            raise RequestTimeout(f"no order book snapshot within {timeout}s for: {missing}") from None

    async def wait_for_update(self, trading_pair: str, timeout: float | None = None) -> OrderBook:  # noqa: ASYNC109
        """Wait for the next change of ``trading_pair`` (snapshot, diff or trade) and return its book.

        Raises :class:`RequestTimeout` after ``timeout`` seconds without a change, and NotReadyError
        when the tracker is not running.
        """
        if not self._running:
            raise NotReadyError("order book tracker is not running")
        state = self._state(trading_pair)
        fut: asyncio.Future[OrderBook] = asyncio.get_running_loop().create_future()
        state.waiters.append(fut)
        try:
            async with asyncio.timeout(timeout):
                return await fut
        except TimeoutError:
            raise RequestTimeout(f"no update of {trading_pair} within {timeout}s") from None
        finally:
            if not fut.done():
                fut.cancel()
            if fut in state.waiters:
                state.waiters.remove(fut)

    def _state(self, trading_pair: str) -> _PairState:
        try:
            return self._pairs[trading_pair]
        except KeyError:
            raise KeyError(f"trading pair {trading_pair!r} is not tracked") from None

    # ------------------------------------------------------------------ sink (called by the data source)

    def on_snapshot(self, snapshot: OrderBookSnapshot) -> None:
        """Replace the pair's book, replay diffs buffered while waiting for it, and mark the pair ready."""
        self._apply_snapshot(snapshot)

    def _apply_snapshot(self, snapshot: OrderBookSnapshot) -> bool:
        state = self._pairs.get(snapshot.trading_pair)
        if state is None:
            self._skip("snapshot for untracked pair %r", snapshot.trading_pair)
            return False
        try:
            state.book.apply_snapshot(snapshot.bids, snapshot.asks, snapshot.timestamp)
        except ValueError as exc:
            self._skip("bad snapshot for %s: %s", snapshot.trading_pair, exc)
            return False
        self.snapshots += 1
        state.last_update_id = snapshot.update_id
        buffered, state.buffer = state.buffer, None
        if buffered:
            for diff in buffered:
                self._apply_diff(state, diff)
        if self._not_ready:
            self._not_ready.discard(snapshot.trading_pair)
            if not self._not_ready:
                self._ready.set()
        state.wake()
        return True

    def on_diff(self, diff: OrderBookDiff) -> None:
        """Apply level changes, or park them while the pair waits for a REST snapshot."""
        state = self._pairs.get(diff.trading_pair)
        if state is None:
            self._skip("diff for untracked pair %r", diff.trading_pair)
            return
        if state.buffer is not None:
            state.buffer.append(diff)
            return
        if self._apply_diff(state, diff):
            state.wake()

    def _apply_diff(self, state: _PairState, diff: OrderBookDiff) -> bool:
        last = state.last_update_id
        if diff.update_id is not None and last is not None and diff.update_id <= last:
            return False  # already contained in the snapshot
        try:
            state.book.apply_diff(diff.bids, diff.asks, diff.timestamp)
        except ValueError as exc:
            self._skip("bad diff for %s: %s", diff.trading_pair, exc)
            return False
        self.diffs += 1
        if diff.update_id is not None:
            state.last_update_id = diff.update_id
        return True

    def on_trades(self, trades: Sequence[PublicTrade]) -> None:
        """Record public trades and the pair's last trade price."""
        touched: set[str] = set()
        for trade in trades:
            state = self._pairs.get(trade.trading_pair)
            if state is None:
                self._skip("trade for untracked pair %r", trade.trading_pair)
                continue
            try:
                state.book.record_trade(trade.price)
            except ValueError as exc:
                self._skip("bad trade for %s: %s", trade.trading_pair, exc)
                continue
            state.trades.append(trade)
            self.trades += 1
            touched.add(trade.trading_pair)
        for pair in touched:
            self._pairs[pair].wake()

    def on_funding_info(self, info: FundingInfo) -> None:
        """Keep the latest funding info of the pair."""
        state = self._pairs.get(info.trading_pair)
        if state is None:
            self._skip("funding info for untracked pair %r", info.trading_pair)
            return
        state.funding = info

    def on_stream_reconnected(self) -> None:
        """Messages may have been lost: diff streams resynchronise from REST snapshots."""
        if self._data_source.snapshot_after_reconnect and self._running:
            _logger.info("stream reconnected: fetching fresh snapshots")
            self._resync()

    def _skip(self, message: str, *args: object) -> None:
        self.skipped += 1
        _logger.warning("skipped: " + message, *args)

    # ------------------------------------------------------------------ REST snapshots

    def _resync(self) -> None:
        self.resyncs += 1
        for pair, state in self._pairs.items():
            if state.buffer is None:
                state.buffer = deque(maxlen=_MAX_BUFFERED_DIFFS)
            # one fetch per pair at a time: a reconnect during a fetch restarts it
            for task in self._tasks.tasks:
                if task.get_name() == f"{self._tasks.name}.snapshot.{pair}":
                    task.cancel()
            self._tasks.create_task(self._fetch_snapshot(pair), name=f"snapshot.{pair}")

    async def _fetch_snapshot(self, trading_pair: str) -> None:
        delay = _RETRY_INITIAL
        while True:
            try:
                snapshot = await self._data_source.get_snapshot(trading_pair)
                if snapshot.trading_pair == trading_pair and self._apply_snapshot(snapshot):
                    return
                problem = "unusable snapshot"
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                problem = repr(exc)
            _logger.warning("snapshot of %s failed (%s); retrying in %.1fs", trading_pair, problem, delay)
            await self._sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)
