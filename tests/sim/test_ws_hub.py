"""The local exchange's websocket: subscriptions, channel data, ping, post, idle timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import orjson
import pytest

from tests.conftest import Trader, limit_order_action, new_trader, signed_body
from wingbeat.sim import LocalExchange

TIMEOUT = 5.0


class WsClient:
    """A raw websocket client that keeps every frame it receives and waits for matching ones."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(orjson.dumps(message).decode())

    async def subscribe(self, subscription: dict[str, Any]) -> dict[str, Any]:
        await self.send({"method": "subscribe", "subscription": subscription})
        ack: dict[str, Any] = await self.expect("subscriptionResponse")
        return ack

    async def expect(self, channel: str, where: Callable[[Any], bool] = lambda _: True) -> Any:
        """The oldest unclaimed frame on ``channel`` whose data satisfies ``where`` (waits for it)."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                for i, frame in enumerate(self.frames):
                    if frame["channel"] == channel and where(frame.get("data")):
                        del self.frames[i]
                        return frame.get("data")
                msg = await self.ws.receive()
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    raise AssertionError(f"connection ended while waiting for {channel}: {msg.type}")
                self.frames.append(orjson.loads(msg.data))


@pytest.fixture
async def ws(local_exchange: LocalExchange) -> AsyncIterator[WsClient]:
    async with aiohttp.ClientSession() as session, session.ws_connect(local_exchange.ws_url) as conn:
        yield WsClient(conn)


async def place(ex: LocalExchange, trader: Trader, **order: Any) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        body = orjson.dumps(signed_body(trader.key, limit_order_action(**order)))
        async with http.post(ex.base_url + "/exchange", data=body) as resp:
            answer: dict[str, Any] = orjson.loads(await resp.read())
            return answer


async def test_subscribe_is_acked_and_duplicates_and_invalid_ones_get_error_frames(ws: WsClient) -> None:
    ack = await ws.subscribe({"type": "trades", "coin": "BTC"})
    assert ack == {"method": "subscribe", "subscription": {"type": "trades", "coin": "BTC"}}
    await ws.send({"method": "subscribe", "subscription": {"type": "trades", "coin": "BTC"}})
    assert (await ws.expect("error")).startswith("Already subscribed")
    await ws.send({"method": "subscribe", "subscription": {"type": "l2Book", "coin": "NOPE"}})
    assert (await ws.expect("error")).startswith("Invalid subscription")
    await ws.send({"method": "unsubscribe", "subscription": {"type": "trades", "coin": "BTC"}})
    assert (await ws.expect("subscriptionResponse"))["method"] == "unsubscribe"
    await ws.send({"method": "unsubscribe", "subscription": {"type": "trades", "coin": "BTC"}})
    assert (await ws.expect("error")).startswith("Already unsubscribed")


async def test_ping_gets_pong_and_garbage_gets_an_error_frame(ws: WsClient) -> None:
    await ws.ws.send_str("{garbage")
    await ws.expect("error")
    await ws.send({"method": "ping"})
    await ws.expect("pong")


async def test_l2book_snapshot_then_update_after_an_order(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    await ws.subscribe({"type": "l2Book", "coin": "BTC"})
    first = await ws.expect("l2Book")
    assert first["coin"] == "BTC" and first["levels"] == [[], []]
    await place(local_exchange, trader, price="50000")
    book = await ws.expect("l2Book", lambda d: bool(d["levels"][0]))
    assert book["levels"][0][0] == {"px": "50000.0", "sz": "0.001", "n": 1}


async def test_bbo_and_all_mids_follow_the_book(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    await ws.subscribe({"type": "bbo", "coin": "ETH"})
    await ws.subscribe({"type": "allMids"})
    await place(local_exchange, trader, asset=1, price="2900", size="0.01")
    bbo = await ws.expect("bbo", lambda d: d["bbo"][0] is not None)
    assert bbo["bbo"][0]["px"] == "2900.0" and bbo["bbo"][1] is None
    mids = await ws.expect("allMids")
    assert set(mids["mids"]) == {"BTC", "ETH", "SOL", "HYPE", "PURR/USDC", "@1"}


async def test_order_updates_fills_user_events_and_trades_after_a_cross(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    taker = new_trader()
    await local_exchange.fund(taker.address, 100_000)
    await ws.subscribe({"type": "orderUpdates", "user": trader.address})
    await ws.subscribe({"type": "userFills", "user": trader.address})
    snapshot = await ws.expect("userFills")
    assert snapshot == {"isSnapshot": True, "user": trader.address, "fills": []}
    await ws.subscribe({"type": "userEvents", "user": trader.address})
    await ws.subscribe({"type": "trades", "coin": "BTC"})
    await place(local_exchange, trader, price="50000", is_buy=False)
    resting = await ws.expect("orderUpdates")
    assert resting[0]["status"] == "open" and resting[0]["order"]["coin"] == "BTC"
    await place(local_exchange, taker, price="50000", tif="Ioc")
    fills = await ws.expect("userFills")
    assert "isSnapshot" not in fills and fills["fills"][0]["px"] == "50000.0"
    user = await ws.expect("user")
    assert user["fills"][0]["side"] == "A"
    trades = await ws.expect("trades")
    assert trades[0]["users"] == [taker.address, trader.address]
    filled = await ws.expect("orderUpdates", lambda d: d[0]["status"] == "filled")
    assert filled[0]["order"]["sz"] in ("0.0", "0")


async def test_the_hub_is_handed_the_account_events_of_subscribed_users_only(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wingbeat.sim.protocol import ws_hub
    from wingbeat.sim.venue.types import AssetCtxChanged, BookChanged, EngineEvent, TradesEvent

    def users_of(events: list[EngineEvent]) -> set[str]:
        return {e.user for e in events if not isinstance(e, BookChanged | TradesEvent | AssetCtxChanged)}

    routed: list[EngineEvent] = []
    route = ws_hub.WsHub._route

    def spy(hub: ws_hub.WsHub, event: EngineEvent) -> None:
        routed.append(event)
        route(hub, event)

    monkeypatch.setattr(ws_hub.WsHub, "_route", spy)
    await ws.subscribe({"type": "orderUpdates", "user": trader.address})
    await ws.subscribe({"type": "trades", "coin": "BTC"})
    taker = new_trader()
    await local_exchange.fund(taker.address, 100_000)
    everything: list[EngineEvent] = []
    for round_ in range(2):
        if round_:  # a subscriber without a filter still gets every user's events
            local_exchange.engine.subscribe(everything.append)
        await place(local_exchange, trader, price="50000", is_buy=False)
        await place(local_exchange, taker, price="50000", tif="Ioc")
        filled = await ws.expect("orderUpdates", lambda d: d[0]["status"] == "filled")
        assert filled[0]["order"]["coin"] == "BTC"
        trades = await ws.expect("trades")
        assert trades[0]["users"] == [taker.address, trader.address]
    assert users_of(routed) == {trader.address}, "the taker's order updates and fills never reach the hub"
    taker_kinds = {type(e).__name__ for e in everything if getattr(e, "user", None) == taker.address}
    assert taker_kinds >= {"OrderUpdatesEvent", "FillsEvent"}
    assert users_of(everything) == {trader.address, taker.address}


async def test_active_asset_ctx_and_candle_subscriptions_send_their_data(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    await ws.subscribe({"type": "activeAssetCtx", "coin": "SOL"})
    ctx = await ws.expect("activeAssetCtx")
    assert ctx["coin"] == "SOL" and "markPx" in ctx["ctx"]
    await ws.subscribe({"type": "candle", "coin": "BTC", "interval": "1m"})
    taker = new_trader()
    await local_exchange.fund(taker.address, 100_000)
    await place(local_exchange, trader, price="50000", is_buy=False)
    await place(local_exchange, taker, price="50000", tif="Ioc")
    candle = await ws.expect("candle")
    assert candle["s"] == "BTC" and candle["i"] == "1m" and candle["n"] >= 1


async def test_post_info_and_action_answer_on_the_post_channel(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    await ws.send(
        {"method": "post", "id": 7, "request": {"type": "info", "payload": {"type": "l2Book", "coin": "BTC"}}}
    )
    info = await ws.expect("post")
    assert info["id"] == 7
    assert info["response"]["type"] == "info"
    assert info["response"]["payload"]["type"] == "l2Book"
    assert info["response"]["payload"]["data"]["coin"] == "BTC"
    body = signed_body(trader.key, limit_order_action())
    await ws.send({"method": "post", "id": 8, "request": {"type": "action", "payload": body}})
    action = await ws.expect("post", lambda d: d["id"] == 8)
    assert action["response"]["type"] == "action"
    assert "resting" in action["response"]["payload"]["response"]["data"]["statuses"][0]
    await ws.send({"method": "post", "id": 9, "request": {"type": "action", "payload": {"action": 1}}})
    error = await ws.expect("post", lambda d: d["id"] == 9)
    assert error["response"]["type"] == "error" and error["response"]["payload"].startswith("422 ")
    await ws.send({"method": "post", "request": {}})
    assert (await ws.expect("error")).endswith("id=None")


async def test_idle_connection_is_closed_by_the_server(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> None:
    async with (
        start_local_exchange(liquidity=False, ws_idle_timeout_s=0.2) as ex,
        aiohttp.ClientSession() as session,
        session.ws_connect(ex.ws_url, autoping=False) as conn,
    ):
        async with asyncio.timeout(TIMEOUT):
            msg = await conn.receive()
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_one_rendering_is_shared_by_every_subscriber(
    local_exchange: LocalExchange, trader: Trader, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wingbeat.sim.protocol import ws_hub

    renders: list[str] = []
    real = ws_hub.render_l2_book

    def counting(*args: Any, **kwargs: Any) -> Any:
        renders.append("l2Book")
        return real(*args, **kwargs)

    async with aiohttp.ClientSession() as session:
        clients = [WsClient(await session.ws_connect(local_exchange.ws_url)) for _ in range(5)]
        for c in clients:
            await c.subscribe({"type": "l2Book", "coin": "BTC"})
            await c.expect("l2Book")
        monkeypatch.setattr(ws_hub, "render_l2_book", counting)
        await place(local_exchange, trader, price="50000")
        books = [await c.expect("l2Book", lambda d: bool(d["levels"][0])) for c in clients]
        assert all(b == books[0] for b in books)
        assert renders == ["l2Book"], "the book is rendered once for five subscribers"
        for c in clients:
            await c.ws.close()


async def test_funding_and_venue_cancels_arrive_on_user_and_user_fundings_channels(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    other = new_trader()
    await local_exchange.fund(other.address, 100_000)
    await ws.subscribe({"type": "userEvents", "user": trader.address})
    await ws.subscribe({"type": "userFundings", "user": trader.address})
    assert await ws.expect("userFundings") == {"isSnapshot": True, "user": trader.address, "fundings": []}
    await place(local_exchange, other, price="50000", is_buy=False)
    await place(local_exchange, trader, price="50000", tif="Ioc")  # trader is now long 0.001 BTC
    await place(local_exchange, trader, price="40000")  # a resting order for the dead man's switch
    async with aiohttp.ClientSession() as http:
        switch_at = time.time_ns() // 1_000_000 + 6_000
        body = signed_body(trader.key, {"type": "scheduleCancel", "time": switch_at})
        async with http.post(local_exchange.base_url + "/exchange", data=orjson.dumps(body)) as resp:
            assert (await resp.json())["status"] == "ok"
    local_exchange.engine.advance(switch_at + 1)  # past a funding time and the switch
    funding = await ws.expect("user", lambda d: "funding" in d)
    assert funding["funding"]["coin"] == "BTC" and funding["funding"]["szi"] == "0.001"
    fundings = await ws.expect("userFundings")
    assert fundings["user"] == trader.address and fundings["fundings"][0]["coin"] == "BTC"
    canceled = await ws.expect("user", lambda d: "nonUserCancel" in d)
    assert canceled["nonUserCancel"][0]["coin"] == "BTC"


async def test_client_too_far_behind_is_disconnected(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wingbeat.sim.protocol import ws_hub

    for sub in (
        {"type": "orderUpdates", "user": trader.address},
        {"type": "userEvents", "user": trader.address},
    ):
        await ws.subscribe(sub)
    await ws.subscribe({"type": "userFills", "user": trader.address})
    await ws.expect("userFills")
    monkeypatch.setattr(ws_hub, "MAX_BACKLOG", 1)
    other = new_trader()
    await local_exchange.fund(other.address, 100_000)
    await place(local_exchange, other, price="50000", is_buy=False)
    await place(local_exchange, trader, price="50000", tif="Ioc")  # four frames at once for this client
    async with asyncio.timeout(TIMEOUT):
        while (msg := await ws.ws.receive()).type is aiohttp.WSMsgType.TEXT:
            pass
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


async def test_connection_the_server_keeps_sending_on_is_not_idle(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> None:
    async with (
        start_local_exchange(liquidity=False, ws_idle_timeout_s=0.6) as ex,
        aiohttp.ClientSession() as session,
        session.ws_connect(ex.ws_url) as conn,
    ):
        trader = new_trader()
        await ex.fund(trader.address, 100_000)
        client = WsClient(conn)
        await client.subscribe({"type": "orderUpdates", "user": trader.address})
        loop = asyncio.get_running_loop()
        started = loop.time()
        price = 40000
        while loop.time() - started < 1.5:  # over two idle periods, the server sending all along
            await place(ex, trader, price=str(price))
            await client.expect("orderUpdates")
            price += 1
        await client.send({"method": "ping"})
        await client.expect("pong")


@pytest.mark.parametrize(
    "subscription",
    [
        {"type": "candle", "coin": "BTC", "interval": ["1m"]},
        {"type": "candle", "coin": "BTC", "interval": "7m"},
        {"type": "l2Book", "coin": 0},
        {"type": "l2Book", "coin": "BTC", "nSigFigs": "5"},
        {"type": "l2Book", "coin": "BTC", "nSigFigs": 4, "mantissa": 2},
        {"type": "userFills", "user": 12},
        {"type": "userFills", "user": "0x12"},
        {"type": "webData9"},
        ["allMids"],
        None,
    ],
)
async def test_malformed_subscriptions_get_invalid_subscription(ws: WsClient, subscription: Any) -> None:
    await ws.send({"method": "subscribe", "subscription": subscription})
    assert (await ws.expect("error")).startswith("Invalid subscription")
    await ws.send({"method": "ping"})
    await ws.expect("pong")


async def test_post_that_hits_a_venue_bug_is_answered_500_with_its_id(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the venue")

    monkeypatch.setattr(local_exchange.engine, "place_orders", broken)
    body = signed_body(trader.key, limit_order_action())
    await ws.send({"method": "post", "id": 41, "request": {"type": "action", "payload": body}})
    answer = await ws.expect("post", lambda d: d["id"] == 41)
    assert answer["response"] == {"type": "error", "payload": "500 Internal Server Error"}
    await ws.send({"method": "ping"})
    await ws.expect("pong")
