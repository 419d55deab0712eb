"""Exchange-agnostic contracts between a venue's streams and the core trackers.

A venue implements two data sources (Hyperliquid: ``hyperliquid/order_book_data_source.py`` and
``user_stream_data_source.py``). Both *push*: once started, they decode each websocket message at the
boundary into the typed objects below and hand them, synchronously and on the event loop, to a sink
(the :class:`~wingbeat.core.order_book_tracker.OrderBookTracker`) or a listener (the connector).
Pushing instead of queueing keeps the market-data hot path free of task switches; a sink that needs
slow work schedules it itself.

Reconnects: after the stream reconnects the source calls ``on_stream_reconnected`` /
``on_reconnected``. For books, the tracker then fetches REST snapshots if the venue streams diffs
(``snapshot_after_reconnect``); for user data, the connector reconciles missed fills over REST.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Protocol

from wingbeat.core.events import FundingPaymentEvent, PositionLiquidatedEvent
from wingbeat.core.order_book import Level
from wingbeat.core.order_updates import OrderOpened, OrderUpdate, TradeUpdate
from wingbeat.core.positions import FundingInfo

__all__ = [
    "OrderBookDiff",
    "OrderBookEventSink",
    "OrderBookSnapshot",
    "OrderBookTrackerDataSource",
    "PublicTrade",
    "UserStreamListener",
    "UserStreamTrackerDataSource",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderBookSnapshot:
    """Both sides of one pair's book, best level first (bids descending, asks ascending)."""

    trading_pair: str
    bids: Sequence[Level]
    asks: Sequence[Level]
    timestamp: float
    """Venue time of the snapshot, seconds since the epoch."""
    update_id: int | None = None
    """Venue sequence number, for venues that stream diffs; None when the venue has none."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderBookDiff:
    """Changed levels of one pair's book; a size of zero removes the level."""

    trading_pair: str
    bids: Sequence[Level]
    asks: Sequence[Level]
    timestamp: float
    update_id: int | None = None
    """Venue sequence number; diffs at or below a snapshot's ``update_id`` are already in it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicTrade:
    """One trade printed on the public tape."""

    trading_pair: str
    trade_id: str
    price: Decimal
    size: Decimal
    is_buy: bool
    """True when the aggressor (taker) bought."""
    timestamp: float


class OrderBookEventSink(Protocol):
    """Receives decoded market data from an :class:`OrderBookTrackerDataSource` (the tracker implements it).

    Every method is called synchronously from the stream's message callback and must be cheap.
    """

    def on_snapshot(self, snapshot: OrderBookSnapshot) -> None:
        """A full book for one pair."""

    def on_diff(self, diff: OrderBookDiff) -> None:
        """Incremental level changes for one pair."""

    def on_trades(self, trades: Sequence[PublicTrade]) -> None:
        """New public trades (possibly for several pairs)."""

    def on_funding_info(self, info: FundingInfo) -> None:
        """Updated funding state for one pair."""

    def on_stream_reconnected(self) -> None:
        """The stream reconnected and resubscribed; messages may have been missed meanwhile."""


class OrderBookTrackerDataSource(ABC):
    """Market data of one venue: REST snapshots plus a pushed stream of book, trade and funding messages."""

    snapshot_after_reconnect: ClassVar[bool] = True
    """True when the stream carries only diffs, so a REST snapshot is needed at start and after every
    reconnect. A venue whose stream pushes full snapshots (Hyperliquid's ``l2Book``) sets it False."""

    @abstractmethod
    async def get_snapshot(self, trading_pair: str) -> OrderBookSnapshot:
        """Fetch the current book of ``trading_pair`` over REST."""

    @abstractmethod
    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        """Fetch the current funding state of ``trading_pair`` over REST."""

    @abstractmethod
    async def start(self, trading_pairs: Sequence[str], sink: OrderBookEventSink) -> None:
        """Connect and subscribe to book, trade and funding streams of ``trading_pairs``.

        Returns once the subscriptions are requested; from then on decoded messages go to ``sink``.
        Malformed messages are logged and skipped, never passed on.
        """

    @abstractmethod
    async def stop(self) -> None:
        """Unsubscribe, close the stream and cancel (and await) every task the source started."""


class UserStreamListener(Protocol):
    """Receives a user's private updates from a :class:`UserStreamTrackerDataSource` (the connector).

    Called synchronously from the stream's message callback; keep each call cheap.
    """

    def on_order_updates(self, updates: Sequence[OrderUpdate | OrderOpened]) -> None:
        """Order state changes, in venue order (for the tracker's ``process_order_update``)."""

    def on_trade_updates(self, updates: Sequence[TradeUpdate]) -> None:
        """Fills of our orders; the same ``trade_id`` may arrive twice (snapshot + stream) and is counted once."""

    def on_funding_payments(self, payments: Sequence[FundingPaymentEvent]) -> None:
        """Funding paid or received on open positions."""

    def on_liquidation(self, liquidation: PositionLiquidatedEvent) -> None:
        """The venue liquidated (part of) the account."""

    def on_reconnected(self) -> None:
        """The stream reconnected; updates may have been missed, so the connector should reconcile over REST."""


class UserStreamTrackerDataSource(ABC):
    """A user's private stream (orders, fills, funding, liquidations) on one venue."""

    @abstractmethod
    async def start(self, listener: UserStreamListener) -> None:
        """Connect, authenticate or subscribe, and deliver decoded updates to ``listener`` until stopped."""

    @abstractmethod
    async def stop(self) -> None:
        """Close the stream and cancel (and await) every task the source started."""
