"""Fault injection through a running local exchange: HTTP faults and websocket faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
import orjson
import pytest

from tests.conftest import Trader, limit_order_action, signed_body
from tests.sim.test_ws_hub import WsClient
from wingbeat.sim import LocalExchange
from wingbeat.sim.venue.types import OrderUpdatesEvent

ORDER_ONLY = {"path": "/exchange", "action": "order"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session


async def place(
    http: aiohttp.ClientSession, ex: LocalExchange, trader: Trader, **order: Any
) -> tuple[int, str]:
    body = orjson.dumps(signed_body(trader.key, limit_order_action(**order)))
    async with http.post(ex.base_url + "/exchange", data=body) as resp:
        return resp.status, await resp.text()


def open_orders(ex: LocalExchange, trader: Trader) -> int:
    return len(ex.engine.accounts[trader.address].open_orders)


async def test_5xx_fault_answers_without_applying(
    local_exchange: LocalExchange, trader: Trader, http: aiohttp.ClientSession
) -> None:
    local_exchange.faults.add("http_5xx", count=1, status=503, **ORDER_ONLY)
    status, _ = await place(http, local_exchange, trader)
    assert status == 503 and open_orders(local_exchange, trader) == 0
    status, _ = await place(http, local_exchange, trader)
    assert status == 200 and open_orders(local_exchange, trader) == 1
    assert local_exchange.faults.counters == {"http_5xx": 1}


async def test_lost_answer_applies_the_order_then_drops_the_connection(
    local_exchange: LocalExchange, trader: Trader, http: aiohttp.ClientSession
) -> None:
    local_exchange.faults.add("lose_answer", count=1, **ORDER_ONLY)
    with pytest.raises(aiohttp.ClientError):
        await place(http, local_exchange, trader)
    assert open_orders(local_exchange, trader) == 1, "the venue applied it even though the answer was lost"
    status, _ = await place(http, local_exchange, trader)
    assert status == 200, "the server keeps serving"


async def test_lost_answer_with_status_applies_then_answers_5xx(
    local_exchange: LocalExchange, trader: Trader, http: aiohttp.ClientSession
) -> None:
    local_exchange.faults.add("lose_answer", count=1, status=500, **ORDER_ONLY)
    status, _ = await place(http, local_exchange, trader)
    assert status == 500 and open_orders(local_exchange, trader) == 1


async def test_timeout_fault_holds_past_the_client_timeout_and_applies_nothing(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    local_exchange.faults.add("timeout", count=1, delay_ms=2_000, **ORDER_ONLY)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.2)) as impatient:
        with pytest.raises(asyncio.TimeoutError):
            await place(impatient, local_exchange, trader)
    assert open_orders(local_exchange, trader) == 0


async def test_a_delayed_order_is_applied_even_after_its_client_gave_up(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    # as on the exchange: the client's timeout does not undo the order (it must reconcile)
    applied = asyncio.Event()
    local_exchange.engine.subscribe(
        lambda event: applied.set() if isinstance(event, OrderUpdatesEvent) else None
    )
    local_exchange.faults.add("delay", count=1, delay_ms=400, **ORDER_ONLY)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.05)) as impatient:
        with pytest.raises(asyncio.TimeoutError):
            await place(impatient, local_exchange, trader)
    assert open_orders(local_exchange, trader) == 0, "still held by the delay"
    await asyncio.wait_for(applied.wait(), timeout=5)
    assert open_orders(local_exchange, trader) == 1


async def test_delay_and_forced_429_faults(
    local_exchange: LocalExchange, trader: Trader, http: aiohttp.ClientSession
) -> None:
    local_exchange.faults.add("delay", count=1, delay_ms=20, path="/info")
    async with http.post(local_exchange.base_url + "/info", json={"type": "meta"}) as resp:
        assert resp.status == 200
    local_exchange.faults.add("rate_limit", count=1, **ORDER_ONLY)
    status, text = await place(http, local_exchange, trader)
    assert (status, text) == (429, "null")
    assert local_exchange.faults.counters == {"delay": 1, "rate_limit": 1}


async def test_probability_faults_are_reproducible_with_the_seed(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> None:
    async def run() -> list[int]:
        async with start_local_exchange(liquidity=False, seed=3) as ex, aiohttp.ClientSession() as http:
            ex.faults.add("http_5xx", probability=0.5, path="/info")
            out = []
            for _ in range(12):
                async with http.post(ex.base_url + "/info", json={"type": "allMids"}) as resp:
                    out.append(resp.status)
            return out

    first = await run()
    assert first == await run()
    assert 200 in first and 502 in first


async def closed(conn: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMsgType:
    """Read until the connection ends; the type of the message that ended it."""
    async with asyncio.timeout(5):
        while True:
            msg = await conn.receive()
            if msg.type is not aiohttp.WSMsgType.TEXT:
                return msg.type


ENDED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


@pytest.fixture
async def ws(local_exchange: LocalExchange) -> AsyncIterator[WsClient]:
    async with aiohttp.ClientSession() as session, session.ws_connect(local_exchange.ws_url) as conn:
        yield WsClient(conn)


async def test_drop_websockets_now_cuts_every_connection(local_exchange: LocalExchange, ws: WsClient) -> None:
    await ws.subscribe({"type": "allMids"})
    local_exchange.faults.drop_websockets()
    assert await closed(ws.ws) in ENDED
    assert local_exchange.faults.counters["ws_drop"] == 1


async def test_periodic_drop_cuts_connections_again_after_reconnect(
    local_exchange: LocalExchange,
) -> None:
    local_exchange.faults.drop_websockets_every(0.2)
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with session.ws_connect(local_exchange.ws_url) as conn:
                assert await closed(conn) in ENDED
    assert local_exchange.faults.counters["ws_drop"] >= 2


async def test_silenced_channel_sends_nothing_while_others_flow(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient, http: aiohttp.ClientSession
) -> None:
    local_exchange.faults.silence("l2Book")
    await ws.subscribe({"type": "l2Book", "coin": "BTC"})
    await ws.subscribe({"type": "orderUpdates", "user": trader.address})
    await place(http, local_exchange, trader)
    await ws.expect("orderUpdates")
    await ws.send({"method": "ping"})
    await ws.expect("pong")  # everything sent before the pong has arrived by now
    assert not [f for f in ws.frames if f["channel"] == "l2Book"]
    local_exchange.faults.silence("l2Book", False)
    await place(http, local_exchange, trader, price="49000")
    await ws.expect("l2Book")


async def test_duplicate_fault_sends_a_message_twice(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient, http: aiohttp.ClientSession
) -> None:
    await ws.subscribe({"type": "orderUpdates", "user": trader.address})
    local_exchange.faults.add("ws_duplicate", count=1)
    await place(http, local_exchange, trader)
    first = await ws.expect("orderUpdates")
    assert await ws.expect("orderUpdates") == first


async def test_reorder_fault_delivers_a_message_after_the_next_one(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient, http: aiohttp.ClientSession
) -> None:
    await ws.subscribe({"type": "orderUpdates", "user": trader.address})
    local_exchange.faults.add("ws_reorder", count=1)
    await place(http, local_exchange, trader, price="50000")
    await place(http, local_exchange, trader, price="49000")
    first = await ws.expect("orderUpdates")
    second = await ws.expect("orderUpdates")
    assert (first[0]["order"]["limitPx"], second[0]["order"]["limitPx"]) == ("49000.0", "50000.0")


async def test_ws_post_faults_error_swallow_or_delay_the_answer(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    def post(post_id: int, price: str) -> dict[str, Any]:
        body = signed_body(trader.key, limit_order_action(price=price))
        return {"method": "post", "id": post_id, "request": {"type": "action", "payload": body}}

    local_exchange.faults.add("http_5xx", count=1, path="/ws")
    await ws.send(post(1, "50000"))
    failed = await ws.expect("post", lambda d: d["id"] == 1)
    assert failed["response"] == {"type": "error", "payload": "502 Bad Gateway"}
    assert open_orders(local_exchange, trader) == 0

    local_exchange.faults.add("timeout", count=1, path="/ws")
    await ws.send(post(2, "50000"))
    await ws.send({"method": "ping"})
    await ws.expect("pong")
    assert not [f for f in ws.frames if f["channel"] == "post"], "a timed-out post is never answered"
    assert open_orders(local_exchange, trader) == 0

    local_exchange.faults.add("delay", count=1, path="/ws", delay_ms=600)
    await ws.send(post(3, "50000"))
    await ws.send({"method": "ping"})
    await ws.expect("pong")
    assert not [f for f in ws.frames if f["channel"] == "post"], "the pong overtakes the delayed answer"
    assert open_orders(local_exchange, trader) == 1, "applied on receipt"
    late = await ws.expect("post", lambda d: d["id"] == 3)
    assert "resting" in late["response"]["payload"]["response"]["data"]["statuses"][0]
    assert local_exchange.faults.counters == {"http_5xx": 1, "timeout": 1, "delay": 1}
