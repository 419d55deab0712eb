"""Hyperliquid market data: l2Book, trades and activeAssetCtx over the websocket, REST snapshots.

Hyperliquid pushes a full 20-level snapshot on every ``l2Book`` message, so there are no diffs to
sequence. A REST snapshot still seeds each book at start and after every reconnect (the websocket
may stay quiet on a calm market). Snapshots are ordered by the venue's time: one older than the
last book pushed for the pair is dropped, so a slow REST answer never rolls a book back.

Trading pairs are ``"<COIN>-USD"`` (``BTC-USD`` <-> ``BTC``). Funding info comes from
``activeAssetCtx`` (mark, oracle, hourly rate); the next funding time is the next whole hour.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from wingbeat.core.data_sources import (
    OrderBookEventSink,
    OrderBookSnapshot,
    OrderBookTrackerDataSource,
    PublicTrade,
)
from wingbeat.core.errors import WingbeatError
from wingbeat.core.positions import FundingInfo
from wingbeat.core.tasks import TaskOwner
from wingbeat.hyperliquid.constants import FUNDING_INTERVAL_S, coin_to_trading_pair, trading_pair_to_coin
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.schemas import AssetCtx, L2Book, MalformedMessageError
from wingbeat.hyperliquid.schemas_ws import ActiveAssetCtx, Trade
from wingbeat.hyperliquid.ws import HyperliquidWebSocket

__all__ = ["HyperliquidOrderBookDataSource", "next_funding_time"]

_logger = logging.getLogger("wingbeat.hyperliquid.order_book_data_source")


def next_funding_time(now: float) -> float:
    """The next whole hour after ``now`` (seconds since the epoch): when Hyperliquid pays funding."""
    return float((math.floor(now / FUNDING_INTERVAL_S) + 1) * FUNDING_INTERVAL_S)


def _funding_info(trading_pair: str, ctx: AssetCtx, now: float) -> FundingInfo:
    return FundingInfo(
        trading_pair=trading_pair,
        index_price=ctx.oracle_px,
        mark_price=ctx.mark_px,
        next_funding_utc_timestamp=next_funding_time(now),
        rate=ctx.funding,
    )


def _snapshot(trading_pair: str, book: L2Book) -> OrderBookSnapshot:
    return OrderBookSnapshot(
        trading_pair=trading_pair, bids=book.bids, asks=book.asks, timestamp=book.time_ms / 1000
    )


class HyperliquidOrderBookDataSource(OrderBookTrackerDataSource):
    """Order books, public trades and funding info of Hyperliquid perpetuals.

    ``rest`` serves snapshots and funding info; ``ws`` carries the subscriptions. The source starts
    and stops ``ws`` only when ``owns_ws`` is True (a shared websocket is left to its owner).
    ``clock`` gives seconds since the epoch (for the next funding time). ``coins`` names the venue coin
    of each trading pair where it is not the perp rule's (``"BTC-USD"`` -> ``"BTC"``), e.g. spot
    ``{"PURR-USDC": "PURR/USDC"}``; ``asset_contexts=False`` skips ``activeAssetCtx`` (spot has no funding).
    """

    snapshot_after_reconnect = False

    def __init__(
        self,
        rest: HyperliquidRestClient,
        ws: HyperliquidWebSocket,
        *,
        owns_ws: bool = False,
        clock: Callable[[], float] = time.time,
        coins: Mapping[str, str] | None = None,
        asset_contexts: bool = True,
    ) -> None:
        self._rest = rest
        self._coins = dict(coins or {})
        self._asset_contexts = asset_contexts
        self._ws = ws
        self._owns_ws = owns_ws
        self._clock = clock
        self._tasks = TaskOwner("hyperliquid.order_book_data_source", _logger)
        self._sink: OrderBookEventSink | None = None
        self._pairs: dict[str, str] = {}  # coin -> trading pair
        self._book_time_ms: dict[str, int] = {}  # coin -> venue time of the last book pushed
        self._subscriptions: list[dict[str, Any]] = []

    # -- REST ----------------------------------------------------------------------------------------

    async def get_snapshot(self, trading_pair: str) -> OrderBookSnapshot:
        """The current book of ``trading_pair`` over REST."""
        return _snapshot(trading_pair, await self._rest.l2_book(self._coin(trading_pair)))

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        """Mark, oracle price and funding rate of ``trading_pair`` over REST (metaAndAssetCtxs)."""
        coin = trading_pair_to_coin(trading_pair)
        answer = await self._rest.meta_and_asset_ctxs()
        for asset in answer.meta.universe:
            if asset.name == coin:
                ctx = answer.ctx_of(asset.asset)
                if ctx is None:
                    break
                return _funding_info(trading_pair, ctx, self._clock())
        raise MalformedMessageError(f"metaAndAssetCtxs has no context for {coin!r}")

    # -- streaming -----------------------------------------------------------------------------------

    async def start(self, trading_pairs: Sequence[str], sink: OrderBookEventSink) -> None:
        """Subscribe l2Book, trades and activeAssetCtx of each pair, then seed each book over REST."""
        self._sink = sink
        self._pairs = {self._coin(pair): pair for pair in trading_pairs}
        if self._owns_ws:
            await self._ws.start()
        self._ws.add_reconnect_listener(self._on_reconnected)
        for coin in self._pairs:
            for kind, handler in (
                ("l2Book", self._on_l2_book),
                ("trades", self._on_trades),
                ("activeAssetCtx", self._on_asset_ctx),
            ):
                if kind == "activeAssetCtx" and not self._asset_contexts:
                    continue
                subscription = {"type": kind, "coin": coin}
                await self._ws.subscribe(subscription, handler)
                self._subscriptions.append(subscription)
        await asyncio.gather(*(self._seed(coin) for coin in self._pairs))

    async def stop(self) -> None:
        """Unsubscribe, cancel pending snapshot fetches (and stop the websocket when owned)."""
        self._ws.remove_reconnect_listener(self._on_reconnected)
        await self._tasks.stop()
        if self._owns_ws:
            await self._ws.stop()
        else:
            for subscription in self._subscriptions:
                await self._ws.unsubscribe(subscription)
        self._subscriptions.clear()
        self._sink = None

    def _coin(self, trading_pair: str) -> str:
        return self._coins.get(trading_pair) or trading_pair_to_coin(trading_pair)

    async def _seed(self, coin: str) -> None:
        """Push a REST snapshot of ``coin`` unless a newer book already arrived."""
        try:
            book = await self._rest.l2_book(coin)
        except WingbeatError as exc:
            # The websocket's next push will provide the book; nothing is lost by skipping.
            _logger.warning("REST snapshot of %s failed: %s", coin, exc)
            return
        self._on_l2_book(book)

    def _on_reconnected(self) -> None:
        if self._sink is None:
            return
        self._sink.on_stream_reconnected()
        for coin in self._pairs:
            self._tasks.create_task(self._seed(coin), name=f"snapshot.{coin}")

    # -- handlers (synchronous, called by the websocket router) --------------------------------------

    def _on_l2_book(self, book: L2Book) -> None:
        sink = self._sink
        pair = self._pairs.get(book.coin)
        if sink is None or pair is None:
            return
        last = self._book_time_ms.get(book.coin)
        if last is not None and book.time_ms < last:
            return
        self._book_time_ms[book.coin] = book.time_ms
        sink.on_snapshot(_snapshot(pair, book))

    def _on_trades(self, trades: Sequence[Trade]) -> None:
        sink = self._sink
        if sink is None:
            return
        out = [
            PublicTrade(
                trading_pair=self._pairs.get(t.coin) or coin_to_trading_pair(t.coin),
                trade_id=str(t.tid),
                price=t.px,
                size=t.sz,
                is_buy=t.is_buy,
                timestamp=t.time_ms / 1000,
            )
            for t in trades
        ]
        if out:
            sink.on_trades(out)

    def _on_asset_ctx(self, message: ActiveAssetCtx) -> None:
        sink = self._sink
        pair = self._pairs.get(message.coin)
        if sink is None or pair is None:
            return
        sink.on_funding_info(_funding_info(pair, message.ctx, self._clock()))
