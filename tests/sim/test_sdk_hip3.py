"""HIP-3 builder dexes over the wire: the official hyperliquid-python-sdk (unmodified), built with
``perp_dexs=["", "xyz"]``, loads the local exchange's builder dex (asset ids ``110000 + index``,
coins ``"xyz:COIN"``), moves collateral onto it with ``sendAsset`` and places and cancels orders on
``xyz:XYZ100``, each dex with its own clearinghouse."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any

import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

from tests.conftest import Trader, new_trader
from tests.sim.test_sdk_acceptance import call, statuses
from wingbeat.sim import DEFAULT_PERP_DEXES, LocalExchange

OK = {"status": "ok", "response": {"type": "default"}}
GTC: Any = {"limit": {"tif": "Gtc"}}


@dataclass
class DexSdk:
    ex: LocalExchange
    trader: Trader
    maker: Trader
    info: Info
    exchange: Exchange
    maker_exchange: Exchange


@pytest.fixture
async def dex_sdk(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> AsyncIterator[DexSdk]:
    async with start_local_exchange(liquidity=False) as ex:
        trader, maker = new_trader(), new_trader()
        await ex.fund(trader.address, 10_000)
        await ex.fund(maker.address, 100_000)
        dexes = ["", "xyz"]
        info = await call(Info, ex.base_url, True, perp_dexs=dexes)
        exchange = await call(
            Exchange, eth_account.Account.from_key(trader.key), ex.base_url, perp_dexs=dexes
        )
        maker_exchange = await call(
            Exchange, eth_account.Account.from_key(maker.key), ex.base_url, perp_dexs=dexes
        )
        yield DexSdk(ex, trader, maker, info, exchange, maker_exchange)


async def test_the_sdk_loads_the_builder_dex_names_and_asset_ids(dex_sdk: DexSdk) -> None:
    info = dex_sdk.info
    dexes = await call(info.perp_dexs)
    assert dexes[0] is None and [d["name"] for d in dexes[1:]] == ["xyz"]
    assert info.name_to_asset("xyz:XYZ100") == 110_000 and info.name_to_asset("xyz:GOLD") == 110_001
    assert info.name_to_asset("BTC") == 0 and info.name_to_asset("PURR/USDC") == 10_000
    assert info.asset_to_sz_decimals[110_000] == 4
    meta = await call(info.meta, "xyz")
    assert [u.get("marginMode") for u in meta["universe"]] == ["noCross", "strictIsolated"]
    assert meta["collateralToken"] == 0
    mids = await call(info.all_mids, "xyz")
    assert set(mids) == {"xyz:XYZ100", "xyz:GOLD"}
    assert "xyz:XYZ100" not in await call(info.all_mids)  # the main dex's mids list its own coins


async def test_the_sdk_places_and_cancels_on_a_builder_dex_with_its_own_clearinghouse(
    dex_sdk: DexSdk,
) -> None:
    me, info = dex_sdk.trader.address, dex_sdk.info
    refused = statuses(await call(dex_sdk.exchange.order, "xyz:XYZ100", True, 0.01, 24_000, GTC))
    assert "error" in refused[0]  # no collateral on the dex yet: the main dex's USDC is not its margin
    assert await call(dex_sdk.exchange.send_asset, me, "", "xyz", "USDC", 2_000.0) == OK
    assert (await call(info.user_state, me))["marginSummary"]["accountValue"] == "8000.0"
    assert (await call(info.user_state, me, "xyz"))["marginSummary"]["accountValue"] == "2000.0"

    [resting] = statuses(await call(dex_sdk.exchange.order, "xyz:XYZ100", True, 0.01, 24_000, GTC))
    oid = resting["resting"]["oid"]
    [order] = await call(info.open_orders, me, "xyz")
    assert (order["coin"], order["oid"], order["sz"]) == ("xyz:XYZ100", oid, "0.01")
    assert await call(info.open_orders, me) == []  # the main dex lists only its own orders
    assert statuses(await call(dex_sdk.exchange.cancel, "xyz:XYZ100", oid)) == ["success"]
    assert await call(info.open_orders, me, "xyz") == []

    maker = dex_sdk.maker.address
    assert await call(dex_sdk.maker_exchange.send_asset, maker, "", "xyz", "USDC", 50_000.0) == OK
    [ask] = statuses(await call(dex_sdk.maker_exchange.order, "xyz:XYZ100", False, 0.02, 25_000, GTC))
    assert "resting" in ask
    [fill] = statuses(await call(dex_sdk.exchange.market_open, "xyz:XYZ100", True, 0.02))
    assert fill["filled"]["totalSz"] == "0.02"
    state = await call(info.user_state, me, "xyz")
    [position] = state["assetPositions"]
    assert position["position"]["coin"] == "xyz:XYZ100" and position["position"]["szi"] == "0.02"
    assert position["position"]["leverage"]["type"] == "isolated"  # noCross: isolated only
    assert (await call(info.user_state, me))["assetPositions"] == []
    fills = await call(info.user_fills, me)
    assert fills[0]["coin"] == "xyz:XYZ100" and fills[0]["fee"] == "0.45"  # 2x the base 0.045% fee


async def test_the_sdk_cannot_set_cross_margin_on_an_isolated_only_perp(dex_sdk: DexSdk) -> None:
    answer = await call(dex_sdk.exchange.update_leverage, 5, "xyz:GOLD", True)
    assert answer["status"] == "err"
    assert await call(dex_sdk.exchange.update_leverage, 5, "xyz:GOLD", False) == OK


async def test_the_oracle_updater_sets_the_dex_oracle_with_the_sdk(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> None:
    updater, stranger = new_trader(), new_trader()
    xyz = replace(DEFAULT_PERP_DEXES[0], oracle_updater=updater.address)
    async with start_local_exchange(liquidity=False, perp_dexes=(xyz,)) as ex:
        for who in (updater, stranger):
            await ex.fund(who.address, 10)  # an address must exist to sign
        dexes = ["", "xyz"]
        exchange = await call(
            Exchange, eth_account.Account.from_key(updater.key), ex.base_url, perp_dexs=dexes
        )
        ok = await call(
            exchange.perp_deploy_set_oracle, "xyz", {"xyz:XYZ100": "25200", "xyz:GOLD": "3990"}, [], {}
        )
        assert ok == OK
        info = await call(Info, ex.base_url, True, perp_dexs=dexes)  # never blocking the venue's loop
        ctxs = await call(info.meta_and_asset_ctxs)  # the main dex: unchanged
        assert all(c["oraclePx"] != "25200.0" for c in ctxs[1])
        mids = await call(info.all_mids, "xyz")
        assert mids == {"xyz:XYZ100": "25200.0", "xyz:GOLD": "3990.0"}  # empty books: mid = oracle
        too_soon = await call(exchange.perp_deploy_set_oracle, "xyz", {"xyz:XYZ100": "25210"}, [], {})
        assert too_soon["status"] == "err" and "2.5 seconds" in too_soon["response"]
        other = await call(Exchange, eth_account.Account.from_key(stranger.key), ex.base_url, perp_dexs=dexes)
        refused = await call(other.perp_deploy_set_oracle, "xyz", {"xyz:XYZ100": "25210"}, [], {})
        assert refused["status"] == "err" and "oracle updater" in refused["response"]


async def test_ccxt_loads_the_builder_dex_markets_and_trades_one(dex_sdk: DexSdk) -> None:
    ccxt = pytest.importorskip("ccxt.async_support")
    me = dex_sdk.trader.address
    await dex_sdk.ex.fund(me, 0, dexes={"xyz": 3_000})
    exchange = ccxt.hyperliquid(
        {"walletAddress": me, "privateKey": dex_sdk.trader.key, "options": {"sandboxMode": True}}
    )
    exchange.urls["api"] = {"public": dex_sdk.ex.base_url, "private": dex_sdk.ex.base_url}
    exchange.urls["test"] = exchange.urls["api"]
    try:
        markets = await exchange.load_markets()  # perpDexs, then metaAndAssetCtxs of each dex
        xyz100 = markets["XYZ-XYZ100/USDC:USDC"]
        assert xyz100["swap"] and xyz100["baseId"] == "110000" and xyz100["baseName"] == "xyz:XYZ100"
        assert markets["XYZ-GOLD/USDC:USDC"]["baseId"] == "110001"
        placed = await exchange.create_order("XYZ-XYZ100/USDC:USDC", "limit", "buy", 0.01, 24_000)
        assert placed["id"]
        open_orders = await call(dex_sdk.info.open_orders, me, "xyz")
        assert [o["oid"] for o in open_orders] == [int(placed["id"])]
        await exchange.cancel_order(placed["id"], "XYZ-XYZ100/USDC:USDC")
        assert await call(dex_sdk.info.open_orders, me, "xyz") == []
    finally:
        await exchange.close()
