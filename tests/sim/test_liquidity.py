"""Built-in market makers: a live two-sided book around a random-walk mid, trades, refresh gating."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from wingbeat.hyperliquid.wire import is_valid_price, is_valid_size
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.liquidity import LiquidityConfig, MarketMakers, round_price, round_size
from wingbeat.sim.venue.types import EngineEvent, TradesEvent

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


def test_default_makers_quote_twenty_levels_a_side() -> None:
    e = ExchangeEngine(clock=lambda: T0)
    MarketMakers(e, seed=1).step(T0)
    bids, asks = e.markets[0].book.levels()
    assert len(bids) == 20 and len(asks) == 20


def test_an_oracle_price_set_from_outside_becomes_the_makers_mid_at_once() -> None:
    clock = [T0]
    e = ExchangeEngine(clock=lambda: clock[0])
    makers = MarketMakers(e, LiquidityConfig(taker_probability=0.0, refresh_ms=500), seed=2)
    makers.step(T0)
    e.set_oracle_price("BTC", D("50000"))  # as /admin setOraclePrice does
    clock[0] += 1
    makers.step(clock[0])  # before the refresh interval: only the moved market re-quotes
    m = e.markets[0]
    assert makers.mid("BTC") == D("50000") and m.oracle == D("50000") and m.mark == D("50000")
    bid, ask = m.book.best_bid(), m.book.best_ask()
    assert bid is not None and ask is not None and bid < D("50000") < ask
    for _ in range(10):  # the walk goes on from the admin price (at most 3 bps a step)
        clock[0] += 500
        makers.step(clock[0])
    assert abs(m.oracle - D("50000")) <= D("50000") * D("0.003")
