"""Issue 13's order semantics driven over real sockets by the official SDK (unmodified) and raw
signed actions: OCO brackets, reduce-only and position TP/SL orders following the position, the
triggered status, builder fees, the admin oracle price with the makers on, wire number grammar."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import aiohttp
import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

from tests.conftest import Trader, new_trader, signed_body
from tests.sim.test_sdk_acceptance import call, statuses
from wingbeat.sim import LocalExchange

WAIT = 10.0
ETH = 1  # asset index


@dataclass
class Venue:
    ex: LocalExchange
    info: Info
    me: Trader
    mine: Exchange
    other: Exchange  # a counterparty that rests the liquidity

    def px(self, value: float) -> float:
        """An ETH price as the SDK rounds one (5 significant figures, 6 - szDecimals decimals)."""
        return round(float(f"{value:.5g}"), 6 - self.info.asset_to_sz_decimals[ETH])

    async def oracle(self) -> float:
        return float((await call(self.info.all_mids))["ETH"])

    async def admin(self, command: dict[str, Any]) -> None:
        token = getattr(self.ex, "admin_token", None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.ex.base_url + "/admin", json=command, headers=headers) as resp,
        ):
            assert resp.status == 200, await resp.text()

    async def status_of(self, oid: int) -> str:
        answer = await call(self.info.query_order_by_oid, self.me.address, oid)
        return str(answer["order"]["status"])

    async def history(self) -> list[tuple[int, str]]:
        return [
            (h["order"]["oid"], h["status"]) for h in await call(self.info.historical_orders, self.me.address)
        ]

    async def go_long(self, px: float, sz: float = 0.1) -> None:
        """Open a long of ``sz`` ETH at ``px`` against the counterparty."""
        ask = await call(self.other.order, "ETH", False, sz, px, {"limit": {"tif": "Gtc"}})
        assert "resting" in statuses(ask)[0]
        bought = await call(self.mine.order, "ETH", True, sz, px, {"limit": {"tif": "Ioc"}})
        assert float(statuses(bought)[0]["filled"]["totalSz"]) == sz


async def _venue(ex: LocalExchange) -> Venue:
    me, other = new_trader(), new_trader()
    await ex.fund(me.address, 1_000_000)
    await ex.fund(other.address, 1_000_000)
    info = await call(Info, ex.base_url, True)
    mine = await call(Exchange, eth_account.Account.from_key(me.key), ex.base_url)
    theirs = await call(Exchange, eth_account.Account.from_key(other.key), ex.base_url)
    return Venue(ex, info, me, mine, theirs)


@pytest.fixture
async def venue(local_exchange: LocalExchange) -> Venue:
    """Liquidity off: the book holds only what the test rests."""
    return await _venue(local_exchange)


async def test_stop_loss_fill_cancels_the_take_profit_of_its_bracket(venue: Venue) -> None:
    p = await venue.oracle()
    ask = await call(venue.other.order, "ETH", False, 0.1, venue.px(p), {"limit": {"tif": "Gtc"}})
    assert "resting" in statuses(ask)[0]
    bracket: list[Any] = [
        {"coin": "ETH", "is_buy": True, "sz": 0.1, "limit_px": venue.px(p), "order_type": {"limit": {"tif": "Ioc"}},
         "reduce_only": False},
        {"coin": "ETH", "is_buy": False, "sz": 0.1, "limit_px": venue.px(p * 1.09),
         "order_type": {"trigger": {"triggerPx": venue.px(p * 1.1), "isMarket": True, "tpsl": "tp"}},
         "reduce_only": True},
        {"coin": "ETH", "is_buy": False, "sz": 0.1, "limit_px": venue.px(p * 0.94),
         "order_type": {"trigger": {"triggerPx": venue.px(p * 0.95), "isMarket": True, "tpsl": "sl"}},
         "reduce_only": True},
    ]  # fmt: skip
    placed = statuses(await call(venue.mine.bulk_orders, bracket, None, "normalTpsl"))
    assert "filled" in placed[0] and placed[1:] == ["waitingForTrigger", "waitingForTrigger"]
    front = await call(venue.info.frontend_open_orders, venue.me.address)
    tp, sl = (
        next(o["oid"] for o in front if o["orderType"] == kind)
        for kind in ("Take Profit Market", "Stop Market")
    )
    bid = await call(venue.other.order, "ETH", True, 0.1, venue.px(p * 0.94), {"limit": {"tif": "Gtc"}})
    assert "resting" in statuses(bid)[0]
    await venue.admin({"type": "setOraclePrice", "coin": "ETH", "px": str(venue.px(p * 0.945))})
    assert await venue.status_of(sl) == "filled"
    assert await venue.status_of(tp) == "siblingFilledCanceled"
    history = await venue.history()
    assert (
        (tp, "siblingFilledCanceled") in history
        and (sl, "triggered") in history
        and (sl, "filled") in history
    )
    assert await call(venue.info.open_orders, venue.me.address) == []
    assert (await call(venue.info.user_state, venue.me.address))["assetPositions"] == []


async def test_resting_reduce_only_order_is_canceled_when_the_position_closes(venue: Venue) -> None:
    p = await venue.oracle()
    await venue.go_long(venue.px(p))
    above = await call(
        venue.mine.order, "ETH", False, 0.1, venue.px(p * 1.2), {"limit": {"tif": "Gtc"}}, True
    )
    oid = statuses(above)[0]["resting"]["oid"]
    bid = await call(venue.other.order, "ETH", True, 0.1, venue.px(p * 0.99), {"limit": {"tif": "Gtc"}})
    assert "resting" in statuses(bid)[0]
    sold = await call(venue.mine.order, "ETH", False, 0.1, venue.px(p * 0.99), {"limit": {"tif": "Ioc"}})
    assert "filled" in statuses(sold)[0]
    assert await venue.status_of(oid) == "reduceOnlyCanceled"
    assert await call(venue.info.open_orders, venue.me.address) == []


async def test_position_tpsl_of_size_zero_follows_the_position(venue: Venue) -> None:
    p = await venue.oracle()
    await venue.go_long(venue.px(p), 0.2)
    whole: list[Any] = [
        {"coin": "ETH", "is_buy": False, "sz": 0, "limit_px": venue.px(p * 0.8),
         "order_type": {"trigger": {"triggerPx": venue.px(p * 0.9), "isMarket": True, "tpsl": "sl"}},
         "reduce_only": True},
    ]  # fmt: skip
    assert statuses(await call(venue.mine.bulk_orders, whole, None, "positionTpsl")) == ["waitingForTrigger"]
    (order,) = await call(venue.info.frontend_open_orders, venue.me.address)
    assert order["isPositionTpsl"] is True and order["sz"] == "0.0"
    await call(venue.other.order, "ETH", True, 0.2, venue.px(p * 0.99), {"limit": {"tif": "Gtc"}})
    closed = await call(venue.mine.market_close, "ETH", None, venue.px(p))
    assert float(statuses(closed)[0]["filled"]["totalSz"]) == 0.2
    assert await venue.status_of(order["oid"]) == "reduceOnlyCanceled"


async def test_fired_take_profit_limit_reports_triggered_while_it_rests(venue: Venue) -> None:
    p = await venue.oracle()
    await venue.go_long(venue.px(p))
    tp = {"trigger": {"triggerPx": venue.px(p * 1.05), "isMarket": False, "tpsl": "tp"}}
    placed = await call(venue.mine.order, "ETH", False, 0.1, venue.px(p * 1.06), tp, True)
    oid = statuses(placed)[0]["resting"]["oid"]
    assert await venue.status_of(oid) == "open"
    await venue.admin({"type": "setOraclePrice", "coin": "ETH", "px": str(venue.px(p * 1.055))})
    assert await venue.status_of(oid) == "triggered"
    assert (await venue.history())[0] == (oid, "triggered")
    book = await call(venue.info.l2_snapshot, "ETH")
    assert float(book["levels"][1][0]["px"]) == venue.px(p * 1.06)  # it rests as a limit order now
    lift = await call(venue.other.order, "ETH", True, 0.1, venue.px(p * 1.06), {"limit": {"tif": "Ioc"}})
    assert "filled" in statuses(lift)[0]
    assert await venue.status_of(oid) == "filled"


async def test_builder_fee_needs_an_approval_of_at_least_that_fee(venue: Venue) -> None:
    p = await venue.oracle()
    builder = new_trader().address
    await venue.ex.fund(builder, 1000)
    await call(venue.other.order, "ETH", False, 0.2, venue.px(p), {"limit": {"tif": "Gtc"}})
    buy = {"limit": {"tif": "Ioc"}}
    refused = await call(
        venue.mine.order, "ETH", True, 0.1, venue.px(p), buy, builder={"b": builder, "f": 10}
    )
    assert refused == {"status": "err", "response": "Builder fee has not been approved."}
    approved = await call(venue.mine.approve_builder_fee, builder, "0.001%")  # 1 tenth of a bp
    assert approved["status"] == "ok", approved
    too_high = await call(
        venue.mine.order, "ETH", True, 0.1, venue.px(p), buy, builder={"b": builder, "f": 10}
    )
    assert too_high == refused
    within = await call(venue.mine.order, "ETH", True, 0.1, venue.px(p), buy, builder={"b": builder, "f": 1})
    assert "filled" in statuses(within)[0]


@pytest.mark.parametrize("text", [" 1", "1_000", "１０", "1e3", "NaN", "-1", "1.", ".5"])
async def test_wire_numbers_outside_the_grammar_are_malformed(
    local_exchange: LocalExchange, text: str
) -> None:
    me = new_trader()
    await local_exchange.fund(me.address, 10_000)
    order = {"a": ETH, "b": True, "p": "3000", "s": text, "r": False, "t": {"limit": {"tif": "Gtc"}}}
    body = signed_body(me.key, {"type": "order", "orders": [order], "grouping": "na"})
    async with (
        aiohttp.ClientSession() as http,
        http.post(local_exchange.base_url + "/exchange", json=body) as resp,
    ):
        assert resp.status == 422, await resp.text()
        assert (await resp.text()).startswith("Failed to deserialize the JSON body")


@pytest.mark.parametrize(
    ("price", "size", "error"),
    [
        ("0", "1", "Order has invalid price. asset=1"),
        ("3000", "0", "Order has zero size. asset=1"),
        ("3000", "1" + "0" * 30, "Order has invalid size. asset=1"),
    ],
)
async def test_zero_and_huge_numbers_are_per_order_errors(
    local_exchange: LocalExchange, price: str, size: str, error: str
) -> None:
    me = new_trader()
    await local_exchange.fund(me.address, 10_000)
    order = {"a": ETH, "b": True, "p": price, "s": size, "r": False, "t": {"limit": {"tif": "Gtc"}}}
    body = signed_body(me.key, {"type": "order", "orders": [order], "grouping": "na"})
    async with (
        aiohttp.ClientSession() as http,
        http.post(local_exchange.base_url + "/exchange", json=body) as resp,
    ):
        assert resp.status == 200
        answer = await resp.json()
    assert answer["response"]["data"]["statuses"] == [{"error": error}]


@pytest.fixture
async def live_venue(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> AsyncIterator[Venue]:
    """Liquidity on (the built-in makers quote and trade)."""
    async with start_local_exchange(liquidity=True) as ex:
        yield await _venue(ex)


async def test_admin_oracle_price_sticks_while_the_makers_run(live_venue: Venue) -> None:
    book = await call(live_venue.info.l2_snapshot, "ETH")
    assert len(book["levels"][0]) == 20 and len(book["levels"][1]) == 20
    target = live_venue.px(await live_venue.oracle() * 0.8)
    await live_venue.admin({"type": "setOraclePrice", "coin": "ETH", "px": str(target)})

    async def near_target() -> None:
        while True:
            ctx = (await call(live_venue.info.meta_and_asset_ctxs))[1][ETH]
            if (
                abs(float(ctx["markPx"]) - target) <= target * 0.002
                and abs(float(ctx["oraclePx"]) - target) <= target * 0.002
            ):
                return
            await asyncio.sleep(0.05)  # polling the venue's answer, not a synchronisation sleep

    await asyncio.wait_for(near_target(), WAIT)
    mid = float((await call(live_venue.info.all_mids))["ETH"])
    assert abs(mid - target) <= target * 0.002  # the makers quote around it
