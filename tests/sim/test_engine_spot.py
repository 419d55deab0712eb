"""Spot on the venue: tokens, balances and holds, matching settlement, fees in the received token,
insufficient balance, value conservation across base and quote, cancels releasing holds."""

from __future__ import annotations

import random
from decimal import Decimal as D
from typing import Any

import pytest

from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.spot_flow import available
from wingbeat.sim.venue.spot_markets import DEFAULT_SPOT, SpotConfig, SpotPairConfig, SpotToken
from wingbeat.sim.venue.types import EngineError, EngineEvent, FillsEvent, OrderRequest, TriggerSpec

A = "0x" + "a" * 40
B = "0x" + "b" * 40
C = "0x" + "c" * 40
T0 = 1_700_000_000_000
PURR = 10_000  # asset id of PURR/USDC (spot index 0)
HYPE = 10_001  # asset id of HYPE/USDC ("@1")


def make_engine(**kw: Any) -> tuple[ExchangeEngine, list[EngineEvent]]:
    engine = ExchangeEngine(clock=lambda: T0, **kw)
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    for user in (A, B, C):
        engine.fund_spot(user, "USDC", D(10_000))
        engine.fund_spot(user, "PURR", D(100_000))
        engine.fund_spot(user, "HYPE", D(100))
    return engine, events


def order(asset: int, is_buy: bool, px: str, sz: str, tif: str = "Gtc", **kw: Any) -> OrderRequest:
    return OrderRequest(asset, is_buy, D(px), D(sz), kw.pop("reduce_only", False), tif, **kw)  # type: ignore[arg-type]


def oid_of(status: Any) -> int:
    inner = status.get("resting") or status.get("filled")
    assert inner is not None, status
    return int(inner["oid"])


def totals(engine: ExchangeEngine, token: str) -> D:
    """Every balance of ``token`` plus the fees the venue took in it."""
    held = sum((a.spot.get(token, D(0)) for a in engine.accounts.values()), D(0))
    return held + engine.spot_fees_collected.get(token, D(0))


def test_default_spot_lists_usdc_purr_hype_and_two_pairs() -> None:
    e, _ = make_engine()
    assert [t.name for t in e.spot.tokens] == ["USDC", "PURR", "HYPE"]
    assert [m.coin for m in e.spot_markets] == ["PURR/USDC", "@1"]
    assert [e.asset_index(c) for c in ("PURR/USDC", "@1")] == [PURR, HYPE]
    assert e.market_by_asset(PURR) is e.market("PURR/USDC")
    assert e.market_by_asset(10_002) is None


def test_a_resting_buy_holds_quote_and_a_resting_sell_holds_base() -> None:
    e, _ = make_engine()
    e.place_orders(A, [order(PURR, True, "0.19", "1000")])
    e.place_orders(A, [order(PURR, False, "0.21", "500")])
    acct = e.accounts[A]
    assert acct.spot_hold == {"USDC": D("190"), "PURR": D(500)}
    assert available(acct, "USDC") == D(10_000) - 190
    assert available(acct, "PURR") == D(100_000) - 500
    state = handle_info(e, {"type": "spotClearinghouseState", "user": A})
    usdc, purr = state["balances"][0], state["balances"][1]
    assert (usdc["coin"], usdc["token"], usdc["hold"], usdc["total"]) == ("USDC", 0, "190.0", "10000.0")
    assert (purr["coin"], purr["token"], purr["hold"], purr["total"]) == ("PURR", 1, "500.0", "100000.0")


def test_cancel_and_modify_release_the_hold() -> None:
    e, _ = make_engine()
    [st] = e.place_orders(A, [order(PURR, True, "0.19", "1000", cloid="0x" + "1" * 32)])
    assert e.accounts[A].spot_hold == {"USDC": D("190")}
    [modified] = e.batch_modify(A, [(oid_of(st), order(PURR, True, "0.18", "2000"))])
    assert e.accounts[A].spot_hold == {"USDC": D("360")}
    assert e.cancel(A, [(PURR, oid_of(modified))]) == ["success"]
    assert e.accounts[A].spot_hold == {}
    [again] = e.place_orders(A, [order(HYPE, False, "41", "2", cloid="0x" + "2" * 32)])
    assert e.cancel_by_cloid(A, [(HYPE, "0x" + "2" * 32)]) == ["success"]
    assert e.accounts[A].spot_hold == {} and oid_of(again) not in e.live


def test_a_fill_moves_base_and_quote_and_charges_fees_in_the_received_token() -> None:
    e, events = make_engine()
    e.place_orders(A, [order(PURR, False, "0.2", "1000")])  # maker sells 1000 PURR
    [st] = e.place_orders(B, [order(PURR, True, "0.2", "600", "Ioc")])  # taker buys 600
    assert st["filled"]["totalSz"] == "600.0" and st["filled"]["avgPx"] == "0.2"
    a, b = e.accounts[A], e.accounts[B]
    # the buyer (taker, 0.07%) pays its fee in PURR, the seller (maker, 0.04%) in USDC
    assert b.spot["PURR"] == D(100_000) + 600 - D("0.42")
    assert b.spot["USDC"] == D(10_000) - 120
    assert a.spot["PURR"] == D(100_000) - 600 and a.spot_hold == {"PURR": D(400)}
    assert a.spot["USDC"] == D(10_000) + 120 - D("0.048")
    fills = [f for ev in events if isinstance(ev, FillsEvent) for f in ev.fills]
    by_user = {f["oid"]: f for f in fills}
    buy = next(f for f in by_user.values() if f["side"] == "B")
    sell = next(f for f in by_user.values() if f["side"] == "A")
    assert (buy["coin"], buy["dir"], buy["feeToken"], buy["fee"], buy["crossed"]) == (
        "PURR/USDC", "Buy", "PURR", "0.42", True,
    )  # fmt: skip
    assert (sell["dir"], sell["feeToken"], sell["fee"], sell["crossed"]) == ("Sell", "USDC", "0.048", False)
    assert buy["startPosition"] == "100000.0" and sell["startPosition"] == "100000.0"
    assert e.spot_fees_collected == {"PURR": D("0.42"), "USDC": D("0.048")}


def test_a_sell_realises_pnl_against_the_entry_notional() -> None:
    e, _ = make_engine()
    fresh = "0x" + "d" * 40
    e.fund_spot(fresh, "USDC", D(1000))
    e.place_orders(A, [order(HYPE, False, "40", "10")])
    e.place_orders(fresh, [order(HYPE, True, "40", "10", "Ioc")])
    acct = e.accounts[fresh]
    assert acct.spot["HYPE"] == D(10) - D("0.007") and acct.spot_entry["HYPE"] == D(400)
    e.place_orders(B, [order(HYPE, True, "44", "5")])
    [st] = e.place_orders(fresh, [order(HYPE, False, "44", "5", "Ioc")])
    assert "filled" in st
    fill = handle_info(e, {"type": "userFills", "user": fresh})[0]
    # average entry 400 / 9.993 per HYPE; 5 sold at 44
    cost = D(400) * 5 / (D(10) - D("0.007"))
    assert D(fill["closedPnl"]) == (D(220) - cost).quantize(D("0.000001"))
    assert acct.spot_entry["HYPE"] == D(400) - cost
    balance = next(b for b in handle_info(e, {"type": "spotClearinghouseState", "user": fresh})["balances"]
                   if b["coin"] == "HYPE")  # fmt: skip
    assert D(balance["entryNtl"]) == (D(400) - cost).quantize(D("0.000001"))


def test_an_order_the_balance_cannot_cover_is_refused_with_hyperliquids_text() -> None:
    e, _ = make_engine()
    poor = "0x" + "e" * 40
    e.fund_spot(poor, "USDC", D(50))
    [st] = e.place_orders(poor, [order(PURR, True, "0.2", "300")])  # 60 USDC > 50
    assert st == {"error": "Insufficient spot balance asset=10000"}
    [st] = e.place_orders(poor, [order(PURR, False, "0.2", "100")])  # holds no PURR
    assert st == {"error": "Insufficient spot balance asset=10000"}
    assert handle_info(e, {"type": "historicalOrders", "user": poor})[0]["status"] == (
        "insufficientSpotBalanceRejected"
    )
    # what resting orders hold cannot back a second order
    assert "resting" in e.place_orders(poor, [order(PURR, True, "0.2", "200")])[0]
    assert e.place_orders(poor, [order(PURR, True, "0.2", "60")]) == [
        {"error": "Insufficient spot balance asset=10000"}
    ]


def test_spot_order_rules_minimum_value_tick_and_kinds() -> None:
    e, _ = make_engine()
    assert e.place_orders(A, [order(PURR, True, "0.2", "49")]) == [
        {"error": "Order must have minimum value of 10 USDC. asset=10000"}
    ]
    # spot prices take 8 - szDecimals decimals (PURR: 8) and 5 significant figures
    assert "resting" in e.place_orders(A, [order(PURR, True, "0.12345", "100")])[0]
    assert e.place_orders(A, [order(PURR, True, "0.123456", "100")]) == [
        {"error": "Price must be divisible by tick size. asset=10000"}
    ]
    assert e.place_orders(A, [order(PURR, True, "0.2", "100.5")]) == [
        {"error": "Order has invalid size. asset=10000"}
    ]
    assert e.place_orders(A, [order(PURR, True, "0.2", "100", reduce_only=True)]) == [
        {"error": "Reduce only order would increase position. asset=10000"}
    ]
    trigger = OrderRequest(PURR, True, D("0.2"), D("100"), False, None, TriggerSpec(True, D("0.2"), "tp"))
    assert e.place_orders(A, [trigger]) == [{"error": "Order has invalid type. asset=10000"}]
    assert e.place_orders(A, [order(10_005, True, "0.2", "100")]) == [{"error": "Invalid asset. asset=10005"}]


def test_ioc_alo_and_self_trade_on_spot() -> None:
    e, _ = make_engine()
    assert e.place_orders(A, [order(PURR, True, "0.2", "100", "Ioc")]) == [
        {"error": "Order could not immediately match against any resting orders. asset=10000"}
    ]
    e.place_orders(A, [order(PURR, False, "0.2", "100")])
    assert e.place_orders(B, [order(PURR, True, "0.2", "100", "Alo")]) == [
        {"error": "Post only order would have immediately matched, bbo was @0.2. asset=10000"}
    ]
    [st] = e.place_orders(A, [order(PURR, True, "0.2", "100")])  # A's own ask is canceled, A rests
    assert "resting" in st
    assert e.accounts[A].spot_hold == {"USDC": D(20)}
    assert handle_info(e, {"type": "historicalOrders", "user": A})[0]["status"] == "selfTradeCanceled"


def test_transfers_respect_holds_and_move_any_token() -> None:
    e, _ = make_engine()
    e.place_orders(A, [order(PURR, False, "0.25", "99000")])  # holds 99,000 of A's 100,000 PURR
    friend = "0x" + "f" * 40
    with pytest.raises(EngineError, match="Insufficient balance for token transfer"):
        e_send(e, A, friend, "PURR:0xc1fb593aeffbeb02f85e0308e9956a90", D(2000))
    e_send(e, A, friend, "PURR:0xc1fb593aeffbeb02f85e0308e9956a90", D(1000))
    assert e.accounts[friend].spot == {"PURR": D(1000)}
    with pytest.raises(EngineError, match="Invalid token"):
        e_send(e, A, friend, "PURR:0x" + "0" * 32, D(1))  # the id must be the token's
    with pytest.raises(EngineError, match="Invalid amount"):
        e_send(e, B, friend, "PURR", D("0.000001"))  # PURR keeps 5 decimals


def e_send(engine: ExchangeEngine, user: str, dest: str, token: str, amount: D) -> None:
    from wingbeat.sim.venue import transfers

    transfers.spot_send(engine, user, dest, token, amount, T0)


def test_liquidation_leaves_spot_orders_alone() -> None:
    e, _ = make_engine()
    e.place_orders(A, [order(PURR, True, "0.19", "1000")])
    e.cancel_all_of(e.accounts[A], "liquidatedCanceled", T0, perp_only=True)
    assert len(e.accounts[A].open_orders) == 1
    e.cancel_all_of(e.accounts[A], "scheduledCancel", T0)  # the dead man's switch takes every order
    assert not e.accounts[A].open_orders and e.accounts[A].spot_hold == {}


def test_spot_pairs_pay_no_funding_and_hold_no_positions() -> None:
    e, _ = make_engine()
    with pytest.raises(EngineError):
        e.pay_funding("PURR/USDC", D("0.0001"))
    e.place_orders(A, [order(PURR, False, "0.2", "1000")])
    e.place_orders(B, [order(PURR, True, "0.2", "1000", "Ioc")])
    e.advance(T0 + 3_600_000)
    assert not e.accounts[A].positions and not e.accounts[B].positions
    assert not e.accounts[A].fundings and not e.accounts[B].fundings


def test_value_is_conserved_across_base_and_quote_over_random_flow() -> None:
    e, _ = make_engine()
    rng = random.Random(7)
    users = [A, B, C]
    before = {t: totals(e, t) for t in ("USDC", "PURR", "HYPE")}
    live: list[tuple[str, int, int]] = []
    for _ in range(600):
        user = rng.choice(users)
        if live and rng.random() < 0.25:
            owner, asset, oid = live.pop(rng.randrange(len(live)))
            e.cancel(owner, [(asset, oid)])
            continue
        asset = rng.choice([PURR, HYPE])
        is_buy = rng.random() < 0.5
        if asset == PURR:
            px, sz = D(rng.randint(1900, 2100)) / 10_000, D(rng.randint(50, 2000))
        else:
            px, sz = D(rng.randint(3800, 4200)) / 100, D(rng.randint(25, 300)) / 100
        tif = rng.choice(["Gtc", "Gtc", "Ioc", "Alo"])
        [st] = e.place_orders(user, [OrderRequest(asset, is_buy, px, sz, False, tif)])  # type: ignore[arg-type]
        if isinstance(st, dict) and "resting" in st:
            live.append((user, asset, st["resting"]["oid"]))
    assert {t: totals(e, t) for t in ("USDC", "PURR", "HYPE")} == before
    assert sum(len(a.fills) for a in e.accounts.values()) > 100  # the flow traded
    for acct in e.accounts.values():
        for token, total in acct.spot.items():
            assert total >= 0 and acct.spot_hold.get(token, D(0)) <= total
        # what is held is exactly what the resting orders need
        need: dict[str, D] = {}
        for o in acct.open_orders.values():
            m = e.market_by_asset(o.asset)
            assert m is not None
            base, quote = DEFAULT_SPOT.pairs[o.asset - 10_000].base, "USDC"
            token, amount = (quote, o.limit_px * o.sz) if o.is_buy else (base, o.sz)
            need[token] = need.get(token, D(0)) + amount
        assert {k: v for k, v in need.items() if v} == acct.spot_hold


def test_a_custom_spot_config_names_pairs_by_index() -> None:
    spot = SpotConfig(
        tokens=(*DEFAULT_SPOT.tokens, SpotToken(name="FOO", sz_decimals=1, wei_decimals=6)),
        pairs=(*DEFAULT_SPOT.pairs, SpotPairConfig(base="FOO", start_price=D("1.5"))),
    )
    e = ExchangeEngine(clock=lambda: T0, spot=spot)
    meta = handle_info(e, {"type": "spotMeta"})
    assert [p["name"] for p in meta["universe"]] == ["PURR/USDC", "@1", "@2"]
    assert meta["universe"][2] == {"tokens": [3, 0], "name": "@2", "index": 2, "isCanonical": False}
    assert meta["tokens"][3]["tokenId"].startswith("0x") and len(meta["tokens"][3]["tokenId"]) == 34
    with pytest.raises(ValueError, match="token 0 must be USDC"):
        SpotConfig(tokens=DEFAULT_SPOT.tokens[1:], pairs=())
    with pytest.raises(ValueError, match="unknown token"):
        SpotConfig(tokens=DEFAULT_SPOT.tokens, pairs=(SpotPairConfig(base="BAR", start_price=D(1)),))


def test_a_spot_modify_under_the_minimum_value_keeps_the_order_with_the_spot_text() -> None:
    e, _ = make_engine()
    [st] = e.place_orders(A, [order(PURR, True, "0.19", "1000")])
    assert e.batch_modify(A, [(oid_of(st), order(PURR, True, "0.19", "10"))]) == [
        {"error": "Order must have minimum value of 10 USDC. asset=10000"}
    ]
    assert oid_of(st) in e.live and e.accounts[A].spot_hold == {"USDC": D("190")}
