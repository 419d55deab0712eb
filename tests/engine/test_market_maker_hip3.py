"""The market maker runs on a HIP-3 builder-dex pair unchanged: on the local exchange's ``xyz:XYZ100-USD`` it
quotes both sides around the dex book's mid (the sig-fig price rule of the dex perp), the venue lists the
quotes on that dex only, a fill moves its inventory, and stopping cancels them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import (
    TRADER_FUNDS,
    Trader,
    limit_order_action,
    new_trader,
    signed_body,
    skip_nonces_through,
)
from tests.engine.venue import Pulse, post, wait_until
from wingbeat.engine.market_maker import MarketMakerConfig, MarketMakerStrategy
from wingbeat.hyperliquid.account_actions import AccountActions
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim import LocalExchange

D = Decimal
PAIR = "xyz:XYZ100-USD"
ASSET = 110_000


async def _onto_xyz(ex: LocalExchange, who: Trader, amount: int) -> None:
    async with AccountActions(Signer(who.key), ex.base_url) as actions:
        sent = await actions.send_asset(who.address, "USDC", D(amount), source_dex="", destination_dex="xyz")
    skip_nonces_through(sent.nonce)  # the same key signs test orders next, possibly in the same millisecond


async def _order(
    ex: LocalExchange, who: Trader, *, is_buy: bool, price: str, size: str, tif: str = "Gtc"
) -> Any:
    action = limit_order_action(ASSET, is_buy=is_buy, price=price, size=size, tif=tif)
    reply = await post(ex, "/exchange", signed_body(who.key, action))
    assert reply["status"] == "ok", reply
    return reply["response"]["data"]["statuses"][0]


async def _open_on_xyz(ex: LocalExchange, address: str) -> list[dict[str, Any]]:
    orders = await post(ex, "/info", {"type": "openOrders", "user": address, "dex": "xyz"})
    assert isinstance(orders, list)
    return orders


async def test_the_market_maker_quotes_a_builder_dex_pair(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    ex = local_exchange
    maker = new_trader()
    await ex.fund(maker.address, TRADER_FUNDS)
    await _onto_xyz(ex, maker, 500_000)
    await _onto_xyz(ex, trader, 100_000)
    await _order(ex, maker, is_buy=True, price="24990", size="1")
    await _order(ex, maker, is_buy=False, price="25010", size="1")  # mid 25000
    conn = HyperliquidPerpetualConnector(
        Signer(trader.key), [PAIR], ex.base_url, config=HyperliquidConfig(dead_man_switch=None)
    )
    await conn.start()
    try:
        config = MarketMakerConfig(trading_pair=PAIR, order_amount=D("0.001"), bid_spread=D("0.0002"),
                                   ask_spread=D("0.0002"), order_refresh_time=60.0, max_inventory=D("0.002"))  # fmt: skip
        mm = MarketMakerStrategy(conn, config)
        assert [(q.is_buy, q.price, q.amount) for q in mm.proposal()] == [
            (True, D(24995), D("0.001")),
            (False, D(25005), D("0.001")),
        ]
        pulse = Pulse()
        conn.add_listener(pulse)
        await mm.start()
        await mm.tick(0)
        await wait_until(lambda: all(o.exchange_order_id for o in mm.active_orders()), pulse)
        on_xyz = await _open_on_xyz(ex, trader.address)
        assert sorted((o["coin"], D(o["limitPx"])) for o in on_xyz) == [
            ("xyz:XYZ100", D(24995)),
            ("xyz:XYZ100", D(25005)),
        ]
        assert await post(ex, "/info", {"type": "openOrders", "user": trader.address}) == []  # main dex

        await _order(ex, maker, is_buy=False, price="24900", size="0.001", tif="Ioc")  # sells into our bid
        await wait_until(lambda: mm.position(PAIR) == D("0.001"), pulse)
        sizes = {q.is_buy: q.amount for q in mm.proposal()}
        assert sizes == {True: D("0.0005"), False: D("0.0015")}  # skewed by the inventory, as on BTC
        await mm.stop()
        assert await _open_on_xyz(ex, trader.address) == []
    finally:
        await conn.stop()
