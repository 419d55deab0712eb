"""``order_to_wire``, the wire dict of a tracked order built without its spec and cloid objects, is exactly
``order_wire(order_spec(...))``: the same dict (same keys in the same order, the same strings) for every order,
and the same error with the same text for every order that cannot be sent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.hyperliquid.order_placement import order_spec, order_to_wire
from wingbeat.hyperliquid.wire import TriggerType, new_cloid, order_wire

NUMBERS = st.one_of(
    st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(10) ** 9, places=8),
    st.sampled_from([Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("Infinity"), Decimal("1E+3"),
                     Decimal("1E-8"), Decimal("1.000000001"), Decimal("12.3400"), Decimal("-0")]),
    st.integers(min_value=-2, max_value=10**6).map(Decimal),
)
CLOIDS = st.one_of(
    st.builds(new_cloid),
    st.builds(lambda: new_cloid().upper().replace("0X", "0x")),
    st.sampled_from(["", "0x12", "not a cloid", "0x" + "g" * 32, "0X" + "a" * 32]),
)
TRIGGERS = st.one_of(st.none(), st.builds(TriggerType, trigger_px=NUMBERS, is_market=st.booleans(),
                                          tpsl=st.sampled_from(["tp", "sl"])))


def _outcome(build: Any) -> Any:
    try:
        wire = build()
    except Exception as exc:  # the error itself is what is compared
        return type(exc), str(exc)
    return list(wire.items())  # the key order is part of the wire (msgpack hashes it)


@settings(max_examples=600, deadline=None)
@given(
    trade_type=st.sampled_from(list(TradeType)),
    order_type=st.sampled_from(list(OrderType)),
    tif=st.sampled_from(list(TimeInForce)),
    action=st.sampled_from(list(PositionAction)),
    reduce_only=st.booleans(),
    price=NUMBERS,
    amount=NUMBERS,
    cloid=CLOIDS,
    asset=st.sampled_from([0, 3, 10_000, 110_001]),
    trigger=TRIGGERS,
)
def test_the_direct_wire_is_the_specs_wire_for_every_order_and_every_error(
    trade_type: TradeType, order_type: OrderType, tif: TimeInForce, action: PositionAction, reduce_only: bool,
    price: Decimal, amount: Decimal, cloid: str, asset: int, trigger: TriggerType | None,
) -> None:
    order = InFlightOrder(client_order_id=cloid, trading_pair="BTC-USD", trade_type=trade_type,
                          order_type=order_type, amount=amount, price=price, creation_timestamp=1.0,
                          time_in_force=tif, position_action=action, reduce_only=reduce_only)
    direct = _outcome(lambda: order_to_wire(order, asset, trigger))
    assert direct == _outcome(lambda: order_wire(order_spec(order, asset, trigger)))


def test_a_typical_order_takes_the_direct_path_and_keeps_its_cloid() -> None:
    cloid = new_cloid()
    order = InFlightOrder(client_order_id=cloid, trading_pair="BTC-USD", trade_type=TradeType.SELL,
                          order_type=OrderType.LIMIT_MAKER, amount=Decimal("0.0100"), price=Decimal("64000.5"),
                          creation_timestamp=1.0, position_action=PositionAction.CLOSE)
    assert order_to_wire(order, 0) == {"a": 0, "b": False, "p": "64000.5", "s": "0.01", "r": True,
                                       "t": {"limit": {"tif": "Alo"}}, "c": cloid}
