"""wingbeat.core: exchange-agnostic orders, events, trading rules, journal, connector base and networking.

Everything a connector or a strategy needs is importable from here. Names are exported lazily (PEP 562),
so importing one submodule (``wingbeat.core.errors``, say) does not load the networking stack. To export a
new name, add one line to ``_EXPORTS`` and the matching import under ``TYPE_CHECKING``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wingbeat._exports import resolve_export

if TYPE_CHECKING:
    from wingbeat.core.connector_base import CancellationResult as CancellationResult
    from wingbeat.core.connector_base import ConnectorBase as ConnectorBase
    from wingbeat.core.connector_base import PerpetualConnectorBase as PerpetualConnectorBase
    from wingbeat.core.data_sources import OrderBookDiff as OrderBookDiff
    from wingbeat.core.data_sources import OrderBookEventSink as OrderBookEventSink
    from wingbeat.core.data_sources import OrderBookSnapshot as OrderBookSnapshot
    from wingbeat.core.data_sources import OrderBookTrackerDataSource as OrderBookTrackerDataSource
    from wingbeat.core.data_sources import PublicTrade as PublicTrade
    from wingbeat.core.data_sources import UserStreamListener as UserStreamListener
    from wingbeat.core.data_sources import UserStreamTrackerDataSource as UserStreamTrackerDataSource
    from wingbeat.core.enums import OrderType as OrderType
    from wingbeat.core.enums import PositionAction as PositionAction
    from wingbeat.core.enums import TimeInForce as TimeInForce
    from wingbeat.core.enums import TradeType as TradeType
    from wingbeat.core.errors import AuthenticationError as AuthenticationError
    from wingbeat.core.errors import ExchangeRejection as ExchangeRejection
    from wingbeat.core.errors import InvalidOrderError as InvalidOrderError
    from wingbeat.core.errors import JournalError as JournalError
    from wingbeat.core.errors import NotReadyError as NotReadyError
    from wingbeat.core.errors import RateLimitedError as RateLimitedError
    from wingbeat.core.errors import RequestTimeout as RequestTimeout
    from wingbeat.core.errors import TransportError as TransportError
    from wingbeat.core.errors import WingbeatError as WingbeatError
    from wingbeat.core.events import BuyOrderCreatedEvent as BuyOrderCreatedEvent
    from wingbeat.core.events import Event as Event
    from wingbeat.core.events import EventListener as EventListener
    from wingbeat.core.events import EventPublisher as EventPublisher
    from wingbeat.core.events import FundingPaymentEvent as FundingPaymentEvent
    from wingbeat.core.events import OrderCancelledEvent as OrderCancelledEvent
    from wingbeat.core.events import OrderCompletedEvent as OrderCompletedEvent
    from wingbeat.core.events import OrderCreatedEvent as OrderCreatedEvent
    from wingbeat.core.events import OrderExpiredEvent as OrderExpiredEvent
    from wingbeat.core.events import OrderFailedEvent as OrderFailedEvent
    from wingbeat.core.events import OrderFilledEvent as OrderFilledEvent
    from wingbeat.core.events import OrderModifiedEvent as OrderModifiedEvent
    from wingbeat.core.events import OrderModifyFailedEvent as OrderModifyFailedEvent
    from wingbeat.core.events import OrderPartiallyFilledEvent as OrderPartiallyFilledEvent
    from wingbeat.core.events import PositionLiquidatedEvent as PositionLiquidatedEvent
    from wingbeat.core.events import SellOrderCreatedEvent as SellOrderCreatedEvent
    from wingbeat.core.events import TwapFailedEvent as TwapFailedEvent
    from wingbeat.core.events import TwapFinishedEvent as TwapFinishedEvent
    from wingbeat.core.events import TwapSliceFilledEvent as TwapSliceFilledEvent
    from wingbeat.core.events import TwapStartedEvent as TwapStartedEvent
    from wingbeat.core.gc_tuning import tune_gc as tune_gc
    from wingbeat.core.in_flight_order import InFlightOrder as InFlightOrder
    from wingbeat.core.in_flight_order import OrderModification as OrderModification
    from wingbeat.core.journal import OrderJournal as OrderJournal
    from wingbeat.core.order_book import Level as Level
    from wingbeat.core.order_book import OrderBook as OrderBook
    from wingbeat.core.order_book_tracker import OrderBookTracker as OrderBookTracker
    from wingbeat.core.order_state import FINAL_STATES as FINAL_STATES
    from wingbeat.core.order_state import OrderState as OrderState
    from wingbeat.core.order_state import can_transition as can_transition
    from wingbeat.core.order_tracker import ClientOrderTracker as ClientOrderTracker
    from wingbeat.core.order_updates import OrderOpened as OrderOpened
    from wingbeat.core.order_updates import OrderUpdate as OrderUpdate
    from wingbeat.core.order_updates import TradeUpdate as TradeUpdate
    from wingbeat.core.positions import FundingInfo as FundingInfo
    from wingbeat.core.positions import Position as Position
    from wingbeat.core.positions import PositionSide as PositionSide
    from wingbeat.core.tasks import TaskOwner as TaskOwner
    from wingbeat.core.throttler import WeightedRateLimiter as WeightedRateLimiter
    from wingbeat.core.trading_rule import TradingRule as TradingRule
    from wingbeat.core.ws_client import ReconnectingWebSocket as ReconnectingWebSocket
    from wingbeat.core.ws_client import WebSocketConfig as WebSocketConfig

_EXPORTS: dict[str, str] = {
    "CancellationResult": "wingbeat.core.connector_base",
    "ConnectorBase": "wingbeat.core.connector_base",
    "PerpetualConnectorBase": "wingbeat.core.connector_base",
    "OrderBookDiff": "wingbeat.core.data_sources",
    "OrderBookEventSink": "wingbeat.core.data_sources",
    "OrderBookSnapshot": "wingbeat.core.data_sources",
    "OrderBookTrackerDataSource": "wingbeat.core.data_sources",
    "PublicTrade": "wingbeat.core.data_sources",
    "UserStreamListener": "wingbeat.core.data_sources",
    "UserStreamTrackerDataSource": "wingbeat.core.data_sources",
    "OrderType": "wingbeat.core.enums",
    "PositionAction": "wingbeat.core.enums",
    "TimeInForce": "wingbeat.core.enums",
    "TradeType": "wingbeat.core.enums",
    "AuthenticationError": "wingbeat.core.errors",
    "ExchangeRejection": "wingbeat.core.errors",
    "InvalidOrderError": "wingbeat.core.errors",
    "JournalError": "wingbeat.core.errors",
    "NotReadyError": "wingbeat.core.errors",
    "RateLimitedError": "wingbeat.core.errors",
    "RequestTimeout": "wingbeat.core.errors",
    "TransportError": "wingbeat.core.errors",
    "WingbeatError": "wingbeat.core.errors",
    "BuyOrderCreatedEvent": "wingbeat.core.events",
    "Event": "wingbeat.core.events",
    "EventListener": "wingbeat.core.events",
    "EventPublisher": "wingbeat.core.events",
    "FundingPaymentEvent": "wingbeat.core.events",
    "OrderCancelledEvent": "wingbeat.core.events",
    "OrderCompletedEvent": "wingbeat.core.events",
    "OrderCreatedEvent": "wingbeat.core.events",
    "OrderExpiredEvent": "wingbeat.core.events",
    "OrderModifiedEvent": "wingbeat.core.events",
    "OrderModifyFailedEvent": "wingbeat.core.events",
    "OrderFailedEvent": "wingbeat.core.events",
    "OrderFilledEvent": "wingbeat.core.events",
    "OrderPartiallyFilledEvent": "wingbeat.core.events",
    "PositionLiquidatedEvent": "wingbeat.core.events",
    "SellOrderCreatedEvent": "wingbeat.core.events",
    "TwapFailedEvent": "wingbeat.core.events",
    "TwapFinishedEvent": "wingbeat.core.events",
    "TwapSliceFilledEvent": "wingbeat.core.events",
    "TwapStartedEvent": "wingbeat.core.events",
    "InFlightOrder": "wingbeat.core.in_flight_order",
    "tune_gc": "wingbeat.core.gc_tuning",
    "OrderModification": "wingbeat.core.in_flight_order",
    "OrderJournal": "wingbeat.core.journal",
    "Level": "wingbeat.core.order_book",
    "OrderBook": "wingbeat.core.order_book",
    "OrderBookTracker": "wingbeat.core.order_book_tracker",
    "FINAL_STATES": "wingbeat.core.order_state",
    "OrderState": "wingbeat.core.order_state",
    "can_transition": "wingbeat.core.order_state",
    "ClientOrderTracker": "wingbeat.core.order_tracker",
    "OrderOpened": "wingbeat.core.order_updates",
    "OrderUpdate": "wingbeat.core.order_updates",
    "TradeUpdate": "wingbeat.core.order_updates",
    "FundingInfo": "wingbeat.core.positions",
    "Position": "wingbeat.core.positions",
    "PositionSide": "wingbeat.core.positions",
    "TaskOwner": "wingbeat.core.tasks",
    "WeightedRateLimiter": "wingbeat.core.throttler",
    "TradingRule": "wingbeat.core.trading_rule",
    "ReconnectingWebSocket": "wingbeat.core.ws_client",
    "WebSocketConfig": "wingbeat.core.ws_client",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    return resolve_export(__name__, _EXPORTS, globals(), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
