"""Acceptance: the official hyperliquid-python-sdk, unmodified, against the local exchange.

The SDK is synchronous (requests, websocket-client threads): its calls run in worker threads
while the exchange serves on the test's event loop.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.types import Cloid

from tests.conftest import Trader, new_trader
from wingbeat.sim import LocalExchange

T = TypeVar("T")
WAIT = 10.0


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking SDK call in a worker thread."""
    return await asyncio.to_thread(fn, *args, **kwargs)


@dataclass
class Sdk:
    ex: LocalExchange
    trader: Trader
    info: Info
    exchange: Exchange

    async def mid(self, coin: str) -> float:
        mids = await call(self.info.all_mids)
        return float(mids[coin])

    def px(self, coin: str, value: float) -> float:
        """``value`` rounded as the SDK rounds prices: 5 significant figures, 6 - szDecimals decimals."""
        sz_decimals = self.info.asset_to_sz_decimals[self.info.name_to_asset(coin)]
        return round(float(f"{value:.5g}"), 6 - sz_decimals)


@pytest.fixture
async def sdk(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> AsyncIterator[Sdk]:
    async with start_local_exchange(liquidity=True) as ex:
        trader = new_trader()
        await ex.fund(trader.address, 1_000_000)
        info = await call(Info, ex.base_url, True)
        exchange = await call(Exchange, eth_account.Account.from_key(trader.key), ex.base_url)
        yield Sdk(ex, trader, info, exchange)


def statuses(answer: dict[str, Any]) -> list[Any]:
    assert answer["status"] == "ok", answer
    result: list[Any] = answer["response"]["data"]["statuses"]
    return result


async def test_info_calls_answer_in_the_sdk_shapes(sdk: Sdk) -> None:
    meta = await call(sdk.info.meta)
    assert [u["name"] for u in meta["universe"]] == ["BTC", "ETH", "SOL", "HYPE"]
    book = await call(sdk.info.l2_snapshot, "ETH")
    assert book["coin"] == "ETH" and book["levels"][0] and book["levels"][1]
    state = await call(sdk.info.user_state, sdk.trader.address)
    assert float(state["marginSummary"]["accountValue"]) == 1_000_000
    assert await call(sdk.info.open_orders, sdk.trader.address) == []


async def test_limit_order_rests_is_found_by_cloid_and_canceled_by_cloid(sdk: Sdk) -> None:
    cloid = Cloid.from_int(7)
    px = sdk.px("ETH", await sdk.mid("ETH") * 0.9)
    placed = await call(sdk.exchange.order, "ETH", True, 0.01, px, {"limit": {"tif": "Gtc"}}, cloid=cloid)
    resting = statuses(placed)[0]["resting"]
    assert resting["cloid"] == cloid.to_raw()
    found = await call(sdk.info.query_order_by_cloid, sdk.trader.address, cloid)
    assert found["status"] == "order" and found["order"]["status"] == "open"
    assert found["order"]["order"]["oid"] == resting["oid"]
    opens = await call(sdk.info.open_orders, sdk.trader.address)
    assert [o["oid"] for o in opens] == [resting["oid"]]
    canceled = await call(sdk.exchange.cancel_by_cloid, "ETH", cloid)
    assert statuses(canceled) == ["success"]
    assert await call(sdk.info.open_orders, sdk.trader.address) == []


async def test_ioc_fills_against_the_makers_and_alo_that_would_cross_is_rejected(sdk: Sdk) -> None:
    mid = await sdk.mid("SOL")
    ioc = await call(
        sdk.exchange.order, "SOL", True, 1.0, sdk.px("SOL", mid * 1.05), {"limit": {"tif": "Ioc"}}
    )
    filled = statuses(ioc)[0]["filled"]
    assert float(filled["totalSz"]) == 1.0
    alo = await call(
        sdk.exchange.order, "SOL", True, 1.0, sdk.px("SOL", mid * 1.05), {"limit": {"tif": "Alo"}}
    )
    assert statuses(alo)[0]["error"].startswith("Post only order would have immediately matched")
    passive = await call(
        sdk.exchange.order, "SOL", True, 1.0, sdk.px("SOL", mid * 0.9), {"limit": {"tif": "Alo"}}
    )
    assert "resting" in statuses(passive)[0]


async def test_trigger_order_rests_until_its_price(sdk: Sdk) -> None:
    mid = await sdk.mid("ETH")
    await call(sdk.exchange.market_open, "ETH", True, 0.1)
    trigger = {"trigger": {"triggerPx": sdk.px("ETH", mid * 0.8), "isMarket": True, "tpsl": "sl"}}
    answer = await call(
        sdk.exchange.order, "ETH", False, 0.1, sdk.px("ETH", mid * 0.79), trigger, reduce_only=True
    )
    oid = statuses(answer)[0]["resting"]["oid"]
    frontend = await call(sdk.info.frontend_open_orders, sdk.trader.address)
    (order,) = [o for o in frontend if o["oid"] == oid]
    assert order["isTrigger"] is True and order["orderType"] == "Stop Market"


async def test_bulk_orders_modify_and_cancel(sdk: Sdk) -> None:
    mid = await sdk.mid("BTC")
    requests: list[Any] = [
        {
            "coin": "BTC",
            "is_buy": True,
            "sz": 0.001,
            "limit_px": sdk.px("BTC", mid * (0.9 - i / 100)),
            "order_type": {"limit": {"tif": "Gtc"}},
            "reduce_only": False,
        }
        for i in range(3)
    ]
    oids = [s["resting"]["oid"] for s in statuses(await call(sdk.exchange.bulk_orders, requests))]
    assert len(set(oids)) == 3
    new_px = sdk.px("BTC", mid * 0.85)
    modified = await call(
        sdk.exchange.modify_order, oids[0], "BTC", True, 0.002, new_px, {"limit": {"tif": "Gtc"}}
    )
    assert "resting" in statuses(modified)[0]
    opens = {o["oid"]: o for o in await call(sdk.info.open_orders, sdk.trader.address)}
    assert any(o["sz"] == "0.002" and float(o["limitPx"]) == new_px for o in opens.values())
    assert statuses(await call(sdk.exchange.cancel, "BTC", oids[1])) == ["success"]
    gone = await call(sdk.exchange.cancel, "BTC", oids[1])
    assert statuses(gone)[0]["error"].startswith("Order was never placed, already canceled, or filled.")


async def test_market_open_close_and_update_leverage(sdk: Sdk) -> None:
    lev = await call(sdk.exchange.update_leverage, 5, "ETH")
    assert lev == {"status": "ok", "response": {"type": "default"}}
    opened = await call(sdk.exchange.market_open, "ETH", True, 0.5)
    assert float(statuses(opened)[0]["filled"]["totalSz"]) == 0.5
    state = await call(sdk.info.user_state, sdk.trader.address)
    (position,) = state["assetPositions"]
    assert position["position"]["szi"] == "0.5" and position["position"]["leverage"]["value"] == 5
    closed = await call(sdk.exchange.market_close, "ETH")
    assert float(statuses(closed)[0]["filled"]["totalSz"]) == 0.5
    state = await call(sdk.info.user_state, sdk.trader.address)
    assert state["assetPositions"] == []


async def test_errors_reach_the_sdk_in_the_exchange_shapes(sdk: Sdk) -> None:
    stranger = await call(Exchange, eth_account.Account.from_key(new_trader().key), sdk.ex.base_url)
    wrong = await call(stranger.order, "ETH", True, 0.01, 1000.0, {"limit": {"tif": "Gtc"}})
    assert wrong["status"] == "err" and wrong["response"].endswith("does not exist.")
    off_tick = await call(sdk.exchange.order, "BTC", True, 0.001, 50000.5, {"limit": {"tif": "Gtc"}})
    assert statuses(off_tick)[0]["error"].startswith("Price must be divisible by tick size.")
    tiny = await call(sdk.exchange.order, "BTC", True, 0.00001, 50000.0, {"limit": {"tif": "Gtc"}})
    assert statuses(tiny)[0]["error"].startswith("Order must have minimum value of $10.")
    too_much = await call(sdk.exchange.update_leverage, 100, "SOL")
    assert too_much["status"] == "err"


async def test_sdk_websocket_subscriptions_receive_data(sdk: Sdk) -> None:
    loop = asyncio.get_running_loop()
    received: dict[str, asyncio.Event] = {
        name: asyncio.Event() for name in ("l2Book", "trades", "userFills", "orderUpdates", "user")
    }

    def on_message(msg: Any) -> None:
        event = received.get(msg.get("channel"))
        if event is not None:
            loop.call_soon_threadsafe(event.set)

    ws_info = await call(Info, sdk.ex.base_url, False)
    try:
        await call(ws_info.subscribe, {"type": "l2Book", "coin": "ETH"}, on_message)
        await call(ws_info.subscribe, {"type": "trades", "coin": "ETH"}, on_message)
        await call(ws_info.subscribe, {"type": "userFills", "user": sdk.trader.address}, on_message)
        await call(ws_info.subscribe, {"type": "orderUpdates", "user": sdk.trader.address}, on_message)
        await call(ws_info.subscribe, {"type": "userEvents", "user": sdk.trader.address}, on_message)
        await asyncio.wait_for(received["l2Book"].wait(), WAIT)
        await asyncio.wait_for(received["userFills"].wait(), WAIT)  # the snapshot
        await call(sdk.exchange.market_open, "ETH", True, 0.1)
        for name in ("trades", "orderUpdates", "user"):
            await asyncio.wait_for(received[name].wait(), WAIT)
    finally:
        await call(ws_info.disconnect_websocket)


async def test_server_keeps_serving_the_sdk_after_garbage_from_another_client(sdk: Sdk) -> None:
    async with aiohttp.ClientSession() as raw:
        async with raw.post(sdk.ex.base_url + "/exchange", data=b"\x00\xff garbage") as resp:
            assert resp.status == 400
        async with raw.post(sdk.ex.base_url + "/exchange", data=io.BytesIO(b"x" * (3 * 1024 * 1024))) as resp:
            assert resp.status == 413
    meta = await call(sdk.info.meta)
    assert meta["universe"]


async def test_sdk_approved_agent_trades_for_the_account(sdk: Sdk) -> None:
    approved, agent_key = await call(sdk.exchange.approve_agent)  # unnamed: the SDK drops agentName
    assert approved == {"status": "ok", "response": {"type": "default"}}
    agent = await call(
        Exchange, eth_account.Account.from_key(agent_key), sdk.ex.base_url, account_address=sdk.trader.address
    )
    px = sdk.px("ETH", await sdk.mid("ETH") * 0.9)
    placed = await call(agent.order, "ETH", True, 0.01, px, {"limit": {"tif": "Gtc"}})
    oid = statuses(placed)[0]["resting"]["oid"]
    assert [o["oid"] for o in await call(sdk.info.open_orders, sdk.trader.address)] == [oid]
    named, _ = await call(sdk.exchange.approve_agent, "bot")
    assert named["status"] == "ok"


async def test_ccxt_hyperliquid_in_sandbox_mode_trades_against_the_local_exchange(sdk: Sdk) -> None:
    import ccxt

    def run() -> tuple[Any, Any, Any]:  # ccxt is synchronous too
        client = ccxt.hyperliquid({"walletAddress": sdk.trader.address, "privateKey": sdk.trader.key})
        client.set_sandbox_mode(True)  # testnet signing, which is what the local exchange verifies
        client.urls["api"] = {"public": sdk.ex.base_url, "private": sdk.ex.base_url}
        markets = client.load_markets()
        order = client.create_order("ETH/USDC:USDC", "limit", "buy", 0.01, 2500)
        resting = client.fetch_open_orders("ETH/USDC:USDC")
        assert [o["id"] for o in resting] == [order["id"]]
        canceled = client.cancel_order(order["id"], "ETH/USDC:USDC")
        return markets, order, canceled

    markets, order, canceled = await call(run)
    assert {"BTC/USDC:USDC", "ETH/USDC:USDC", "SOL/USDC:USDC"} <= set(markets)
    assert int(order["id"]) > 0
    assert canceled["info"] == "success"  # ccxt passes the cancel status through
    assert await call(sdk.info.open_orders, sdk.trader.address) == []
