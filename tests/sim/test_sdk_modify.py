"""The official SDK's modify calls (``modify_order`` / ``bulk_modify_orders_new``, both ``batchModify``) and its
priority-fee grouping (``bulk_orders(..., grouping={"p": rate})``) against the local exchange.

What is checked is Hyperliquid's behaviour as the docs, the SDK's examples and SDK users' reports give it:
a modify by oid or by cloid, the replacement under a new oid keeping the cloid, one status per modify in the
``order`` reply shape, "Cannot modify canceled or filled order." for an order that is no longer open, and the
priority fee accepted only on all-Ioc or all-Alo (not reduce-only) batches.
"""

from __future__ import annotations

from typing import Any

from hyperliquid.utils.types import Cloid

from tests.sim.test_sdk_acceptance import Sdk, call, sdk, statuses

__all__ = ["sdk"]  # the fixture, re-exported for pytest

GTC: Any = {"limit": {"tif": "Gtc"}}


async def _rest(sdk: Sdk, coin: str, px: float, sz: float, cloid: Cloid | None = None) -> int:
    placed = await call(sdk.exchange.order, coin, True, sz, px, GTC, cloid=cloid)
    oid: int = statuses(placed)[0]["resting"]["oid"]
    return oid


async def test_modify_by_oid_then_by_cloid_keeps_the_cloid_under_new_oids(sdk: Sdk) -> None:
    cloid = Cloid.from_int(0xABC)
    mid = await sdk.mid("ETH")
    first = await _rest(sdk, "ETH", sdk.px("ETH", mid * 0.9), 0.2, cloid)
    by_oid = await call(
        sdk.exchange.modify_order, first, "ETH", True, 0.1, sdk.px("ETH", mid * 0.91), GTC, cloid=cloid
    )
    assert by_oid["response"]["type"] == "order"
    second = statuses(by_oid)[0]["resting"]
    assert second["oid"] != first and second["cloid"] == cloid.to_raw()
    by_cloid = await call(
        sdk.exchange.modify_order, cloid, "ETH", True, 0.1, sdk.px("ETH", mid * 0.92), GTC, cloid=cloid
    )
    third = statuses(by_cloid)[0]["resting"]
    assert third["oid"] not in (first, second["oid"])
    found = await call(sdk.info.query_order_by_cloid, sdk.trader.address, cloid)
    assert found["order"]["order"]["oid"] == third["oid"] and found["order"]["status"] == "open"
    old = await call(sdk.info.query_order_by_oid, sdk.trader.address, first)
    assert old["order"]["status"] == "canceled"
    opens = await call(sdk.info.open_orders, sdk.trader.address)
    assert [o["oid"] for o in opens] == [third["oid"]]


async def test_bulk_modify_answers_one_status_per_modify_in_order(sdk: Sdk) -> None:
    mid = await sdk.mid("BTC")
    a = await _rest(sdk, "BTC", sdk.px("BTC", mid * 0.9), 0.001)
    b = await _rest(sdk, "BTC", sdk.px("BTC", mid * 0.89), 0.001)
    modifies: list[Any] = [
        {
            "oid": a,
            "order": {
                "coin": "BTC",
                "is_buy": True,
                "sz": 0.002,
                "limit_px": sdk.px("BTC", mid * 0.88),
                "order_type": GTC,
                "reduce_only": False,
            },
        },
        {
            "oid": 999_999_999,
            "order": {
                "coin": "BTC",
                "is_buy": True,
                "sz": 0.001,
                "limit_px": sdk.px("BTC", mid * 0.88),
                "order_type": GTC,
                "reduce_only": False,
            },
        },
        {
            "oid": b,
            "order": {
                "coin": "BTC",
                "is_buy": True,
                "sz": 0.001,
                "limit_px": sdk.px("BTC", mid * 0.87),
                "order_type": GTC,
                "reduce_only": False,
            },
        },
    ]
    answer = statuses(await call(sdk.exchange.bulk_modify_orders_new, modifies))
    assert len(answer) == 3
    assert "resting" in answer[0] and answer[0]["resting"]["oid"] not in (a, b)
    assert answer[1] == {"error": "Cannot modify canceled or filled order."}
    assert "resting" in answer[2]
    sizes = sorted(o["sz"] for o in await call(sdk.info.open_orders, sdk.trader.address))
    assert sizes == ["0.001", "0.002"]


async def test_modify_of_a_cancelled_or_filled_order_is_refused(sdk: Sdk) -> None:
    mid = await sdk.mid("SOL")
    oid = await _rest(sdk, "SOL", sdk.px("SOL", mid * 0.9), 1.0)
    assert statuses(await call(sdk.exchange.cancel, "SOL", oid)) == ["success"]
    refused = await call(sdk.exchange.modify_order, oid, "SOL", True, 1.0, sdk.px("SOL", mid * 0.8), GTC)
    assert statuses(refused) == [{"error": "Cannot modify canceled or filled order."}]
    filled = await call(
        sdk.exchange.order, "SOL", True, 1.0, sdk.px("SOL", mid * 1.05), {"limit": {"tif": "Ioc"}}
    )
    taken = statuses(filled)[0]["filled"]["oid"]
    again = await call(sdk.exchange.modify_order, taken, "SOL", True, 1.0, sdk.px("SOL", mid * 0.8), GTC)
    assert statuses(again) == [{"error": "Cannot modify canceled or filled order."}]


async def test_priority_fee_grouping_on_ioc_and_alo_batches_only(sdk: Sdk) -> None:
    mid = await sdk.mid("SOL")
    ioc: Any = {
        "coin": "SOL",
        "is_buy": True,
        "sz": 1.0,
        "limit_px": sdk.px("SOL", mid * 1.05),
        "order_type": {"limit": {"tif": "Ioc"}},
        "reduce_only": False,
    }
    taken = await call(sdk.exchange.bulk_orders, [ioc], None, {"p": 12345})
    assert float(statuses(taken)[0]["filled"]["totalSz"]) == 1.0
    alo: Any = {**ioc, "limit_px": sdk.px("SOL", mid * 0.9), "order_type": {"limit": {"tif": "Alo"}}}
    assert "resting" in statuses(await call(sdk.exchange.bulk_orders, [alo], None, {"p": 1}))[0]
    gtc: Any = {**alo, "order_type": GTC}
    refused = await call(sdk.exchange.bulk_orders, [gtc], None, {"p": 12345})
    assert refused["status"] == "err" and "priority fee" in refused["response"]
    reduce_only_alo: Any = {**alo, "is_buy": False, "limit_px": sdk.px("SOL", mid * 1.1), "reduce_only": True}
    refused = await call(sdk.exchange.bulk_orders, [reduce_only_alo], None, {"p": 12345})
    assert refused["status"] == "err" and "priority fee" in refused["response"]
