"""HIP-3 builder dexes on the local exchange's websocket: ``allMids`` and the account channels with
``dex``, ``allDexsClearinghouseState``, ``webData3``'s per-dex states, books of ``dex:COIN``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import orjson
import pytest

from tests.conftest import Trader
from tests.sim.test_ws_hub import WsClient
from wingbeat.sim import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

XYZ100 = 110_000
MAKER = "0x" + "e" * 40


@pytest.fixture
async def ws(local_exchange: LocalExchange) -> AsyncIterator[WsClient]:
    local_exchange.hub.state_refresh_s = 3600  # only pushes caused by changes in these tests
    async with aiohttp.ClientSession() as session, session.ws_connect(local_exchange.ws_url) as conn:
        yield WsClient(conn)


async def fund_dex(ex: LocalExchange, user: str, amount: int) -> None:
    await ex.fund(user, 0, dexes={"xyz": amount})


async def test_all_mids_of_a_builder_dex_lists_its_coins_and_names_it(ws: WsClient) -> None:
    await ws.subscribe({"type": "allMids", "dex": "xyz"})
    dex = await ws.expect("allMids", lambda d: d.get("dex") == "xyz")
    assert set(dex["mids"]) == {"xyz:XYZ100", "xyz:GOLD"}
    await ws.subscribe({"type": "allMids"})
    main = await ws.expect("allMids", lambda d: "dex" not in d)
    assert "BTC" in main["mids"] and not any(":" in coin for coin in main["mids"])
    sub = {"type": "allMids", "dex": "nodex"}
    await ws.send({"method": "subscribe", "subscription": sub})
    assert await ws.expect("error") == "Invalid subscription " + orjson.dumps(sub).decode()


async def test_clearinghouse_state_with_dex_pushes_the_dex_account(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    me = trader.address
    await fund_dex(local_exchange, me, 5_000)
    await fund_dex(local_exchange, MAKER, 50_000)
    await ws.subscribe({"type": "clearinghouseState", "user": me, "dex": "xyz"})
    first = await ws.expect("clearinghouseState")
    assert first["dex"] == "xyz" and first["clearinghouseState"]["marginSummary"]["accountValue"] == "5000.0"
    await ws.subscribe({"type": "l2Book", "coin": "xyz:XYZ100"})
    await ws.expect("l2Book")
    engine = local_exchange.engine
    engine.place_orders(MAKER, [OrderRequest(XYZ100, False, Decimal(25_000), Decimal("0.1"), False, "Gtc")])
    book = await ws.expect("l2Book", lambda d: bool(d["levels"][1]))
    assert book["coin"] == "xyz:XYZ100" and book["levels"][1][0]["px"] == "25000.0"
    engine.place_orders(me, [OrderRequest(XYZ100, True, Decimal(25_000), Decimal("0.1"), False, "Ioc")])
    pushed = await ws.expect("clearinghouseState", lambda d: bool(d["clearinghouseState"]["assetPositions"]))
    assert pushed["dex"] == "xyz"
    assert pushed["clearinghouseState"]["assetPositions"][0]["position"]["coin"] == "xyz:XYZ100"


async def test_all_dexs_clearinghouse_state_and_web_data3_cover_every_dex(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    me = trader.address
    await fund_dex(local_exchange, me, 1_000)
    await ws.subscribe({"type": "allDexsClearinghouseState", "user": me})
    data = await ws.expect("allDexsClearinghouseState")
    assert data["user"] == me
    assert [(dex, state["marginSummary"]["accountValue"]) for dex, state in data["clearinghouseStates"]] == [
        ("", "1000000.0"),  # fund_dex credits the main dex, then sends it on
        ("xyz", "1000.0"),
    ]
    await ws.subscribe({"type": "webData3", "user": me})
    web3 = await ws.expect("webData3")
    assert [s["perpsAtOpenInterestCap"] for s in web3["perpDexStates"]] == [[], []]


async def test_admin_fund_credits_a_builder_dex_margin_account(local_exchange: LocalExchange) -> None:
    me = "0x" + "f" * 40
    headers = {"Authorization": f"Bearer {local_exchange.admin_token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:

        async def post(path: str, body: dict[str, object]) -> tuple[int, object]:
            async with http.post(
                local_exchange.base_url + path, data=orjson.dumps(body), headers=headers
            ) as resp:
                return resp.status, orjson.loads(
                    await resp.read()
                ) if resp.status == 200 else await resp.text()

        assert await post("/admin", {"type": "fund", "user": me, "dexes": {"xyz": "750"}}) == (
            200,
            {"status": "ok", "response": "ok"},
        )
        _, state = await post("/info", {"type": "clearinghouseState", "user": me, "dex": "xyz"})
        assert isinstance(state, dict) and state["marginSummary"]["accountValue"] == "750.0"
        status, text = await post("/admin", {"type": "fund", "user": me, "dexes": {"nodex": "1"}})
        assert status == 400 and "nodex" in str(text)


async def test_twap_states_with_dex_list_only_that_dexs_twaps(
    local_exchange: LocalExchange, trader: Trader, ws: WsClient
) -> None:
    from wingbeat.sim.venue.twap_engine import TwapRequest

    me = trader.address
    await fund_dex(local_exchange, me, 5_000)
    engine = local_exchange.engine
    engine.place_twap(me, TwapRequest(XYZ100, True, Decimal("0.1"), False, 10, False))
    engine.place_twap(me, TwapRequest(0, True, Decimal("0.01"), False, 10, False))
    await ws.subscribe({"type": "twapStates", "user": me, "dex": "xyz"})
    dex = await ws.expect("twapStates")
    assert dex["dex"] == "xyz" and [s["coin"] for _, s in dex["states"]] == ["xyz:XYZ100"]
    await ws.subscribe({"type": "twapStates", "user": me})
    main = await ws.expect("twapStates")
    assert main["dex"] == "" and [s["coin"] for _, s in main["states"]] == ["BTC"]
