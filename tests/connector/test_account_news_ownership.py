"""A perp and a spot connector on ONE account of the local exchange, over loopback: the user stream is the
account's (fills, funding, liquidations and TWAPs of both markets arrive on each connector's socket), yet each
connector publishes only its own market's share (``wingbeat.hyperliquid.market_kind``).

Silence is checked behind a barrier: the venue pushes to one socket in order, so once a connector has published
the event of something done AFTER the other market's news, that news has reached it and was left out.
"""

from __future__ import annotations

from decimal import Decimal

from tests.connector.harness import LocalExchangeHarness
from tests.connector.test_twap import TwapRecorder
from wingbeat.core.enums import OrderType, PositionAction, TradeType
from wingbeat.core.events import (
    Event,
    FundingPaymentEvent,
    OrderCancelledEvent,
    OrderCreatedEvent,
    OrderFilledEvent,
    PositionLiquidatedEvent,
    TwapSliceFilledEvent,
    TwapStartedEvent,
)
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.spot_connector import HyperliquidSpotConnector
from wingbeat.sim.venue.types import OrderRequest

D = Decimal
PERP, SPOT = "BTC-USD", "PURR-USDC"
PURR_ASSET = 10_000  # PURR/USDC, spot index 0
CONFIG = HyperliquidConfig(dead_man_switch=None)
#: Events that name no order: those of the account (funding, liquidations, TWAPs).
ACCOUNT_EVENTS = (FundingPaymentEvent, PositionLiquidatedEvent, TwapStartedEvent, TwapSliceFilledEvent)


def pairs_of(recorder: TwapRecorder) -> set[str]:
    """The trading pairs named by the recorded events (a liquidation names none: counted apart)."""
    return {pair for e in recorder.events if isinstance(pair := getattr(e, "trading_pair", None), str)}


def account_events(recorder: TwapRecorder) -> list[Event]:
    return [e for e in recorder.events if isinstance(e, ACCOUNT_EVENTS)]


async def test_each_connector_publishes_only_its_own_markets_share_of_the_account_stream(
    harness: LocalExchangeHarness,
) -> None:
    ex = harness.exchange
    maker = harness.counterparty
    await ex.fund(harness.user, 0, spot={"USDC": 1000, "PURR": 500})  # spot tokens beside the perp margin
    await ex.fund(maker, 0, spot={"PURR": 1_000_000})
    [ask] = ex.engine.place_orders(maker, [OrderRequest(PURR_ASSET, False, D("0.2"), D(100_000), False, "Gtc")])
    assert "resting" in ask, ask
    await harness.provide_liquidity(is_buy=False, price=harness.reference_price, size=D("0.1"))
    perp = HyperliquidPerpetualConnector(harness.signer, [PERP], network=ex.base_url, config=CONFIG)
    spot = HyperliquidSpotConnector(harness.signer, [SPOT], network=ex.base_url, config=CONFIG)
    perp_news, spot_news = TwapRecorder(), TwapRecorder()
    perp.add_listener(perp_news)
    spot.add_listener(spot_news)
    await perp.start()
    await spot.start()
    try:
        await perp.wait_ready(15)
        await spot.wait_ready(15)
        # spot news first: a fill and a TWAP (with its first slice) of PURR-USDC
        bought = spot.buy(SPOT, D(100), OrderType.LIMIT, D("0.2"))
        await spot_news.wait_event(OrderFilledEvent, bought)
        await spot.place_twap(SPOT, TradeType.BUY, D(1000), 5)  # $200 at 0.2
        await spot_news.wait_event(TwapSliceFilledEvent)
        # perp news: a fill, a TWAP, funding paid on the position, then a liquidation
        long = perp.buy(PERP, harness.order_size, OrderType.LIMIT, harness.reference_price,
                        position_action=PositionAction.OPEN)
        await perp_news.wait_event(OrderFilledEvent, long)
        await perp.place_twap(PERP, TradeType.BUY, D("0.002"), 5)
        await perp_news.wait_event(TwapSliceFilledEvent)
        await harness.pay_funding()
        [funding] = await perp_news.wait_event(FundingPaymentEvent)
        await harness.liquidate_account()
        await perp_news.wait_event(PositionLiquidatedEvent, timeout=10)
        # barrier: an order the spot connector hears of after all the perp news
        resting = spot.buy(SPOT, D(100), OrderType.LIMIT, D("0.1"))
        await spot_news.wait_event(OrderCreatedEvent, resting)
        spot.cancel(SPOT, resting)
        await spot_news.wait_event(OrderCancelledEvent, resting)

        assert funding.trading_pair == PERP and funding.amount != 0
        assert pairs_of(spot_news) == {SPOT}, [type(e).__name__ for e in account_events(spot_news)]
        assert [type(e) for e in account_events(spot_news)] == [TwapStartedEvent, TwapSliceFilledEvent]
        assert not spot_news.of(FundingPaymentEvent) and not spot_news.of(PositionLiquidatedEvent)
        assert pairs_of(perp_news) == {PERP}
        assert len(perp_news.of(FundingPaymentEvent)) == 1 and len(perp_news.of(PositionLiquidatedEvent)) == 1
        assert [e.trading_pair for e in perp_news.of(TwapStartedEvent)] == [PERP]
        assert [t.trading_pair for t in spot.running_twaps] == [SPOT]
        assert all(t.trading_pair == PERP for t in perp.running_twaps)
        assert set(perp.account_positions) <= {PERP}  # the spot fills moved no position
    finally:
        await spot.stop()
        await perp.stop()
