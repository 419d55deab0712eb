"""Validation, margin rejections, leverage, and position / PnL arithmetic checked by hand."""

from __future__ import annotations

from decimal import ROUND_UP, getcontext, localcontext
from decimal import Decimal as D
from typing import Any

import pytest

from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.types import EngineError, OrderRequest

A = "0x" + "a" * 40
C = "0x" + "c" * 40
T0 = 1_700_000_000_000


def engine_with(balance_a: str = "1000000") -> ExchangeEngine:
    e = ExchangeEngine(clock=lambda: T0)
    e.fund(A, D(balance_a))
    e.fund(C, D(10_000_000))
    return e


def req(is_buy: bool, px: str, sz: str, tif: Any = "Gtc", asset: int = 0, ro: bool = False) -> OrderRequest:
    return OrderRequest(asset, is_buy, D(px), D(sz), ro, tif)


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (req(True, "60000.5", "0.01"), "Price must be divisible by tick size. asset=0"),
        (req(True, "3000.123", "0.01", asset=1), "Price must be divisible by tick size. asset=1"),
        (req(True, "60000", "0.000001"), "Order has invalid size. asset=0"),
        (req(True, "60000", "0"), "Order has zero size. asset=0"),
        (req(True, "60000", "0.0001"), "Order must have minimum value of $10. asset=0"),
        (req(True, "60000", "0.01", asset=9), "Invalid asset. asset=9"),
        (
            req(True, "11000", "0.01"),
            "Order price cannot be more than 80% away from the reference price asset=0",
        ),
        (
            req(False, "108010", "0.01"),
            "Order price cannot be more than 80% away from the reference price asset=0",
        ),
    ],
)
def test_invalid_orders_get_the_exchange_error(order: OrderRequest, message: str) -> None:
    e = engine_with()
    assert e.place_orders(A, [order]) == [{"error": message}]
    assert not e.live


def test_integer_price_with_many_sig_figs_is_valid() -> None:
    e = engine_with()
    assert "resting" in e.place_orders(A, [req(False, "100001", "0.01")])[0]


def test_unknown_user_cannot_place() -> None:
    e = engine_with()
    with pytest.raises(EngineError, match="does not exist"):
        e.place_orders("0x" + "9" * 40, [req(True, "60000", "0.01")])


def test_order_beyond_margin_is_rejected() -> None:
    e = engine_with("1000")
    # 1 BTC at 60000 needs 60000 / 50 = 1200 > 1000
    st = e.place_orders(A, [req(True, "60000", "1")])
    assert st == [{"error": "Insufficient margin to place order. asset=0"}]
    # 0.8 BTC needs 960: fits
    assert "resting" in e.place_orders(A, [req(True, "60000", "0.8")])[0]


def test_resting_orders_reserve_margin_for_later_orders() -> None:
    e = engine_with("1000")
    e.update_leverage(A, 0, True, 10)
    assert "resting" in e.place_orders(A, [req(True, "60000", "0.1")])[0]  # 600 reserved
    st = e.place_orders(A, [req(True, "60000", "0.1")])  # needs 600, 400 left
    assert st == [{"error": "Insufficient margin to place order. asset=0"}]
    (oid,) = e.live
    e.cancel(A, [(0, oid)])
    assert e.accounts[A].order_margin == 0
    assert "resting" in e.place_orders(A, [req(True, "60000", "0.1")])[0]


def test_reducing_order_needs_no_margin() -> None:
    e = engine_with("1000")
    e.place_orders(C, [req(False, "60000", "0.8")])
    e.place_orders(A, [req(True, "60000", "0.8", "Ioc")])
    # nearly all margin is in use; a sell that only reduces is still accepted
    e.place_orders(C, [req(True, "59000", "0.5")])
    st = e.place_orders(A, [req(False, "59000", "0.5", "Ioc")])
    assert st[0]["filled"]["totalSz"] == "0.5"


def test_update_leverage_validates_range() -> None:
    e = engine_with()
    with pytest.raises(EngineError, match="Invalid leverage value"):
        e.update_leverage(A, 0, True, 51)
    with pytest.raises(EngineError, match="Invalid leverage value"):
        e.update_leverage(A, 0, True, 0)
    with pytest.raises(EngineError, match="Invalid asset"):
        e.update_leverage(A, 7, True, 5)
    e.update_leverage(A, 2, False, 20)
    assert e.accounts[A].leverage[2] == (False, 20)


def test_entry_price_realised_pnl_fees_and_unrealised_pnl_by_hand() -> None:
    e = engine_with()
    a = e.accounts[A]
    e.place_orders(C, [req(False, "60000", "0.1"), req(False, "61000", "0.1")])
    e.place_orders(A, [req(True, "61000", "0.2", "Ioc")])
    # bought 0.1 @ 60000 + 0.1 @ 61000: entry 60500, taker fee 12100 * 0.00045 = 5.445
    assert a.szi(0) == D("0.2") and a.positions[0].entry_px == D("60500")
    assert a.balance == D("1000000") - D("5.445")
    e.place_orders(C, [req(True, "62000", "0.05")])
    e.place_orders(A, [req(False, "62000", "0.05", "Ioc")])
    # closed 0.05: pnl (62000 - 60500) * 0.05 = 75; fee 3100 * 0.00045 = 1.395
    assert a.fills[-1].closed_pnl == D("75") and a.fills[-1].dir == "Close Long"
    assert a.balance == D("1000000") - D("5.445") + D("75") - D("1.395")
    assert a.positions[0].entry_px == D("60500") and a.szi(0) == D("0.15")
    e.set_oracle_price("BTC", D("63000"))
    assert e.marks[0] == D("63000")  # empty book: the mark is the oracle
    state = handle_info(e, {"type": "clearinghouseState", "user": A})
    pos = state["assetPositions"][0]["position"]
    upnl = D("0.15") * (e.marks[0] - D("60500"))
    assert D(pos["unrealizedPnl"]) == upnl
    assert D(pos["positionValue"]) == D("0.15") * e.marks[0]
    assert D(pos["marginUsed"]) == D("0.15") * e.marks[0] / 50
    assert D(state["marginSummary"]["accountValue"]) == a.balance + upnl


def test_flip_reports_direction_and_new_entry() -> None:
    e = engine_with()
    e.place_orders(C, [req(False, "60000", "0.1")])
    e.place_orders(A, [req(True, "60000", "0.1", "Ioc")])
    e.place_orders(C, [req(True, "59000", "0.3")])
    e.place_orders(A, [req(False, "59000", "0.3", "Ioc")])
    a = e.accounts[A]
    assert a.fills[-1].dir == "Long > Short"
    assert a.szi(0) == D("-0.2") and a.positions[0].entry_px == D("59000")
    assert a.fills[-1].closed_pnl == D("-100")


def test_short_pnl_sign() -> None:
    e = engine_with()
    e.place_orders(C, [req(True, "3000", "1", asset=1)])
    e.place_orders(A, [req(False, "3000", "1", "Ioc", asset=1)])
    e.place_orders(C, [req(False, "2900", "1", asset=1)])
    e.place_orders(A, [req(True, "2900", "1", "Ioc", asset=1)])
    a = e.accounts[A]
    assert a.fills[-1].closed_pnl == D("100") and a.fills[-1].dir == "Close Short"
    assert a.szi(1) == 0


@pytest.mark.parametrize("amount", ["0", "-5", "NaN", "Infinity", "1E+16"])
def test_fund_refuses_non_positive_or_absurd_amounts(amount: str) -> None:
    e = engine_with()
    with pytest.raises(ValueError):
        e.fund("0x" + "5" * 40, D(amount))
    assert not e.has_account("0x" + "5" * 40)


def test_embedding_programs_decimal_context_does_not_change_venue_arithmetic() -> None:
    def run() -> tuple[Any, D]:
        e = engine_with()
        e.place_orders(C, [req(False, "60001", "0.33333")])
        st = e.place_orders(A, [req(True, "60001", "0.33333", "Ioc")])
        return st, e.accounts[A].balance

    expected = run()
    with localcontext() as ctx:
        ctx.prec = 4
        ctx.rounding = ROUND_UP
        assert run() == expected


def test_subscriber_changing_the_decimal_context_does_not_change_venue_arithmetic() -> None:
    def run(meddle: bool) -> tuple[Any, D, D]:
        e = engine_with()
        if meddle:

            def subscriber(event: object) -> None:
                getcontext().prec = 3  # a careless listener

            e.subscribe(subscriber)
        e.place_orders(C, [req(False, "60001", "0.33333")])
        e.place_orders(C, [req(False, "60001", "0.33333")])
        st = e.place_orders(A, [req(True, "60001", "0.66666", "Ioc")])
        return st, e.accounts[A].balance, e.accounts[A].fills[-1].fee

    assert run(meddle=True) == run(meddle=False)
    assert getcontext().prec == 28  # the caller's context is back as it was


def test_agents_sign_for_their_owner_and_an_unnamed_agent_replaces_the_previous_one() -> None:
    e = engine_with()
    first, second = "0x" + "1" * 40, "0x" + "2" * 40
    e.approve_agent(A, first, "")
    assert e.account_for_signer(first) == A and e.account_for_signer(A) == A
    e.approve_agent(A, second, "")
    assert e.account_for_signer(first) is None and e.account_for_signer(second) == A
    e.approve_agent(C, second, "bot")  # the key moves to another account
    assert e.account_for_signer(second) == C and second not in e.accounts[A].agents
    assert e.account_for_signer("0x" + "9" * 40) is None
    with pytest.raises(EngineError, match="does not exist"):
        e.approve_agent("0x" + "9" * 40, first, "")


def test_leverage_increase_beyond_margin_is_refused_and_kept() -> None:
    e = engine_with("1000")
    e.place_orders(C, [req(False, "60000", "0.5")])
    e.place_orders(A, [req(True, "60000", "0.5", "Ioc")])  # 30000 notional: 600 margin at 50x
    with pytest.raises(EngineError, match="Insufficient margin to update leverage"):
        e.update_leverage(A, 0, True, 20)  # would need 1500
    assert e.accounts[A].leverage_of(0, 50) == 50
