"""Info answers: shapes compared key-by-key with recorded Hyperliquid payloads, and error cases."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from wingbeat.sim.protocol.info import InfoError, handle_info, render_bbo
from wingbeat.sim.protocol.rate_limits import RateLimitConfig, RateLimiter
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.types import OrderRequest, TriggerSpec

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "hyperliquid" / "payloads"
A = "0x" + "a" * 40
B = "0x" + "b" * 40
T0 = 1_700_000_000_000


def recorded(name: str, key: str = "response") -> Any:
    return json.loads((PAYLOADS / name).read_text())[key]


def same_shape(ours: Any, theirs: Any, path: str = "$", optional: frozenset[str] = frozenset()) -> None:
    """Every key of the recorded object exists in ours with the same JSON type (null matches any)."""
    if theirs is None or ours is None:
        return
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), path
        for key, value in theirs.items():
            if key in optional:
                continue
            assert key in ours, f"{path}.{key} missing"
            same_shape(ours[key], value, f"{path}.{key}", optional)
    elif isinstance(theirs, list):
        assert isinstance(ours, list), path
        if theirs and ours:
            same_shape(ours[0], theirs[0], f"{path}[0]", optional)
    else:
        assert type(ours) is type(theirs), f"{path}: {type(ours).__name__} vs {type(theirs).__name__}"


@pytest.fixture
def engine() -> ExchangeEngine:
    clock = [T0]
    e = ExchangeEngine(clock=lambda: clock[0], funding_interval_ms=60_000)
    e.fund(A, D(100_000))
    e.fund(B, D(100_000))
    e.place_orders(A, [OrderRequest(0, False, D("60000"), D("0.1"), False, "Gtc")])
    e.place_orders(B, [OrderRequest(0, True, D("60000"), D("0.05"), False, "Gtc", cloid="0x" + "1" * 32)])
    e.place_orders(
        B,
        [
            OrderRequest(0, True, D("59000"), D("0.01"), False, "Gtc"),
            OrderRequest(0, False, D("55000"), D("0.05"), True, None, TriggerSpec(True, D("56000"), "sl")),
        ],
    )
    clock[0] += 120_000
    e.advance()
    return e


def test_meta_matches_recorded_shape(engine: ExchangeEngine) -> None:
    ours = handle_info(engine, {"type": "meta", "dex": ""})
    same_shape(ours, recorded("info_metaAndAssetCtxs.json")[0])
    assert [u["name"] for u in ours["universe"]] == ["BTC", "ETH", "SOL", "HYPE"]


def test_meta_and_asset_ctxs_matches_recorded_shape(engine: ExchangeEngine) -> None:
    ours = handle_info(engine, {"type": "metaAndAssetCtxs"})
    theirs = recorded("info_metaAndAssetCtxs.json")
    same_shape(ours, theirs)
    same_shape(ours[1][0], theirs[1][0])
    assert len(ours[1]) == 4


def test_l2_book_matches_recorded_shape_and_orders_levels(engine: ExchangeEngine) -> None:
    ours = handle_info(engine, {"type": "l2Book", "coin": "BTC"})
    same_shape(ours, recorded("info_l2Book.json"))
    assert ours["levels"][0][0] == {"px": "59000.0", "sz": "0.01", "n": 1}
    assert ours["levels"][1][0] == {"px": "60000.0", "sz": "0.05", "n": 1}
    assert handle_info(engine, {"type": "l2Book", "coin": "NOPE"}) is None


def test_l2_book_with_sig_figs_aggregates(engine: ExchangeEngine) -> None:
    engine.place_orders(A, [OrderRequest(0, False, D("60100"), D("0.02"), False, "Gtc")])
    engine.place_orders(A, [OrderRequest(0, False, D("60200"), D("0.03"), False, "Gtc")])
    ours = handle_info(engine, {"type": "l2Book", "coin": "BTC", "nSigFigs": 2})
    # asks round up: 60000 stays, 60100 and 60200 share the 61000 bucket
    assert ours["levels"][1] == [
        {"px": "60000.0", "sz": "0.05", "n": 1},
        {"px": "61000.0", "sz": "0.05", "n": 2},
    ]
    with pytest.raises(InfoError) as err:
        handle_info(engine, {"type": "l2Book", "coin": "BTC", "nSigFigs": 7})
    assert err.value.status == 422


def test_clearinghouse_state_matches_docs_shape(engine: ExchangeEngine) -> None:
    ours = handle_info(engine, {"type": "clearinghouseState", "user": B, "dex": ""})
    docs = recorded("info_clearinghouseState_docs.json")
    same_shape(ours, docs, optional=frozenset({"rawUsd"}))
    pos = ours["assetPositions"][0]["position"]
    assert pos["szi"] == "0.05" and pos["entryPx"] == "60000.0"
    assert pos["leverage"] == {"type": "cross", "value": 50}


def test_clearinghouse_state_of_unknown_user_is_zero(engine: ExchangeEngine) -> None:
    ours = handle_info(engine, {"type": "clearinghouseState", "user": "0x" + "9" * 40})
    assert ours["assetPositions"] == [] and ours["marginSummary"]["accountValue"] == "0.0"


def test_open_orders_match_recorded_shape(engine: ExchangeEngine) -> None:
    ours = handle_info(engine, {"type": "openOrders", "user": B, "dex": ""})
    same_shape(ours, recorded("info_openOrders.json"))
    assert len(ours) == 2


def test_frontend_open_orders_match_recorded_shape(engine: ExchangeEngine) -> None:
    ours = handle_info(engine, {"type": "frontendOpenOrders", "user": B})
    same_shape(ours, recorded("info_frontendOpenOrders.json"), optional=frozenset({"children"}))
    trig = next(o for o in ours if o["isTrigger"])
    assert trig["orderType"] == "Stop Market" and trig["triggerCondition"] == "Price below 56000"


def test_order_status_by_oid_and_cloid(engine: ExchangeEngine) -> None:
    by_cloid = handle_info(engine, {"type": "orderStatus", "user": B, "oid": "0x" + "1" * 32})
    same_shape(by_cloid, recorded("info_orderStatus.json", "response_found"))
    assert by_cloid["order"]["status"] == "filled"
    oid = by_cloid["order"]["order"]["oid"]
    by_oid = handle_info(engine, {"type": "orderStatus", "user": B, "oid": oid})
    assert by_oid == by_cloid
    assert handle_info(engine, {"type": "orderStatus", "user": A, "oid": oid}) == {"status": "unknownOid"}


def test_user_fills_match_recorded_shape_newest_first(engine: ExchangeEngine) -> None:
    engine.place_orders(B, [OrderRequest(0, True, D("60000"), D("0.01"), False, "Ioc")])
    ours = handle_info(engine, {"type": "userFills", "user": B})
    same_shape(ours, recorded("info_userFills.json"))
    assert ours[0]["time"] >= ours[-1]["time"] and ours[0]["tid"] > ours[-1]["tid"]
    by_time = handle_info(
        engine,
        {"type": "userFillsByTime", "user": B, "startTime": 0, "endTime": None, "aggregateByTime": False},
    )
    assert by_time == ours


def test_funding_answers_match_recorded_shapes(engine: ExchangeEngine) -> None:
    ours = handle_info(engine, {"type": "userFunding", "user": B, "startTime": 0})
    same_shape(ours, recorded("info_userFunding_test_user_funding_history_without_end_time.json"))
    assert ours, "two funding periods elapsed"
    hist = handle_info(engine, {"type": "fundingHistory", "coin": "BTC", "startTime": 0})
    same_shape(hist, recorded("info_fundingHistory_test_get_funding_history_None.json"))


def test_candle_snapshot_matches_recorded_shape(engine: ExchangeEngine) -> None:
    body = {
        "type": "candleSnapshot",
        "req": {"coin": "BTC", "interval": "1h", "startTime": 0, "endTime": T0 * 2},
    }
    ours = handle_info(engine, body)
    same_shape(ours, recorded("info_candleSnapshot.json"))
    assert ours[0]["o"] == "60000.0" and ours[0]["n"] == 1


def test_user_rate_limit_and_spot_meta_and_all_mids(engine: ExchangeEngine) -> None:
    same_shape(handle_info(engine, {"type": "userRateLimit", "user": B}), recorded("info_userRateLimit.json"))
    meta = handle_info(engine, {"type": "spotMeta"})
    assert [p["name"] for p in meta["universe"]] == ["PURR/USDC", "@1"]
    mids = handle_info(engine, {"type": "allMids", "dex": ""})
    # allMids of the first perp dex carries the spot pairs too, by their coin names
    assert set(mids) == {"BTC", "ETH", "SOL", "HYPE", "PURR/USDC", "@1"} and mids["ETH"] == "3000.0"


def test_user_rate_limit_reports_the_cap_and_count_of_the_servers_limiter(engine: ExchangeEngine) -> None:
    limiter = RateLimiter(
        RateLimitConfig(address_initial_buffer=500), lambda user: engine.accounts[user].cum_volume
    )
    limiter.charge_address(B, 7, T0)
    body = {"type": "userRateLimit", "user": B}
    ours = handle_info(engine, body, requests_used=limiter.used, requests_cap=limiter.cap)
    traded = int(engine.accounts[B].cum_volume)
    assert traded > 0
    assert ours["nRequestsCap"] == 500 + traded and ours["nRequestsUsed"] == 7
    assert handle_info(engine, body)["nRequestsCap"] == 10_000 + traded  # no limiter: the default


def test_bbo_render(engine: ExchangeEngine) -> None:
    m = engine.market("BTC")
    assert m is not None
    bbo = render_bbo(engine, m)
    assert bbo["bbo"][0]["px"] == "59000.0" and bbo["bbo"][1]["px"] == "60000.0"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "nope"},
        [],
        {"type": "clearinghouseState"},
        {"type": "clearinghouseState", "user": "0x12"},
        {"type": "orderStatus", "user": A, "oid": "0x12"},
        {"type": "candleSnapshot", "req": {"coin": "BTC", "interval": "7m", "startTime": 0, "endTime": 1}},
        {"type": "userFunding", "user": A},
    ],
)
def test_bad_bodies_are_422_deserialize_errors(engine: ExchangeEngine, body: Any) -> None:
    with pytest.raises(InfoError) as err:
        handle_info(engine, body)
    assert err.value.status == 422
    assert err.value.text.startswith("Failed to deserialize the JSON body into the target type")


def test_historical_orders_newest_first_with_final_statuses(engine: ExchangeEngine) -> None:
    hist = handle_info(engine, {"type": "historicalOrders", "user": B})
    assert hist and hist[0]["order"]["oid"] >= hist[-1]["order"]["oid"]
    assert {h["status"] for h in hist} == {"filled"}
    same_shape(hist[0], recorded("info_orderStatus.json", "response_found")["order"])


def test_user_role_and_extra_agents(engine: ExchangeEngine) -> None:
    agent = "0x" + "e" * 40
    engine.approve_agent(B, agent, "bot")
    assert handle_info(engine, {"type": "userRole", "user": B}) == {"role": "user"}
    assert handle_info(engine, {"type": "userRole", "user": agent}) == {"role": "agent", "data": {"user": B}}
    assert handle_info(engine, {"type": "userRole", "user": "0x" + "7" * 40}) == {"role": "missing"}
    (extra,) = handle_info(engine, {"type": "extraAgents", "user": B})
    assert extra["name"] == "bot" and extra["address"] == agent
    assert isinstance(extra["validUntil"], int) and extra["validUntil"] > engine.now  # a ms time, as recorded
    same_shape([extra], recorded("info_extraAgents.json"))
    vault = "0x" + "5" * 40
    engine.fund(vault, D(1000))
    engine.accounts[vault].vault_leader = B  # what registering a vault does
    assert handle_info(engine, {"type": "userRole", "user": vault}) == recorded("info_userRole.json")


def test_tpsl_children_show_under_their_parent(engine: ExchangeEngine) -> None:
    engine.place_orders(
        A,
        [
            OrderRequest(0, True, D("58000"), D("0.01"), False, "Gtc"),
            OrderRequest(0, False, D("57000"), D("0.01"), True, None, TriggerSpec(True, D("57500"), "sl")),
        ],
        grouping="normalTpsl",
    )
    orders = handle_info(engine, {"type": "frontendOpenOrders", "user": A})
    parent = next(o for o in orders if o["limitPx"] == "58000.0")
    assert [c["orderType"] for c in parent["children"]] == ["Stop Market"]


def test_spot_and_dex_answers_for_the_sdk(engine: ExchangeEngine) -> None:
    meta, ctxs = handle_info(engine, {"type": "spotMetaAndAssetCtxs"})
    recorded_meta, recorded_ctxs = recorded("info_spotMetaAndAssetCtxs.json")  # mainnet, via the SDK's cassette
    same_shape(meta, recorded_meta)
    same_shape(ctxs, recorded_ctxs)
    assert meta == handle_info(engine, {"type": "spotMeta"})
    assert [c["coin"] for c in ctxs] == ["PURR/USDC", "@1"]  # one context per pair, in pair order
    assert handle_info(engine, {"type": "spotClearinghouseState", "user": A}) == {"balances": []}
    dexes = handle_info(engine, {"type": "perpDexs"})
    assert dexes[0] is None and [d["name"] for d in dexes[1:]] == ["xyz"]  # the shipped builder dex
    assert [u["name"] for u in handle_info(engine, {"type": "meta", "dex": "xyz"})["universe"]] == [
        "xyz:XYZ100",
        "xyz:GOLD",
    ]
    with pytest.raises(InfoError):
        handle_info(engine, {"type": "meta", "dex": "nodex"})


def test_aggregate_by_time_combines_one_crossing_orders_fills(engine: ExchangeEngine) -> None:
    engine.place_orders(A, [OrderRequest(0, False, D("60100"), D("0.01"), False, "Gtc")])
    # takes the 0.05 left at 60000 and 0.01 at 60100
    engine.place_orders(B, [OrderRequest(0, True, D("60100"), D("0.06"), False, "Ioc")])
    plain = handle_info(engine, {"type": "userFills", "user": B})
    agg = handle_info(engine, {"type": "userFills", "user": B, "aggregateByTime": True})
    assert len(agg) == len(plain) - 1
    assert agg[0]["sz"] == "0.06" and agg[0]["px"] == "60016.66666667" and agg[0]["crossed"] is True
    assert D(agg[0]["fee"]) == D(plain[0]["fee"]) + D(plain[1]["fee"])
    body = {
        "type": "userFillsByTime",
        "user": B,
        "startTime": 0,
        "endTime": T0 + 10**9,
        "aggregateByTime": True,
    }
    assert handle_info(engine, body) == agg
    assert handle_info(engine, {**body, "endTime": T0 - 1}) == []
