"""HIP-3 builder dexes in the engine: separate clearinghouses, isolated-only perps, open-interest
caps, fees, funding, sendAsset between dexes, liquidation on a dex, and TOML declaration."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest

from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.venue import transfers
from wingbeat.sim.venue.engine import LIQUIDATOR, ExchangeEngine
from wingbeat.sim.venue.perp_dexes import DEFAULT_PERP_DEXES, DexPerpConfig, PerpDexConfig, load_perp_dexes
from wingbeat.sim.venue.twap_engine import SLICE_INTERVAL_MS, TwapRequest
from wingbeat.sim.venue.types import EngineError, OrderRequest

A = "0x" + "a" * 40
C = "0x" + "c" * 40
T0 = 1_700_000_000_000
XYZ100, GOLD = 110_000, 110_001


def setup(**kwargs: object) -> ExchangeEngine:
    e = ExchangeEngine(clock=lambda: T0, **kwargs)  # type: ignore[arg-type]
    for user in (A, C):
        e.fund(user, D(100_000))
    return e


def to_dex(e: ExchangeEngine, user: str, amount: str, dex: str = "xyz") -> None:
    transfers.send_asset(e, user, user, "", dex, "USDC", D(amount), 1)


def trade(e: ExchangeEngine, a_buys: bool, px: str, sz: str, asset: int = XYZ100) -> list[object]:
    e.place_orders(C, [OrderRequest(asset, not a_buys, D(px), D(sz), False, "Gtc")])
    return e.place_orders(A, [OrderRequest(asset, a_buys, D(px), D(sz), False, "Ioc")])


def test_a_dex_account_is_separate_and_funded_only_by_send_asset() -> None:
    e = setup()
    refused = e.place_orders(A, [OrderRequest(XYZ100, True, D("25000"), D("0.01"), False, "Gtc")])
    assert refused == [{"error": "Insufficient margin to place order. asset=110000"}]
    to_dex(e, A, "1000")
    main = handle_info(e, {"type": "clearinghouseState", "user": A})
    dex = handle_info(e, {"type": "clearinghouseState", "user": A, "dex": "xyz"})
    assert main["marginSummary"]["accountValue"] == "99000.0"
    assert dex["marginSummary"]["accountValue"] == "1000.0"
    with pytest.raises(EngineError, match="Insufficient balance"):
        to_dex(e, A, "99000.000001")  # more than the main dex account has left
    to_dex(e, C, "5000")
    trade(e, True, "25000", "0.02")
    assert e.accounts[A].szi(XYZ100) == 0  # the main account holds no dex position
    assert e.dexes[1].accounts[A].szi(XYZ100) == D("0.02")
    ledger = handle_info(e, {"type": "userNonFundingLedgerUpdates", "user": A, "startTime": 0})
    send = ledger[-1]["delta"]
    assert (send["type"], send["sourceDex"], send["destinationDex"], send["token"]) == (
        "send",
        "",
        "xyz",
        "USDC",
    )


def test_send_asset_moves_collateral_back_and_refuses_other_tokens_and_dexes() -> None:
    e = setup()
    to_dex(e, A, "1000")
    transfers.send_asset(e, A, A, "xyz", "", "USDC", D("400"), 2)
    transfers.send_asset(e, A, A, "xyz", "spot", "USDC", D("100"), 3)
    assert e.dexes[1].accounts[A].balance == D(500)
    assert e.accounts[A].spot["USDC"] == D(100)
    with pytest.raises(EngineError, match="Invalid token"):
        transfers.send_asset(e, A, A, "spot", "xyz", "PURR", D("1"), 4)
    with pytest.raises(EngineError, match="Invalid dex nodex"):
        transfers.send_asset(e, A, A, "", "nodex", "USDC", D("1"), 5)
    with pytest.raises(EngineError, match="Insufficient balance"):
        transfers.send_asset(e, A, A, "xyz", "", "USDC", D("500.000001"), 6)


def test_isolated_only_perps_trade_isolated_and_refuse_cross() -> None:
    e = setup()
    to_dex(e, A, "10000")
    to_dex(e, C, "10000")
    trade(e, True, "4000", "1", GOLD)
    position = handle_info(e, {"type": "clearinghouseState", "user": A, "dex": "xyz"})["assetPositions"][0]
    assert position["position"]["leverage"] == {"type": "isolated", "value": 20, "rawUsd": "-3800.0"}
    with pytest.raises(EngineError, match="Cross margin is not allowed"):
        e.update_leverage(A, XYZ100, True, 10)
    e.update_leverage(A, XYZ100, False, 10)  # isolated at another leverage is fine
    e.update_isolated_margin(A, GOLD, True, 50_000_000)  # adding margin is fine
    with pytest.raises(EngineError, match="strictly isolated"):
        e.update_isolated_margin(A, GOLD, True, -10_000_000)  # strictIsolated: never removed


def test_the_fee_multiplier_follows_the_docs_fee_formula() -> None:
    def dex(scale: str) -> PerpDexConfig:
        perp = DexPerpConfig(name="X", sz_decimals=1, max_leverage=5, start_price=D(1))
        return PerpDexConfig(name="d", full_name="D", perps=(perp,), deployer_fee_scale=D(scale))

    assert [dex(s).fee_multiplier for s in ("0", "0.5", "1.0", "2")] == [D(1), D("1.5"), D("2.0"), D(4)]


def test_a_builder_dex_charges_its_fee_scale() -> None:
    e = setup()
    to_dex(e, A, "10000")
    to_dex(e, C, "10000")
    trade(e, True, "25000", "0.1")  # 2500 notional
    [taker, *_] = handle_info(e, {"type": "userFills", "user": A})
    [maker, *_] = handle_info(e, {"type": "userFills", "user": C})
    assert taker["fee"] == "2.25" and maker["fee"] == "0.75"  # 2 x (0.045 %, 0.015 %): deployerFeeScale 1.0
    assert handle_info(e, {"type": "userRateLimit", "user": A})["cumVlm"] == "2500.0"  # dex volume counts


def test_orders_that_grow_a_position_are_refused_at_the_open_interest_cap() -> None:
    small = PerpDexConfig(
        name="cap",
        full_name="Capped",
        perps=(
            DexPerpConfig(name="IDX", sz_decimals=2, max_leverage=10, start_price=D(100), oi_cap=D(1000)),
        ),
    )
    e = setup(perp_dexes=(small,))
    idx = 110_000  # the only builder dex's first perp
    to_dex(e, A, "10000", "cap")
    to_dex(e, C, "10000", "cap")
    trade(e, True, "100", "10", idx)  # 10 long + 10 short at 100: 2000 notional, over the 1000 cap
    assert handle_info(e, {"type": "perpsAtOpenInterestCap", "dex": "cap"}) == ["cap:IDX"]
    grow = e.place_orders(A, [OrderRequest(idx, True, D("99"), D("1"), False, "Gtc")])
    assert grow == [{"error": "Cannot increase position when open interest is at cap. asset=110000"}]
    status = handle_info(e, {"type": "historicalOrders", "user": A})[0]["status"]
    assert status == "positionIncreaseAtOpenInterestCapRejected"
    close = e.place_orders(A, [OrderRequest(idx, False, D("101"), D("4"), False, "Gtc")])
    assert "resting" in close[0]  # reducing the position is allowed at the cap
    limits = handle_info(e, {"type": "perpDexLimits", "dex": "cap"})
    assert limits["coinToOiCap"] == [["cap:IDX", "1000.0"]]
    assert handle_info(e, {"type": "perpDexLimits", "dex": ""}) is None


def test_funding_is_paid_on_dex_perps_from_the_dex_accounts() -> None:
    e = setup(funding_interval_ms=1000)
    to_dex(e, A, "10000")
    to_dex(e, C, "10000")
    trade(e, True, "25000", "0.1")
    before = e.dexes[1].accounts[A].balance + sum(e.dexes[1].accounts[A].isolated_margin.values(), D(0))
    main_before = e.accounts[A].balance
    e.advance(T0 + 1000)
    paid = handle_info(e, {"type": "userFunding", "user": A, "startTime": 0})
    assert [p["delta"]["coin"] for p in paid] == ["xyz:XYZ100"]
    after = e.dexes[1].accounts[A].balance + sum(e.dexes[1].accounts[A].isolated_margin.values(), D(0))
    assert after < before and e.accounts[A].balance == main_before  # a long pays, on its dex account
    history = handle_info(e, {"type": "fundingHistory", "coin": "xyz:XYZ100", "startTime": 0})
    assert len(history) == 1


def test_an_isolated_dex_position_is_liquidated_on_its_dex() -> None:
    e = setup()
    to_dex(e, A, "200")
    to_dex(e, C, "10000")
    trade(e, True, "25000", "0.1")  # 2500 notional, 125 margin at 20x
    e.set_oracle_price("xyz:XYZ100", D("23000"))
    e.advance()
    assert e.dexes[1].accounts[A].szi(XYZ100) == 0
    assert e.dexes[1].accounts[LIQUIDATOR].szi(XYZ100) == D("0.1")
    assert e.accounts[LIQUIDATOR].szi(XYZ100) == 0


def test_cancel_and_modify_route_to_the_dex_account() -> None:
    e = setup()
    to_dex(e, A, "10000")
    cloid = "0x" + "1" * 32
    [resting] = e.place_orders(
        A, [OrderRequest(XYZ100, True, D("24000"), D("0.1"), False, "Gtc", cloid=cloid)]
    )
    oid = resting["resting"]["oid"]
    assert e.cancel(A, [(0, oid)]) == [
        {"error": "Order was never placed, already canceled, or filled. asset=0"}
    ]
    [modified] = e.batch_modify(A, [(oid, OrderRequest(XYZ100, True, D("24100"), D("0.1"), False, "Gtc"))])
    assert "resting" in modified
    missing = "Order was never placed, already canceled, or filled. asset=110000"
    assert e.cancel_by_cloid(A, [(XYZ100, cloid)]) == [{"error": missing}]  # the modify replaced it
    new_oid = modified["resting"]["oid"]
    assert e.cancel(A, [(XYZ100, new_oid)]) == ["success"]
    assert handle_info(e, {"type": "openOrders", "user": A, "dex": "xyz"}) == []


def test_perp_dexes_load_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "markets.toml"
    path.write_text(
        """
[[perp_dex]]
name = "abc"
full_name = "ABC Markets"
deployer_fee_scale = "0.5"

[[perp_dex.perp]]
name = "OIL"
sz_decimals = 2
max_leverage = 10
start_price = "70"
margin_mode = "strictIsolated"
oi_cap = "1000000"
"""
    )
    [dex] = load_perp_dexes(path) or ()
    assert dex.name == "abc" and dex.perps[0].margin_mode == "strictIsolated"
    e = ExchangeEngine(clock=lambda: T0, perp_dexes=(dex,))
    assert e.asset_index("abc:OIL") == 110_000
    meta = handle_info(e, {"type": "meta", "dex": "abc"})
    assert (
        meta["universe"][0]["marginMode"] == "strictIsolated" and meta["universe"][0]["onlyIsolated"] is True
    )
    path.write_text(
        '[[perp_dex]]\nname = "abc"\n[[perp_dex.perp]]\nname = "X"\nsz_decimals = 1\n'
        'max_leverage = 5\nstart_price = "1"\nmargin_mode = "cross"\n'
    )
    with pytest.raises(ValueError, match="margin_mode"):
        load_perp_dexes(path)
    path.write_text('[[market]]\nname = "BTC"\nsz_decimals = 5\nmax_leverage = 50\nstart_price = "1"\n')
    assert load_perp_dexes(path) is None


def test_a_twap_on_a_dex_perp_slices_on_the_dex_account() -> None:
    e = setup()
    to_dex(e, A, "10000")
    to_dex(e, C, "10000")
    e.place_orders(C, [OrderRequest(XYZ100, False, D("25000"), D("1"), False, "Gtc")])
    running = e.place_twap(A, TwapRequest(XYZ100, True, D("0.1"), False, 5, False))
    assert "running" in running
    for k in range(1, 11):
        e.advance(T0 + k * SLICE_INTERVAL_MS)
    assert e.dexes[1].accounts[A].szi(XYZ100) == D("0.1")
    assert e.accounts[A].szi(XYZ100) == 0
    fills = handle_info(e, {"type": "userTwapSliceFills", "user": A})
    assert {f["fill"]["coin"] for f in fills} == {"xyz:XYZ100"}


def test_set_oracle_moves_at_most_one_percent_and_only_dex_coins() -> None:
    now = [T0]
    updater = "0x" + "d" * 40
    xyz = replace(DEFAULT_PERP_DEXES[0], oracle_updater=updater)
    e = ExchangeEngine(clock=lambda: now[0], perp_dexes=(xyz,))
    with pytest.raises(EngineError, match="at most 1%"):
        e.perp_deploy_set_oracle(updater, "xyz", [("xyz:XYZ100", D("25251"))])
    with pytest.raises(EngineError, match="Unknown coin BTC"):
        e.perp_deploy_set_oracle(updater, "xyz", [("BTC", D("60000"))])
    e.perp_deploy_set_oracle(updater, "xyz", [("XYZ100", D("25250"))])  # a bare name is the dex's coin
    market = e.market("xyz:XYZ100")
    assert market is not None and market.oracle == D("25250") and market.mark == D("25250")
    now[0] += 2_500
    e.perp_deploy_set_oracle(updater, "xyz", [("xyz:XYZ100", D("25300"))])
    assert market.oracle == D("25300")


def test_the_dead_mans_switch_cancels_the_users_orders_on_every_dex() -> None:
    now = [T0]
    e = ExchangeEngine(clock=lambda: now[0])
    e.fund(A, D(100_000))
    to_dex(e, A, "10000")
    e.place_orders(A, [OrderRequest(0, True, D("50000"), D("0.01"), False, "Gtc")])
    e.place_orders(A, [OrderRequest(XYZ100, True, D("24000"), D("0.01"), False, "Gtc")])
    e.schedule_cancel(A, T0 + 10_000)
    now[0] = T0 + 10_000
    e.advance()
    assert handle_info(e, {"type": "openOrders", "user": A}) == []
    assert handle_info(e, {"type": "openOrders", "user": A, "dex": "xyz"}) == []
    statuses = {
        o["order"]["coin"]: o["status"] for o in handle_info(e, {"type": "historicalOrders", "user": A})
    }
    assert statuses == {"BTC": "scheduledCancel", "xyz:XYZ100": "scheduledCancel"}
