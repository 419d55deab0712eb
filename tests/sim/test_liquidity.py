"""Built-in market makers: a live two-sided book around a random-walk mid, trades, refresh gating."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from wingbeat.hyperliquid.wire import is_valid_price, is_valid_size
from wingbeat.sim.engine import ExchangeEngine
from wingbeat.sim.liquidity import LiquidityConfig, MarketMakers, round_price, round_size
from wingbeat.sim.types import EngineEvent, TradesEvent

T0 = 1_700_000_000_000


def test_first_step_quotes_every_market_on_both_sides() -> None:
    e = ExchangeEngine(clock=lambda: T0)
    makers = MarketMakers(e, LiquidityConfig(levels=3), seed=1)
    makers.step(T0)
    for m in e.markets:
        bids, asks = m.book.levels()
        assert len(bids) == 3 and len(asks) == 3
        assert bids[0][0] < asks[0][0]
        mid = makers.mid(m.coin)
        assert mid is not None and m.oracle == mid
        for px, sz, _ in bids + asks:
            assert is_valid_price(px, m.cfg.sz_decimals) and is_valid_size(sz, m.cfg.sz_decimals)
            assert px * sz >= 10


def test_step_before_refresh_interval_does_nothing() -> None:
    e = ExchangeEngine(clock=lambda: T0)
    makers = MarketMakers(e, LiquidityConfig(refresh_ms=1000), seed=1)
    makers.step(T0)
    before = e.markets[0].book.levels()
    makers.step(T0 + 999)
    assert e.markets[0].book.levels() == before
    makers.step(T0 + 1000)
    assert makers.mid("BTC") is not None


def test_mid_walks_and_noise_taker_prints_trades() -> None:
    clock = [T0]
    e = ExchangeEngine(clock=lambda: clock[0])
    events: list[EngineEvent] = []
    e.subscribe(events.append)
    makers = MarketMakers(e, LiquidityConfig(taker_probability=1.0), seed=3)
    mids = set()
    for _ in range(20):
        clock[0] += 1000
        makers.step(clock[0])
        mids.add(makers.mid("ETH"))
    assert len(mids) > 5
    assert any(isinstance(ev, TradesEvent) and ev.coin == "ETH" for ev in events)
    # the makers keep only their latest ladder resting
    assert len(e.accounts[makers.addresses[0]].open_orders) <= 2 * LiquidityConfig().levels


def test_rounding_helpers_produce_valid_values() -> None:
    assert round_price(D("60012.345"), 5, up=False) == D("60012")
    assert round_price(D("60012.345"), 5, up=True) == D("60013")
    assert round_price(D("3012.3456"), 4, up=True) == D("3012.4")
    assert round_price(D("0.0123456"), 1, up=False) == D("0.01234")
    assert round_size(D("20000"), D("60000"), 5) == D("0.33333")
    assert round_size(D("1"), D("3000"), 4) * D("3000") >= 10


def test_invalid_config_is_refused() -> None:
    with pytest.raises(ValueError):
        LiquidityConfig(levels=0)
    with pytest.raises(ValueError):
        LiquidityConfig(level_notional=D(5))
