"""Isolated margin: allocation on open, release on close, top-ups, per-position liquidation."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.venue.engine import LIQUIDATOR, ExchangeEngine
from wingbeat.sim.venue.types import EngineError, OrderRequest

A = "0x" + "a" * 40
C = "0x" + "c" * 40
T0 = 1_700_000_000_000
FUNDS = D(1_000_000)


def setup() -> ExchangeEngine:
    e = ExchangeEngine(clock=lambda: T0)
    e.fund(A, FUNDS)
    e.fund(C, FUNDS)
    return e


def trade(e: ExchangeEngine, a_buys: bool, px: str, sz: str, asset: int = 0) -> None:
    e.place_orders(C, [OrderRequest(asset, not a_buys, D(px), D(sz), False, "Gtc")])
    e.place_orders(A, [OrderRequest(asset, a_buys, D(px), D(sz), False, "Ioc")])


def conserved(e: ExchangeEngine) -> bool:
    value = sum((acct.account_value(e.marks) for acct in e.accounts.values()), D(0))
    return abs(value + e.fees_collected - 2 * FUNDS) < D("1e-12")


def test_opening_allocates_initial_margin_and_closing_releases_it() -> None:
    e = setup()
    e.update_leverage(A, 0, False, 10)
    trade(e, True, "60000", "0.1")
    a = e.accounts[A]
    assert a.isolated_margin[0] == D("600")
    assert a.balance == FUNDS - D("600") - D("2.7")
    state = handle_info(e, {"type": "clearinghouseState", "user": A})
    pos = state["assetPositions"][0]["position"]
    assert pos["leverage"] == {"type": "isolated", "value": 10, "rawUsd": "-5400.0"}
    assert pos["marginUsed"] == "600.0"
    assert D(state["crossMarginSummary"]["accountValue"]) == a.balance
    assert D(state["marginSummary"]["accountValue"]) == a.balance + D("600")
    trade(e, False, "61000", "0.05")  # closes half: +50 pnl, 300 margin back, fee 1.3725
    assert a.isolated_margin[0] == D("300")
    assert a.balance == FUNDS - D("600") - D("2.7") + D("300") + D("50") - D("1.3725")
    trade(e, False, "61000", "0.05")
    assert 0 not in a.isolated_margin and a.szi(0) == 0
    assert conserved(e)


def test_isolated_position_is_liquidated_alone_and_loses_at_most_about_its_margin() -> None:
    e = setup()
    e.update_leverage(A, 0, False, 10)
    trade(e, True, "60000", "0.05")  # 300 isolated margin
    trade(e, True, "3000", "1", asset=1)  # a cross ETH position that must survive
    a = e.accounts[A]
    balance = a.balance
    e.set_oracle_price("BTC", D("54500"))  # upnl -275: 25 left < maintenance 27.25
    e.advance()
    assert a.szi(0) == 0 and e.accounts[LIQUIDATOR].szi(0) == D("0.05")
    assert a.szi(1) == D("1")
    assert a.balance == balance + D("300") - D("275")
    assert conserved(e)


def test_isolated_position_above_maintenance_is_kept() -> None:
    e = setup()
    e.update_leverage(A, 0, False, 10)
    trade(e, True, "60000", "0.05")
    e.set_oracle_price("BTC", D("55000"))  # 300 - 250 = 50 >= 27.5
    e.advance()
    assert e.accounts[A].szi(0) == D("0.05")


def test_isolated_margin_top_up_and_removal_limits() -> None:
    e = setup()
    with pytest.raises(EngineError, match="not isolated"):
        e.update_isolated_margin(A, 0, True, 100_000_000)
    e.update_leverage(A, 0, False, 10)
    trade(e, True, "60000", "0.1")
    a = e.accounts[A]
    before = a.balance
    e.update_isolated_margin(A, 0, True, 100_000_000)  # +100 USDC
    assert a.isolated_margin[0] == D("700") and a.balance == before - D("100")
    e.update_isolated_margin(A, 0, True, -100_000_000)
    with pytest.raises(EngineError, match="Insufficient isolated margin"):
        e.update_isolated_margin(A, 0, True, -1_000_000)  # would go under the 600 initial margin
    with pytest.raises(EngineError, match="Cannot change leverage"):
        e.update_leverage(A, 0, False, 20)
    with pytest.raises(EngineError, match="Cannot switch"):
        e.update_leverage(A, 0, True, 10)
    assert conserved(e)
