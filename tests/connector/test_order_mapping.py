"""How exchange answers map onto order states: recorded /exchange replies, batch pre-validation errors,
Ioc remainders and late rejections. Pure functions, real payloads, no network."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import OrderUpdate
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.order_placement import cancel_results, order_spec, order_updates
from wingbeat.hyperliquid.reconciliation import adapt_venue_update
from wingbeat.hyperliquid.schemas_exchange import parse_exchange_reply
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.wire import Cloid, LimitType, TriggerType

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "hyperliquid" / "payloads"


def _payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def _order(amount: str = "0.02", order_type: OrderType = OrderType.LIMIT,
           tif: TimeInForce = TimeInForce.GTC, state: OrderState = OrderState.PENDING_CREATE,
           action: PositionAction = PositionAction.OPEN) -> InFlightOrder:
    return InFlightOrder(client_order_id=Cloid.new().raw, trading_pair="ETH-USD", trade_type=TradeType.BUY,
                         order_type=order_type, amount=Decimal(amount), price=Decimal("1891.4"),
                         creation_timestamp=1.0, time_in_force=tif, position_action=action,
                         reduce_only=action is PositionAction.CLOSE, initial_state=state)


def test_recorded_resting_answer_opens_the_order_with_its_exchange_id() -> None:
    order = _order()
    [update] = order_updates([order], parse_exchange_reply(_payload("exchange_order_resting.json")["response"]), 5.0)
    assert update is not None
    assert (update.new_state, update.exchange_order_id, update.client_order_id) == (
        OrderState.OPEN, "77738308", order.client_order_id)


def test_a_resting_answer_for_an_order_the_push_already_opened_under_that_oid_is_nothing_to_apply() -> None:
    reply = parse_exchange_reply(_payload("exchange_order_resting.json")["response"])
    opened = _order(state=OrderState.OPEN)
    opened.exchange_order_id = "77738308"
    elsewhere = _order(state=OrderState.OPEN)
    elsewhere.exchange_order_id = "1"  # an oid the answer contradicts: the tracker decides
    assert order_updates([opened], reply, 5.0) == [None]
    [update] = order_updates([elsewhere], reply, 5.0)
    assert update is not None and update.exchange_order_id == "77738308"


def test_recorded_filled_answer_for_the_whole_size_fills_the_order() -> None:
    [update] = order_updates([_order("0.02")], parse_exchange_reply(_payload("exchange_order_filled.json")["response"]), 5.0)
    assert update.new_state is OrderState.FILLED and update.exchange_order_id == "77747314"
    assert update.filled_amount == Decimal("0.02")  # totalSz: these fills are awaited (and fetched if missed)


def test_filled_answer_for_less_than_the_size_expires_the_ioc_remainder() -> None:
    [update] = order_updates([_order("0.05", OrderType.MARKET, TimeInForce.IOC)],
                             parse_exchange_reply(_payload("exchange_order_filled.json")["response"]), 5.0)
    assert update.new_state is OrderState.EXPIRED and update.reason
    assert update.filled_amount == Decimal("0.02")


def test_recorded_per_order_error_fails_that_order_with_the_exchange_text() -> None:
    [update] = order_updates([_order()], parse_exchange_reply(_payload("exchange_order_error_min_value.json")["response"]), 5.0)
    assert update.new_state is OrderState.FAILED
    assert update.reason == "Order must have minimum value of $10."


def test_waiting_for_trigger_children_are_open_orders() -> None:
    orders = [_order("1.0"), _order("1.0"), _order("1.0")]
    reply = parse_exchange_reply(_payload("exchange_order_with_tpsl_normalTpsl.json")["response"])
    assert [u.new_state for u in order_updates(orders, reply, 5.0)] == [OrderState.FILLED, OrderState.OPEN,
                                                                         OrderState.OPEN]


def test_one_error_for_a_batch_is_the_pre_validation_refusal_of_every_order() -> None:
    orders = [_order(), _order(), _order()]
    reply = parse_exchange_reply({"status": "ok", "response": {"type": "order", "data": {"statuses": [
        {"error": "Order price cannot be more than 80% away from the reference price"}]}}})
    updates = order_updates(orders, reply, 5.0)
    assert [u.new_state for u in updates] == [OrderState.FAILED] * 3
    assert [u.client_order_id for u in updates] == [o.client_order_id for o in orders]


def test_statuses_missing_from_a_short_reply_leave_their_orders_unknown() -> None:
    orders = [_order(), _order()]
    reply = parse_exchange_reply({"status": "ok", "response": {"type": "order", "data": {"statuses": [
        {"resting": {"oid": 1}}]}}})
    assert [u.new_state for u in order_updates(orders, reply, 5.0)] == [OrderState.OPEN,
                                                                         OrderState.PENDING_SUBMIT_UNKNOWN]


def test_recorded_cancel_answers_are_success_or_the_refusal_text() -> None:
    payload = _payload("exchange_cancel.json")
    assert cancel_results(1, parse_exchange_reply(payload["response_success"])) == [True]
    assert cancel_results(1, parse_exchange_reply(payload["response_error"])) == [
        "Order was never placed, already canceled, or filled."]


@pytest.mark.parametrize(("order_type", "tif", "expected"), [
    (OrderType.LIMIT, TimeInForce.GTC, "Gtc"),
    (OrderType.LIMIT_MAKER, TimeInForce.ALO, "Alo"),
    (OrderType.MARKET, TimeInForce.IOC, "Ioc"),
    (OrderType.LIMIT, TimeInForce.IOC, "Ioc"),
])
def test_order_types_map_to_hyperliquid_time_in_force(order_type: OrderType, tif: TimeInForce, expected: str) -> None:
    spec = order_spec(_order(order_type=order_type, tif=tif), 4)
    assert spec.order_type == LimitType(expected)  # type: ignore[arg-type]
    assert spec.cloid is not None and spec.asset == 4


def test_close_orders_are_reduce_only_and_triggers_replace_the_limit_type() -> None:
    trigger = TriggerType(trigger_px=Decimal(1800), is_market=True, tpsl="sl")
    spec = order_spec(_order(action=PositionAction.CLOSE), 4, trigger)
    assert spec.reduce_only and spec.order_type == trigger


def _venue(order: InFlightOrder, state: OrderState) -> OrderUpdate:
    return OrderUpdate(client_order_id=order.client_order_id, trading_pair=order.trading_pair,
                       update_timestamp=2.0, new_state=state, reason="canceled")


def test_venue_cancel_of_an_ioc_remainder_is_an_expiry_unless_we_asked_for_it() -> None:
    ioc = _order(order_type=OrderType.MARKET, tif=TimeInForce.IOC, state=OrderState.OPEN)
    assert adapt_venue_update(ioc, _venue(ioc, OrderState.CANCELED)).new_state is OrderState.EXPIRED
    asked = _order(order_type=OrderType.LIMIT, tif=TimeInForce.IOC, state=OrderState.PENDING_CANCEL)
    assert adapt_venue_update(asked, _venue(asked, OrderState.CANCELED)).new_state is OrderState.CANCELED
    gtc = _order(state=OrderState.OPEN)
    assert adapt_venue_update(gtc, _venue(gtc, OrderState.CANCELED)).new_state is OrderState.CANCELED


def test_rejection_of_an_accepted_order_ends_it_cancelled_not_failed() -> None:
    accepted = _order(state=OrderState.OPEN)
    assert adapt_venue_update(accepted, _venue(accepted, OrderState.FAILED)).new_state is OrderState.CANCELED
    fresh = _order(state=OrderState.PENDING_SUBMIT_UNKNOWN)
    assert adapt_venue_update(fresh, _venue(fresh, OrderState.FAILED)).new_state is OrderState.FAILED


@pytest.mark.parametrize("options", [
    {"vault_address": "0x12"},
    {"market_slippage": Decimal(2)},
    {"market_slippage": Decimal("NaN")},
    {"dead_man_switch": 1.0},
    {"request_timeout": 0},
])
def test_invalid_connector_configuration_is_refused_with_a_clear_error(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(options)).split("_")[0]):
        HyperliquidConfig(**options)


def test_network_names_and_urls_resolve_and_nonsense_is_refused() -> None:
    signer = Signer("0x" + "11" * 32)
    local = HyperliquidPerpetualConnector(signer, ["BTC-USD"], "http://127.0.0.1:9")
    assert "127.0.0.1:9" in repr(local) and "11" * 32 not in repr(local)
    with pytest.raises(ValueError):
        HyperliquidPerpetualConnector(signer, ["BTC-USD"], "moon")
    with pytest.raises(ValueError):
        HyperliquidPerpetualConnector(signer, ["BTCUSD"], "testnet")
