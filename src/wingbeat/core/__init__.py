"""wingbeat.core: exchange-agnostic orders, events, trading rules, journal, connector base and networking.

Everything a connector or a strategy needs is importable from here.
"""

from wingbeat.core.connector_base import CancellationResult, ConnectorBase, PerpetualConnectorBase
from wingbeat.core.data_sources import (
    OrderBookDiff,
    OrderBookEventSink,
    OrderBookSnapshot,
    OrderBookTrackerDataSource,
    PublicTrade,
    UserStreamListener,
    UserStreamTrackerDataSource,
)
from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.errors import (
    AuthenticationError,
    ExchangeRejection,
    InvalidOrderError,
    JournalError,
    NotReadyError,
    RateLimitedError,
    RequestTimeout,
    TransportError,
    WingbeatError,
)
from wingbeat.core.events import (
    BuyOrderCreatedEvent,
    Event,
    EventListener,
    EventPublisher,
    FundingPaymentEvent,
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderExpiredEvent,
    OrderFailedEvent,
    OrderFilledEvent,
    OrderPartiallyFilledEvent,
    PositionLiquidatedEvent,
    SellOrderCreatedEvent,
)
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.journal import OrderJournal
from wingbeat.core.order_book import Level, OrderBook
from wingbeat.core.order_book_tracker import OrderBookTracker
from wingbeat.core.order_state import FINAL_STATES, OrderState, can_transition
from wingbeat.core.order_tracker import ClientOrderTracker
from wingbeat.core.order_updates import OrderUpdate, TradeUpdate
from wingbeat.core.positions import FundingInfo, Position, PositionSide
from wingbeat.core.tasks import TaskOwner
from wingbeat.core.throttler import WeightedRateLimiter
from wingbeat.core.trading_rule import TradingRule
from wingbeat.core.ws_client import ReconnectingWebSocket, WebSocketConfig

__all__ = [
    "FINAL_STATES",
    "AuthenticationError",
    "BuyOrderCreatedEvent",
    "CancellationResult",
    "ClientOrderTracker",
    "ConnectorBase",
    "Event",
    "EventListener",
    "EventPublisher",
    "ExchangeRejection",
    "FundingInfo",
    "FundingPaymentEvent",
    "InFlightOrder",
    "InvalidOrderError",
    "JournalError",
    "Level",
    "NotReadyError",
    "OrderBook",
    "OrderBookDiff",
    "OrderBookEventSink",
    "OrderBookSnapshot",
    "OrderBookTracker",
    "OrderBookTrackerDataSource",
    "OrderCancelledEvent",
    "OrderCompletedEvent",
    "OrderCreatedEvent",
    "OrderExpiredEvent",
    "OrderFailedEvent",
    "OrderFilledEvent",
    "OrderJournal",
    "OrderPartiallyFilledEvent",
    "OrderState",
    "OrderType",
    "OrderUpdate",
    "PerpetualConnectorBase",
    "Position",
    "PositionAction",
    "PositionLiquidatedEvent",
    "PositionSide",
    "PublicTrade",
    "RateLimitedError",
    "ReconnectingWebSocket",
    "RequestTimeout",
    "SellOrderCreatedEvent",
    "TaskOwner",
    "TimeInForce",
    "TradeType",
    "TradeUpdate",
    "TradingRule",
    "TransportError",
    "UserStreamListener",
    "UserStreamTrackerDataSource",
    "WebSocketConfig",
    "WeightedRateLimiter",
    "WingbeatError",
    "can_transition",
]
