"""HyperliquidWebSocket end to end against the local exchange over a loopback websocket."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import coincurve
import orjson
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.hyperliquid.ws_server import serve_ws
from wingbeat.core.errors import ExchangeRejection, RequestTimeout, TransportError
from wingbeat.core.ws_client import WebSocketConfig
from wingbeat.hyperliquid.constants import WS_MAX_INFLIGHT_POSTS
from wingbeat.hyperliquid.schemas import L2Book, MalformedMessageError
from wingbeat.hyperliquid.schemas_exchange import RestingStatus, parse_exchange_reply
from wingbeat.hyperliquid.schemas_ws import Trade
from wingbeat.hyperliquid.signing import address_from_public_key, sign_l1_action
from wingbeat.hyperliquid.ws import HyperliquidWebSocket
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

MAKER = "0x" + "a1" * 20
TAKER = "0x" + "b2" * 20
FAST = WebSocketConfig(heartbeat_interval=5.0, stale_timeout=10.0, backoff_initial=0.01, backoff_max=0.05)


class Inbox:
    """Collects handler calls; ``wait_for`` waits (with a timeout) until one matches."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._changed = asyncio.Event()

    def __call__(self, item: Any) -> None:
        self.items.append(item)
        self._changed.set()

    async def wait_for(self, predicate: Callable[[Any], bool], timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while True:
                for item in self.items:
                    if predicate(item):
                        return item
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with LocalExchange(liquidity=False) as ex:
        await ex.fund(MAKER)
        await ex.fund(TAKER)
        yield ex


@pytest.fixture
async def ws(exchange: LocalExchange) -> AsyncIterator[HyperliquidWebSocket]:
    async with HyperliquidWebSocket(exchange.ws_url, config=FAST, post_timeout=5.0) as client:
        await client.wait_connected(5.0)
        yield client


async def barrier(ws: HyperliquidWebSocket) -> None:
    """Wait until the server has handled every frame sent so far (it answers in order)."""
    await ws.post_info({"type": "allMids"})


def rest_bid(exchange: LocalExchange, px: str, sz: str = "0.1") -> None:
    exchange.engine.place_orders(MAKER, [OrderRequest(0, True, Decimal(px), Decimal(sz), False, "Gtc")])


def has_bid(px: str) -> Callable[[Any], bool]:
    return lambda book: isinstance(book, L2Book) and any(level[0] == Decimal(px) for level in book.bids)


async def test_book_update_arrives_after_an_order_rests(
    exchange: LocalExchange, ws: HyperliquidWebSocket
) -> None:
    inbox = Inbox()
    await ws.subscribe({"type": "l2Book", "coin": "BTC"}, inbox)
    await inbox.wait_for(lambda book: book.coin == "BTC")  # the snapshot sent on subscribe
    rest_bid(exchange, "51000")
    book = await inbox.wait_for(has_bid("51000"))
    assert book.bids[0] == (Decimal("51000"), Decimal("0.1")) and isinstance(book.time_ms, int)


async def test_trades_are_routed_by_coin(exchange: LocalExchange, ws: HyperliquidWebSocket) -> None:
    btc, eth = Inbox(), Inbox()
    await ws.subscribe({"type": "trades", "coin": "BTC"}, btc)
    await ws.subscribe({"type": "trades", "coin": "ETH"}, eth)
    await barrier(ws)
    rest_bid(exchange, "50000")
    exchange.engine.place_orders(
        TAKER, [OrderRequest(0, False, Decimal("50000"), Decimal("0.02"), False, "Ioc")]
    )
    trades = await btc.wait_for(lambda ts: len(ts) > 0)
    trade = trades[0]
    assert (
        isinstance(trade, Trade) and trade.coin == "BTC" and trade.sz == Decimal("0.02") and not trade.is_buy
    )
    assert all(t.coin == "ETH" for ts in eth.items for t in ts)


async def test_user_channels_deliver_order_updates_and_fills(
    exchange: LocalExchange, ws: HyperliquidWebSocket
) -> None:
    orders, fills, events = Inbox(), Inbox(), Inbox()
    await ws.subscribe({"type": "orderUpdates", "user": MAKER}, orders)
    await ws.subscribe({"type": "userFills", "user": MAKER}, fills)
    await ws.subscribe({"type": "userEvents", "user": MAKER}, events)
    await barrier(ws)
    snapshot = await fills.wait_for(lambda m: m.is_snapshot)
    assert snapshot.fills == ()
    rest_bid(exchange, "50000")
    await orders.wait_for(lambda us: any(u.status == "open" for u in us))
    exchange.engine.place_orders(
        TAKER, [OrderRequest(0, False, Decimal("50000"), Decimal("0.1"), False, "Ioc")]
    )
    await orders.wait_for(lambda us: any(u.status == "filled" for u in us))
    live = await fills.wait_for(lambda m: not m.is_snapshot and m.fills)
    assert live.fills[0].sz == Decimal("0.1") and not live.fills[0].crossed
    event = await events.wait_for(lambda e: e.fills)
    assert event.fills[0].trade_id == live.fills[0].trade_id


async def test_post_info_answers_over_the_socket(exchange: LocalExchange, ws: HyperliquidWebSocket) -> None:
    rest_bid(exchange, "49000")
    book = await ws.post_info({"type": "l2Book", "coin": "BTC"})
    assert book["coin"] == "BTC" and Decimal(book["levels"][0][0]["px"]) == Decimal("49000")


async def test_post_action_places_a_signed_order(exchange: LocalExchange, ws: HyperliquidWebSocket) -> None:
    secret = secrets.token_bytes(32)
    address = address_from_public_key(coincurve.PrivateKey(secret).public_key)
    await exchange.fund(address)
    action = {
        "type": "order",
        "orders": [
            {"a": 0, "b": True, "p": "48000", "s": "0.01", "r": False, "t": {"limit": {"tif": "Gtc"}}}
        ],
        "grouping": "na",
    }
    nonce = time.time_ns() // 1_000_000
    signature = sign_l1_action(secret, action, None, nonce, None, False)
    envelope = {
        "action": action,
        "nonce": nonce,
        "signature": dict(signature),
        "vaultAddress": None,
        "expiresAfter": None,
    }
    reply = parse_exchange_reply(await ws.post_action(envelope))
    assert reply.ok and isinstance(reply.statuses[0], RestingStatus)
    with pytest.raises(ExchangeRejection) as refused:  # the same nonce again: a definite refusal
        await ws.post_action(envelope)
    assert refused.value.code == "invalid_nonce"


async def test_undeserialisable_post_action_is_rejected(ws: HyperliquidWebSocket) -> None:
    with pytest.raises(ExchangeRejection):
        await ws.post_action({"action": {"type": "noSuchAction"}, "nonce": 1})


async def test_post_fails_fast_when_the_socket_is_down(exchange: LocalExchange) -> None:
    client = HyperliquidWebSocket(exchange.ws_url, config=FAST)
    with pytest.raises(TransportError, match="down"):
        await client.post_info({"type": "meta"})


def bogus_noop() -> dict[str, Any]:
    """A parseable action envelope whose signature belongs to nobody."""
    return {
        "action": {"type": "noop"},
        "nonce": time.time_ns() // 1_000_000,
        "signature": {"r": "0x1", "s": "0x2", "v": 27},
        "vaultAddress": None,
        "expiresAfter": None,
    }


async def test_lost_post_answer_is_an_unknown_outcome(
    exchange: LocalExchange, ws: HyperliquidWebSocket
) -> None:
    exchange.faults.add("lose_answer", count=1, path="/ws")  # applies the action, then drops the socket
    with pytest.raises(TransportError, match="unknown"):
        await ws.post_action(bogus_noop())


async def test_post_without_answer_times_out() -> None:
    async def mute(request: web.Request) -> web.WebSocketResponse:
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        async for _ in sock:  # reads every frame, answers none
            pass
        return sock

    async with serve_ws(mute) as url, HyperliquidWebSocket(url, config=FAST, post_timeout=0.1) as client:
        await client.wait_connected(5.0)
        with pytest.raises(RequestTimeout):
            await client.post_info({"type": "meta"})


async def test_posts_in_flight_never_exceed_the_venues_limit() -> None:
    """More posts at once than the venue holds unanswered (it refuses the excess), to a server that never
    answers: the client writes WS_MAX_INFLIGHT_POSTS of them, and the next only once one is given up on."""
    total = WS_MAX_INFLIGHT_POSTS + 50
    received = 0
    at_first_timeout: list[int] = []

    async def mute(request: web.Request) -> web.WebSocketResponse:
        nonlocal received
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        async for _ in sock:
            received += 1
        return sock

    async def post(client: HyperliquidWebSocket) -> None:
        with pytest.raises(RequestTimeout):
            await client.post_info({"type": "meta"})
        at_first_timeout.append(received)

    async with serve_ws(mute) as url, HyperliquidWebSocket(url, config=FAST, post_timeout=0.3) as client:
        await client.wait_connected(5.0)
        await asyncio.gather(*(post(client) for _ in range(total)))
    # a whole timeout after the first frames left, the server had those and no more
    assert at_first_timeout[0] == WS_MAX_INFLIGHT_POSTS
    assert len(at_first_timeout) == total  # every post was written in the end, as slots freed up


async def test_reconnect_resubscribes_and_notifies_listeners(
    exchange: LocalExchange, ws: HyperliquidWebSocket
) -> None:
    inbox = Inbox()
    reconnected = asyncio.Event()
    ws.add_reconnect_listener(reconnected.set)
    await ws.subscribe({"type": "l2Book", "coin": "BTC"}, inbox)
    await inbox.wait_for(lambda book: True)
    exchange.faults.drop_websockets()
    await asyncio.wait_for(reconnected.wait(), 5.0)
    assert ws.reconnects == 1
    rest_bid(exchange, "52000")
    await inbox.wait_for(has_bid("52000"))  # the subscription survived the reconnect
    await ws.wait_connected(5.0)
    assert (await ws.post_info({"type": "l2Book", "coin": "BTC"}))["coin"] == "BTC"


async def test_stale_connection_is_replaced(exchange: LocalExchange) -> None:
    config = WebSocketConfig(
        heartbeat_interval=None, stale_timeout=0.2, backoff_initial=0.01, backoff_max=0.02
    )
    reconnected = asyncio.Event()
    async with HyperliquidWebSocket(exchange.ws_url, config=config) as client:
        client.add_reconnect_listener(reconnected.set)
        await asyncio.wait_for(reconnected.wait(), 5.0)  # nothing subscribed: silence trips the watchdog


async def test_unsubscribe_stops_routing_and_tells_the_server(
    exchange: LocalExchange, ws: HyperliquidWebSocket
) -> None:
    btc, eth = Inbox(), Inbox()
    await ws.subscribe({"type": "l2Book", "coin": "BTC"}, btc)
    await ws.subscribe({"type": "l2Book", "coin": "ETH"}, eth)
    await btc.wait_for(lambda b: True)
    await ws.unsubscribe({"type": "l2Book", "coin": "BTC"})
    await barrier(ws)
    seen = len(btc.items)
    rest_bid(exchange, "50500")
    exchange.engine.place_orders(MAKER, [OrderRequest(1, True, Decimal("2900"), Decimal("1"), False, "Gtc")])
    await eth.wait_for(has_bid("2900"))  # the ETH update is flushed with (or after) the BTC one
    assert len(btc.items) == seen


def test_malformed_frames_are_counted_and_skipped() -> None:
    client = HyperliquidWebSocket("ws://127.0.0.1:1/ws")
    inbox = Inbox()
    client._routes[("l2Book", ("btc",))] = [inbox]  # route without a connection: this test drives frames only
    client._on_message(b'{"channel":"l2Book","data":{"coin":"BTC","time":"x","levels":[[],[]]}}')
    client._on_message(b"not json")
    client._on_message(b'{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[],[]]}}')
    assert client.malformed == 2 and len(inbox.items) == 1


async def test_raw_handlers_get_the_payload_and_typed_ones_the_decoded_message() -> None:
    # never connected: the subscriptions wait, the frames are driven by hand
    client = HyperliquidWebSocket("ws://127.0.0.1:1/ws")
    raw, typed = Inbox(), Inbox()
    sub = {"type": "orderUpdates", "user": MAKER}
    await client.subscribe(sub, raw, raw=True)
    entry = {
        "order": {"coin": "BTC", "side": "B", "limitPx": "1", "sz": "1", "oid": 3, "timestamp": 1},
        "status": "open",
        "statusTimestamp": 2,
    }
    client._on_message(orjson.dumps({"channel": "orderUpdates", "data": [entry]}))
    assert raw.items == [[entry]]
    await client.subscribe(sub, typed)
    client._on_message(orjson.dumps({"channel": "orderUpdates", "data": [entry]}))
    assert len(raw.items) == 2 and [e.order.oid for e in typed.items[0]] == [3]
    client._on_message(b'{"channel":"orderUpdates","data":[{"order":7}]}')  # refused before anyone gets it
    assert client.malformed == 1 and len(raw.items) == 2 and len(typed.items) == 1

    def refuses(data: Any) -> None:
        raise MalformedMessageError("no")

    await client.unsubscribe(sub, typed)
    await client.unsubscribe(sub, raw)
    await client.subscribe(sub, refuses, raw=True)
    client._on_message(orjson.dumps({"channel": "orderUpdates", "data": [entry]}))
    assert client.malformed == 2  # a raw handler's refusal counts as a malformed frame
    with pytest.raises(ValueError, match="raw"):
        await client.subscribe({"type": "l2Book", "coin": "BTC"}, raw, raw=True)


def test_subscribe_rejects_unknown_types() -> None:
    client = HyperliquidWebSocket("ws://127.0.0.1:1/ws")
    with pytest.raises(ValueError, match="unsupported"):
        asyncio.run(client.subscribe({"type": "webData2", "user": MAKER}, print))
    with pytest.raises(ValueError, match="coin"):
        asyncio.run(client.subscribe({"type": "l2Book"}, print))


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=6)
    | st.sampled_from(["1.5", "BTC", "B"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    channel=st.sampled_from(
        [
            "l2Book",
            "trades",
            "bbo",
            "candle",
            "activeAssetCtx",
            "allMids",
            "orderUpdates",
            "userFills",
            "userFundings",
            "user",
            "post",
            "error",
            "pong",
            "subscriptionResponse",
            "other",
        ]
    ),
    data=JSON_VALUES,
    raw=st.binary(max_size=40),
)
def test_random_frames_never_escape_the_router(channel: str, data: Any, raw: bytes) -> None:
    client = HyperliquidWebSocket("ws://127.0.0.1:1/ws")
    client._routes[(channel, ())] = [lambda message: None]  # a route for keyless channels
    client._on_message(orjson.dumps({"channel": channel, "data": data}))
    client._on_message(raw)


async def test_reconnect_listener_finds_the_socket_up(
    exchange: LocalExchange, ws: HyperliquidWebSocket
) -> None:
    states: list[bool] = []
    ws.add_reconnect_listener(lambda: states.append(ws.connected))
    reconnected = asyncio.Event()
    ws.add_reconnect_listener(reconnected.set)
    exchange.faults.drop_websockets()
    await asyncio.wait_for(reconnected.wait(), 5.0)
    assert states == [True]


async def test_same_handler_subscribed_twice_is_called_once(
    exchange: LocalExchange, ws: HyperliquidWebSocket
) -> None:
    twice, once = Inbox(), Inbox()
    await ws.subscribe({"type": "l2Book", "coin": "SOL"}, twice)
    await ws.subscribe({"type": "l2Book", "coin": "SOL"}, twice)
    await ws.subscribe({"type": "l2Book", "coin": "SOL"}, once)
    await once.wait_for(lambda book: True)
    await barrier(ws)
    assert len(twice.items) == len(once.items) >= 1


async def test_ping_keeps_an_idle_connection_open_and_silence_gets_it_closed() -> None:
    async with LocalExchange(
        ws_idle_timeout_s=0.2, liquidity=False
    ) as exchange:  # closes sockets that send nothing for 0.2 s
        pinging = WebSocketConfig(
            heartbeat_interval=0.05, stale_timeout=5.0, backoff_initial=0.01, backoff_max=0.02
        )
        silent = WebSocketConfig(
            heartbeat_interval=None, stale_timeout=5.0, backoff_initial=0.01, backoff_max=0.02
        )
        async with (
            HyperliquidWebSocket(exchange.ws_url, config=pinging) as kept,
            HyperliquidWebSocket(exchange.ws_url, config=silent) as dropped,
        ):
            reconnected = asyncio.Event()
            dropped.add_reconnect_listener(reconnected.set)
            await asyncio.wait_for(reconnected.wait(), 5.0)  # the silent one was closed and came back
            reconnected.clear()
            await asyncio.wait_for(
                reconnected.wait(), 5.0
            )  # ... twice: the pinging one outlived 2 idle periods
            assert kept.reconnects == 0 and kept.connected
