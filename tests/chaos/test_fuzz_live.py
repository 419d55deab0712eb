"""Malformed exchange data reaching a live connector over real sockets - websocket frames, ``/info`` answers
and action replies: logged and skipped (an unreadable action reply is an unknown outcome, reconciled), the
connector keeps trading and its orders, fills, position and balance still match the exchange.

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
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson
import pytest

from tests.chaos.fuzz_seeds import parsers, random_mutation
from tests.chaos.truth import EventLog, LogWatch, VenueRecorder, divergences
from tests.conftest import Trader
from wingbeat.core.enums import OrderType, TradeType
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.schemas import MalformedMessageError
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim.protocol.actions import ActionResult
from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

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


#: /info request type -> the seed table's parser of its answer
_INFO_PARSERS = {"l2Book": "l2Book", "orderStatus": "orderStatus", "clearinghouseState": "clearinghouseState",
                 "userFillsByTime": "userFills", "userFills": "userFills", "frontendOpenOrders": "openOrders",
                 "openOrders": "openOrders", "allMids": "allMids", "metaAndAssetCtxs": "metaAndAssetCtxs"}


def _broken(parser: Callable[[Any], Any], answer: Any, rng: random.Random) -> Any:
    """A mutation of ``answer`` that ``parser`` refuses (malformed for sure, never a plausible lie) and the
    exchange can still serialise."""
    for _ in range(20):
        mutated = random_mutation(answer, rng)
        try:
            orjson.dumps(mutated)
        except TypeError:
            continue
        try:
            parser(mutated)
        except MalformedMessageError:
            return mutated
    return "garbage"


async def test_malformed_rest_answers_are_skipped_and_the_connector_stays_consistent(
        local_exchange: LocalExchange, trader: Trader, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(12)
    exchange = local_exchange
    counterparty = "0x" + "c2" * 20
    await exchange.fund(counterparty, Decimal(10_000_000))
    recorder = VenueRecorder.attach(exchange, [trader.address])
    table = parsers()
    garbage = {"on": False, "info": 0, "actions": 0}

    def lying_info(engine: Any, body: dict[str, Any], **kwargs: Any) -> Any:
        answer = handle_info(engine, body, **kwargs)
        name = _INFO_PARSERS.get(str(body.get("type")))
        if garbage["on"] and name is not None and rng.random() < 0.4:
            garbage["info"] += 1
            return _broken(table[name][0], answer, rng)
        return answer

    monkeypatch.setattr("wingbeat.sim.protocol.server.handle_info", lying_info)
    honest_execute = exchange.actions.execute

    def unreadable_replies(parsed: Any) -> ActionResult:
        result = honest_execute(parsed)
        if garbage["on"] and result.payload is not None and rng.random() < 0.3:
            garbage["actions"] += 1  # applied, but the answer cannot be read: the outcome is unknown
            return replace(result, payload=_broken(table["exchangeReply"][0], result.payload, rng))
        return result

    monkeypatch.setattr(exchange.actions, "execute", unreadable_replies)
    config = HyperliquidConfig(dead_man_switch=None, request_timeout=2.0, account_refresh_interval=1.0)
    conn = HyperliquidPerpetualConnector(Signer(trader.key), ["BTC-USD"], network=exchange.base_url,
                                         config=config, reconcile_interval=0.2, stale_order_after=1.0,
                                         status_retry_delay=0.05)
    log = EventLog()
    conn.add_listener(log)
    orders: dict[str, InFlightOrder] = {}
    with LogWatch() as logs:
        await conn.start()
        try:
            garbage["on"] = True
            market = exchange.engine.market("BTC")
            assert market is not None
            for _round in range(10):
                cids = [conn.place_order(TradeType.BUY, "BTC-USD", Decimal("0.001"), OrderType.LIMIT,
                                         Decimal(59_000 + rng.randint(0, 500))) for _ in range(3)]
                orders.update({c: o for c in cids if (o := conn.get_order(c)) is not None})
                exchange.engine.place_orders(counterparty, [OrderRequest(
                    asset=market.index, is_buy=False, price=Decimal(59_250), size=Decimal("0.002"),
                    reduce_only=False, tif="Ioc")])
                waiters = [asyncio.ensure_future(orders[c].wait_until_open()) for c in cids]
                _done, pending = await asyncio.wait(waiters, timeout=3)  # pacing; unreadable ones reconcile
                for waiter in pending:
                    waiter.cancel()
                if _round % 3 == 2:
                    exchange.faults.drop_websockets()  # reconnects: snapshots and catch-up over (lying) REST
                await conn.reconcile_now()
            garbage["on"] = False
            problems = await settled(conn, exchange, recorder, orders, log)
            assert conn.ready
        finally:
            await conn.stop()
    assert garbage["info"] > 0 and garbage["actions"] > 0, garbage
    assert problems == []
    assert log.fills, "no fill happened: the consistency check proved little"
    assert logs.unexpected == []
