"""Typed ``candle`` and ``userFundings`` websocket channels: parsers, routing, and end to end
against the local exchange over a loopback socket."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from tests.conftest import FAST_FUNDING_INTERVAL_MS, Trader, new_trader
from tests.hyperliquid.test_ws import FAST, Inbox, barrier
from tests.hyperliquid.ws_server import serve_ws
from wingbeat.hyperliquid.schemas import MalformedMessageError
from wingbeat.hyperliquid.schemas_account import FundingPayment, parse_user_funding
from wingbeat.hyperliquid.schemas_ws import (
    CANDLE_INTERVALS,
    Candle,
    UserFundingsMessage,
    parse_candle,
    parse_user_fundings_message,
)
from wingbeat.hyperliquid.ws import HyperliquidWebSocket
from wingbeat.sim import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "hyperliquid" / "payloads"
USER = "0x" + "ab" * 20

CANDLE = {
    "t": 1_700_000_040_000,
    "T": 1_700_000_099_999,
    "s": "BTC",
    "i": "1m",
    "o": "50000.0",
    "c": "50010.5",
    "h": "50020.0",
    "l": "49990.0",
    "v": "0.0123",
    "n": 3,
}
FUNDING = {
    "time": 1_700_000_000_000,
    "coin": "ETH",
    "usdc": "-0.418",
    "szi": "1.5",
    "fundingRate": "0.0000125",
    "nSamples": None,
}


def candle(**fields: Any) -> dict[str, Any]:
    return {**CANDLE, **fields}


def frame(channel: str, data: Any) -> bytes:
    return orjson.dumps({"channel": channel, "data": data})


# -- parsers ------------------------------------------------------------------------------------


def test_recorded_candle_snapshot_items_parse_to_decimal_candles() -> None:
    recorded = json.loads((PAYLOADS / "info_candleSnapshot.json").read_text())["response"]
    candles = [parse_candle(item, f"candleSnapshot[{i}]") for i, item in enumerate(recorded)]
    first = candles[0]
    assert first == Candle(
        coin="kPEPE",
        interval="1h",
        open_time_ms=1684699200000,
        close_time_ms=1684702799999,
        open=Decimal("0.001601"),
        high=Decimal("0.001616"),
        low=Decimal("0.001601"),
        close=Decimal("0.001604"),
        volume=Decimal("520665683.0"),
        n_trades=709,
    )
    assert all(c.close_time_ms - c.open_time_ms == 3_600_000 - 1 for c in candles)
    assert all(c.interval in CANDLE_INTERVALS for c in candles)


def test_user_fundings_payload_parses_with_lowercased_user_and_snapshot_flag() -> None:
    message = parse_user_fundings_message(
        {"isSnapshot": True, "user": USER.upper().replace("0X", "0x"), "fundings": [FUNDING]}
    )
    assert message == UserFundingsMessage(
        user=USER,
        fundings=(
            FundingPayment(
                time_ms=1_700_000_000_000,
                coin="ETH",
                usdc=Decimal("-0.418"),
                szi=Decimal("1.5"),
                funding_rate=Decimal("0.0000125"),
            ),
        ),
        is_snapshot=True,
    )
    live = parse_user_fundings_message({"user": USER, "fundings": [{**FUNDING, "nSamples": 3}]})
    assert not live.is_snapshot and live.fundings[0].n_samples == 3


@pytest.mark.parametrize(
    "raw",
    [
        candle(o=50000.0),  # a float price: money is never a float
        candle(v="abc"),
        candle(h="NaN"),
        candle(n="3"),
        candle(t=None),
        {k: v for k, v in CANDLE.items() if k != "i"},
        ["BTC", "1m"],
    ],
    ids=["float-price", "bad-volume", "nan-high", "string-count", "null-open-time", "no-interval", "array"],
)
def test_malformed_candle_raises_malformed_message_error(raw: Any) -> None:
    with pytest.raises(MalformedMessageError):
        parse_candle(raw)


@pytest.mark.parametrize(
    "raw",
    [
        {"user": USER},
        {"user": USER, "fundings": {"0": FUNDING}},
        {"user": 7, "fundings": []},
        {"user": USER, "fundings": [{**FUNDING, "usdc": 0.5}]},
        {"user": USER, "fundings": [{k: v for k, v in FUNDING.items() if k != "time"}]},
        {"user": USER, "fundings": [], "isSnapshot": "yes"},
        None,
    ],
    ids=["no-fundings", "fundings-object", "user-number", "float-usdc", "no-time", "bad-flag", "null"],
)
def test_malformed_user_fundings_raises_malformed_message_error(raw: Any) -> None:
    with pytest.raises(MalformedMessageError):
        parse_user_fundings_message(raw)


# -- routing (frames driven straight into the router; subscribe works before connecting) --------


async def test_candles_are_routed_by_coin_and_interval_together() -> None:
    client = HyperliquidWebSocket("ws://127.0.0.1:1/ws")  # never started: subscriptions wait for a connect
    one, five, month, eth = Inbox(), Inbox(), Inbox(), Inbox()
    await client.subscribe({"type": "candle", "coin": "btc", "interval": "1m"}, one)  # coin: any case
    await client.subscribe({"type": "candle", "coin": "BTC", "interval": "5m"}, five)
    await client.subscribe({"type": "candle", "coin": "BTC", "interval": "1M"}, month)  # a month, not 1m
    await client.subscribe({"type": "candle", "coin": "ETH", "interval": "1m"}, eth)
    for interval in ("1m", "5m", "1M", "15m"):
        client._on_message(frame("candle", candle(i=interval)))
    assert [c.interval for c in one.items] == ["1m"]
    assert [c.interval for c in five.items] == ["5m"]
    assert [c.interval for c in month.items] == ["1M"]
    assert eth.items == [] and client.malformed == 0


async def test_user_fundings_are_routed_by_user_case_insensitively() -> None:
    client = HyperliquidWebSocket("ws://127.0.0.1:1/ws")
    mine, other = Inbox(), Inbox()
    await client.subscribe({"type": "userFundings", "user": USER.replace("ab", "AB")}, mine)
    await client.subscribe({"type": "userFundings", "user": "0x" + "cd" * 20}, other)
    client._on_message(frame("userFundings", {"user": USER, "fundings": [FUNDING]}))
    assert len(mine.items) == 1 and mine.items[0].fundings[0].coin == "ETH"
    assert other.items == []


async def test_malformed_candle_and_funding_frames_are_logged_skipped_and_reading_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = HyperliquidWebSocket("ws://127.0.0.1:1/ws")
    candles, fundings = Inbox(), Inbox()
    await client.subscribe({"type": "candle", "coin": "BTC", "interval": "1m"}, candles)
    await client.subscribe({"type": "userFundings", "user": USER}, fundings)
    with caplog.at_level(logging.WARNING, logger="wingbeat.hyperliquid.ws"):
        client._on_message(frame("candle", candle(c=1.5)))
        client._on_message(frame("userFundings", {"user": USER, "fundings": [{"coin": "ETH"}]}))
        client._on_message(frame("candle", candle()))
        client._on_message(frame("userFundings", {"user": USER, "fundings": []}))
    assert client.malformed == 2
    assert len(candles.items) == 1 and len(fundings.items) == 1
    assert sum("malformed frame skipped" in r.getMessage() for r in caplog.records) == 2


@pytest.mark.parametrize(
    ("subscription", "match"),
    [
        ({"type": "candle", "coin": "BTC"}, "'coin' and 'interval'"),
        ({"type": "candle", "interval": "1m"}, "'coin' and 'interval'"),
        ({"type": "candle", "coin": "BTC", "interval": 1}, "'coin' and 'interval'"),
        ({"type": "candle", "coin": "BTC", "interval": "7m"}, "unknown candle interval '7m'"),
        ({"type": "userFundings"}, "'user'"),
    ],
)
async def test_subscribe_refuses_incomplete_or_unknown_candle_and_funding_subscriptions(
    subscription: dict[str, Any], match: str
) -> None:
    client = HyperliquidWebSocket("ws://127.0.0.1:1/ws")
    with pytest.raises(ValueError, match=match):
        await client.subscribe(subscription, Inbox())
    assert client._subscriptions == {} and client._routes == {}


async def test_malformed_candle_over_a_real_socket_is_skipped_and_the_next_one_delivered() -> None:
    async def venue(request: web.Request) -> web.WebSocketResponse:
        sock = web.WebSocketResponse()
        await sock.prepare(request)
        async for _ in sock:  # answers the subscribe with a bad candle, then a good one
            await sock.send_bytes(frame("candle", candle(n=None)))
            await sock.send_bytes(frame("candle", candle(o="50001")))
        return sock

    async with serve_ws(venue) as url, HyperliquidWebSocket(url, config=FAST) as client:
        inbox = Inbox()
        await client.subscribe({"type": "candle", "coin": "BTC", "interval": "1m"}, inbox)
        got = await inbox.wait_for(lambda c: True)
        assert got.open == Decimal("50001") and client.malformed == 1 and client.connected


# -- end to end against the local exchange --------------------------------------------------------


@pytest.fixture
async def ws(local_exchange: LocalExchange) -> AsyncIterator[HyperliquidWebSocket]:
    async with HyperliquidWebSocket(local_exchange.ws_url, config=FAST, post_timeout=5.0) as client:
        await client.wait_connected(5.0)
        yield client


async def counterparty(exchange: LocalExchange) -> str:
    other = new_trader()
    await exchange.fund(other.address, 100_000)
    return other.address


def trade(exchange: LocalExchange, buyer: str, seller: str, px: str, sz: str = "0.001") -> None:
    """``seller`` rests an ask, ``buyer`` takes it: one BTC trade at ``px``."""
    exchange.engine.place_orders(seller, [OrderRequest(0, False, Decimal(px), Decimal(sz), False, "Gtc")])
    statuses = exchange.engine.place_orders(
        buyer, [OrderRequest(0, True, Decimal(px), Decimal(sz), False, "Ioc")]
    )
    assert "filled" in statuses[0], statuses


async def test_trades_push_typed_btc_candles_each_to_its_own_interval_until_unsubscribed(
    local_exchange: LocalExchange, trader: Trader, ws: HyperliquidWebSocket
) -> None:
    seller = await counterparty(local_exchange)
    one, five, eth = Inbox(), Inbox(), Inbox()
    await ws.subscribe({"type": "candle", "coin": "BTC", "interval": "1m"}, one)
    await ws.subscribe({"type": "candle", "coin": "BTC", "interval": "5m"}, five)
    await ws.subscribe({"type": "candle", "coin": "ETH", "interval": "1m"}, eth)
    await barrier(ws)

    trade(local_exchange, trader.address, seller, "50000")
    minute = await one.wait_for(lambda c: c.n_trades == 1)
    assert isinstance(minute, Candle) and (minute.coin, minute.interval) == ("BTC", "1m")
    assert minute.open == minute.high == minute.low == minute.close == Decimal("50000")
    assert minute.volume == Decimal("0.001")
    assert minute.open_time_ms % 60_000 == 0 and minute.close_time_ms == minute.open_time_ms + 59_999
    five_minutes = await five.wait_for(lambda c: c.n_trades == 1)
    assert five_minutes.interval == "5m" and five_minutes.open_time_ms % 300_000 == 0
    assert five_minutes.close_time_ms == five_minutes.open_time_ms + 299_999
    assert five_minutes.close == Decimal("50000") and five_minutes.volume == Decimal("0.001")

    await ws.unsubscribe({"type": "candle", "coin": "BTC", "interval": "1m"})
    delivered = len(one.items)
    trade(local_exchange, trader.address, seller, "50100")
    later = await five.wait_for(lambda c: c.close == Decimal("50100"))
    await barrier(ws)  # the 1m candle of the same flush, had it been sent, is in by now
    assert later.high == Decimal("50100")
    # both trades in one 5m candle, unless a 5-minute boundary passed between them
    same_window = later.open_time_ms == five_minutes.open_time_ms
    expected = (2, Decimal("0.002")) if same_window else (1, Decimal("0.001"))
    assert (later.n_trades, later.volume) == expected
    assert len(one.items) == delivered
    assert all(c.interval == "1m" for c in one.items) and all(c.interval == "5m" for c in five.items)
    assert eth.items == []


async def test_a_funding_time_pushes_the_typed_payment_of_an_open_position(
    local_exchange: LocalExchange, trader: Trader, ws: HyperliquidWebSocket
) -> None:
    seller = await counterparty(local_exchange)
    fundings = Inbox()
    await ws.subscribe({"type": "userFundings", "user": trader.address}, fundings)
    snapshot = await fundings.wait_for(lambda m: m.is_snapshot)
    assert snapshot == UserFundingsMessage(user=trader.address, fundings=(), is_snapshot=True)

    trade(local_exchange, trader.address, seller, "50000")  # trader is long 0.001 BTC
    local_exchange.engine.advance(time.time_ns() // 1_000_000 + FAST_FUNDING_INTERVAL_MS)
    pushed = await fundings.wait_for(lambda m: not m.is_snapshot and m.fundings)
    assert pushed.user == trader.address
    payment = pushed.fundings[0]
    assert payment.coin == "BTC" and payment.szi == Decimal("0.001")
    assert isinstance(payment.usdc, Decimal) and isinstance(payment.funding_rate, Decimal)

    async with (
        aiohttp.ClientSession() as http,
        http.post(
            local_exchange.base_url + "/info",
            json={"type": "userFunding", "user": trader.address, "startTime": 0},
        ) as resp,
    ):
        history = parse_user_funding(await resp.json())
    ledger = {(p.time_ms, p.coin): p for p in history}
    booked = ledger[(payment.time_ms, payment.coin)]  # the push is the payment the ledger records
    assert (booked.usdc, booked.szi, booked.funding_rate) == (
        payment.usdc,
        payment.szi,
        payment.funding_rate,
    )
