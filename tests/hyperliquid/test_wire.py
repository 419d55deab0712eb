"""Wire formats: float_to_wire, Cloid, action builders (exact dicts, key order) and price / size rules."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wingbeat.core.enums import TradeType
from wingbeat.core.errors import InvalidOrderError
from wingbeat.hyperliquid.wire import (
    Builder,
    Cloid,
    LimitType,
    ModifySpec,
    OrderSpec,
    TriggerType,
    batch_modify_action,
    cancel_action,
    cancel_by_cloid_action,
    float_to_wire,
    is_valid_price,
    is_valid_size,
    modify_action,
    order_action,
    order_spec_from_wire,
    order_wire,
    perp_trading_rule,
    resolve_asset,
    schedule_cancel_action,
    spot_trading_rule,
    update_isolated_margin_action,
    update_leverage_action,
    usd_to_ntli,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "hyperliquid" / "vectors.json").read_text()
)
L1 = {v["name"]: v for v in VECTORS["l1"]}
VAULT = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"


def _gtc_100(**overrides: Any) -> OrderSpec:
    fields: dict[str, Any] = {"asset": 1, "is_buy": True, "price": Decimal(100), "size": Decimal(100)}
    fields.update(overrides)
    return OrderSpec(**fields)


def _same_bytes(built: Any, name: str) -> None:
    """Equal dicts are not enough: msgpack bytes (key order included) must match the vector."""
    assert msgpack.packb(built).hex() == L1[name]["msgpack_hex"]


# --------------------------------------------------------------------------------------------- float_to_wire


@pytest.mark.parametrize(
    "case",
    [c for c in VECTORS["float_to_wire"] if c["output"] is not None and c["input"] != 0],
    ids=lambda c: repr(c["input"]),
)
def test_float_to_wire_matches_sdk_vectors(case: dict[str, Any]) -> None:
    assert float_to_wire(case["input"]) == case["output"]
    assert float_to_wire(Decimal(case["output"])) == case["output"]
    assert float_to_wire(case["output"]) == case["output"]


@pytest.mark.parametrize("case", [c for c in VECTORS["float_to_wire"] if c["output"] is None])
def test_float_to_wire_refuses_rounding_like_sdk(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidOrderError, match="more than 8 decimals"):
        float_to_wire(case["input"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1e-8"), "0.00000001"),
        (1e-8, "0.00000001"),
        (0.1 + 0.2, "0.3"),  # float noise below 1e-12 is accepted, as in the SDK
        (Decimal("123456.5"), "123456.5"),
        (Decimal("100.000"), "100"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0E-10"), "0"),
        (Decimal("-0"), "0"),
        (-0.0, "0"),  # the SDK writes "-0" here; its own code intends "0"
        (Decimal("12345678901234567890123456789.5"), "12345678901234567890123456789.5"),
        (7, "7"),
        ("0.0100", "0.01"),
    ],
)
def test_float_to_wire_edge_cases(value: Any, expected: str) -> None:
    assert float_to_wire(value) == expected


@settings(max_examples=500, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=None, min_value=-10**30, max_value=10**30))
def test_float_to_wire_writes_the_plain_form_of_any_decimal(value: Decimal) -> None:
    plain = f"{value:f}"  # the definition: fixed notation, trailing fractional zeros dropped
    whole, _, frac = plain.partition(".")
    frac = frac.rstrip("0")
    if len(frac) > 8:
        with pytest.raises(InvalidOrderError, match="more than 8 decimals"):
            float_to_wire(value)
        return
    expected = f"{whole}.{frac}" if frac else whole
    assert float_to_wire(value) == ("0" if expected == "-0" else expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "bool"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (Decimal("NaN"), "finite"),
        (Decimal("-Infinity"), "finite"),
        ("abc", "not a number"),
        (Decimal("0.000000001"), "more than 8 decimals"),
        ([1], "expects"),
    ],
)
def test_float_to_wire_bad_input_is_a_clear_error(value: Any, message: str) -> None:
    with pytest.raises(InvalidOrderError, match=message):
        float_to_wire(value)


def test_usd_to_ntli_is_exact_micro_dollars() -> None:
    assert usd_to_ntli(Decimal("12.5")) == 12_500_000
    assert usd_to_ntli("-1.000001") == -1_000_001
    with pytest.raises(InvalidOrderError):
        usd_to_ntli(Decimal("0.0000001"))


# --------------------------------------------------------------------------------------------- cloid


@pytest.mark.parametrize("case", VECTORS["cloid"], ids=lambda c: str(c["from_int"]))
def test_cloid_from_int_matches_sdk(case: dict[str, Any]) -> None:
    cloid = Cloid.from_int(case["from_int"])
    assert cloid.to_raw() == case["raw"] == str(cloid)
    assert cloid.to_int() == case["from_int"]


def test_cloid_round_trips_through_client_order_id_and_is_lowercase() -> None:
    cloid = Cloid.from_str("0x" + "AB" * 16)
    assert str(cloid) == "0x" + "ab" * 16
    assert Cloid.from_str(str(cloid)) == cloid


def test_cloid_new_is_unique_and_valid() -> None:
    made = {Cloid.new() for _ in range(10_000)}
    assert len(made) == 10_000
    assert all(Cloid.from_str(c.raw) == c for c in list(made)[:10])


def test_cloid_new_in_a_forked_child_does_not_repeat_the_parent() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its next cloid and leave without running any cleanup
        os.write(write_end, Cloid.new().raw.encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read_end, 64).decode()
    os.close(read_end)
    os.close(write_end)
    parent = Cloid.new().raw
    assert child != parent
    assert child[:18] != parent[:18]  # a different per-process prefix


@pytest.mark.parametrize("raw", ["0x1", "00" * 16 + "0000", "0x" + "g" * 32, "0x" + "0" * 33, 5])
def test_cloid_bad_string_is_refused(raw: Any) -> None:
    with pytest.raises(InvalidOrderError, match="cloid"):
        Cloid.from_str(raw)


@pytest.mark.parametrize("value", [-1, 1 << 128, True])
def test_cloid_from_int_out_of_range_is_refused(value: int) -> None:
    with pytest.raises(InvalidOrderError):
        Cloid.from_int(value)


# --------------------------------------------------------------------------------------------- builders


def test_order_action_matches_vectors_byte_for_byte() -> None:
    _same_bytes(order_action([_gtc_100()]), "order_gtc_asset1")
    _same_bytes(order_action([_gtc_100(cloid=Cloid.from_int(1))]), "order_gtc_asset1_cloid")
    trigger = TriggerType(trigger_px=Decimal(103), is_market=True, tpsl="sl")
    _same_bytes(order_action([_gtc_100(order_type=trigger)]), "order_trigger_sl")
    _same_bytes(
        order_action(
            [_gtc_100()], grouping="normalTpsl", builder=Builder(VAULT.upper().replace("0X", "0x"), 10)
        ),
        "computed_order_builder_normalTpsl",
    )
    alo = OrderSpec(
        asset=1,
        is_buy=False,
        price=Decimal("3456.7"),
        size=Decimal("0.0123"),
        order_type=LimitType("Alo"),
        cloid=Cloid.from_int(255),
    )
    _same_bytes(order_action([alo]), "computed_order_alo_cloid_nonce")


def test_other_actions_match_vectors_byte_for_byte() -> None:
    _same_bytes(cancel_action([(1, 123456789)]), "computed_cancel")
    _same_bytes(cancel_by_cloid_action([(1, Cloid.from_int(1))]), "computed_cancelByCloid")
    _same_bytes(batch_modify_action([ModifySpec(oid=123456789, order=_gtc_100())]), "computed_batchModify")
    _same_bytes(modify_action(ModifySpec(oid=123456789, order=_gtc_100())), "computed_modify_single")
    _same_bytes(update_leverage_action(1, is_cross=True, leverage=10), "computed_updateLeverage")
    _same_bytes(
        update_isolated_margin_action(1, is_buy=True, amount_usd=Decimal("12.5")),
        "computed_updateIsolatedMargin",
    )
    _same_bytes(schedule_cancel_action(), "scheduleCancel_no_time")
    _same_bytes(schedule_cancel_action(123456789), "scheduleCancel_time")


def test_phantom_agent_order_from_typed_spec() -> None:
    vector = VECTORS["phantom_agent"][0]
    spec = OrderSpec(
        asset=4, is_buy=True, price=Decimal("1670.1"), size=Decimal("0.0147"), order_type=LimitType("Ioc")
    )
    assert msgpack.packb(order_action([spec])).hex() == vector["msgpack_hex"]


def test_modify_by_cloid_uses_the_cloid_string_as_oid() -> None:
    action = batch_modify_action([ModifySpec(oid=Cloid.from_int(7), order=_gtc_100())])
    assert action["modifies"][0]["oid"] == "0x" + "0" * 31 + "7"


def test_order_wire_round_trips_through_decoder_in_canonical_order() -> None:
    trigger = TriggerType(trigger_px=Decimal("99.5"), is_market=False, tpsl="tp")
    for spec in (_gtc_100(cloid=Cloid.new(), reduce_only=True), _gtc_100(order_type=trigger)):
        wire = order_wire(spec)
        assert order_spec_from_wire(wire) == spec
        shuffled = dict(reversed(list(wire.items())))
        assert list(order_wire(order_spec_from_wire(shuffled))) == list(wire)


@pytest.mark.parametrize(
    "wire",
    [
        {},
        {"a": 1, "b": True, "p": 100, "s": "1", "r": False, "t": {"limit": {"tif": "Gtc"}}},
        {"a": 1, "b": True, "p": "1", "s": "1", "r": False, "t": {"limit": {"tif": "Day"}}},
        {"a": 1, "b": True, "p": "1", "s": "1", "r": False, "t": {"market": {}}},
        {"a": -1, "b": True, "p": "1", "s": "1", "r": False, "t": {"limit": {"tif": "Gtc"}}},
        {"a": 1, "b": 1, "p": "1", "s": "1", "r": False, "t": {"limit": {"tif": "Gtc"}}},
        {"a": 1, "b": True, "p": "NaN", "s": "1", "r": False, "t": {"limit": {"tif": "Gtc"}}},
        {"a": 1, "b": True, "p": "1", "s": "1", "r": False, "t": {"limit": {"tif": "Gtc"}}, "c": "0x12"},
        "not an order",
    ],
)
def test_malformed_order_wire_is_refused(wire: Any) -> None:
    with pytest.raises(InvalidOrderError):
        order_spec_from_wire(wire)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"size": Decimal(-1)}, "size must be positive"),
        ({"size": Decimal(0)}, "size must be positive"),
        ({"price": Decimal("NaN")}, "price must be finite"),
        ({"price": 100.0}, "price must be a Decimal"),
        ({"asset": -1}, "asset must be >= 0"),
        ({"asset": "BTC"}, "asset must be an integer"),
        ({"is_buy": "yes"}, "is_buy must be a bool"),
        ({"order_type": LimitType("Day")}, "tif"),  # type: ignore[arg-type]
        ({"price": Decimal("1.000000001")}, "more than 8 decimals"),
    ],
)
def test_bad_order_spec_is_a_clear_error(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidOrderError, match=message):
        order_action([_gtc_100(**overrides)])


def test_empty_batches_and_bad_grouping_are_refused() -> None:
    for build in (lambda: order_action([]), lambda: cancel_action([]), lambda: batch_modify_action([])):
        with pytest.raises(InvalidOrderError):
            build()
    with pytest.raises(InvalidOrderError, match="grouping"):
        order_action([_gtc_100()], grouping="bogus")  # type: ignore[arg-type]
    with pytest.raises(InvalidOrderError, match="builder address"):
        Builder("0x12", 1)


def test_unknown_asset_is_a_clear_error() -> None:
    assets = {"BTC": 0, "ETH": 1}
    assert resolve_asset("ETH", assets) == 1
    with pytest.raises(InvalidOrderError, match="unknown asset 'DOGE'"):
        resolve_asset("DOGE", assets)


# --------------------------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    ("price", "sz_decimals", "valid"),
    [
        ("1234.5", 0, True),
        ("1234.56", 0, False),
        ("0.001234", 0, True),
        ("0.0012345", 0, False),
        ("0.01234", 1, True),
        ("0.012345", 1, False),
        ("123456", 0, True),  # integer prices pass whatever their significant figures
        ("123456.5", 0, False),
        ("99999.5", 0, False),
        ("99999", 0, True),
        ("0.00001", 2, False),  # 5 decimals > 6 - 2
        ("0.0001", 2, True),
        ("0", 0, False),
        ("-5", 0, False),
    ],
)
def test_perp_price_rule(price: str, sz_decimals: int, valid: bool) -> None:
    assert is_valid_price(Decimal(price), sz_decimals) is valid
    rule = perp_trading_rule("X", sz_decimals, 50)
    assert rule.is_valid_price(Decimal(price)) is valid


def test_spot_prices_allow_two_more_decimals() -> None:
    assert not is_valid_price(Decimal("0.0000123"), 0)
    assert is_valid_price(Decimal("0.0000123"), 0, is_spot=True)
    assert spot_trading_rule("PURR/USDC", 0).max_price_decimals == 8


def test_quantize_price_keeps_five_significant_figures_on_the_safe_side() -> None:
    rule = perp_trading_rule("BTC", 5, 50)
    assert rule.quantize_price(Decimal("99999.5"), TradeType.BUY) == Decimal("99999")
    assert rule.quantize_price(Decimal("99999.5"), TradeType.SELL) == Decimal("100000")
    assert rule.quantize_price(Decimal("123456.5"), TradeType.BUY) == Decimal("123456")
    assert rule.is_valid_price(rule.quantize_price(Decimal("123456.5"), TradeType.SELL))


@pytest.mark.parametrize(
    ("size", "sz_decimals", "valid"),
    [
        ("1.001", 3, True),
        ("1.0001", 3, False),
        ("5", 0, True),
        ("0.5", 0, False),
        ("-1", 3, False),
        ("0", 2, False),
    ],
)
def test_size_rule(size: str, sz_decimals: int, valid: bool) -> None:
    assert is_valid_size(Decimal(size), sz_decimals) is valid


def test_perp_trading_rule_fields() -> None:
    rule = perp_trading_rule("ETH", 4, 25)
    assert rule.size_increment == Decimal("0.0001")
    assert rule.min_order_size == Decimal("0.0001")
    assert rule.max_price_significant_figures == 5
    assert rule.max_price_decimals == 2
    assert rule.integer_price_always_valid
    assert rule.min_notional == Decimal(10)
    assert rule.max_leverage == 25
    assert rule.quantize_size(Decimal("1.23456")) == Decimal("1.2345")
    assert not rule.is_valid_notional(Decimal("9.99"), Decimal(1))
    with pytest.raises(InvalidOrderError):
        perp_trading_rule("BAD", 7, 1)


def test_rule_validators_reject_non_decimals() -> None:
    assert not is_valid_price(100.0, 0)  # type: ignore[arg-type]
    assert not is_valid_size(Decimal("NaN"), 2)
