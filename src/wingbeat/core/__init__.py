"""wingbeat.core: exchange-agnostic orders, events, trading rules, journal, connector base and networking.

Everything a connector or a strategy needs is importable from here.
"""

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
from wingbeat.core.order_state import FINAL_STATES, OrderState, can_transition
from wingbeat.core.order_updates import OrderUpdate, TradeUpdate
from wingbeat.core.positions import FundingInfo, Position, PositionSide
from wingbeat.core.tasks import TaskOwner
from wingbeat.core.trading_rule import TradingRule

__all__ = [
    "FINAL_STATES",
    "AuthenticationError",
    "BuyOrderCreatedEvent",
    "Event",
    "EventListener",
    "EventPublisher",
    "ExchangeRejection",
    "FundingInfo",
    "FundingPaymentEvent",
    "InvalidOrderError",
    "JournalError",
    "NotReadyError",
    "OrderCancelledEvent",
    "OrderCompletedEvent",
    "OrderCreatedEvent",
    "OrderExpiredEvent",
    "OrderFailedEvent",
    "OrderFilledEvent",
    "OrderPartiallyFilledEvent",
    "OrderState",
    "OrderType",
    "OrderUpdate",
    "Position",
    "PositionAction",
    "PositionLiquidatedEvent",
    "PositionSide",
    "RateLimitedError",
    "RequestTimeout",
    "SellOrderCreatedEvent",
    "TaskOwner",
    "TimeInForce",
    "TradeType",
    "TradeUpdate",
    "TradingRule",
    "TransportError",
    "WingbeatError",
    "can_transition",
]
