"""Malformed websocket data reaching a live connector over a real socket: logged and skipped, the connector
keeps trading and its orders, fills, position and balance still match the exchange.

Junk is pushed by the local exchange into the connector's own websocket, between real orders and fills:
mutated messages of every channel (about other accounts' orders, so a mutation that happens to stay valid
cannot lie about ours), truncated and random frames, invalid UTF-8, unknown channels, error frames and a
huge frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from decimal import Decimal
from typing import Any

import orjson

from tests.chaos.fuzz_seeds import parsers, random_mutation
from tests.chaos.truth import EventLog, LogWatch, VenueRecorder, divergences
from tests.conftest import Trader
from wingbeat.core.enums import OrderType, TradeType
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim.server import LocalExchange
from wingbeat.sim.types import OrderRequest

CHANNELS = {"l2Book": "l2Book", "ws.trades": "trades", "ws.bbo": "bbo", "ws.allMids": "allMids",
            "ws.activeAssetCtx": "activeAssetCtx", "ws.orderUpdates": "orderUpdates", "ws.userFills": "userFills",
            "ws.user": "user", "ws.post": "post", "ws.subscriptionResponse": "subscriptionResponse"}
_FOREIGN = 10**12  # ids of the seed messages are moved far away from any id of the live exchange


def _foreign(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v + _FOREIGN if k in ("oid", "tid", "id") and isinstance(v, int) else _foreign(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_foreign(v) for v in value]
    return value


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits: the stdlib writes them (and Infinity, not even JSON)
        return json.dumps(value).encode()


def junk_frames(rng: random.Random, count: int) -> list[bytes]:
    """``count`` malformed (or foreign) frames of every kind."""
    frames: list[bytes] = []
    table = parsers()
    while len(frames) < count:
        roll = rng.random()
        name = rng.choice(list(CHANNELS))
        seed = _foreign(rng.choice(table[name][1]))
        frame = orjson.dumps({"channel": CHANNELS[name], "data": seed})
        if roll < 0.6:
            frames.append(_dumps({"channel": CHANNELS[name], "data": random_mutation(seed, rng)}))
        elif roll < 0.75:
            frames.append(frame[: rng.randrange(len(frame))])
        elif roll < 0.8:
            frames.append(rng.randbytes(rng.randint(1, 300)))
        elif roll < 0.85:
            frames.append(frame[:-2] + b"\xff\xfe")
        elif roll < 0.9:
            frames.append(orjson.dumps({"channel": rng.choice(["", "nope", "error", None, 7]), "data": seed}))
        elif roll < 0.95:
            frames.append(_dumps(random_mutation({"channel": CHANNELS[name], "data": seed}, rng)))
        else:
            frames.append(orjson.dumps({"channel": "trades", "data": table["ws.trades"][1][0] * 3_000}))
    return frames


def push(exchange: LocalExchange, frames: list[bytes]) -> int:
    """Queue ``frames`` on every websocket connection of ``exchange``; returns the connection count."""
    connections = list(exchange.hub._connections)
    for connection in connections:
        for frame in frames:
            connection.send(frame)
    return len(connections)


async def settled(conn: HyperliquidPerpetualConnector, exchange: LocalExchange, recorder: VenueRecorder,
                  orders: dict[str, InFlightOrder], log: EventLog, limit_s: float = 20.0) -> list[str]:
    """Reconcile until the connector agrees with the exchange; the remaining divergences after ``limit_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while (problems := divergences(conn, exchange, recorder, orders, log)) and loop.time() < deadline:
        await conn.reconcile_now()
        with contextlib.suppress(TimeoutError):  # woken by the connector's news, or its timers' next round
            await asyncio.wait_for(log.changed.wait(), 0.5)
        log.changed.clear()
    return problems


async def test_junk_on_the_websocket_is_skipped_and_the_connector_stays_consistent(
        local_exchange: LocalExchange, trader: Trader) -> None:
    rng = random.Random(11)
    exchange = local_exchange
    counterparty = "0x" + "c0" * 20
    await exchange.fund(counterparty, Decimal(10_000_000))
    recorder = VenueRecorder.attach(exchange, [trader.address])
    config = HyperliquidConfig(dead_man_switch=None, request_timeout=2.0, account_refresh_interval=1.0)
    conn = HyperliquidPerpetualConnector(Signer(trader.key), ["BTC-USD", "ETH-USD"], network=exchange.base_url,
                                         config=config, reconcile_interval=0.2, status_retry_delay=0.05)
    log = EventLog()
    conn.add_listener(log)
    orders: dict[str, InFlightOrder] = {}
    with LogWatch() as logs:
        await conn.start()
        try:
            ws = conn._ws
            assert ws is not None
            for _round in range(8):
                assert push(exchange, junk_frames(rng, 150)) > 0
                cids = [conn.place_order(TradeType.BUY, "BTC-USD", Decimal("0.001"), OrderType.LIMIT,
                                         Decimal(59_000 + rng.randint(0, 500))) for _ in range(3)]
                orders.update({c: o for c in cids if (o := conn.get_order(c)) is not None})
                await asyncio.wait_for(asyncio.gather(*(orders[c].wait_until_open() for c in cids)), 10)
                market = exchange.engine.market("BTC")
                assert market is not None
                exchange.engine.place_orders(counterparty, [OrderRequest(
                    asset=market.index, is_buy=False, price=Decimal(59_250), size=Decimal("0.002"),
                    reduce_only=False, tif="Ioc")])
                victim = rng.choice(cids)
                conn.cancel("BTC-USD", victim)
                await asyncio.wait_for(orders[victim].wait_until_done(), 10)
            assert ws.malformed > 0  # the junk really arrived and was skipped
            problems = await settled(conn, exchange, recorder, orders, log)
            assert conn.ready
        finally:
            await conn.stop()
    assert problems == []
    assert log.fills, "no fill happened: the consistency check proved little"
    assert logs.unexpected == []
