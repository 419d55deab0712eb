"""Native TWAPs over the local exchange's sockets: ``twapOrder`` / ``twapCancel`` signed by the
official SDK, the ``twapStates`` / ``userTwapSliceFills`` / ``userTwapHistory`` channels (and
``userEvents``), the info requests, malformed bodies, and a TWAP surviving a restart through the
state file. Venue time is moved with ``engine.advance`` (no sleeping through 30-second slices)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import eth_account
import orjson
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.signing import get_timestamp_ms, sign_l1_action

from tests.conftest import Trader, exchange_options, new_trader, signed_body
from tests.sim.test_ws_hub import WsClient, place
from wingbeat.hyperliquid.twap_wire import TwapSpec, twap_order_action
from wingbeat.sim import LocalExchange
from wingbeat.sim.venue.twap_engine import SLICE_INTERVAL_MS, ZERO_HASH

MISSING = "TWAP was never placed, already canceled, or filled."


@pytest.fixture
async def ws(local_exchange: LocalExchange) -> AsyncIterator[WsClient]:
    local_exchange.hub.state_refresh_s = 3600  # only pushes caused by changes
    async with aiohttp.ClientSession() as session, session.ws_connect(local_exchange.ws_url) as conn:
        yield WsClient(conn)


async def post(ex: LocalExchange, body: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(ex.base_url + "/exchange", data=orjson.dumps(body)) as r,
    ):
        text = await r.text()
        return r.status, (orjson.loads(text) if r.status == 200 else text)


async def with_liquidity(ex: LocalExchange, size: str = "10") -> None:
    maker = new_trader()
    await ex.fund(maker.address, 10_000_000)
    answer = await place(ex, maker, price="50000", size=size, is_buy=False)
    assert "resting" in answer["response"]["data"]["statuses"][0], answer


def buy_twap(size: str = "0.05", minutes: int = 5, **kw: Any) -> dict[str, Any]:
    reduce_only, randomize = kw.get("reduce_only", False), kw.get("randomize", False)
    return twap_order_action(TwapSpec(0, True, Decimal(size), reduce_only, minutes, randomize))


def advance_slices(ex: LocalExchange, n: int) -> None:
    for _ in range(n):
        ex.engine.advance(ex.engine.now + SLICE_INTERVAL_MS)


async def test_the_official_sdk_signs_a_twap_order_and_its_cancel(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    await with_liquidity(local_exchange)
    wallet = eth_account.Account.from_key(trader.key)
    exchange = await asyncio.to_thread(Exchange, wallet, local_exchange.base_url)
    info = await asyncio.to_thread(Info, local_exchange.base_url, True)

    def sdk_post(action: dict[str, Any]) -> Any:
        nonce = get_timestamp_ms()
        signature = sign_l1_action(wallet, action, None, nonce, None, False)
        return exchange._post_action(action, signature, nonce)

    # the SDK has no TWAP method: signed as ccxt and the docs' examples do, with its own signer
    action = {"type": "twapOrder", "twap": {"a": 0, "b": True, "s": "0.05", "r": False, "m": 5, "t": False}}
    answer = await asyncio.to_thread(sdk_post, action)
    assert answer["status"] == "ok" and answer["response"]["type"] == "twapOrder", answer
    twap_id = answer["response"]["data"]["status"]["running"]["twapId"]
    fills = await asyncio.to_thread(info.user_twap_slice_fills, trader.address)
    assert [f["twapId"] for f in fills] == [twap_id] and fills[0]["fill"]["hash"] == ZERO_HASH
    assert fills[0]["fill"]["sz"] == "0.005" and fills[0]["fill"]["twapId"] == twap_id
    user_fills = await asyncio.to_thread(info.user_fills, trader.address)
    assert user_fills[0]["twapId"] == twap_id
    cancel = await asyncio.to_thread(sdk_post, {"type": "twapCancel", "a": 0, "t": twap_id})
    assert cancel == {"status": "ok", "response": {"type": "twapCancel", "data": {"status": "success"}}}
    again = await asyncio.to_thread(sdk_post, {"type": "twapCancel", "a": 0, "t": twap_id})
    assert again["response"]["data"]["status"] == {"error": MISSING}


async def test_refusals_come_in_the_ok_envelope_with_the_exchanges_text(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    status, answer = await post(local_exchange, signed_body(trader.key, buy_twap("0.001")))
    assert status == 200
    assert answer == {
        "status": "ok",
        "response": {
            "type": "twapOrder",
            "data": {"status": {"error": "TWAP order value too small. Min is $100."}},
        },
    }
    _, answer = await post(local_exchange, signed_body(trader.key, buy_twap(minutes=3)))
    assert answer["response"]["data"]["status"] == {
        "error": "TWAP duration must be between 5 and 1440 minutes."
    }
    stranger = new_trader()
    _, answer = await post(local_exchange, signed_body(stranger.key, buy_twap()))
    assert answer == {"status": "err", "response": f"User or API Wallet {stranger.address} does not exist."}


async def test_malformed_twap_bodies_are_answered_422(local_exchange: LocalExchange, trader: Trader) -> None:
    bad_m = {"type": "twapOrder", "twap": {"a": 0, "b": True, "s": "0.05", "r": False, "m": "5", "t": False}}
    status, text = await post(local_exchange, signed_body(trader.key, bad_m))
    assert status == 422 and "m must be an integer" in text
    details = {**buy_twap(), "details": {"t": None, "s": "1"}}
    status, text = await post(local_exchange, signed_body(trader.key, details))
    assert status == 422 and "not supported by the local exchange" in text
    status, text = await post(local_exchange, signed_body(trader.key, {"type": "twapCancel", "a": 0}))
    assert status == 422 and "missing field `t`" in text


async def test_channels_show_the_twap_start_its_slices_and_its_end(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    user = trader.address
    await with_liquidity(local_exchange)
    for kind in ("twapStates", "userTwapSliceFills", "userTwapHistory"):
        await ws.subscribe({"type": kind, "user": user})
    await ws.expect("twapStates")
    assert await ws.expect("userTwapSliceFills") == {"isSnapshot": True, "user": user, "twapSliceFills": []}
    assert await ws.expect("userTwapHistory") == {"isSnapshot": True, "user": user, "history": []}
    await ws.subscribe({"type": "userEvents", "user": user})
    _, answer = await post(local_exchange, signed_body(trader.key, buy_twap()))
    twap_id = answer["response"]["data"]["status"]["running"]["twapId"]
    started = await ws.expect("userTwapHistory")
    assert started["user"] == user and started["history"][0]["status"] == {"status": "activated"}
    assert started["history"][0]["twapId"] == twap_id and started["history"][0]["state"]["sz"] == "0.05"
    first = await ws.expect("userTwapSliceFills")
    assert [f["twapId"] for f in first["twapSliceFills"]] == [twap_id] and "isSnapshot" not in first
    assert (await ws.expect("user", lambda d: "twapSliceFills" in d))["twapSliceFills"] == first[
        "twapSliceFills"
    ]
    states = await ws.expect("twapStates", lambda d: bool(d["states"]))
    assert states["dex"] == "" and states["states"][0][0] == twap_id
    advance_slices(local_exchange, 9)
    ended = await ws.expect("userTwapHistory", lambda d: d["history"][0]["status"]["status"] == "finished")
    assert ended["history"][0]["state"]["executedSz"] == "0.05"
    await ws.expect("twapStates", lambda d: d["states"] == [])
    history = await ws.expect(
        "user", lambda d: "twapHistory" in d and d["twapHistory"][0]["status"]["status"] == "finished"
    )
    assert history["twapHistory"][0]["twapId"] == twap_id


async def test_a_running_twap_survives_a_restart_through_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "venue.sqlite"
    trader = new_trader()
    async with LocalExchange(**exchange_options(state=state)) as ex:
        await ex.fund(trader.address, 1_000_000)
        await with_liquidity(ex)
        _, answer = await post(ex, signed_body(trader.key, buy_twap()))
        twap_id = answer["response"]["data"]["status"]["running"]["twapId"]
        async with aiohttp.ClientSession() as http:
            advance = {"type": "advance", "nowMs": ex.engine.now + 2 * SLICE_INTERVAL_MS}
            headers = {"Authorization": f"Bearer {ex.admin_token}", "Content-Type": "application/json"}
            async with http.post(ex.base_url + "/admin", data=orjson.dumps(advance), headers=headers) as r:
                assert r.status == 200, await r.text()
        executed = ex.engine.twaps.running[twap_id].executed_sz
        assert executed == Decimal("0.015")
    async with LocalExchange(**exchange_options(state=state)) as again:
        running = again.engine.twaps.running[twap_id]
        assert running.executed_sz == executed and running.slices_sent == 3
        advance_slices(again, 7)
        assert twap_id not in again.engine.twaps.running
        assert again.engine.accounts[trader.address].szi(0) == Decimal("0.05")
