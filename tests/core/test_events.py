"""EventPublisher: fan-out by event type, subclass dispatch, a raising listener never breaks delivery."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from wingbeat.core.enums import OrderType, PositionAction, TradeType
from wingbeat.core.events import (
    BuyOrderCreatedEvent,
    Event,
    EventListener,
    EventPublisher,
    FundingPaymentEvent,
    OrderCancelledEvent,
    OrderCreatedEvent,
    OrderFailedEvent,
    PositionLiquidatedEvent,
    SellOrderCreatedEvent,
)


class Recorder(EventListener):
    def __init__(self) -> None:
        self.seen: list[Event] = []

    def on_order_created(self, event: OrderCreatedEvent) -> None:
        self.seen.append(event)

    def on_order_failed(self, event: OrderFailedEvent) -> None:
        self.seen.append(event)

    def on_funding_payment(self, event: FundingPaymentEvent) -> None:
        self.seen.append(event)


class Exploding(EventListener):
    def on_order_failed(self, event: OrderFailedEvent) -> None:
        raise RuntimeError("listener bug")


def created(cls: type[OrderCreatedEvent]) -> OrderCreatedEvent:
    return cls(
        timestamp=1.0, client_order_id="c1", exchange_order_id="1", trading_pair="BTC-USD",
        trade_type=TradeType.BUY, order_type=OrderType.LIMIT, amount=Decimal(1), price=Decimal(2),
        position_action=PositionAction.OPEN, creation_timestamp=1.0,
    )


def failed() -> OrderFailedEvent:
    return OrderFailedEvent(timestamp=1.0, client_order_id="c1", exchange_order_id=None, trading_pair="BTC-USD",
                            order_type=OrderType.LIMIT, reason="nope")


def test_subclass_events_reach_the_base_method() -> None:
    pub, rec = EventPublisher(), Recorder()
    pub.add_listener(rec)
    pub.publish(created(BuyOrderCreatedEvent))
    pub.publish(created(SellOrderCreatedEvent))
    assert [type(e) for e in rec.seen] == [BuyOrderCreatedEvent, SellOrderCreatedEvent]


def test_default_listener_methods_are_no_ops() -> None:
    pub = EventPublisher()
    pub.add_listener(EventListener())
    pub.publish(OrderCancelledEvent(timestamp=1.0, client_order_id="c", exchange_order_id=None,
                                    trading_pair="P", executed_amount_base=Decimal(0)))
    pub.publish(PositionLiquidatedEvent(timestamp=1.0))


def test_raising_listener_is_logged_and_later_listeners_still_get_the_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pub, rec = EventPublisher(), Recorder()
    pub.add_listener(Exploding())
    pub.add_listener(rec)
    with caplog.at_level(logging.ERROR, logger="wingbeat.core.events"):
        pub.publish(failed())
    assert rec.seen == [failed()]
    assert any("listener bug" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_add_is_idempotent_and_remove_stops_delivery() -> None:
    pub, rec = EventPublisher(), Recorder()
    pub.add_listener(rec)
    pub.add_listener(rec)
    pub.publish(failed())
    assert len(rec.seen) == 1
    pub.remove_listener(rec)
    pub.remove_listener(rec)
    pub.publish(failed())
    assert len(rec.seen) == 1
    assert pub.listeners == ()


def test_events_are_frozen() -> None:
    event = FundingPaymentEvent(timestamp=1.0, trading_pair="BTC-USD", amount=Decimal("-0.1"),
                                funding_rate=Decimal("0.0001"))
    with pytest.raises(AttributeError):
        event.amount = Decimal(0)  # type: ignore[misc]
