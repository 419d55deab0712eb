"""Valid exchange messages to mutate: every REST answer and websocket channel payload the connector parses,
rendered by the local exchange's venue half (in-process, no sockets) after some trading, so each seed has
the exact shape Hyperliquid sends. ``PARSERS`` maps a name to (parser, seeds)."""

from __future__ import annotations

import copy
import functools
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

from wingbeat.hyperliquid.schemas import (
    parse_all_mids,
    parse_clearinghouse_state,
    parse_fills,
    parse_historical_orders,
    parse_l2_book,
    parse_meta,
    parse_meta_and_asset_ctxs,
    parse_open_orders,
    parse_order_status,
    parse_user_funding,
    parse_user_rate_limit,
)
from wingbeat.hyperliquid.schemas_exchange import parse_exchange_reply
from wingbeat.hyperliquid.schemas_ws import (
    parse_active_asset_ctx,
    parse_bbo,
    parse_frame,
    parse_order_updates,
    parse_post_reply,
    parse_subscription_ack,
    parse_trades,
    parse_user_events,
    parse_user_fills_message,
    parse_ws_all_mids,
)
from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.types import EngineEvent, FillsEvent, OrderRequest, OrderUpdatesEvent, TradesEvent

MAKER = "0x" + "11" * 20
TAKER = "0x" + "22" * 20
_CLOID = "0x" + "ab" * 16

Parser = Callable[[Any], Any]


def _trade(engine: ExchangeEngine) -> list[EngineEvent]:
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    for user in (MAKER, TAKER):
        engine.fund(user, Decimal(1_000_000))
    for i, px in enumerate(("59990", "59980", "59970")):
        engine.place_orders(MAKER, [OrderRequest(asset=0, is_buy=True, price=Decimal(px), size=Decimal("0.01"),
                                                 reduce_only=False, tif="Gtc", cloid=f"0x{i:032x}")])
        engine.place_orders(MAKER, [OrderRequest(asset=0, is_buy=False, price=Decimal(px) + 40, size=Decimal("0.01"),
                                                 reduce_only=False, tif="Gtc")])
    engine.place_orders(TAKER, [OrderRequest(asset=0, is_buy=False, price=Decimal(59_975), size=Decimal("0.015"),
                                             reduce_only=False, tif="Ioc", cloid=_CLOID)])
    return events


@functools.cache
def parsers() -> dict[str, tuple[Parser, list[Any]]]:
    """Every parser of exchange data with valid seed messages for it."""
    engine = ExchangeEngine()
    events = _trade(engine)

    def info(kind: str, **body: Any) -> Any:
        return handle_info(engine, {"type": kind, **body})

    fills = [f for e in events if isinstance(e, FillsEvent) for f in e.fills]
    updates = [u for e in events if isinstance(e, OrderUpdatesEvent) for u in e.updates]
    trades = [t for e in events if isinstance(e, TradesEvent) for t in e.trades]
    book = info("l2Book", coin="BTC")
    ctx = info("metaAndAssetCtxs")[1][0]
    order_reply = {"status": "ok", "response": {"type": "order", "data": {"statuses": [
        {"resting": {"oid": 7, "cloid": _CLOID}}, {"filled": {"totalSz": "0.02", "avgPx": "1891.4", "oid": 8}},
        {"error": "Order must have minimum value of $10."}]}}}
    cancel_reply = {"status": "ok", "response": {"type": "cancel", "data": {"statuses": ["success"]}}}
    return {
        "meta": (parse_meta, [info("meta")]),
        "metaAndAssetCtxs": (parse_meta_and_asset_ctxs, [info("metaAndAssetCtxs")]),
        "allMids": (parse_all_mids, [info("allMids")]),
        "l2Book": (parse_l2_book, [book]),
        "clearinghouseState": (parse_clearinghouse_state, [info("clearinghouseState", user=TAKER),
                                                           info("clearinghouseState", user=MAKER)]),
        "openOrders": (parse_open_orders, [info("frontendOpenOrders", user=MAKER), info("openOrders", user=MAKER)]),
        "orderStatus": (parse_order_status, [info("orderStatus", user=TAKER, oid=_CLOID),
                                             info("orderStatus", user=MAKER, oid="0x" + "0" * 32)]),
        "historicalOrders": (parse_historical_orders, [info("historicalOrders", user=MAKER)]),
        "userFills": (parse_fills, [info("userFills", user=TAKER), fills]),
        "userFunding": (parse_user_funding, [[{"time": 1, "hash": "0x" + "0" * 64, "delta": {
            "type": "funding", "coin": "BTC", "usdc": "-0.1", "szi": "0.01", "fundingRate": "0.0000125"}}]]),
        "userRateLimit": (parse_user_rate_limit, [info("userRateLimit", user=TAKER)]),
        "exchangeReply": (parse_exchange_reply, [order_reply, cancel_reply,
                                                 {"status": "err", "response": "Insufficient margin"}]),
        "ws.trades": (parse_trades, [trades]),
        "ws.bbo": (parse_bbo, [{"coin": "BTC", "time": 1, "bbo": [book["levels"][0][0], book["levels"][1][0]]}]),
        "ws.allMids": (parse_ws_all_mids, [{"mids": info("allMids")}]),
        "ws.activeAssetCtx": (parse_active_asset_ctx, [{"coin": "BTC", "ctx": ctx}]),
        "ws.orderUpdates": (parse_order_updates, [updates]),
        "ws.userFills": (parse_user_fills_message, [{"isSnapshot": True, "user": TAKER, "fills": fills}]),
        "ws.user": (parse_user_events, [{"fills": fills}, {"nonUserCancel": [{"coin": "BTC", "oid": 3}]},
                                        {"liquidation": {"lid": 1, "liquidator": MAKER, "liquidated_user": TAKER,
                                                         "liquidated_ntl_pos": "100.0",
                                                         "liquidated_account_value": "5.0"}}]),
        "ws.post": (parse_post_reply, [{"id": 3, "response": {"type": "action", "payload": order_reply}},
                                       {"id": 4, "response": {"type": "info", "payload": {"type": "l2Book",
                                                                                          "data": book}}}]),
        "ws.subscriptionResponse": (parse_subscription_ack, [{"method": "subscribe", "subscription": {
            "type": "l2Book", "coin": "BTC"}}]),
        "ws.frame": (parse_frame, [orjson.dumps({"channel": "trades", "data": trades}),
                                   orjson.dumps({"channel": "l2Book", "data": book})]),
    }


ABSURD: list[Any] = [None, True, -1, 0, 2**70, 1e308, float("inf"), "", "NaN", "Infinity", "-0", "1e999999",
                     "x" * 3_000, [], {}, [[[]]], {"a": {"b": None}}]


def random_mutation(value: Any, rng: random.Random) -> Any:
    """A copy of ``value`` with one node deleted, truncated, renamed or replaced by an absurd value."""
    root = copy.deepcopy(value)
    nodes: list[tuple[Any, Any]] = []  # (container, key)
    stack = [root]
    while stack:
        node = stack.pop()
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            nodes.append((node, key))
            stack.append(child)
    if not nodes:
        return rng.choice(ABSURD)
    container, key = rng.choice(nodes)
    roll = rng.random()
    if roll < 0.3:
        del container[key]
    elif roll < 0.4 and isinstance(container[key], list):
        container[key] = container[key][: rng.randint(0, len(container[key]))]
    elif roll < 0.5 and isinstance(container, dict):
        container[f"{key}_"] = container.pop(key)
    else:
        container[key] = copy.deepcopy(rng.choice(ABSURD))
    return root
