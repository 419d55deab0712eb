"""InFlightOrder: fills counted once by trade id, never overfilled, waiters resolved, cheap to hold."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from wingbeat.core.enums import OrderType, TradeType
from wingbeat.core.in_flight_order import InFlightOrder, wait_until_all_done
from wingbeat.core.order_state import OrderState, can_transition
from wingbeat.core.order_updates import OrderUpdate, TradeUpdate

D = Decimal


def make_order(amount: str = "1") -> InFlightOrder:
    return InFlightOrder(client_order_id="c1", trading_pair="BTC-USD", trade_type=TradeType.BUY,
                         order_type=OrderType.LIMIT, amount=D(amount), price=D(100), creation_timestamp=1.0)


def fill(trade_id: str, base: str, price: str = "100", fee: str = "0.01", asset: str = "USDC") -> TradeUpdate:
    return TradeUpdate(trade_id=trade_id, client_order_id="c1", exchange_order_id="9", trading_pair="BTC-USD",
                       fill_timestamp=2.0, fill_price=D(price), fill_base_amount=D(base),
                       fill_quote_amount=D(base) * D(price), fee_asset=asset, fee_amount=D(fee), is_taker=False)


def to(state: OrderState, eid: str | None = None) -> OrderUpdate:
    return OrderUpdate(client_order_id="c1", trading_pair="BTC-USD", update_timestamp=3.0, new_state=state,
                       exchange_order_id=eid)


def test_new_order_is_pending_create_with_nothing_executed() -> None:
    order = make_order()
    assert order.current_state is OrderState.PENDING_CREATE
    assert order.executed_amount_base == 0 and order.trade_updates == [] and order.cumulative_fee_paid == {}
    assert order.average_executed_price is None and order.remaining_amount == 1
    assert order.is_open and not order.is_done


def test_same_fill_twice_is_counted_once() -> None:
    order = make_order()
    assert order.apply_trade_update(fill("t1", "0.4"))
    assert not order.apply_trade_update(fill("t1", "0.4"))
    assert order.executed_amount_base == D("0.4") and order.executed_amount_quote == D(40)
    assert len(order.trade_updates) == 1 and order.has_trade("t1")


def test_fees_accumulate_per_asset_and_average_price_is_volume_weighted() -> None:
    order = make_order()
    order.apply_trade_update(fill("t1", "0.25", price="100", fee="0.01"))
    order.apply_trade_update(fill("t2", "0.75", price="200", fee="-0.02"))
    order.apply_trade_update(fill("t3", "0", asset="HYPE"))  # zero-size fill refused
    assert order.cumulative_fee_paid == {"USDC": D("-0.01")}
    assert order.average_executed_price == D(175)
    assert order.is_fully_executed


def test_fill_that_would_overfill_is_refused() -> None:
    order = make_order("1")
    assert order.apply_trade_update(fill("t1", "0.6"))
    assert not order.apply_trade_update(fill("t2", "0.6"))
    assert not order.apply_trade_update(fill("t3", "NaN"))
    assert order.executed_amount_base == D("0.6")


def test_illegal_update_is_refused_but_its_exchange_id_is_learned() -> None:
    order = make_order()
    assert order.apply_order_update(to(OrderState.FILLED))
    assert not order.apply_order_update(to(OrderState.OPEN, eid="77"))
    assert order.current_state is OrderState.FILLED and order.exchange_order_id == "77"


def test_fill_is_recorded_on_a_cancelled_order_without_changing_its_state() -> None:
    order = make_order()
    order.apply_order_update(to(OrderState.OPEN))
    order.apply_order_update(to(OrderState.CANCELED))
    assert order.apply_trade_update(fill("t1", "0.5"))
    assert order.current_state is OrderState.CANCELED and order.executed_amount_base == D("0.5")


async def test_waiters_resolve_on_open_and_on_final_state() -> None:
    order = make_order()
    opened = asyncio.ensure_future(order.wait_until_open())
    done = asyncio.ensure_future(order.wait_until_done())
    await asyncio.sleep(0)
    assert not opened.done()
    order.apply_order_update(to(OrderState.OPEN))
    assert await asyncio.wait_for(opened, 1) is OrderState.OPEN
    assert not done.done()
    order.apply_order_update(to(OrderState.CANCELED))
    assert await asyncio.wait_for(done, 1) is OrderState.CANCELED
    assert await order.wait_until_open() is OrderState.CANCELED  # already past: returns at once


async def test_wait_until_all_done_returns_once_every_order_is_final_or_at_the_deadline() -> None:
    orders = [make_order() for _ in range(3)]
    orders[0].apply_order_update(to(OrderState.OPEN))
    orders[0].apply_order_update(to(OrderState.FILLED))  # final before the wait: not waited on
    lone = asyncio.ensure_future(orders[1].wait_until_done())  # a waiter of its own shares the order's future
    everyone = asyncio.ensure_future(wait_until_all_done(orders, 5))
    await asyncio.sleep(0)
    orders[1].apply_order_update(to(OrderState.CANCELED))
    assert await asyncio.wait_for(lone, 1) is OrderState.CANCELED
    assert not everyone.done()
    orders[2].apply_order_update(to(OrderState.FAILED))
    await asyncio.wait_for(everyone, 1)
    # a live order at the deadline: it returns anyway, and the order's own waiters still resolve later
    late = make_order()
    await asyncio.wait_for(wait_until_all_done([late], 0.05), 2)
    assert not late.is_done
    waiter = asyncio.ensure_future(late.wait_until_done())
    late.apply_order_update(to(OrderState.CANCELED))
    assert await asyncio.wait_for(waiter, 1) is OrderState.CANCELED


async def test_wait_until_open_returns_on_failure_too() -> None:
    order = make_order()
    waiter = asyncio.ensure_future(order.wait_until_open())
    await asyncio.sleep(0)
    order.apply_order_update(to(OrderState.FAILED))
    assert await asyncio.wait_for(waiter, 1) is OrderState.FAILED


def test_no_future_is_created_unless_someone_waits() -> None:
    order = make_order()
    order.apply_order_update(to(OrderState.OPEN))
    order.apply_order_update(to(OrderState.FILLED))
    assert order._open_future is None and order._done_future is None


def test_orders_have_slots_and_no_dict() -> None:
    order = make_order()
    assert not hasattr(order, "__dict__")
    with pytest.raises(AttributeError):
        order.unknown_field = 1  # type: ignore[attr-defined]
    assert "BTC-USD" in repr(order)


@pytest.mark.parametrize("current", list(OrderState))
@pytest.mark.parametrize("new", list(OrderState))
def test_order_applies_exactly_the_legal_transitions(current: OrderState, new: OrderState) -> None:
    order = InFlightOrder(client_order_id="c1", trading_pair="BTC-USD", trade_type=TradeType.SELL,
                          order_type=OrderType.LIMIT, amount=D(1), price=D(100), creation_timestamp=1.0,
                          initial_state=current)
    changed = order.apply_order_update(to(new))
    assert changed == can_transition(current, new)
    assert order.current_state is (new if changed else current)
