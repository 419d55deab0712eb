"""The venue's price/size checks agree with the connector's TradingRule; market config loading."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wingbeat.hyperliquid.wire import is_valid_price, perp_trading_rule
from wingbeat.sim.venue.liquidity import round_price
from wingbeat.sim.venue.market_state import MarketState
from wingbeat.sim.venue.markets import (
    DEFAULT_MARKETS,
    FMT_CACHE,
    MarketConfig,
    fmt,
    fmt_new,
    load_markets,
    markets_from_dicts,
)

prices = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000000"), places=7, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(prices, st.integers(0, 5))
def test_venue_accepts_exactly_the_prices_the_connector_rule_accepts(px: Decimal, sz_decimals: int) -> None:
    m = MarketState(
        0, MarketConfig(name="X", sz_decimals=sz_decimals, max_leverage=10, start_price=Decimal(1)), {}
    )
    assert m.price_ok(px) == perp_trading_rule("X", sz_decimals).is_valid_price(px)
    assert m.price_ok(px) == m.price_ok(px)  # the cached answer agrees with the first one


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=Decimal("0.0000001"), max_value=Decimal("100000"), places=7), st.integers(0, 5))
def test_venue_accepts_exactly_the_sizes_the_connector_rule_accepts(sz: Decimal, sz_decimals: int) -> None:
    m = MarketState(
        0, MarketConfig(name="X", sz_decimals=sz_decimals, max_leverage=10, start_price=Decimal(1)), {}
    )
    assert m.size_ok(sz) == perp_trading_rule("X", sz_decimals).is_valid_size(sz)


@settings(max_examples=200, deadline=None)
@given(prices, st.integers(0, 5), st.booleans())
def test_makers_round_prices_to_valid_ones_in_the_asked_direction(px: Decimal, szd: int, up: bool) -> None:
    rounded = round_price(px, szd, up=up)
    tick = Decimal(1).scaleb(szd - 6)
    if px < tick:
        assert rounded == tick
        return
    assert is_valid_price(rounded, szd)
    assert (rounded >= px) if up else (rounded <= px)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("60000", "60000.0"),
        ("0", "0.0"),
        ("-0.00", "0.0"),
        ("1.2300", "1.23"),
        ("1E+3", "1000.0"),
        ("1E-8", "0.00000001"),
    ],
)
def test_fmt_renders_like_the_exchange(value: str, text: str) -> None:
    assert fmt(Decimal(value)) == text


@given(st.integers(-(10**20), 10**20), st.integers(-30, 15))
def test_fmt_and_fmt_new_write_every_value_in_plain_digits(digits: int, exponent: int) -> None:
    value = Decimal(digits).scaleb(exponent)
    plain = f"{value.normalize():f}" if value else "0"  # the exponent never shows (1E+3, 1E-7)
    expected = plain if "." in plain else plain + ".0"
    FMT_CACHE.pop(value, None)
    assert fmt_new(value) == fmt(value) == expected
    if abs(value) < 10**12:  # rounding to places needs the venue's precision
        assert "E" not in fmt(value, 6) and "E" not in fmt(value, 8)


def test_default_markets_are_btc_eth_sol_hype() -> None:
    assert [m.name for m in DEFAULT_MARKETS] == ["BTC", "ETH", "SOL", "HYPE"]
    hype = DEFAULT_MARKETS[3]  # appended: the older assets keep their ids
    assert (hype.sz_decimals, hype.max_leverage, hype.start_price) == (2, 10, Decimal("40"))


def test_markets_load_from_dicts_and_toml(tmp_path: Path) -> None:
    got = markets_from_dicts([{"name": "DOGE", "szDecimals": 0, "maxLeverage": 10, "startPrice": "0.15"}])
    assert got == (MarketConfig(name="DOGE", sz_decimals=0, max_leverage=10, start_price=Decimal("0.15")),)
    path = tmp_path / "m.toml"
    path.write_text('[[market]]\nname = "BTC"\nsz_decimals = 5\nmax_leverage = 40\nstart_price = 50000.5\n')
    (btc,) = load_markets(path)
    assert btc.start_price == Decimal("50000.5") and btc.max_leverage == 40


@pytest.mark.parametrize(
    "items",
    [
        [],
        [{"name": "BTC"}],
        [{"name": "BTC", "sz_decimals": 5, "max_leverage": 0, "start_price": "1"}],
        [{"name": "BTC", "sz_decimals": 5, "max_leverage": 5, "start_price": "-1"}],
        [{"name": "BTC", "sz_decimals": 5, "max_leverage": 5, "start_price": "x"}],
        [{"name": "A", "sz_decimals": 1, "max_leverage": 5, "start_price": "1"}] * 2,
    ],
)
def test_bad_market_configs_are_refused(items: list[dict[str, object]]) -> None:
    with pytest.raises(ValueError):
        markets_from_dicts(items)
