"""TradingRule: quantization rounds in the safe direction and lands on a valid price / size."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wingbeat.core.enums import TradeType
from wingbeat.core.trading_rule import TradingRule

D = Decimal


def hl_rule(sz_decimals: int) -> TradingRule:
    """Hyperliquid perp rule: 5 significant figures, at most 6 - szDecimals decimals, integers always valid."""
    return TradingRule(
        trading_pair="BTC-USD",
        min_order_size=D(1).scaleb(-sz_decimals),
        size_increment=D(1).scaleb(-sz_decimals),
        max_price_significant_figures=5,
        max_price_decimals=6 - sz_decimals,
        integer_price_always_valid=True,
        min_notional=D(10),
        max_leverage=50,
    )


@pytest.mark.parametrize(
    ("price", "side", "expected"),
    [
        ("123456.7", TradeType.BUY, "123456"),  # more integer digits than sig figs: integer is valid
        ("123456.7", TradeType.SELL, "123457"),
        ("50000.55", TradeType.BUY, "50000"),
        ("50000.55", TradeType.SELL, "50001"),
        ("1.23456", TradeType.BUY, "1.2"),  # szDecimals 5 -> 1 decimal
        ("1.23456", TradeType.SELL, "1.3"),
        ("0.5", TradeType.BUY, "0.5"),
    ],
)
def test_hyperliquid_price_rounds_buy_down_and_sell_up(price: str, side: TradeType, expected: str) -> None:
    rule = hl_rule(5)
    result = rule.quantize_price(D(price), side)
    assert result == D(expected)
    assert rule.is_valid_price(result)


def test_sig_fig_rule_on_small_prices_respects_both_limits() -> None:
    rule = hl_rule(0)  # 6 decimals
    assert rule.quantize_price(D("0.0000123456"), TradeType.BUY) == D("0.000012")
    assert rule.quantize_price(D("0.0000123456"), TradeType.SELL) == D("0.000013")
    assert rule.quantize_price(D("1.234567"), TradeType.BUY) == D("1.2345")
    assert rule.quantize_price(D("9.99999"), TradeType.SELL) == D("10")


def test_validity_of_prices_under_hyperliquid_rule() -> None:
    rule = hl_rule(5)
    assert rule.is_valid_price(D("123456"))  # integer, 6 sig figs: valid
    assert not rule.is_valid_price(D("12345.6"))  # 6 sig figs, not integer
    assert not rule.is_valid_price(D("1.23"))  # 2 decimals > 1
    assert not rule.is_valid_price(D(0))
    assert not rule.is_valid_price(D(-1))
    assert not rule.is_valid_price(D("NaN"))
    assert not rule.is_valid_price(D("Infinity"))


def test_fixed_tick_rule_rounds_to_the_tick() -> None:
    rule = TradingRule(trading_pair="X", min_order_size=D(1), size_increment=D("0.5"), price_increment=D("0.25"))
    assert rule.quantize_price(D("10.1"), TradeType.BUY) == D("10.00")
    assert rule.quantize_price(D("10.1"), TradeType.SELL) == D("10.25")
    assert rule.is_valid_price(D("10.25")) and not rule.is_valid_price(D("10.1"))
    assert rule.quantize_size(D("3.7")) == D("3.5")


def test_size_always_rounds_down_and_minimum_applies() -> None:
    rule = hl_rule(3)
    assert rule.quantize_size(D("0.0129")) == D("0.012")
    assert rule.is_valid_size(D("0.012"))
    assert not rule.is_valid_size(D("0.0125"))
    assert not rule.is_valid_size(D("0.0004"))
    assert not rule.is_valid_size(D("NaN"))
    assert rule.quantize_size(D("0.0009")) == D(0)


def test_min_notional_check() -> None:
    rule = hl_rule(3)
    assert rule.is_valid_notional(D(100), D("0.1"))
    assert not rule.is_valid_notional(D(100), D("0.099"))


def test_large_quantum_renders_as_plain_digits() -> None:
    rule = TradingRule(trading_pair="X", min_order_size=D(1), size_increment=D(1), max_price_significant_figures=5)
    assert str(rule.quantize_price(D("1234567"), TradeType.BUY)) == "1234500"


def test_bad_rule_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        TradingRule(trading_pair="X", min_order_size=D(1), size_increment=D(0))
    with pytest.raises(ValueError):
        TradingRule(trading_pair="X", min_order_size=D(1), size_increment=D(1), price_increment=D(-1))


prices = st.decimals(min_value=D("0.000001"), max_value=D("10000000"), allow_nan=False, places=8)


@given(price=prices, sz_decimals=st.integers(min_value=0, max_value=5))
def test_quantized_price_is_valid_and_on_the_safe_side(price: Decimal, sz_decimals: int) -> None:
    rule = hl_rule(sz_decimals)
    buy = rule.quantize_price(price, TradeType.BUY)
    sell = rule.quantize_price(price, TradeType.SELL)
    assert buy <= price <= sell
    assert rule.is_valid_price(sell)
    if buy > 0:
        assert rule.is_valid_price(buy)
    if rule.is_valid_price(price):
        assert buy == price == sell


@given(size=st.decimals(min_value=D(0), max_value=D(1000000), allow_nan=False, places=9),
       sz_decimals=st.integers(min_value=0, max_value=5))
def test_quantized_size_is_a_whole_number_of_lots_never_above_input(size: Decimal, sz_decimals: int) -> None:
    rule = hl_rule(sz_decimals)
    q = rule.quantize_size(size)
    assert 0 <= q <= size
    assert size - q < rule.size_increment
    assert q % rule.size_increment == 0


@pytest.mark.parametrize(
    ("side", "price", "size", "expected"),
    [
        (TradeType.BUY, "50000.55", "0.0129", ("50000", "0.012", None)),
        (TradeType.SELL, "50000.55", "0.0129", ("50001", "0.012", None)),
        (TradeType.BUY, "0", "1", ("0", "1", "price must be a positive number, got 0")),
        (TradeType.BUY, "NaN", "1", (None, "1", "price must be a positive number, got NaN")),
        (TradeType.BUY, "50000", "0.0004", ("50000", "0.000", "size 0.000 is below the minimum 0.001 for BTC-USD")),
        (TradeType.BUY, "5000", "0.001", ("5000", "0.001", "notional 5.0000 is below the minimum 10 for BTC-USD")),
    ],
)
def test_quantize_order_rounds_and_explains_refusals(
    side: TradeType, price: str, size: str, expected: tuple[str | None, str, str | None]
) -> None:
    q_price, q_size, reason = hl_rule(3).quantize_order(side, D(price), D(size))
    if expected[0] is not None:
        assert q_price == D(expected[0])
    assert q_size == D(expected[1])
    assert reason == expected[2]
