"""HIP-3 pairs in the perp connector, over sockets against the local exchange's builder dex ``xyz``: one
connector trades ``xyz:XYZ100-USD`` beside ``BTC-USD`` (rules and asset id from ``meta(dex)``, a resting order
the official SDK built with ``perp_dexs=["", "xyz"]`` sees by its cloid, cancel, fills on both dexes), the
account's positions on both dexes from fills and from the venue's per-dex snapshots, the dex's margin as its
own balance, isolated-only leverage, and ``perp_dexs`` to follow a dex that is not traded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from decimal import Decimal
from typing import Any

import aiohttp
from hyperliquid.info import Info

from tests.conftest import (
    TRADER_FUNDS,
    Trader,
    limit_order_action,
    new_trader,
    signed_body,
    skip_nonces_through,
)
from tests.engine.venue import Pulse, wait_until
from tests.sim.test_sdk_acceptance import call
from wingbeat.core.enums import OrderType
from wingbeat.core.errors import InvalidOrderError
from wingbeat.core.events import EventListener, FundingPaymentEvent, OrderFailedEvent
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.account_actions import AccountActions
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim import LocalExchange
from wingbeat.sim.venue.perp_dexes import DexPerpConfig, PerpDexConfig

D = Decimal
BTC, XYZ = "BTC-USD", "xyz:XYZ100-USD"
XYZ_ASSET = 110_000  # the first builder dex's first perp, as the SDK numbers it
ON_DEX = D(100_000)  # USDC the trader moves onto xyz


async def _to_dex(ex: LocalExchange, who: Trader, amount: Decimal) -> None:
    async with AccountActions(Signer(who.key), ex.base_url) as actions:
        sent = await actions.send_asset(who.address, "USDC", amount, source_dex="", destination_dex="xyz")
    skip_nonces_through(sent.nonce)  # the same key signs test orders next, possibly in the same millisecond


async def _rest_order(
    ex: LocalExchange, who: Trader, asset: int, *, is_buy: bool, price: str, size: str
) -> None:
    action = limit_order_action(asset, is_buy=is_buy, price=price, size=size)
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{ex.base_url}/exchange", json=signed_body(who.key, action)) as r,
    ):
        reply = await r.json(content_type=None)
    assert "resting" in reply["response"]["data"]["statuses"][0], reply


async def _maker(ex: LocalExchange) -> Trader:
    """A second account resting asks on BTC (60010) and xyz:XYZ100 (25010)."""
    maker = new_trader()
    await ex.fund(maker.address, TRADER_FUNDS)
    await _to_dex(ex, maker, D(500_000))
    await _rest_order(ex, maker, 0, is_buy=False, price="60010", size="1")
    await _rest_order(ex, maker, XYZ_ASSET, is_buy=False, price="25010", size="1")
    return maker


def _connector(
    ex: LocalExchange, who: Trader, pairs: list[str], **config: Any
) -> HyperliquidPerpetualConnector:
    return HyperliquidPerpetualConnector(
        Signer(who.key), pairs, ex.base_url, config=HyperliquidConfig(dead_man_switch=None, **config)
    )


async def test_one_connector_trades_a_builder_dex_pair_beside_btc(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    ex = local_exchange
    await _maker(ex)
    await _to_dex(ex, trader, ON_DEX)
    conn = _connector(ex, trader, [BTC, XYZ])
    await conn.start()
    try:
        rule = conn.trading_rules[XYZ]
        assert (rule.size_increment, rule.max_price_decimals, rule.max_leverage) == (D("0.0001"), 2, 20)
        assert conn.get_balance("USDC") == TRADER_FUNDS - ON_DEX  # each dex's margin is its own
        assert conn.get_balance("xyz:USDC") == ON_DEX
        try:
            await conn.set_leverage(XYZ, 5, cross=True)
        except InvalidOrderError as exc:
            assert "allows isolated margin only" in str(exc)
        else:
            raise AssertionError("cross margin on an isolated-only perp was sent")
        await conn.set_leverage(XYZ, 5)  # isolated-only: set isolated without being told
        pulse = Pulse()
        conn.add_listener(pulse)

        cid = conn.buy(XYZ, D("0.01"), OrderType.LIMIT, D("24000.009"))  # quantized to 24000 (2 decimals)
        order = conn.get_order(cid)
        assert order is not None
        async with asyncio.timeout(10):
            assert await order.wait_until_open() is OrderState.OPEN
        info = await call(Info, ex.base_url, True, perp_dexs=["", "xyz"])
        [seen] = await call(info.frontend_open_orders, trader.address, "xyz")
        assert (seen["coin"], seen["cloid"], seen["limitPx"], seen["sz"]) == (
            "xyz:XYZ100",
            cid,
            "24000.0",
            "0.01",
        )
        assert await call(info.frontend_open_orders, trader.address) == []  # not on the main dex
        conn.cancel(XYZ, cid)
        async with asyncio.timeout(10):
            assert await order.wait_until_done() is OrderState.CANCELED
        assert await call(info.frontend_open_orders, trader.address, "xyz") == []

        on_xyz = conn.buy(XYZ, D("0.02"), OrderType.LIMIT, D("25010"))
        on_btc = conn.buy(BTC, D("0.001"), OrderType.LIMIT, D("60010"))
        await wait_until(lambda: {p: pos.amount for p, pos in conn.account_positions.items()}
                         == {XYZ: D("0.02"), BTC: D("0.001")}, pulse)  # fmt: skip
        for cid in (on_xyz, on_btc):
            filled = conn.get_order(cid)
            assert filled is not None and filled.current_state is OrderState.FILLED
        assert conn.account_positions[XYZ].entry_price == 25010

        async with HyperliquidRestClient(ex.base_url) as rest:
            [position] = (await rest.clearinghouse_state(trader.address, "xyz")).positions
        assert (position.coin, position.szi, position.leverage.kind, position.leverage.value) == (
            "xyz:XYZ100",
            D("0.02"),
            "isolated",
            5,
        )
    finally:
        await conn.stop()

    # a fresh connector knows both positions from the venue's per-dex snapshots alone
    again = _connector(ex, trader, [BTC, XYZ])
    await again.start()
    try:
        assert {p: pos.amount for p, pos in again.account_positions.items()} == {
            XYZ: D("0.02"),
            BTC: D("0.001"),
        }
        assert again.account_positions[XYZ].leverage == 5
        assert again.get_balance("xyz:USDC") < ON_DEX  # the fill's fee left the dex's margin
    finally:
        await again.stop()

    # trading BTC only: the xyz position shows when the config follows that dex, not otherwise
    followed = _connector(ex, trader, [BTC], perp_dexs=("xyz",))
    plain = _connector(ex, trader, [BTC])
    for conn, expected in ((followed, {XYZ, BTC}), (plain, {BTC})):
        await conn.start()
        try:
            assert set(conn.account_positions) == expected
            assert conn.get_mark_price(XYZ) is not None or expected == {BTC}
        finally:
            await conn.stop()


async def test_an_unlisted_pair_fails_start_naming_it_before_any_book_is_awaited(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    conn = _connector(local_exchange, trader, [BTC, "xyz:NOPE-USD"], ready_timeout=60.0)
    try:
        await conn.start()  # before: a 60 s wait for the book of a coin nobody lists, then RequestTimeout
    except InvalidOrderError as exc:
        assert "the exchange lists no perpetual ['xyz:NOPE']" in str(exc)
    else:
        raise AssertionError("a connector trading an unlisted pair started")
    finally:
        await conn.stop()


async def test_an_unknown_builder_dex_is_named(local_exchange: LocalExchange, trader: Trader) -> None:
    conn = _connector(local_exchange, trader, [BTC], perp_dexs=("nodex",))
    try:
        await conn.start()
    except InvalidOrderError as exc:
        assert "the exchange lists no perp dex 'nodex' (builder dexes: 'xyz')" in str(exc)
    else:
        raise AssertionError("a connector following an unlisted dex started")
    finally:
        await conn.stop()


async def test_a_batched_status_check_finds_orders_resting_on_the_builder_dex(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    await _to_dex(local_exchange, trader, ON_DEX)
    conn = _connector(local_exchange, trader, [BTC, XYZ])
    await conn.start()
    try:
        count = 36  # above what orderStatus one by one answers: frontendOpenOrders of every dex + the history
        cids = [conn.buy(XYZ, D("0.001"), OrderType.LIMIT, D(24_000 - 10 * i)) for i in range(count)]
        orders = [conn.get_order(cid) for cid in cids]
        async with asyncio.timeout(10):
            for order in orders:
                assert order is not None and await order.wait_until_open() is OrderState.OPEN
        answers = await conn._request_order_statuses([o for o in orders if o is not None])
        assert conn._status_checker.batched_checks == 1
        assert [getattr(a, "new_state", a) for a in answers] == [OrderState.OPEN] * count  # none "unknown"
        await conn.cancel_all(timeout=10)
    finally:
        await conn.stop()


class _Recorder(EventListener):
    def __init__(self) -> None:
        self.fundings: asyncio.Queue[FundingPaymentEvent] = asyncio.Queue()
        self.failed: asyncio.Queue[OrderFailedEvent] = asyncio.Queue()

    def on_funding_payment(self, event: FundingPaymentEvent) -> None:
        self.fundings.put_nowait(event)

    def on_order_failed(self, event: OrderFailedEvent) -> None:
        self.failed.put_nowait(event)


CAPPED = PerpDexConfig(
    name="xyz",
    full_name="XYZ",
    perps=(
        DexPerpConfig(
            name="XYZ100",
            sz_decimals=4,
            max_leverage=20,
            start_price=D(25_000),
            margin_mode="noCross",
            oi_cap=D(400),
        ),
    ),
)


async def test_marks_funding_and_the_open_interest_cap_on_a_builder_dex(
    start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]],
) -> None:
    async with start_local_exchange(liquidity=False, funding_interval_ms=300, perp_dexes=(CAPPED,)) as ex:
        trader = new_trader()
        await ex.fund(trader.address, TRADER_FUNDS)
        await _maker(ex)
        await _to_dex(ex, trader, ON_DEX)
        conn = _connector(ex, trader, [XYZ])
        recorder = _Recorder()
        conn.add_listener(recorder)
        await conn.start()
        try:
            info = conn.get_funding_info(XYZ)  # the dex coin's activeAssetCtx
            assert info is not None and info.trading_pair == XYZ and info.mark_price > 0
            assert conn.get_mark_price(XYZ) == info.mark_price
            cid = conn.buy(XYZ, D("0.02"), OrderType.LIMIT, D(25_010))  # 500 USDC: the 400 cap is reached
            order = conn.get_order(cid)
            assert order is not None
            async with asyncio.timeout(10):
                assert await order.wait_until_done() is OrderState.FILLED
            payment = await asyncio.wait_for(recorder.fundings.get(), 10)  # paid from the dex account
            assert (payment.trading_pair, payment.position_size) == (XYZ, D("0.02"))

            conn.buy(XYZ, D("0.01"), OrderType.LIMIT, D(25_010))  # would grow the position past the cap
            failed = await asyncio.wait_for(recorder.failed.get(), 10)
            # the order reply's text or, when orderUpdates tells first, the status with what it means
            assert failed.trading_pair == XYZ and "open interest" in failed.reason and "cap" in failed.reason
            closing = conn.get_order(conn.sell(XYZ, D("0.02"), OrderType.LIMIT, D(24_000), reduce_only=True))
            assert closing is not None
            async with asyncio.timeout(
                10
            ):  # reducing stays allowed at the cap (it rests: no bid to sell into)
                assert await closing.wait_until_open() is OrderState.OPEN
            await conn.cancel_all(timeout=5)
        finally:
            await conn.stop()


def test_perp_dexs_must_be_dex_names_and_a_pasted_key_is_not_echoed() -> None:
    key = new_trader().key
    for bad, shown in (
        (["xyz"], "['xyz']"),
        (("",), "('',)"),
        (("xyz:XYZ100",), "xyz:XYZ100"),
        ((key,), "not shown"),
    ):
        try:
            HyperliquidConfig(perp_dexs=bad)  # type: ignore[arg-type]
        except ValueError as exc:
            assert "perp_dexs must be a tuple of builder dex names" in str(exc) and shown in str(exc)
            assert key[2:] not in str(exc)
        else:
            raise AssertionError(f"perp_dexs={bad!r} accepted")
    assert HyperliquidConfig(perp_dexs=("xyz",)).perp_dexs == ("xyz",)
