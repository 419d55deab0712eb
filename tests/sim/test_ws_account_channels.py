"""Account-state websocket channels of the local exchange: ``clearinghouseState`` (raw frames and
ccxt.pro's ``watch_positions`` / ``watch_balance``, which are built on it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import orjson
import pytest

from tests.conftest import Trader, new_trader, signed_body
from tests.sim.test_ws_hub import WsClient, place
from wingbeat.sim import LocalExchange

TIMEOUT = 10.0
STATE_KEYS = {
    "assetPositions",
    "marginSummary",
    "crossMarginSummary",
    "crossMaintenanceMarginUsed",
    "withdrawable",
    "time",
}


@pytest.fixture
async def ws(local_exchange: LocalExchange) -> AsyncIterator[WsClient]:
    local_exchange.hub.state_refresh_s = 3600  # only pushes caused by changes in these tests
    async with aiohttp.ClientSession() as session, session.ws_connect(local_exchange.ws_url) as conn:
        yield WsClient(conn)


async def post_action(ex: LocalExchange, trader: Trader, action: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        body = orjson.dumps(signed_body(trader.key, action))
        async with http.post(ex.base_url + "/exchange", data=body) as resp:
            answer: dict[str, Any] = orjson.loads(await resp.read())
            return answer


async def open_position(ex: LocalExchange, trader: Trader, size: str = "0.01") -> None:
    """``trader`` buys ``size`` BTC at 50000 from a fresh maker."""
    maker = new_trader()
    await ex.fund(maker.address, 1_000_000)
    await place(ex, maker, price="50000", size=size, is_buy=False)
    answer = await place(ex, trader, price="50000", size=size, is_buy=True)
    assert "filled" in answer["response"]["data"]["statuses"][0], answer


def position_of(data: dict[str, Any]) -> dict[str, Any] | None:
    positions = data["clearinghouseState"]["assetPositions"]
    return positions[0]["position"] if positions else None


async def test_clearinghouse_state_snapshot_then_pushes_on_fills_leverage_and_marks(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    ack = await ws.subscribe({"type": "clearinghouseState", "user": "0x" + trader.address[2:].upper()})
    assert ack["subscription"] == {"type": "clearinghouseState", "user": trader.address}
    snapshot = await ws.expect("clearinghouseState")
    assert set(snapshot) == {"dex", "user", "clearinghouseState"}
    assert snapshot["dex"] == "" and snapshot["user"] == trader.address
    assert set(snapshot["clearinghouseState"]) == STATE_KEYS
    assert snapshot["clearinghouseState"]["assetPositions"] == []
    assert snapshot["clearinghouseState"]["marginSummary"]["accountValue"] == "1000000.0"

    await open_position(local_exchange, trader)
    pushed = await ws.expect("clearinghouseState", lambda d: position_of(d) is not None)
    position = position_of(pushed)
    assert position is not None
    assert (position["coin"], position["szi"], position["entryPx"]) == ("BTC", "0.01", "50000.0")
    assert position["leverage"] == {"type": "cross", "value": 50}

    update = {"type": "updateLeverage", "asset": 0, "isCross": True, "leverage": 5}
    assert (await post_action(local_exchange, trader, update))["status"] == "ok"
    relevered = await ws.expect("clearinghouseState", lambda d: position_of(d)["leverage"]["value"] == 5)
    assert relevered["user"] == trader.address

    local_exchange.engine.set_oracle_price("BTC", Decimal(40000))  # the mark follows an empty book's oracle
    moved = await ws.expect("clearinghouseState", lambda d: position_of(d)["unrealizedPnl"] == "-100.0")
    assert position_of(moved)["positionValue"] == "400.0"


async def test_clearinghouse_state_is_pushed_on_a_deposit_and_not_for_other_users(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    await ws.subscribe({"type": "clearinghouseState", "user": trader.address, "dex": ""})
    await ws.expect("clearinghouseState")
    other = new_trader()
    await local_exchange.fund(other.address, 1_000_000)
    await open_position(local_exchange, other)  # someone else trades: nothing for trader
    await local_exchange.fund(trader.address, 5)
    funded = await ws.expect("clearinghouseState")
    assert funded["clearinghouseState"]["marginSummary"]["accountValue"] == "1000005.0"
    assert not [f for f in ws.frames if f["channel"] == "clearinghouseState"]


async def test_clearinghouse_state_with_an_unknown_dex_or_a_bad_user_is_an_invalid_subscription(
    ws: WsClient, trader: Trader
) -> None:
    for sub in (
        {"type": "clearinghouseState", "user": trader.address, "dex": "nodex"},
        {"type": "clearinghouseState", "user": "0x12"},
        {"type": "clearinghouseState"},
    ):
        await ws.send({"method": "subscribe", "subscription": sub})
        text = await ws.expect("error")
        assert text == "Invalid subscription " + orjson.dumps(sub).decode()


async def test_unsubscribed_clearinghouse_state_stops_pushing(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    sub = {"type": "clearinghouseState", "user": trader.address}
    await ws.subscribe(sub)
    await ws.expect("clearinghouseState")
    await ws.send({"method": "unsubscribe", "subscription": sub})
    await ws.expect("subscriptionResponse")
    await local_exchange.fund(trader.address, 5)
    await ws.subscribe({"type": "allMids"})  # a later frame proves nothing else was queued before it
    await ws.expect("allMids")
    assert not [f for f in ws.frames if f["channel"] == "clearinghouseState"]


def ccxt_pro(ex: LocalExchange, trader: Trader) -> Any:
    import ccxt.pro

    client = ccxt.pro.hyperliquid({"walletAddress": trader.address, "privateKey": trader.key})
    client.set_sandbox_mode(True)
    client.urls["api"] = {"public": ex.base_url, "private": ex.base_url, "ws": {"public": ex.ws_url}}
    return client


async def test_unchanged_state_is_resent_periodically(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    local_exchange.hub.state_refresh_s = 0.05
    await ws.subscribe({"type": "clearinghouseState", "user": trader.address})
    first = await ws.expect("clearinghouseState")
    again = await ws.expect("clearinghouseState")
    assert again["clearinghouseState"]["marginSummary"] == first["clearinghouseState"]["marginSummary"]


async def test_ccxt_pro_watch_positions_and_watch_balance(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    local_exchange.hub.state_refresh_s = 0.2  # a second watch on the shared stream waits for a push
    client = ccxt_pro(local_exchange, trader)
    try:
        async with asyncio.timeout(TIMEOUT):
            balance = await client.watch_balance()
            assert balance["USDC"]["total"] == 1_000_000
            first = await client.watch_positions()
            assert first == []
            await open_position(local_exchange, trader)
            while not (positions := await client.watch_positions()):
                pass
            assert positions[0]["symbol"] == "BTC/USDC:USDC" and positions[0]["contracts"] == 0.01
            assert positions[0]["side"] == "long"
    finally:
        await client.close()


async def test_ledger_updates_snapshot_then_one_message_per_update(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    await ws.subscribe({"type": "userNonFundingLedgerUpdates", "user": trader.address})
    snapshot = await ws.expect("userNonFundingLedgerUpdates")
    assert snapshot["isSnapshot"] is True and snapshot["user"] == trader.address
    assert [u["delta"] for u in snapshot["nonFundingLedgerUpdates"]] == [
        {"type": "deposit", "usdc": "1000000.0"}
    ]
    await local_exchange.fund(trader.address, 7)
    update = await ws.expect("userNonFundingLedgerUpdates")
    assert set(update) == {"user", "nonFundingLedgerUpdates"}
    [entry] = update["nonFundingLedgerUpdates"]
    assert entry["delta"] == {"type": "deposit", "usdc": "7.0"} and set(entry) == {"time", "hash", "delta"}


async def test_open_orders_channel_follows_placements(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    await ws.subscribe({"type": "openOrders", "user": trader.address, "dex": ""})
    first = await ws.expect("openOrders")
    assert first == {"dex": "", "user": trader.address, "orders": []}
    await place(local_exchange, trader, price="40000", size="0.01")
    pushed = await ws.expect("openOrders", lambda d: bool(d["orders"]))
    [order] = pushed["orders"]
    assert (order["coin"], order["limitPx"], order["sz"], order["orderType"]) == (
        "BTC",
        "40000.0",
        "0.01",
        "Limit",
    )


async def test_web_data_twap_notification_and_spot_channels(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    user = trader.address
    await ws.subscribe({"type": "webData2", "user": user})
    web2 = await ws.expect("webData2")
    assert web2["user"] == user and web2["clearinghouseState"]["marginSummary"]["accountValue"] == "1000000.0"
    assert {"openOrders", "meta", "assetCtxs", "serverTime", "cumLedger", "isVault", "twapStates"} <= set(
        web2
    )
    assert web2["cumLedger"] == "1000000.0" and len(web2["assetCtxs"]) == len(web2["meta"]["universe"])
    await ws.subscribe({"type": "webData3", "user": user})
    web3 = await ws.expect("webData3")
    assert web3["userState"]["user"] == user and web3["perpDexStates"][0]["totalVaultEquity"] == "0.0"
    await ws.subscribe({"type": "twapStates", "user": user})
    assert await ws.expect("twapStates") == {"dex": "", "user": user, "states": []}
    await ws.subscribe({"type": "userTwapSliceFills", "user": user})
    assert await ws.expect("userTwapSliceFills") == {"isSnapshot": True, "user": user, "twapSliceFills": []}
    await ws.subscribe({"type": "userTwapHistory", "user": user})
    assert await ws.expect("userTwapHistory") == {"isSnapshot": True, "user": user, "history": []}
    assert (await ws.subscribe({"type": "notification", "user": user}))["subscription"][
        "type"
    ] == "notification"
    await ws.subscribe({"type": "spotState", "user": user})
    assert await ws.expect("spotState") == {"user": user, "spotState": {"balances": []}}
    await ws.subscribe({"type": "activeAssetData", "user": user, "coin": "ETH"})
    data = await ws.expect("activeAssetData")
    assert (data["user"], data["coin"], data["leverage"]) == (user, "ETH", {"type": "cross", "value": 50})
    assert data["availableToTrade"] == ["50000000.0", "50000000.0"] and data["markPx"] == "3000.0"
    await ws.send(
        {"method": "subscribe", "subscription": {"type": "activeAssetData", "user": user, "coin": "NOPE"}}
    )
    assert (await ws.expect("error")).startswith("Invalid subscription")


async def test_official_sdk_receives_web_data2_ledger_and_active_asset_data(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    from hyperliquid.info import Info

    loop = asyncio.get_running_loop()
    got: dict[str, asyncio.Future[Any]] = {
        name: loop.create_future() for name in ("webData2", "userNonFundingLedgerUpdates", "activeAssetData")
    }

    def on_message(msg: Any) -> None:
        future = got.get(msg.get("channel"))
        if future is not None:
            loop.call_soon_threadsafe(lambda: future.done() or future.set_result(msg["data"]))

    info = await asyncio.to_thread(Info, local_exchange.base_url, False)
    try:
        for sub in (
            {"type": "webData2", "user": trader.address},
            {"type": "userNonFundingLedgerUpdates", "user": trader.address},
            {"type": "activeAssetData", "user": trader.address, "coin": "BTC"},
        ):
            await asyncio.to_thread(info.subscribe, sub, on_message)  # type: ignore[arg-type]
        async with asyncio.timeout(TIMEOUT):
            web2, ledger, asset = await asyncio.gather(*got.values())
    finally:
        await asyncio.to_thread(info.disconnect_websocket)
    assert web2["user"] == trader.address
    assert ledger["nonFundingLedgerUpdates"][0]["delta"]["type"] == "deposit"
    assert asset["coin"] == "BTC" and asset["leverage"]["value"] == 50


async def test_ccxt_pro_gets_the_invalid_subscription_error_and_spot_balances(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    from ccxt.base.errors import ExchangeError

    from wingbeat.sim.venue import transfers

    transfers.class_transfer(local_exchange.engine, trader.address, Decimal(250), to_perp=False)
    client = ccxt_pro(local_exchange, trader)
    try:
        async with asyncio.timeout(TIMEOUT):
            spot = await client.watch_balance({"type": "spot"})
            assert spot["USDC"]["total"] == 250
            with pytest.raises(ExchangeError) as refused:
                await client.watch_balance({"dex": "nope"})  # the local exchange has no such perp dex
    finally:
        await client.close()
    sent = {"type": "clearinghouseState", "user": trader.address, "dex": "nope"}
    assert str(refused.value) == "hyperliquid Invalid subscription " + orjson.dumps(sent).decode()
