"""HyperliquidSpotConnector end to end against the local exchange on loopback: spot meta and rules, token
balances with holds, orders, cancels, market orders, fills with the fee in the received token, the 10 USDC
minimum, and an account trading spot and perps at once through both connectors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import eth_account
import pytest
from hyperliquid.exchange import Exchange

from tests.conformance.recorder import EventRecorder
from tests.conformance.suite import wait_book
from tests.conftest import new_trader
from tests.connector.harness import new_signer
from tests.sim.test_sdk_acceptance import call, statuses
from wingbeat.core.enums import OrderType, TradeType
from wingbeat.core.errors import InvalidOrderError
from wingbeat.core.events import (
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderFailedEvent,
    OrderFilledEvent,
)
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.spot_connector import HyperliquidSpotConnector
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

PURR, HYPE = "PURR-USDC", "HYPE-USDC"
PURR_ASSET, HYPE_ASSET = 10_000, 10_001
CONFIG = HyperliquidConfig(order_validity=1.0, dead_man_switch=None)


class SpotSession:
    def __init__(self, exchange: LocalExchange, signer: Signer, maker: str, conn: HyperliquidSpotConnector,
                 recorder: EventRecorder) -> None:
        self.exchange, self.signer, self.maker, self.conn, self.recorder = exchange, signer, maker, conn, recorder

    def maker_order(self, asset: int, *, is_buy: bool, price: str, size: str, tif: str = "Gtc") -> Any:
        request = OrderRequest(asset=asset, is_buy=is_buy, price=Decimal(price), size=Decimal(size),
                               reduce_only=False, tif=tif)  # type: ignore[arg-type]
        [status] = self.exchange.engine.place_orders(self.maker, [request])
        return status


async def _open(exchange: LocalExchange, signer: Signer, pairs: list[str]) -> tuple[HyperliquidSpotConnector,
                                                                                   EventRecorder]:
    conn = HyperliquidSpotConnector(signer, pairs, network=exchange.base_url, config=CONFIG,
                                    status_retry_delay=0.05)
    recorder = EventRecorder()
    conn.add_listener(recorder)
    await conn.start()
    await conn.wait_ready(timeout=10)
    return conn, recorder


@pytest.fixture
async def spot(local_exchange: LocalExchange) -> AsyncIterator[SpotSession]:
    signer, maker = new_signer(), new_signer().address
    await local_exchange.fund(signer.address, 0, spot={"USDC": 1000, "PURR": 5000})
    await local_exchange.fund(maker, 0, spot={"USDC": 100_000, "PURR": 1_000_000, "HYPE": 1000})
    conn, recorder = await _open(local_exchange, signer, [PURR, HYPE])
    try:
        yield SpotSession(local_exchange, signer, maker, conn, recorder)
    finally:
        await conn.stop()


async def test_pairs_map_to_spot_coins_assets_and_the_spot_price_rule(spot: SpotSession) -> None:
    conn = spot.conn
    markets = conn.spot_markets
    assert [(m.trading_pair, m.coin, m.asset) for m in markets] == [
        (PURR, "PURR/USDC", PURR_ASSET), (HYPE, "@1", HYPE_ASSET),
    ]
    assert markets.by_coin("@1") is markets.market(HYPE)
    purr, hype = conn.trading_rules[PURR], conn.trading_rules[HYPE]
    # szDecimals 0 / 2: sizes in whole PURR / 0.01 HYPE, prices of 8 - szDecimals decimals and 5 figures
    assert (purr.size_increment, purr.max_price_decimals) == (Decimal(1), 8)
    assert (hype.size_increment, hype.max_price_decimals) == (Decimal("0.01"), 6)
    assert purr.is_valid_price(Decimal("0.12345")) and not purr.is_valid_price(Decimal("0.123456"))
    assert hype.quantize_price(Decimal("40.1234567"), TradeType.BUY) == Decimal("40.123")
    assert purr.min_notional == Decimal(10)
    assert conn.get_balance("USDC") == Decimal(1000) and conn.get_balance("PURR") == Decimal(5000)
    assert conn.get_available_balance("PURR") == Decimal(5000)


async def test_a_resting_buy_holds_quote_and_its_cancel_releases_it(spot: SpotSession) -> None:
    conn, recorder = spot.conn, spot.recorder
    cid = conn.buy(PURR, Decimal(100), OrderType.LIMIT, Decimal("0.19"))
    [created] = await recorder.wait_event(OrderCreatedEvent, cid)
    assert created.trading_pair == PURR
    [order] = spot.exchange.engine.accounts[spot.signer.address].open_orders.values()
    assert order.cloid == cid
    await conn.refresh_balances()
    assert conn.get_balance("USDC") == Decimal(1000)
    assert conn.get_available_balance("USDC") == Decimal(1000) - Decimal(19)  # 100 x 0.19 held
    conn.cancel(PURR, cid)
    await recorder.wait_event(OrderCancelledEvent, cid)
    await conn.refresh_balances()
    assert conn.get_available_balance("USDC") == Decimal(1000)


async def test_fills_report_the_fee_in_the_token_received(spot: SpotSession) -> None:
    conn, recorder = spot.conn, spot.recorder
    assert "resting" in spot.maker_order(PURR_ASSET, is_buy=False, price="0.2", size="1000")
    assert "resting" in spot.maker_order(PURR_ASSET, is_buy=True, price="0.18", size="1000")
    await wait_book(conn, PURR, lambda b: b.best_ask == Decimal("0.2") and b.best_bid == Decimal("0.18"))
    buy = conn.buy(PURR, Decimal(100), OrderType.MARKET)
    [bought] = await recorder.wait_event(OrderFilledEvent, buy)
    await recorder.wait_event(OrderCompletedEvent, buy)
    assert (bought.price, bought.amount, bought.fee_asset) == (Decimal("0.2"), Decimal(100), "PURR")
    assert bought.fee_amount > 0
    sell = conn.sell(PURR, Decimal(100), OrderType.LIMIT, Decimal("0.18"))
    [sold] = await recorder.wait_event(OrderFilledEvent, sell)
    assert (sold.price, sold.fee_asset) == (Decimal("0.18"), "USDC")
    await conn.refresh_balances()
    assert conn.get_balance("PURR") == Decimal(5000) - bought.fee_amount  # +100 - fee, then -100
    assert conn.get_balance("USDC") == Decimal(1000) - Decimal(20) + Decimal(18) - sold.fee_amount


async def test_an_order_under_10_usdc_is_refused_before_anything_is_sent(spot: SpotSession) -> None:
    conn = spot.conn
    before = conn.actions_sent
    cid = conn.buy(HYPE, Decimal("0.2"), OrderType.LIMIT, Decimal(40))  # 8 USDC
    [failed] = await spot.recorder.wait_event(OrderFailedEvent, cid)
    assert "below the minimum 10" in failed.reason
    assert conn.actions_sent == before


async def test_a_venue_refusal_reaches_the_order_with_its_text(spot: SpotSession) -> None:
    # more HYPE than the account holds: the venue refuses, its text is the order's failure reason
    cid = spot.conn.sell(HYPE, Decimal(1), OrderType.LIMIT, Decimal(50))
    [failed] = await spot.recorder.wait_event(OrderFailedEvent, cid)
    # the reply's text or the order stream's status, whichever reaches the order first
    assert re.search("(?i)insufficient ?spot ?balance", failed.reason), failed.reason


async def test_an_unlisted_spot_pair_fails_start_and_a_perp_pair_is_refused(
        local_exchange: LocalExchange) -> None:
    signer = new_signer()
    await local_exchange.fund(signer.address, 0, spot={"USDC": 100})
    with pytest.raises(InvalidOrderError, match=r"lists no spot pair 'DOGE-USDC'.*PURR-USDC"):
        await _open(local_exchange, signer, ["DOGE-USDC"])
    with pytest.raises(ValueError, match="perp pair: use HyperliquidPerpetualConnector"):
        HyperliquidSpotConnector(signer, ["BTC-USD"], network=local_exchange.base_url)
    with pytest.raises(ValueError, match=r"a list of pairs, e\.g\. \['PURR-USDC'\]"):
        HyperliquidSpotConnector(signer, "PURR-USDC", network=local_exchange.base_url)


async def test_spot_and_perp_connectors_on_one_account_each_see_only_their_own(
        local_exchange: LocalExchange) -> None:
    signer, maker = new_signer(), new_signer().address
    await local_exchange.fund(signer.address, 20_000, spot={"USDC": 1000, "PURR": 5000})
    await local_exchange.fund(maker, 10_000_000, spot={"USDC": 100_000, "PURR": 1_000_000})
    engine = local_exchange.engine
    btc = engine.market("BTC")
    btc_asset = engine.asset_index("BTC")
    assert btc is not None and btc_asset is not None
    # pushes only (no polling for a minute): positions move by fills alone while the state channel is quiet
    perp_config = HyperliquidConfig(order_validity=1.0, dead_man_switch=None, account_refresh_interval=60)
    perp = HyperliquidPerpetualConnector(signer, ["BTC-USD"], network=local_exchange.base_url, config=perp_config)
    perp_events = EventRecorder()
    perp.add_listener(perp_events)
    await perp.start()
    await perp.wait_ready(timeout=10)
    spot_conn, spot_events = await _open(local_exchange, signer, [PURR])

    def maker_order(asset: int, is_buy: bool, price: Decimal, size: Decimal) -> None:
        request = OrderRequest(asset=asset, is_buy=is_buy, price=price, size=size, reduce_only=False,
                               tif="Gtc")
        [status] = engine.place_orders(maker, [request])
        assert "resting" in status, status  # type: ignore[operator]

    try:
        # a perp position, then resting orders in both markets
        mark = btc.mark.quantize(Decimal(1))
        maker_order(btc_asset, False, mark, Decimal("0.02"))
        long = perp.buy("BTC-USD", Decimal("0.01"), OrderType.LIMIT, mark)
        await perp_events.wait_event(OrderCompletedEvent, long)
        perp_rest = perp.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, (mark * Decimal("0.9")).quantize(1))
        spot_rest = spot_conn.buy(PURR, Decimal(100), OrderType.LIMIT, Decimal("0.15"))
        await perp_events.wait_event(OrderCreatedEvent, perp_rest)
        await spot_events.wait_event(OrderCreatedEvent, spot_rest)
        # the venue's perp state pushes stop: only fills move the perp connector's positions now
        local_exchange.faults.silence("clearinghouseState")
        # spot fills on the account (the perp connector's user stream carries them too)
        maker_order(PURR_ASSET, False, Decimal("0.2"), Decimal(500))
        spot_buy = spot_conn.buy(PURR, Decimal(100), OrderType.LIMIT, Decimal("0.2"))
        await spot_events.wait_event(OrderCompletedEvent, spot_buy)
        maker_order(PURR_ASSET, True, Decimal("0.18"), Decimal(500))
        spot_sell = spot_conn.sell(PURR, Decimal(100), OrderType.LIMIT, Decimal("0.18"))
        await spot_events.wait_event(OrderCompletedEvent, spot_sell)
        # one more perp fill: the perp stream delivers it after the spot fills, so those were seen by then
        more = perp.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, mark)
        await perp_events.wait_event(OrderCompletedEvent, more)
        # perp: only BTC, never a "PURR/USDC-USD" / "@N-USD" position made of spot fills
        assert set(perp.account_positions) == {"BTC-USD"}
        assert perp.account_positions["BTC-USD"].amount == Decimal("0.011")
        assert [o.client_order_id for o in perp.open_orders] == [perp_rest]
        assert not perp_events.of(OrderFilledEvent, spot_buy) and not perp_events.of(OrderCreatedEvent, spot_rest)
        # spot: its own order, its own fills, token balances (no positions)
        assert [o.client_order_id for o in spot_conn.open_orders] == [spot_rest]
        assert not spot_events.of(OrderFilledEvent, long) and not spot_events.of(OrderFilledEvent, more)
        await spot_conn.refresh_balances()
        assert Decimal(4999) < spot_conn.get_balance("PURR") < Decimal(5000)  # +100 - fee, -100
        assert spot_conn.get_available_balance("USDC") == spot_conn.get_balance("USDC") - Decimal(15)  # held
        assert perp.get_balance("USDC") > 0 and perp.get_balance("PURR") == 0
    finally:
        local_exchange.faults.silence("clearinghouseState", False)
        await spot_conn.stop()
        await perp.stop()


async def test_every_listed_spot_pair_is_named_before_start(local_exchange: LocalExchange) -> None:
    conn = HyperliquidSpotConnector(new_signer(), [PURR], network=local_exchange.base_url)
    assert await conn.all_trading_pairs() == [PURR, HYPE]


async def test_a_resting_spot_order_is_restored_from_the_journal_after_a_restart(
        local_exchange: LocalExchange, tmp_path: Path) -> None:
    signer = new_signer()
    await local_exchange.fund(signer.address, 0, spot={"USDC": 1000, "PURR": 5000})
    journal = str(tmp_path / "spot.db")

    def make() -> HyperliquidSpotConnector:
        return HyperliquidSpotConnector(signer, [PURR], network=local_exchange.base_url, journal_path=journal,
                                        config=CONFIG)

    first = make()
    await first.start()
    await first.wait_ready(timeout=10)
    cid = first.sell(PURR, Decimal(100), OrderType.LIMIT, Decimal("0.25"))
    await first.get_order(cid).wait_until_open()  # type: ignore[union-attr]
    await first.stop()  # a clean stop leaves resting orders resting
    again = make()
    await again.start()
    try:
        await again.wait_ready(timeout=10)
        await again.wait_recovered(timeout=10)
        order = again.get_order(cid)
        assert order is not None and order.current_state is OrderState.OPEN and order.trading_pair == PURR
        await again.cancel_all(timeout=5)
        assert not spot_open_orders(local_exchange, signer.address)
    finally:
        await again.stop()


async def test_the_official_sdk_takes_a_resting_spot_order_and_the_maker_pays_its_fee_in_usdc(
        spot: SpotSession) -> None:
    taker = new_trader()
    await spot.exchange.fund(taker.address, 0, spot={"USDC": 1000})
    sdk = await call(Exchange, eth_account.Account.from_key(taker.key), spot.exchange.base_url)
    cid = spot.conn.sell(PURR, Decimal(100), OrderType.LIMIT, Decimal("0.21"))
    await spot.recorder.wait_event(OrderCreatedEvent, cid)
    gtc: Any = {"limit": {"tif": "Ioc"}}
    [filled] = statuses(await call(sdk.order, "PURR/USDC", True, 100, 0.21, gtc))
    assert filled["filled"]["totalSz"] == "100.0"
    [fill] = await spot.recorder.wait_event(OrderFilledEvent, cid)
    assert (fill.price, fill.amount, fill.fee_asset, fill.is_taker) == (Decimal("0.21"), Decimal(100), "USDC", False)
    assert fill.fee_amount == Decimal("0.0084")  # 21 USDC x the 0.040 % maker fee, in the token received


def spot_open_orders(exchange: LocalExchange, address: str) -> list[Any]:
    return list(exchange.engine.accounts[address].open_orders.values())


async def test_a_spot_fill_missed_while_the_user_stream_was_down_is_caught_up_once(spot: SpotSession) -> None:
    conn, recorder, faults = spot.conn, spot.recorder, spot.exchange.faults
    cid = conn.buy(PURR, Decimal(100), OrderType.LIMIT, Decimal("0.19"))
    await recorder.wait_event(OrderCreatedEvent, cid)
    silenced = ("userFills", "user", "orderUpdates", "spotState")
    for channel in silenced:
        faults.silence(channel)
    assert "filled" in spot.maker_order(PURR_ASSET, is_buy=False, price="0.19", size="100", tif="Ioc")
    assert not recorder.of(OrderFilledEvent, cid)  # the stream really missed it
    for channel in silenced:
        faults.silence(channel, False)
    faults.drop_websockets()
    await recorder.wait_event(OrderCompletedEvent, cid, timeout=10)
    [fill] = recorder.of(OrderFilledEvent, cid)
    assert (fill.amount, fill.fee_asset) == (Decimal(100), "PURR")
    assert conn.ws_reconnects == 1
    await conn.refresh_balances()
    assert conn.get_balance("PURR") == Decimal(5100) - fill.fee_amount
    assert conn.get_balance("USDC") == conn.get_available_balance("USDC") == Decimal(1000) - Decimal(19)
