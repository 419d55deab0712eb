"""Typed events a connector publishes, the listener interface and the fan-out publisher.

Events are delivered synchronously, in order, on the event loop thread. A listener that wants to do slow
or async work schedules it itself; a listener that raises is logged and skipped, it never breaks the
connector or the other listeners.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from wingbeat.core.enums import OrderType, PositionAction, TradeType
from wingbeat.core.frozen_init import fast_frozen_init

__all__ = [
    "BuyOrderCreatedEvent",
    "Event",
    "EventListener",
    "EventPublisher",
    "FundingPaymentEvent",
    "OrderCancelledEvent",
    "OrderCompletedEvent",
    "OrderCreatedEvent",
    "OrderExpiredEvent",
    "OrderFailedEvent",
    "OrderFilledEvent",
    "OrderModifiedEvent",
    "OrderModifyFailedEvent",
    "OrderPartiallyFilledEvent",
    "PositionLiquidatedEvent",
    "SellOrderCreatedEvent",
    "TwapFailedEvent",
    "TwapFinishedEvent",
    "TwapSliceFilledEvent",
    "TwapStartedEvent",
]

_logger = logging.getLogger("wingbeat.core.events")


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every event: when it happened (seconds since epoch)."""

    timestamp: float


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCreatedEvent(Event):
    """The exchange accepted an order (published once, when it first leaves the pending-submit states)."""

    client_order_id: str
    exchange_order_id: str | None
    trading_pair: str
    trade_type: TradeType
    order_type: OrderType
    amount: Decimal
    price: Decimal
    position_action: PositionAction
    creation_timestamp: float


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class BuyOrderCreatedEvent(OrderCreatedEvent):
    """A buy order was accepted by the exchange."""


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SellOrderCreatedEvent(OrderCreatedEvent):
    """A sell order was accepted by the exchange."""


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilledEvent(Event):
    """One fill, published exactly once per venue trade id."""

    client_order_id: str
    exchange_order_id: str | None
    trading_pair: str
    trade_type: TradeType
    order_type: OrderType
    position_action: PositionAction
    trade_id: str
    price: Decimal
    amount: Decimal
    quote_amount: Decimal
    fee_asset: str
    fee_amount: Decimal
    is_taker: bool


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPartiallyFilledEvent(Event):
    """A fill left part of the order unexecuted."""

    client_order_id: str
    trading_pair: str
    trade_type: TradeType
    executed_amount_base: Decimal
    executed_amount_quote: Decimal
    remaining_amount: Decimal


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCompletedEvent(Event):
    """The order is FILLED and its fills add up to its amount (published once)."""

    client_order_id: str
    exchange_order_id: str | None
    trading_pair: str
    trade_type: TradeType
    order_type: OrderType
    executed_amount_base: Decimal
    executed_amount_quote: Decimal
    average_price: Decimal
    fees: tuple[tuple[str, Decimal], ...]  # (asset, cumulative amount)


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelledEvent(Event):
    """The order was cancelled (by us, or by the venue: ``reason`` says which when known)."""

    client_order_id: str
    exchange_order_id: str | None
    trading_pair: str
    executed_amount_base: Decimal
    reason: str | None = None


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFailedEvent(Event):
    """The order will never rest or fill: refused locally, rejected by the venue, or lost (never received)."""

    client_order_id: str
    exchange_order_id: str | None
    trading_pair: str
    order_type: OrderType
    reason: str


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExpiredEvent(Event):
    """The unfilled remainder of an IOC (or market) order was removed by the venue."""

    client_order_id: str
    exchange_order_id: str | None
    trading_pair: str
    executed_amount_base: Decimal


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderModifiedEvent(Event):
    """The venue applied a modify: the order (same client order id) now rests at ``price`` for a total of
    ``amount`` (what is executed included). ``exchange_order_id`` is the venue's id of the replacement
    (Hyperliquid gives a modified order a new one), ``previous_exchange_order_id`` the one it replaced."""

    client_order_id: str
    exchange_order_id: str | None
    previous_exchange_order_id: str | None
    trading_pair: str
    trade_type: TradeType
    price: Decimal
    amount: Decimal
    previous_price: Decimal
    previous_amount: Decimal
    executed_amount_base: Decimal


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderModifyFailedEvent(Event):
    """A modify was refused by the venue (or not applied by its deadline): the order stands as it was.
    ``price`` / ``amount`` are what the modify asked for; the order's own state comes in its own events (a
    modify of an order the venue had already filled or cancelled is followed by that news)."""

    client_order_id: str
    exchange_order_id: str | None
    trading_pair: str
    price: Decimal
    amount: Decimal
    reason: str


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class FundingPaymentEvent(Event):
    """A funding payment on a perpetual position; ``amount`` is signed (negative = we paid)."""

    trading_pair: str
    amount: Decimal
    funding_rate: Decimal
    position_size: Decimal | None = None


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class PositionLiquidatedEvent(Event):
    """The venue liquidated (part of) the account. Fields the venue does not report are None."""

    trading_pair: str | None = None
    amount: Decimal | None = None
    price: Decimal | None = None
    notional: Decimal | None = None
    account_value: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapStartedEvent(Event):
    """A venue-run TWAP (time-weighted average price) order of the account is running: accepted, or found
    running (at start, or placed by another program on the account). ``twap_id`` is the venue's id."""

    twap_id: int
    trading_pair: str
    trade_type: TradeType
    amount: Decimal
    minutes: int
    reduce_only: bool
    randomize: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapSliceFilledEvent(Event):
    """One fill of a TWAP's slice (published once per venue trade id). Slices belong to no tracked order:
    no order event is published for them; positions and balances move as for any fill of the account.
    ``executed_amount_base`` / ``executed_amount_quote`` are the TWAP's totals after this fill."""

    twap_id: int
    trading_pair: str
    trade_type: TradeType
    trade_id: str
    price: Decimal
    amount: Decimal
    quote_amount: Decimal
    fee_asset: str
    fee_amount: Decimal
    executed_amount_base: Decimal
    executed_amount_quote: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapFinishedEvent(Event):
    """A TWAP ended (published once): ``status`` is ``"finished"`` (ran its duration), ``"terminated"``
    (cancelled) or ``"error"`` (the venue stopped it: ``reason`` has its text)."""

    twap_id: int
    trading_pair: str
    trade_type: TradeType
    status: str
    executed_amount_base: Decimal
    executed_amount_quote: Decimal
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TwapFailedEvent(Event):
    """The venue refused a TWAP we placed (``reason`` is its text): it never ran."""

    trading_pair: str
    trade_type: TradeType
    amount: Decimal
    minutes: int
    reason: str


class EventListener:
    """Receives connector events; one method per event, each a no-op by default. Override what you need.

    Methods run synchronously on the event loop: keep them cheap, schedule slow work yourself.
    """

    def on_order_created(self, event: OrderCreatedEvent) -> None:
        """An order was accepted by the exchange."""

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        """An order got a fill."""

    def on_order_partially_filled(self, event: OrderPartiallyFilledEvent) -> None:
        """A fill left a remainder."""

    def on_order_completed(self, event: OrderCompletedEvent) -> None:
        """An order was filled completely."""

    def on_order_cancelled(self, event: OrderCancelledEvent) -> None:
        """An order was cancelled."""

    def on_order_failed(self, event: OrderFailedEvent) -> None:
        """An order failed (locally refused, rejected or lost)."""

    def on_order_expired(self, event: OrderExpiredEvent) -> None:
        """An IOC remainder expired."""

    def on_order_modified(self, event: OrderModifiedEvent) -> None:
        """A modify was applied: the order has a new price and/or amount (and maybe a new exchange id)."""

    def on_order_modify_failed(self, event: OrderModifyFailedEvent) -> None:
        """A modify was refused or not applied: the order is unchanged."""

    def on_funding_payment(self, event: FundingPaymentEvent) -> None:
        """A funding payment was booked."""

    def on_position_liquidated(self, event: PositionLiquidatedEvent) -> None:
        """A position was liquidated."""

    def on_twap_started(self, event: TwapStartedEvent) -> None:
        """A venue-run TWAP of the account is running."""

    def on_twap_slice_filled(self, event: TwapSliceFilledEvent) -> None:
        """A TWAP slice got a fill."""

    def on_twap_finished(self, event: TwapFinishedEvent) -> None:
        """A TWAP ended (finished, terminated or stopped by the venue)."""

    def on_twap_failed(self, event: TwapFailedEvent) -> None:
        """The venue refused a TWAP."""


_NAME_BY_EVENT: dict[type[Event], str] = {
    OrderCreatedEvent: "on_order_created",
    OrderFilledEvent: "on_order_filled",
    OrderPartiallyFilledEvent: "on_order_partially_filled",
    OrderCompletedEvent: "on_order_completed",
    OrderCancelledEvent: "on_order_cancelled",
    OrderFailedEvent: "on_order_failed",
    OrderExpiredEvent: "on_order_expired",
    OrderModifiedEvent: "on_order_modified",
    OrderModifyFailedEvent: "on_order_modify_failed",
    FundingPaymentEvent: "on_funding_payment",
    PositionLiquidatedEvent: "on_position_liquidated",
    TwapStartedEvent: "on_twap_started",
    TwapSliceFilledEvent: "on_twap_slice_filled",
    TwapFinishedEvent: "on_twap_finished",
    TwapFailedEvent: "on_twap_failed",
}


def _method_name(event_type: type[Event]) -> str:
    name = _NAME_BY_EVENT.get(event_type)
    if name is None:
        for base in event_type.__mro__:
            if base in _NAME_BY_EVENT:
                name = _NAME_BY_EVENT[base]
                _NAME_BY_EVENT[event_type] = name  # cache subclasses (Buy/SellOrderCreatedEvent)
                break
        else:
            raise TypeError(f"no listener method for event type {event_type.__name__}")
    return name


class EventPublisher:
    """Fans every published event out to the registered listeners, in registration order.

    A listener that raises is logged (with the traceback) and skipped; the others still get the event.
    """

    __slots__ = ("_listeners",)

    def __init__(self) -> None:
        self._listeners: list[EventListener] = []

    @property
    def has_listeners(self) -> bool:
        """Whether anyone listens (publishers skip building events otherwise)."""
        return bool(self._listeners)

    @property
    def listeners(self) -> tuple[EventListener, ...]:
        """The registered listeners, in delivery order."""
        return tuple(self._listeners)

    def add_listener(self, listener: EventListener) -> None:
        """Register ``listener`` (once; adding it again does nothing)."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove_listener(self, listener: EventListener) -> None:
        """Unregister ``listener``; unknown listeners are ignored."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every listener's matching method."""
        if not self._listeners:
            return
        name = _method_name(type(event))
        for listener in tuple(self._listeners):  # a listener may unregister itself while handling
            try:
                getattr(listener, name)(event)
            except Exception:
                _logger.exception("listener %r raised on %s; skipped", listener, type(event).__name__)
