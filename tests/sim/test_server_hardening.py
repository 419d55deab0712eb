"""The local exchange exposed: per-IP websocket caps, a header timeout, and no state left by closed sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from tests.conftest import new_trader
from wingbeat.sim import RELAXED_WS_LIMITS, LocalExchange, WsLimitConfig
from wingbeat.sim.protocol.rate_limits import RELAXED_RATE_LIMITS
from wingbeat.sim.protocol.ws_limits import WsIpLimits

_SMALL = WsLimitConfig(connections=3, subscriptions=4, users=2, messages_per_minute=12, inflight_posts=2)


@pytest.fixture
async def small_limits() -> AsyncIterator[LocalExchange]:
    async with LocalExchange(liquidity=False, rate_limits=RELAXED_RATE_LIMITS, ws_limits=_SMALL) as ex:
        yield ex


async def _next_error(ws: aiohttp.ClientWebSocketResponse) -> Any:
    """The data of the next ``error`` frame (other frames, such as subscription acks, are skipped)."""
    async with asyncio.timeout(5):
        while True:
            frame = orjson.loads((await ws.receive()).data)
            if frame.get("channel") == "error":
                return frame["data"]


def _sub(ws: aiohttp.ClientWebSocketResponse, subscription: dict[str, Any]) -> Any:
    return ws.send_bytes(orjson.dumps({"method": "subscribe", "subscription": subscription}))


async def test_one_connection_over_the_ip_cap_is_refused_and_a_slot_frees_on_close(
    small_limits: LocalExchange,
) -> None:
    async with aiohttp.ClientSession() as http:
        held = [await http.ws_connect(small_limits.ws_url) for _ in range(_SMALL.connections)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(small_limits.ws_url)
        assert refused.value.status == 429
        await held.pop().close()
        again = await http.ws_connect(small_limits.ws_url)  # the closed one gave its slot back
        for ws in [*held, again]:
            await ws.close()


async def test_subscription_and_user_caps_answer_hyperliquids_texts(small_limits: LocalExchange) -> None:
    alice, bob, carol = (new_trader().address for _ in range(3))
    async with aiohttp.ClientSession() as http, http.ws_connect(small_limits.ws_url) as ws:
        await _sub(ws, {"type": "userFills", "user": alice})
        await _sub(ws, {"type": "userFills", "user": bob})
        await _sub(ws, {"type": "userFills", "user": carol})
        assert await _next_error(ws) == "Cannot track more than 2 total users."
        await _sub(ws, {"type": "orderUpdates", "user": alice})  # a known user takes no new user slot
        await _sub(ws, {"type": "trades", "coin": "BTC"})
        await _sub(ws, {"type": "trades", "coin": "ETH"})
        assert await _next_error(ws) == "Cannot subscribe to more than 4 channels."
        # on a second connection of the same IP too: the caps are per IP
        async with http.ws_connect(small_limits.ws_url) as other:
            await _sub(other, {"type": "trades", "coin": "SOL"})
            assert await _next_error(other) == "Cannot subscribe to more than 4 channels."
            await ws.send_bytes(
                orjson.dumps({"method": "unsubscribe", "subscription": {"type": "trades", "coin": "BTC"}})
            )
            await _sub(other, {"type": "trades", "coin": "SOL"})
            async with asyncio.timeout(5):
                ack = orjson.loads((await other.receive()).data)
            assert ack["channel"] == "subscriptionResponse" and ack["data"]["subscription"]["coin"] == "SOL"


async def test_messages_over_the_minutes_budget_are_refused(small_limits: LocalExchange) -> None:
    async with aiohttp.ClientSession() as http, http.ws_connect(small_limits.ws_url) as ws:
        for _ in range(_SMALL.messages_per_minute):
            await ws.send_bytes(b'{"method":"ping"}')
        await ws.send_bytes(b'{"method":"ping"}')
        pongs = 0
        async with asyncio.timeout(5):
            while True:
                frame = orjson.loads((await ws.receive()).data)
                if frame["channel"] == "error":
                    break
                pongs += 1
        assert (pongs, frame["data"]) == (
            _SMALL.messages_per_minute,
            "Cannot send more than 12 messages per minute.",
        )


async def test_posts_waiting_for_their_answer_are_capped(small_limits: LocalExchange) -> None:
    small_limits.faults.add("delay", path="/ws", delay_ms=300)  # answers are late: posts stay in flight
    post = {"method": "post", "request": {"type": "info", "payload": {"type": "meta"}}}
    async with aiohttp.ClientSession() as http, http.ws_connect(small_limits.ws_url) as ws:
        for post_id in (1, 2, 3):
            await ws.send_bytes(orjson.dumps({**post, "id": post_id}))
        assert await _next_error(ws) == "too many pending post requests id=3"
        answered = []
        async with asyncio.timeout(5):
            while len(answered) < 2:
                frame = orjson.loads((await ws.receive()).data)
                if frame["channel"] == "post":
                    answered.append(frame["data"]["id"])
        assert sorted(answered) == [1, 2]
        small_limits.faults.clear()
        await ws.send_bytes(orjson.dumps({**post, "id": 4}))  # the answered ones gave their slots back
        async with asyncio.timeout(5):
            frame = orjson.loads((await ws.receive()).data)
        assert frame["channel"] == "post" and frame["data"]["id"] == 4


async def test_closed_sockets_leave_no_state_in_the_hub() -> None:
    users = [new_trader().address for _ in range(5)]
    async with (
        LocalExchange(liquidity=False, rate_limits=RELAXED_RATE_LIMITS, ws_limits=RELAXED_WS_LIMITS) as ex,
        aiohttp.ClientSession() as http,
    ):
        for _ in range(3):  # rounds: nothing accumulates from one to the next
            sockets = [await http.ws_connect(ex.ws_url) for _ in range(30)]
            for i, ws in enumerate(sockets):
                await _sub(ws, {"type": "l2Book", "coin": "BTC"})
                await _sub(ws, {"type": "trades", "coin": ["BTC", "ETH", "SOL"][i % 3]})
                await _sub(ws, {"type": "clearinghouseState", "user": users[i % 5]})
                await _sub(ws, {"type": "userFills", "user": users[i % 5]})
            for ws in sockets:  # every subscription acknowledged before the sockets close
                acks = 0
                async with asyncio.timeout(5):
                    while acks < 4:
                        frame = orjson.loads((await ws.receive()).data)
                        acks += frame["channel"] == "subscriptionResponse"
            counts = ex.hub.state_counts
            assert (
                counts["connections"] == 30
                and counts["subscriptions"] >= 4
                and counts["user_streams"] == 5
                and counts["watched_users"] == 5
            )
            for ws in sockets:
                await ws.close()
            async with asyncio.timeout(5):
                # the server side finishes its handlers; the hub has no event to wait on for this
                while any(ex.hub.state_counts.values()):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
        assert ex.hub.state_counts == {
            "connections": 0,
            "subscriptions": 0,
            "user_streams": 0,
            "watched_users": 0,
            "limited_ips": 0,
        }


async def test_a_client_trickling_its_headers_is_dropped_within_the_header_timeout() -> None:
    async with LocalExchange(liquidity=False, header_timeout_s=0.5) as ex:
        reader, writer = await asyncio.open_connection(ex.host, ex.port)
        request = b"POST /info HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: " + b"a" * 100
        started = time.monotonic()
        closed_after = None
        try:
            for byte in request:  # one byte every 50 ms: 5 s for the whole header if never cut
                writer.write(bytes([byte]))
                await writer.drain()
                try:
                    if await asyncio.wait_for(reader.read(1), 0.05) == b"":
                        closed_after = time.monotonic() - started
                        break
                except TimeoutError:
                    continue
        except ConnectionError:
            closed_after = time.monotonic() - started
        finally:
            writer.close()
        assert closed_after is not None, "the server kept a trickling client past its header timeout"
        assert 0.4 <= closed_after < 2.0
        # an ordinary client is served as before
        async with (
            aiohttp.ClientSession() as http,
            http.post(ex.base_url + "/info", json={"type": "meta"}) as resp,
        ):
            assert resp.status == 200


def test_limit_counts_drop_to_nothing_when_released() -> None:
    limits = WsIpLimits(
        WsLimitConfig(connections=1, subscriptions=2, users=1, messages_per_minute=2, inflight_posts=1)
    )
    assert limits.try_connect("1.2.3.4") and not limits.try_connect("1.2.3.4")
    assert limits.try_connect("5.6.7.8")  # another IP has its own budget
    assert limits.try_subscribe("1.2.3.4", "0xa") is None
    assert limits.try_subscribe("1.2.3.4", "0xb") == "Cannot track more than 1 total users."
    assert limits.try_subscribe("1.2.3.4", None) is None
    assert limits.try_subscribe("1.2.3.4", None) == "Cannot subscribe to more than 2 channels."
    assert (
        limits.try_post("1.2.3.4", 7) is None
        and limits.try_post("1.2.3.4", 8) == "too many pending post requests id=8"
    )
    assert limits.try_message("1.2.3.4", 0) is None and limits.try_message("1.2.3.4", 1) is None
    assert limits.try_message("1.2.3.4", 2) == "Cannot send more than 2 messages per minute."
    assert limits.try_message("1.2.3.4", 60_000) is None  # a new minute
    limits.unsubscribe("1.2.3.4", "0xa")
    limits.unsubscribe("1.2.3.4", None)
    limits.post_answered("1.2.3.4")
    limits.disconnect("1.2.3.4")
    limits.disconnect("5.6.7.8")
    assert limits.tracked_ips == 0
    with pytest.raises(ValueError):
        WsLimitConfig(users=0)
