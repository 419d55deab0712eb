"""Schemas against every recorded Hyperliquid payload, hand-built websocket frames and mutations."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wingbeat.hyperliquid import schemas as s
from wingbeat.hyperliquid import schemas_exchange as sx
from wingbeat.hyperliquid import schemas_ws as sw
from wingbeat.hyperliquid.schemas_spot import parse_spot_meta_and_asset_ctxs

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "hyperliquid" / "payloads"


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


# file -> (parser, key holding the reply)
INFO_PARSERS: dict[str, Callable[[Any], object]] = {
    "info_allMids.json": s.parse_all_mids,
    "info_clearinghouseState.json": s.parse_clearinghouse_state,
    "info_clearinghouseState_docs.json": s.parse_clearinghouse_state,
    "info_frontendOpenOrders.json": s.parse_open_orders,
    "info_historicalOrders.json": s.parse_historical_orders,
    "info_l2Book.json": s.parse_l2_book,
    "info_meta.json": s.parse_meta,
    "info_metaAndAssetCtxs.json": s.parse_meta_and_asset_ctxs,
    "info_openOrders.json": s.parse_open_orders,
    "info_spotMetaAndAssetCtxs.json": parse_spot_meta_and_asset_ctxs,
    "info_userFills.json": s.parse_fills,
    "info_userFillsByTime.json": s.parse_fills,
    "info_userFunding_test_user_funding_history_with_end_time.json": s.parse_user_funding,
    "info_userFunding_test_user_funding_history_without_end_time.json": s.parse_user_funding,
    "info_userRateLimit.json": s.parse_user_rate_limit,
}
# Replies wingbeat has no use for (staking, vaults, portfolio charts, candles...): not decoded.
NOT_DECODED = {
    "info_candleSnapshot.json",
    "info_delegatorHistory.json",
    "info_extraAgents.json",
    "info_fundingHistory_test_get_funding_history_1684811870000.json",
    "info_fundingHistory_test_get_funding_history_None.json",
    "info_portfolio.json",
    "info_userNonFundingLedgerUpdates_test_user_non_funding_ledger_updates_with_end_time.json",
    "info_userNonFundingLedgerUpdates_test_user_non_funding_ledger_updates_without_end_time.json",
    "info_userRole.json",
    "info_userTwapSliceFills.json",
    "info_userVaultEquities.json",
}


def exchange_replies() -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for path in sorted(PAYLOADS.glob("exchange_*.json")):
        doc = json.loads(path.read_text())
        for key in ("response", "response_success", "response_error", "response_shape_example"):
            if key in doc:
                out.append((f"{path.name}:{key}", doc[key]))
        for i, example in enumerate(doc.get("examples", [])):
            if "body" in example:
                out.append((f"{path.name}:examples[{i}]", example["body"]))
    return out


def test_every_recorded_payload_is_decoded_or_listed_as_unused() -> None:
    names = {p.name for p in PAYLOADS.glob("info_*.json")}
    assert names, f"no payloads under {PAYLOADS}"
    assert names == set(INFO_PARSERS) | NOT_DECODED | {"info_orderStatus.json"}


@pytest.mark.parametrize("name", sorted(INFO_PARSERS))
def test_recorded_info_reply_decodes(name: str) -> None:
    INFO_PARSERS[name](load(name)["response"])


def test_l2_book_levels_are_decimal_tuples_best_first() -> None:
    book = s.parse_l2_book(load("info_l2Book.json")["response"])
    assert book.coin == "DYDX" and book.time_ms == 1689630203930
    assert len(book.bids) == 20 and len(book.asks) == 20
    assert book.bids[0] == (Decimal("2.111"), Decimal("134.4"))
    assert book.asks[0] == (Decimal("2.1124"), Decimal("352.3"))
    assert all(a[0] > b[0] for a, b in zip(book.bids, book.bids[1:], strict=False))


def test_meta_assigns_asset_index_by_position() -> None:
    meta = s.parse_meta(load("info_meta.json")["response"])
    assert (
        meta.universe[0].name == "BTC" and meta.universe[0].asset == 0 and meta.universe[0].sz_decimals == 5
    )
    assert meta.universe[1].asset == 1 and meta.universe[1].name == "ETH"


def test_meta_and_asset_ctxs_tolerates_null_premium_and_impact() -> None:
    mac = s.parse_meta_and_asset_ctxs(load("info_metaAndAssetCtxs.json")["response"])
    assert mac.meta.universe[2].only_isolated
    assert mac.ctxs[0].impact_pxs == (Decimal("14.3047"), Decimal("14.3444"))
    assert mac.ctxs[1].premium is None and mac.ctxs[1].impact_pxs is None
    assert mac.ctxs[1].day_base_vlm == Decimal("0.0")


def test_meta_and_asset_ctxs_with_fewer_contexts_than_assets_decodes() -> None:
    mac = s.parse_meta_and_asset_ctxs(load("info_metaAndAssetCtxs.json")["response"])
    assert len(mac.meta.universe) == 3 and mac.ctx_of(1) is mac.ctxs[1] and mac.ctx_of(2) is None


def test_old_clearinghouse_state_without_newer_fields_decodes() -> None:
    state = s.parse_clearinghouse_state(load("info_clearinghouseState.json")["response"])
    btc = state.positions[0]
    assert btc.coin == "BTC" and btc.szi == Decimal("-0.00785") and btc.leverage.kind == "cross"
    assert state.positions[1].liquidation_px is None
    assert btc.cum_funding is None and state.time_ms is None
    assert state.withdrawable == Decimal("1010.57173")


def test_current_clearinghouse_state_has_isolated_leverage_and_cum_funding() -> None:
    state = s.parse_clearinghouse_state(load("info_clearinghouseState_docs.json")["response"])
    eth = state.positions[0]
    assert eth.leverage.kind == "isolated" and eth.leverage.raw_usd == Decimal("-95.059824")
    assert eth.cum_funding is not None and eth.cum_funding.all_time == Decimal("514.085417")
    assert state.time_ms == 1708622398623 and state.cross_maintenance_margin_used == Decimal("0.0")


def test_frontend_open_orders_keep_trigger_fields_and_children() -> None:
    orders = s.parse_open_orders(load("info_frontendOpenOrders.json")["response"])
    assert orders[0].is_trigger and orders[0].trigger_px == Decimal("10.004") and orders[0].tif is None
    assert len(orders[2].children) == 2 and orders[2].tif == "Gtc" and orders[2].is_buy


def test_order_status_found_and_unknown() -> None:
    doc = load("info_orderStatus.json")
    found = s.parse_order_status(doc["response_found"])
    assert found is not None and found.status == "filled" and found.order.oid == 1
    assert found.order.orig_sz == Decimal("0.0076") and found.order.cloid is None
    assert s.parse_order_status(doc["response_missing"]) is None


def test_order_status_lowercases_cloid() -> None:
    raw = load("info_orderStatus.json")["response_found"]
    raw["order"]["order"]["cloid"] = "0x000000000000000000000000000000AB"
    found = s.parse_order_status(raw)
    assert found is not None and found.order.cloid == "0x000000000000000000000000000000ab"


def test_old_fills_without_tid_get_distinct_fallback_trade_ids() -> None:
    fills = s.parse_fills(load("info_userFills.json")["response"])
    assert all(f.tid is None and f.fee_token == "USDC" for f in fills)
    assert len({f.trade_id for f in fills}) == len(fills)
    assert fills[0].crossed and not fills[0].is_buy and fills[0].closed_pnl == Decimal("-0.25686")


def test_current_fill_with_tid_cloid_and_liquidation() -> None:
    raw = {
        "coin": "BTC",
        "px": "50000.0",
        "sz": "0.1",
        "side": "B",
        "time": 1,
        "startPosition": "0.0",
        "dir": "Open Long",
        "closedPnl": "0.0",
        "hash": "0x" + "0" * 64,
        "oid": 7,
        "crossed": False,
        "fee": "-0.5",
        "feeToken": "USDC",
        "tid": 123456789,
        "cloid": "0x" + "AB" * 16,
        "liquidation": {"liquidatedUser": "0xabc", "markPx": "49000", "method": "market"},
        "newField": 1,
    }
    fill = s.parse_fill(raw)
    assert fill.trade_id == "123456789" and fill.cloid == "0x" + "ab" * 16 and fill.fee == Decimal("-0.5")
    assert fill.liquidation is not None and fill.liquidation.method == "market"


def test_user_funding_reads_time_and_hash_from_ledger_entry() -> None:
    payments = s.parse_user_funding(
        load("info_userFunding_test_user_funding_history_with_end_time.json")["response"]
    )
    assert payments[0].coin == "APE" and payments[0].n_samples == 3 and payments[0].time_ms == 1681948800000
    assert payments[0].hash is not None and payments[0].usdc == Decimal("0.145796")


@pytest.mark.parametrize(("name", "reply"), exchange_replies(), ids=[n for n, _ in exchange_replies()])
def test_recorded_exchange_reply_decodes(name: str, reply: Any) -> None:
    sx.parse_exchange_reply(reply)


def test_exchange_reply_statuses_are_typed() -> None:
    tpsl = sx.parse_exchange_reply(load("exchange_order_with_tpsl_normalTpsl.json")["response"])
    assert tpsl.ok and tpsl.response_type == "order"
    filled, child, _ = tpsl.statuses
    assert isinstance(filled, sx.FilledStatus) and filled.avg_px == Decimal("39.9351")
    assert child == sx.PendingStatus(kind="waitingForTrigger")
    resting = sx.parse_exchange_reply(load("exchange_order_resting.json")["response"])
    assert resting.statuses == (sx.RestingStatus(oid=77738308),)
    err = sx.parse_exchange_reply(load("exchange_order_error_min_value.json")["response"])
    assert err.statuses == (sx.ErrorStatus(message="Order must have minimum value of $10."),)
    cancel = load("exchange_cancel.json")
    ok = sx.parse_exchange_reply(cancel["response_success"]).statuses[0]
    assert isinstance(ok, sx.PendingStatus) and ok.is_success
    assert isinstance(sx.parse_exchange_reply(cancel["response_error"]).statuses[0], sx.ErrorStatus)
    default = sx.parse_exchange_reply(load("exchange_default_ok.json")["response"])
    assert default.ok and default.response_type == "default" and default.statuses == ()


def test_top_level_err_reply_is_not_ok_with_message() -> None:
    reply = sx.parse_exchange_reply({"status": "err", "response": "Invalid nonce: duplicate nonce 1"})
    assert not reply.ok and reply.error == "Invalid nonce: duplicate nonce 1"


def test_resting_status_keeps_lowercased_cloid() -> None:
    reply = sx.parse_exchange_reply(
        {
            "status": "ok",
            "response": {
                "type": "order",
                "data": {"statuses": [{"resting": {"oid": 5, "cloid": "0x" + "CD" * 16}}]},
            },
        }
    )
    assert reply.statuses == (sx.RestingStatus(oid=5, cloid="0x" + "cd" * 16),)


# --- websocket frames -----------------------------------------------------------------------

FILL = {
    "coin": "ETH",
    "px": "3000.5",
    "sz": "0.2",
    "side": "A",
    "time": 1700000000000,
    "startPosition": "1",
    "dir": "Close Long",
    "closedPnl": "1.5",
    "hash": "0x" + "1" * 64,
    "oid": 42,
    "crossed": True,
    "fee": "0.27",
    "feeToken": "USDC",
    "tid": 99,
}
CTX = {
    "funding": "0.0000125",
    "openInterest": "688.11",
    "prevDayPx": "15.322",
    "dayNtlVlm": "1169046.29406",
    "premium": "0.00031774",
    "oraclePx": "14.32",
    "markPx": "14.3161",
    "midPx": "14.314",
    "impactPxs": ["14.3047", "14.3444"],
}
WS_FRAMES: dict[str, tuple[Callable[[Any], object], Any]] = {
    "l2Book": (
        s.parse_l2_book,
        load("ws_post_examples.json")["info_response"]["data"]["response"]["payload"]["data"],
    ),
    "trades": (
        sw.parse_trades,
        [
            {
                "coin": "SOL",
                "side": "B",
                "px": "150.1",
                "sz": "2",
                "hash": "0xab",
                "time": 1,
                "tid": 7,
                "users": ["0x1", "0x2"],
            }
        ],
    ),
    "bbo": (sw.parse_bbo, {"coin": "SOL", "time": 1, "bbo": [{"px": "1", "sz": "2", "n": 1}, None]}),
    "allMids": (sw.parse_ws_all_mids, {"mids": {"BTC": "30000.5"}}),
    "activeAssetCtx": (sw.parse_active_asset_ctx, {"coin": "BTC", "ctx": CTX}),
    "orderUpdates": (
        sw.parse_order_updates,
        [
            {
                "order": {
                    "coin": "ETH",
                    "side": "B",
                    "limitPx": "3000",
                    "sz": "0.1",
                    "oid": 1,
                    "timestamp": 2,
                    "origSz": "0.1",
                    "cloid": "0x" + "0" * 32,
                },
                "status": "open",
                "statusTimestamp": 3,
            }
        ],
    ),
    "userFills": (sw.parse_user_fills_message, {"isSnapshot": True, "user": "0xAB", "fills": [FILL]}),
    "user": (sw.parse_user_events, {"fills": [FILL]}),
    "user_funding": (
        sw.parse_user_events,
        {
            "funding": {
                "time": 5,
                "coin": "BTC",
                "usdc": "-1.2",
                "szi": "0.5",
                "fundingRate": "0.0001",
                "nSamples": None,
            }
        },
    ),
    "user_liquidation": (
        sw.parse_user_events,
        {
            "liquidation": {
                "lid": 1,
                "liquidator": "0x1",
                "liquidated_user": "0x2",
                "liquidated_ntl_pos": "100.0",
                "liquidated_account_value": "5.0",
            }
        },
    ),
    "user_nonUserCancel": (sw.parse_user_events, {"nonUserCancel": [{"coin": "BTC", "oid": 9}]}),
    "post_info": (sw.parse_post_reply, load("ws_post_examples.json")["info_response"]["data"]),
    "post_action": (sw.parse_post_reply, load("ws_post_examples.json")["action_response"]["data"]),
    "post_error": (sw.parse_post_reply, load("ws_post_examples.json")["error_response_shape"]["data"]),
    "subscriptionResponse": (
        sw.parse_subscription_ack,
        load("ws_misc_frames.json")["subscriptionResponse"]["data"],
    ),
}


@pytest.mark.parametrize("name", sorted(WS_FRAMES))
def test_websocket_payload_decodes(name: str) -> None:
    parser, raw = WS_FRAMES[name]
    parser(copy.deepcopy(raw))


def test_parse_frame_splits_channel_and_data_and_ignores_banner() -> None:
    assert sw.parse_frame(orjson.dumps({"channel": "pong"})) == ("pong", None)
    assert sw.parse_frame('{"channel":"trades","data":[]}') == ("trades", [])
    assert sw.parse_frame(b"Websocket connection established.") == ("", None)
    with pytest.raises(s.MalformedMessageError):
        sw.parse_frame(b"{not json")
    with pytest.raises(s.MalformedMessageError):
        sw.parse_frame(b'{"data": 1}')


def test_user_events_kinds() -> None:
    fills = sw.parse_user_events({"fills": [FILL]})
    assert fills.fills[0].trade_id == "99" and fills.funding is None
    funding = sw.parse_user_events(WS_FRAMES["user_funding"][1]).funding
    assert funding is not None and funding.usdc == Decimal("-1.2") and funding.n_samples is None
    liq = sw.parse_user_events(WS_FRAMES["user_liquidation"][1]).liquidation
    assert liq is not None and liq.liquidated_ntl_pos == Decimal("100.0")
    assert sw.parse_user_events({"nonUserCancel": [{"coin": "BTC", "oid": 9}]}).non_user_cancels[0].oid == 9
    assert sw.parse_user_events({"twapHistory": []}) == sw.UserEvents()


def test_user_fills_message_snapshot_flag_and_user_lowercased() -> None:
    msg = sw.parse_user_fills_message({"isSnapshot": True, "user": "0xAB", "fills": [FILL]})
    assert msg.is_snapshot and msg.user == "0xab" and msg.fills[0].px == Decimal("3000.5")
    assert not sw.parse_user_fills_message({"user": "0xab", "fills": []}).is_snapshot


def test_post_replies() -> None:
    doc = load("ws_post_examples.json")
    info = sw.parse_post_reply(doc["info_response"]["data"])
    assert info.id == 123 and info.kind == "info" and info.payload["coin"] == "ETH"
    action = sw.parse_post_reply(doc["action_response"]["data"])
    assert action.kind == "action" and sx.parse_exchange_reply(action.payload).statuses[
        0
    ] == sx.RestingStatus(oid=88383)
    assert sw.parse_post_reply(doc["error_response_shape"]["data"]).kind == "error"


# --- strict types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda b: b.update(time="1"), "time"),
        (lambda b: b["levels"][0][0].update(px=2.1), "decimal string"),
        (lambda b: b["levels"][1][0].update(sz="NaN"), "finite"),
        (lambda b: b["levels"][1][0].update(sz="-1"), "positive"),
        (lambda b: b["levels"][1][0].update(sz="0.0"), "positive"),
        (lambda b: b["levels"][0][3].update(px="Infinity"), "finite"),
        (lambda b: b["levels"][0][3].update(px=" 2.1"), "positive"),
        (lambda b: b["levels"][0][3].update(px=""), "decimal"),
        (lambda b: b["levels"][0][3].update(px="2.1x"), "decimal"),
        (lambda b: b["levels"][0][3].update(px=["2.1"]), "malformed"),
        (lambda b: b["levels"][0].append("level"), "malformed"),
        (lambda b: b["levels"][0][0].pop("px"), "px"),
        (lambda b: b.update(levels=[[]]), "levels"),
        (lambda b: b.update(coin=None), "coin"),
    ],
)
def test_wrongly_typed_l2_book_is_malformed(mutate: Callable[[Any], object], match: str) -> None:
    raw = load("info_l2Book.json")["response"]
    mutate(raw)
    with pytest.raises(s.MalformedMessageError, match=match):
        s.parse_l2_book(raw)


def test_boolean_is_not_accepted_as_integer() -> None:
    raw = dict(FILL, oid=True)
    with pytest.raises(s.MalformedMessageError, match="oid"):
        s.parse_fill(raw)


def test_unknown_side_is_malformed() -> None:
    with pytest.raises(s.MalformedMessageError, match="side"):
        s.parse_fill(dict(FILL, side="X"))


# --- random mutations: MalformedMessageError or success, never anything else -----------------

CORPUS: list[tuple[Callable[[Any], object], Any]] = [
    *((parser, load(name)["response"]) for name, parser in INFO_PARSERS.items()),
    *((sx.parse_exchange_reply, reply) for _, reply in exchange_replies()),
    (s.parse_order_status, load("info_orderStatus.json")["response_found"]),
    *WS_FRAMES.values(),
]

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.sampled_from(["1.5", "-0", "NaN", "Infinity", "1e999999", "B", "A", "", "0x"]),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


def _containers(value: Any) -> list[Any]:
    found = [value] if isinstance(value, dict | list) else []
    if isinstance(value, dict):
        for v in value.values():
            found.extend(_containers(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(_containers(v))
    return found


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_random_mutations_raise_only_malformed_message_error(data: st.DataObject) -> None:
    parser, original = data.draw(st.sampled_from(CORPUS))
    raw = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(1, 3))):
        containers = _containers(raw)
        if not containers:
            raw = data.draw(JSON_VALUES)
            break
        target = data.draw(st.sampled_from(containers))
        if not target:
            continue
        key = data.draw(st.sampled_from(sorted(target) if isinstance(target, dict) else range(len(target))))
        action = data.draw(st.sampled_from(["replace", "delete", "truncate"]))
        if action == "replace":
            target[key] = data.draw(JSON_VALUES)
        elif action == "delete":
            del target[key]
        elif isinstance(target, list):
            del target[key:]
        else:
            target.clear()
    with contextlib.suppress(s.MalformedMessageError):
        parser(raw)
