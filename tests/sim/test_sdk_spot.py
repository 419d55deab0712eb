"""Spot over the wire: the official hyperliquid-python-sdk (unmodified) and ccxt trade the local
exchange's spot pairs, and the websocket carries spot books, trades, contexts and balances."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.types import Cloid

from tests.conftest import Trader, new_trader
from tests.sim.test_sdk_acceptance import call, statuses
from tests.sim.test_ws_hub import WsClient
from wingbeat.sim import LocalExchange

PURR_WIRE = "PURR:0xc1fb593aeffbeb02f85e0308e9956a90"


@dataclass
class SpotSdk:
    ex: LocalExchange
    trader: Trader
    maker: Trader
    info: Info
    exchange: Exchange
    maker_exchange: Exchange

    async def balances(self, user: str) -> dict[str, dict[str, str]]:
        state = await call(self.info.spot_user_state, user)
        return {b["coin"]: b for b in state["balances"]}


@pytest.fixture
async def spot(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> AsyncIterator[SpotSdk]:
    async with start_local_exchange(liquidity=False) as ex:
        trader, maker = new_trader(), new_trader()
        await ex.fund(trader.address, 1000, spot={"USDC": 1000, "PURR": 5000})
        await ex.fund(maker.address, 0, spot={"USDC": 10_000, "PURR": 100_000, "HYPE": 100})
        info = await call(Info, ex.base_url, True)
        exchange = await call(Exchange, eth_account.Account.from_key(trader.key), ex.base_url)
        maker_exchange = await call(Exchange, eth_account.Account.from_key(maker.key), ex.base_url)
        yield SpotSdk(ex, trader, maker, info, exchange, maker_exchange)


async def test_the_sdk_maps_spot_names_to_asset_ids_from_spot_meta(spot: SpotSdk) -> None:
    meta = await call(spot.info.spot_meta)
    assert [(p["name"], p["tokens"], p["index"]) for p in meta["universe"]] == [
        ("PURR/USDC", [1, 0], 0),
        ("@1", [2, 0], 1),
    ]
    assert [t["name"] for t in meta["tokens"]] == ["USDC", "PURR", "HYPE"]
    assert all(t["index"] == i for i, t in enumerate(meta["tokens"]))  # dense: position == index
    info = spot.info
    assert info.name_to_coin["PURR/USDC"] == "PURR/USDC" and info.name_to_coin["HYPE/USDC"] == "@1"
    assert info.name_to_asset("PURR/USDC") == 10_000 and info.name_to_asset("HYPE/USDC") == 10_001
    assert info.asset_to_sz_decimals[10_000] == 0 and info.asset_to_sz_decimals[10_001] == 2
    meta_again, ctxs = await call(info.spot_meta_and_asset_ctxs)
    assert meta_again == meta
    assert [c["coin"] for c in ctxs] == ["PURR/USDC", "@1"]
    assert set(ctxs[0]) == {
        "prevDayPx", "dayNtlVlm", "markPx", "midPx", "circulatingSupply", "coin", "totalSupply", "dayBaseVlm",
    }  # fmt: skip


async def test_the_sdk_places_and_cancels_spot_orders_and_balances_follow(spot: SpotSdk) -> None:
    me = spot.trader.address
    cloid = Cloid.from_int(7)
    gtc: Any = {"limit": {"tif": "Gtc"}}
    [resting] = statuses(await call(spot.exchange.order, "PURR/USDC", True, 200, 0.19, gtc, cloid=cloid))
    oid = resting["resting"]["oid"]
    assert resting["resting"]["cloid"] == cloid.to_raw()
    usdc = (await spot.balances(me))["USDC"]
    assert (usdc["total"], usdc["hold"]) == ("1000.0", "38.0")
    [listed] = await call(spot.info.open_orders, me)
    assert (listed["coin"], listed["side"], listed["limitPx"], listed["sz"]) == (
        "PURR/USDC",
        "B",
        "0.19",
        "200.0",
    )
    [front] = await call(spot.info.frontend_open_orders, me)
    assert front["oid"] == oid and front["orderType"] == "Limit"
    status = await call(spot.info.query_order_by_cloid, me, cloid)
    assert status["status"] == "order" and status["order"]["status"] == "open"
    assert statuses(await call(spot.exchange.cancel_by_cloid, "PURR/USDC", cloid)) == ["success"]
    assert (await spot.balances(me))["USDC"]["hold"] == "0.0"
    [again] = statuses(await call(spot.exchange.order, "HYPE/USDC", False, 1.5, 42.0, gtc))
    assert (await spot.balances(me)) == {
        "USDC": {"coin": "USDC", "token": 0, "hold": "0.0", "total": "1000.0", "entryNtl": "0.0"},
        "PURR": {"coin": "PURR", "token": 1, "hold": "0.0", "total": "5000.0", "entryNtl": "1000.0"},
    }  # no HYPE: the sell was refused
    assert again == {"error": "Insufficient spot balance asset=10001"}
    [sell] = statuses(await call(spot.exchange.order, "PURR/USDC", False, 1000, 0.25, gtc))
    assert (await spot.balances(me))["PURR"]["hold"] == "1000.0"
    assert statuses(await call(spot.exchange.cancel, "PURR/USDC", sell["resting"]["oid"])) == ["success"]
    history = await call(spot.info.historical_orders, me)
    assert {h["status"] for h in history} == {"canceled", "insufficientSpotBalanceRejected"}


async def test_a_spot_trade_settles_both_accounts_with_fills_in_hyperliquids_shape(spot: SpotSdk) -> None:
    me, maker = spot.trader.address, spot.maker.address
    gtc: Any = {"limit": {"tif": "Gtc"}}
    statuses(await call(spot.maker_exchange.order, "HYPE/USDC", False, 10, 40.0, gtc))
    [filled] = statuses(
        await call(spot.exchange.order, "HYPE/USDC", True, 2, 40.5, {"limit": {"tif": "Ioc"}})
    )
    assert filled["filled"]["totalSz"] == "2.0" and filled["filled"]["avgPx"] == "40.0"
    [fill] = await call(spot.info.user_fills, me)
    assert (fill["coin"], fill["side"], fill["dir"], fill["feeToken"], fill["crossed"]) == (
        "@1", "B", "Buy", "HYPE", True,
    )  # fmt: skip
    assert fill["fee"] == "0.0014" and fill["startPosition"] == "0.0" and fill["px"] == "40.0"
    mine = await spot.balances(me)
    assert mine["HYPE"]["total"] == "1.9986" and mine["USDC"]["total"] == "920.0"
    theirs = await spot.balances(maker)
    assert theirs["HYPE"]["total"] == "98.0" and theirs["HYPE"]["hold"] == "8.0"
    assert Decimal(theirs["USDC"]["total"]) == 10_000 + 80 - Decimal("0.032")  # maker fee 0.04% in USDC
    [maker_fill] = await call(spot.info.user_fills, maker)
    assert (maker_fill["dir"], maker_fill["feeToken"], maker_fill["crossed"]) == ("Sell", "USDC", False)
    book = await call(spot.info.l2_snapshot, "HYPE/USDC")
    assert book["coin"] == "@1" and book["levels"][1][0] == {"px": "40.0", "sz": "8.0", "n": 1}
    mids = await call(spot.info.all_mids)
    assert "PURR/USDC" in mids and "@1" in mids
    candles = await call(spot.info.candles_snapshot, "HYPE/USDC", "1m", 0, 2**62)
    assert candles[-1]["s"] == "@1" and candles[-1]["v"] == "2.0"


async def test_the_sdk_moves_tokens_between_perp_spot_and_accounts(spot: SpotSdk) -> None:
    me = spot.trader.address
    ok = {"status": "ok", "response": {"type": "default"}}
    assert await call(spot.exchange.usd_class_transfer, 100.0, False) == ok  # perp -> spot
    assert (await spot.balances(me))["USDC"]["total"] == "1100.0"
    assert await call(spot.exchange.usd_class_transfer, 50.0, True) == ok  # spot -> perp
    assert (await spot.balances(me))["USDC"]["total"] == "1050.0"
    friend = new_trader().address
    assert await call(spot.exchange.spot_transfer, 1234.0, friend, PURR_WIRE) == ok
    assert (await spot.balances(friend))["PURR"]["total"] == "1234.0"
    assert (await spot.balances(me))["PURR"]["total"] == "3766.0"
    assert await call(spot.exchange.send_asset, friend, "spot", "spot", PURR_WIRE, 66.0) == ok
    assert (await spot.balances(friend))["PURR"]["total"] == "1300.0"
    refused = await call(spot.exchange.send_asset, friend, "spot", "", PURR_WIRE, 1.0)
    assert refused["status"] == "err"  # only USDC, the collateral, goes to a perp dex
    ledger = await call(spot.info.user_non_funding_ledger_updates, friend, 0)
    assert [u["delta"]["type"] for u in ledger] == ["spotTransfer", "send"]
    assert ledger[0]["delta"]["token"] == "PURR" and ledger[0]["delta"]["amount"] == "1234.0"
    too_much = await call(spot.exchange.spot_transfer, 10_000.0, friend, PURR_WIRE)
    assert too_much == {"status": "err", "response": "Insufficient balance for token transfer"}


async def test_market_orders_on_spot_use_the_spot_price_rule(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> None:
    async with start_local_exchange(liquidity=True) as ex:
        trader = new_trader()
        await ex.fund(trader.address, 0, spot={"USDC": 5000})
        exchange = await call(Exchange, eth_account.Account.from_key(trader.key), ex.base_url)
        [filled] = statuses(await call(exchange.market_open, "PURR/USDC", True, 500))
        assert filled["filled"]["totalSz"] == "500.0"
        info = await call(Info, ex.base_url, True)
        purr = next(
            b for b in (await call(info.spot_user_state, trader.address))["balances"] if b["coin"] == "PURR"
        )
        assert Decimal(purr["total"]) == 500 - Decimal("0.35")  # the 0.07% taker fee, in PURR


async def test_the_websocket_carries_spot_books_trades_contexts_and_balances(spot: SpotSdk) -> None:
    me = spot.trader.address
    async with aiohttp.ClientSession() as session, session.ws_connect(spot.ex.ws_url) as conn:
        ws = WsClient(conn)
        for sub in (
            {"type": "l2Book", "coin": "@1"},
            {"type": "trades", "coin": "@1"},
            {"type": "activeAssetCtx", "coin": "@1"},
            {"type": "spotState", "user": me},
            {"type": "userFills", "user": me},
        ):
            await ws.subscribe(sub)
        await ws.expect("spotState")  # the snapshot
        gtc: Any = {"limit": {"tif": "Gtc"}}
        statuses(await call(spot.maker_exchange.order, "HYPE/USDC", False, 10, 40.0, gtc))
        book = await ws.expect("l2Book", lambda d: bool(d["levels"][1]))
        assert book["coin"] == "@1" and book["levels"][1][0]["px"] == "40.0"
        statuses(await call(spot.exchange.order, "HYPE/USDC", True, 1, 40.0, {"limit": {"tif": "Ioc"}}))
        [trade] = await ws.expect("trades")
        assert (trade["coin"], trade["side"], trade["px"], trade["sz"]) == ("@1", "B", "40.0", "1.0")
        assert trade["users"] == [me, spot.maker.address]
        fills = await ws.expect("userFills", lambda d: not d.get("isSnapshot"))
        assert fills["fills"][0]["feeToken"] == "HYPE"
        state = await ws.expect(
            "spotState", lambda d: any(b["coin"] == "HYPE" for b in d["spotState"]["balances"])
        )
        assert state["user"] == me
        hype = next(b for b in state["spotState"]["balances"] if b["coin"] == "HYPE")
        assert hype["total"] == "0.9993"
        ctx = await ws.expect("activeSpotAssetCtx")
        assert ctx["coin"] == "@1" and ctx["ctx"]["coin"] == "@1"


async def test_ccxt_loads_spot_markets_and_places_a_spot_order(spot: SpotSdk) -> None:
    ccxt = pytest.importorskip("ccxt.async_support")
    exchange = ccxt.hyperliquid(
        {
            "walletAddress": spot.trader.address,
            "privateKey": spot.trader.key,
            "options": {"sandboxMode": True},
        }
    )
    exchange.urls["api"] = {"public": spot.ex.base_url, "private": spot.ex.base_url}
    exchange.urls["test"] = exchange.urls["api"]
    try:
        markets = await exchange.load_markets()
        purr = markets["PURR/USDC"]
        assert purr["spot"] and purr["id"] == "PURR/USDC" and purr["baseId"] == "10000"
        hype = markets["HYPE/USDC"]
        assert hype["id"] == "@1" and hype["baseId"] == "10001"
        placed = await exchange.create_order("PURR/USDC", "limit", "buy", 100, 0.15)
        assert placed["id"]
        [listed] = await exchange.fetch_open_orders("PURR/USDC")
        assert listed["id"] == placed["id"]
        await exchange.cancel_order(placed["id"], "PURR/USDC")
        balance = await exchange.fetch_balance({"type": "spot"})
        assert balance["PURR"]["total"] == 5000
    finally:
        await exchange.close()
    await asyncio.sleep(0)


async def test_the_sdk_modifies_a_spot_order_and_the_hold_follows(spot: SpotSdk) -> None:
    me = spot.trader.address
    gtc: Any = {"limit": {"tif": "Gtc"}}
    async with aiohttp.ClientSession() as session, session.ws_connect(spot.ex.ws_url) as conn:
        ws = WsClient(conn)
        await ws.subscribe({"type": "orderUpdates", "user": me})
        [resting] = statuses(await call(spot.exchange.order, "PURR/USDC", True, 100, 0.18, gtc))
        oid = resting["resting"]["oid"]
        [update] = await ws.expect("orderUpdates")
        assert (update["order"]["coin"], update["status"]) == ("PURR/USDC", "open")
        answer = await call(spot.exchange.modify_order, oid, "PURR/USDC", True, 300, 0.17, gtc)
        [modified] = statuses(answer)
        assert "resting" in modified and modified["resting"]["oid"] != oid
        assert (await spot.balances(me))["USDC"]["hold"] == "51.0"  # 300 x 0.17, the old 18 released
        canceled = await ws.expect("orderUpdates", lambda d: any(u["status"] == "canceled" for u in d))
        assert canceled[0]["order"]["oid"] == oid
    status = await call(spot.info.query_order_by_oid, me, modified["resting"]["oid"])
    assert status["order"]["order"]["coin"] == "PURR/USDC" and status["order"]["status"] == "open"
    too_big = statuses(await call(spot.exchange.modify_order, modified["resting"]["oid"], "PURR/USDC", True,
                                  10_000, 0.17, gtc))  # fmt: skip
    assert too_big == [{"error": "Insufficient spot balance asset=10000"}]
    # as for a perp modify refused for margin, the original was canceled before the check
    assert await call(spot.info.open_orders, me) == []
    assert (await spot.balances(me))["USDC"]["hold"] == "0.0"
    too_small = statuses(await call(spot.exchange.modify_order, oid, "PURR/USDC", True, 10, 0.17, gtc))
    assert too_small == [{"error": "Cannot modify canceled or filled order."}]
