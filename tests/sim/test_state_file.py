"""``LocalExchange(state=FILE)``: the venue survives a restart, and a crash, through its state file.

A crash image is taken by copying the SQLite file and its WAL between two inputs (what the disk
holds if the process died right then); the venue restored from it must equal the running one.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from tests.conftest import limit_order_action, new_trader, signed_body
from wingbeat.sim import LiquidityConfig, LocalExchange
from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.protocol.state_store import StateFileError, StateStore

_CLOID = "0x" + "ab" * 16
_FAST_MAKERS = LiquidityConfig(refresh_ms=10)  # re-quote (random walk, noise taker) every tick


async def _post(http: aiohttp.ClientSession, url: str, body: Any) -> Any:
    async with http.post(url, data=orjson.dumps(body), headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 200, await resp.text()
        return orjson.loads(await resp.read())


def _venue_view(ex: LocalExchange, users: list[str]) -> list[Any]:
    """What /info says of ``users`` and the markets, read synchronously (nothing runs in between)."""
    view: list[Any] = [
        handle_info(ex.engine, {"type": "allMids"}),
        handle_info(ex.engine, {"type": "l2Book", "coin": "BTC"}),
    ]
    for user in users:
        for kind in (
            "clearinghouseState",
            "frontendOpenOrders",
            "userFills",
            "historicalOrders",
            "userFunding",
        ):
            body: dict[str, Any] = {"type": kind, "user": user}
            if kind == "userFunding":
                body["startTime"] = 0
            answer = handle_info(ex.engine, body)
            if isinstance(answer, dict):
                answer.pop("time", None)
            view.append(answer)
    return view


def _crash_image(state: Path, into: Path) -> Path:
    # the database and its write-ahead log as the disk holds them now, as after a SIGKILL
    image = into / "crashed.sqlite"
    shutil.copyfile(state, image)
    wal = Path(f"{state}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{image}-wal"))
    return image


async def test_a_crash_image_restores_the_venue_exactly_with_liquidity_running(tmp_path: Path) -> None:
    state = tmp_path / "venue.sqlite"
    trader = new_trader()
    async with (
        LocalExchange(state=state, tick_ms=5, liquidity=_FAST_MAKERS) as ex,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
    ):
        await ex.fund(trader.address, 50_000)
        url = ex.base_url + "/exchange"
        rest = await _post(
            http, url, signed_body(trader.key, limit_order_action(price="50000", size="0.01", cloid=_CLOID))
        )
        oid = rest["response"]["data"]["statuses"][0]["resting"]["oid"]
        assert ex.durable is not None
        ex.durable.snapshot()  # what the timer does every snapshot_interval_s, with everything wired
        assert ex.durable.store.log_length() == 0
        taker = limit_order_action(price="70000", size="0.02", tif="Ioc")
        filled = await _post(http, url, signed_body(trader.key, taker))
        assert "filled" in filled["response"]["data"]["statuses"][0]
        # an action posted over the websocket is logged as well
        async with http.ws_connect(ex.ws_url) as ws:
            body = signed_body(trader.key, limit_order_action(asset=1, price="2000", size="0.5"))
            await ws.send_bytes(
                orjson.dumps({"method": "post", "id": 7, "request": {"type": "action", "payload": body}})
            )
            async with asyncio.timeout(5):
                answer = orjson.loads((await ws.receive()).data)
            assert "resting" in answer["data"]["response"]["payload"]["response"]["data"]["statuses"][0]
        last = signed_body(trader.key, {"type": "updateLeverage", "asset": 1, "isCross": True, "leverage": 5})
        assert (await _post(http, url, last))["status"] == "ok"
        assert ex.makers is not None
        makers, mid, moved = ex.makers, ex.makers.mid("BTC"), asyncio.Event()

        def on_event(_event: object) -> None:
            if makers.mid("BTC") != mid:  # the makers' walk moved: timer ticks are in the log too
                moved.set()

        ex.engine.subscribe(on_event)
        await asyncio.wait_for(moved.wait(), 10)
        expected = _venue_view(ex, [trader.address])
        image = _crash_image(state, tmp_path)
        assert ex.durable is not None and ex.durable.store.log_length() > 3  # the image needs a replay
    # no timer tick before the comparison: a restored venue's book is live from the snapshot
    async with (
        LocalExchange(state=image, tick_ms=60_000, liquidity=_FAST_MAKERS) as restored,
        aiohttp.ClientSession() as http,
    ):
        assert restored.durable is not None and restored.durable.replayed > 0
        assert _venue_view(restored, [trader.address]) == expected
        orders = handle_info(restored.engine, {"type": "frontendOpenOrders", "user": trader.address})
        assert (oid, _CLOID) in [(o["oid"], o.get("cloid")) for o in orders]
        assert {o["coin"] for o in orders} == {"BTC", "ETH"}  # the websocket-posted order too
        again = await _post(http, restored.base_url + "/exchange", last)
        assert again == {"status": "err", "response": f"Invalid nonce: duplicate nonce {last['nonce']}"}


async def test_admin_mutations_and_a_graceful_stop_survive(tmp_path: Path) -> None:
    state = tmp_path / "venue.sqlite"
    trader = new_trader()
    async with LocalExchange(state=state, liquidity=False, admin=True) as ex, aiohttp.ClientSession() as http:
        token = {"Authorization": f"Bearer {ex.admin_token}", "Content-Type": "application/json"}
        for command in (
            {"type": "fund", "user": trader.address, "amount": "2500"},
            {"type": "setOraclePrice", "coin": "ETH", "px": "3210"},
        ):
            async with http.post(ex.base_url + "/admin", data=orjson.dumps(command), headers=token) as resp:
                assert resp.status == 200
        expected = _venue_view(ex, [trader.address])
        image = _crash_image(state, tmp_path)
    async with LocalExchange(state=image, liquidity=False) as crashed:
        assert _venue_view(crashed, [trader.address]) == expected
        eth = crashed.engine.market("ETH")
        assert eth is not None and eth.oracle == 3210
    async with LocalExchange(state=state, liquidity=False) as restarted:  # after the graceful stop
        assert restarted.durable is not None and restarted.durable.replayed == 0  # all in the final snapshot
        assert _venue_view(restarted, [trader.address]) == expected


async def test_a_state_file_of_another_configuration_or_in_use_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "venue.sqlite"
    async with LocalExchange(state=state, liquidity=False, seed=1):
        with pytest.raises(StateFileError, match="another wingbeat sim"):
            StateStore(state, "anything")
    with pytest.raises(StateFileError, match="other markets, seed"):
        await LocalExchange(state=state, liquidity=False, seed=2).start()
    (tmp_path / "junk.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(StateFileError, match="not a wingbeat state file"):
        await LocalExchange(state=tmp_path / "junk.sqlite").start()
    # the refused starts left the good file untouched and usable
    async with LocalExchange(state=state, liquidity=False, seed=1) as ex:
        assert ex.durable is not None and ex.durable.restored


async def test_a_snapshot_cannot_name_code_outside_the_venue(tmp_path: Path) -> None:
    state = tmp_path / "venue.sqlite"
    async with LocalExchange(state=state, liquidity=False):
        pass
    evil = b"cos\nsystem\n(S'echo pwned'\ntR."  # pickle protocol 0: os.system('echo pwned')
    db = sqlite3.connect(state)
    with db:
        db.execute("UPDATE snapshots SET state = ?", (evil,))
    db.close()
    with pytest.raises(StateFileError, match="snapshot unreadable"):
        await LocalExchange(state=state, liquidity=False).start()


def _dex_view(ex: LocalExchange, user: str) -> list[Any]:
    view: list[Any] = [
        handle_info(ex.engine, {"type": "allMids", "dex": "xyz"}),
        handle_info(ex.engine, {"type": "l2Book", "coin": "xyz:XYZ100"}),
        handle_info(ex.engine, {"type": "frontendOpenOrders", "user": user, "dex": "xyz"}),
        handle_info(ex.engine, {"type": "userFills", "user": user}),
    ]
    for dex in ("", "xyz"):
        state = handle_info(ex.engine, {"type": "clearinghouseState", "user": user, "dex": dex})
        state.pop("time")
        view.append(state)
    return view


async def test_builder_dex_accounts_orders_and_books_survive_a_crash_and_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "venue.sqlite"
    trader, maker = new_trader(), new_trader()
    async with LocalExchange(state=state, liquidity=False) as ex, aiohttp.ClientSession() as http:
        await ex.fund(trader.address, 1_000, dexes={"xyz": 5_000})  # "fundDex" is logged
        await ex.fund(maker.address, 0, dexes={"xyz": 50_000})
        url = ex.base_url + "/exchange"
        ask = limit_order_action(asset=110_000, is_buy=False, price="25000", size="0.1")
        assert (
            "resting"
            in (await _post(http, url, signed_body(maker.key, ask)))["response"]["data"]["statuses"][0]
        )
        bid = limit_order_action(asset=110_000, price="25000", size="0.04", tif="Ioc")
        assert (
            "filled"
            in (await _post(http, url, signed_body(trader.key, bid)))["response"]["data"]["statuses"][0]
        )
        rest = limit_order_action(asset=110_001, price="3900", size="0.5")
        assert (
            "resting"
            in (await _post(http, url, signed_body(trader.key, rest)))["response"]["data"]["statuses"][0]
        )
        expected = _dex_view(ex, trader.address)
        assert expected[-1]["assetPositions"] and expected[-2]["marginSummary"]["accountValue"] == "1000.0"
        image = _crash_image(state, tmp_path)
    async with LocalExchange(state=image, liquidity=False) as crashed:
        assert crashed.durable is not None and crashed.durable.replayed > 0
        assert _dex_view(crashed, trader.address) == expected
    async with LocalExchange(state=state, liquidity=False) as restarted:  # from the final snapshot
        assert restarted.durable is not None and restarted.durable.replayed == 0
        assert _dex_view(restarted, trader.address) == expected
