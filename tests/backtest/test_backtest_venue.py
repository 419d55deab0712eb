"""The backtest venue and connector in virtual time: maker and taker fills with Hyperliquid's fees,
funding from the recorded rate, order-entry and market-data latency."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D
from typing import TypeVar

import pytest

from wingbeat.backtest.connector import BacktestConnector
from wingbeat.backtest.market_data import AssetCtxUpdate, BookUpdate, TradePrint, TradesUpdate
from wingbeat.backtest.venue import USER, LatencyModel, SimulatedVenue
from wingbeat.core.enums import OrderType
from wingbeat.core.events import EventListener, FundingPaymentEvent, OrderFilledEvent
from wingbeat.core.order_state import OrderState
from wingbeat.engine.virtual_time import VirtualTimeEventLoop, now
from wingbeat.sim.venue.markets import MarketConfig

EPOCH = 1_741_683_600.0  # 2025-03-11T09:00:00Z
_T = TypeVar("_T")


def at(seconds: float) -> int:
    return int((EPOCH + seconds) * 1e9)


def in_virtual_time(test: Callable[[], Awaitable[_T]]) -> _T:
    loop = VirtualTimeEventLoop(epoch=EPOCH)
    try:
        return loop.run_until_complete(test())  # type: ignore[arg-type]
    finally:
        loop.close()


def btc_book(t: float, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> BookUpdate:
    return BookUpdate(at(t), "BTC", [(D(p), D(s)) for p, s in bids], [(D(p), D(s)) for p, s in asks])


BOOK = ([("99999", "0.5"), ("99998", "1")], [("100001", "0.2"), ("100002", "0.5"), ("100003", "2")])


class Events(EventListener):
    def __init__(self) -> None:
        self.fills: list[OrderFilledEvent] = []
        self.funding: list[FundingPaymentEvent] = []

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        self.fills.append(event)

    def on_funding_payment(self, event: FundingPaymentEvent) -> None:
        self.funding.append(event)


async def started(
    latency: LatencyModel | None = None, funding_rate: D | None = None
) -> tuple[SimulatedVenue, BacktestConnector, Events]:
    market = MarketConfig(name="BTC", sz_decimals=5, max_leverage=50, start_price=D("100000"))
    venue = SimulatedVenue(
        [market],
        clock_ms=lambda: int(now() * 1000),
        funding_rate=funding_rate,
        latency=latency or LatencyModel(order_entry=0.05, market_data=0.02),
    )
    connector = BacktestConnector(venue, ["BTC-USD"])
    events = Events()
    connector.add_listener(events)
    await connector.start()
    venue.apply(btc_book(0, *BOOK))
    await asyncio.sleep(0.5)
    return venue, connector, events


def test_a_resting_bid_fills_as_maker_at_its_price_once_the_queue_ahead_traded() -> None:
    async def scenario() -> None:
        venue, connector, events = await started()
        cid = connector.buy("BTC-USD", D("0.01"), price=D("99999"))
        await asyncio.sleep(0.2)
        assert connector.get_order(cid).current_state is OrderState.OPEN  # type: ignore[union-attr]
        venue.apply(TradesUpdate(at(1), "BTC", (TradePrint(D("99999"), D("0.4"), False, 1, 0),)))
        await asyncio.sleep(0.1)
        assert events.fills == []  # 0.5 was ahead of us: 0.1 left
        venue.apply(TradesUpdate(at(1.2), "BTC", (TradePrint(D("99999"), D("0.3"), False, 2, 0),)))
        await asyncio.sleep(0.1)
        [fill] = events.fills
        assert (fill.price, fill.amount, fill.is_taker) == (D("99999"), D("0.01"), False)
        assert fill.fee_amount == (D("99999") * D("0.01") * D("0.00015")).quantize(
            D("0.000001"), rounding=ROUND_HALF_EVEN
        )  # maker 0.015%, rounded to 6 decimals half-even as the venue renders it
        assert connector.get_order(cid).current_state is OrderState.FILLED  # type: ignore[union-attr]
        assert venue.position("BTC") == D("0.01")
        assert connector.account_positions["BTC-USD"].amount == D("0.01")
        await connector.stop()

    in_virtual_time(scenario)


def test_a_crossing_order_takes_the_recorded_levels_as_taker() -> None:
    async def scenario() -> None:
        venue, connector, events = await started()
        cid = connector.buy("BTC-USD", D("0.3"), price=D("100010"))
        await asyncio.sleep(0.2)
        assert [(f.price, f.amount, f.is_taker) for f in events.fills] == [
            (D("100001"), D("0.2"), True),
            (D("100002"), D("0.1"), True),
        ]
        assert [f.fee_amount for f in events.fills] == [
            D("100001") * D("0.2") * D("0.00045"),
            D("100002") * D("0.1") * D("0.00045"),
        ]
        assert connector.get_order(cid).current_state is OrderState.FILLED  # type: ignore[union-attr]
        # the recorded levels were only lent for the match: nothing of them rests
        assert all(not venue.engine.accounts[u].open_orders for u in venue.engine.accounts if u != USER)
        await connector.stop()

    in_virtual_time(scenario)


def test_a_post_only_order_that_would_cross_the_recorded_book_is_rejected() -> None:
    async def scenario() -> None:
        _venue, connector, events = await started()
        cid = connector.buy("BTC-USD", D("0.01"), OrderType.LIMIT_MAKER, D("100001"))
        await asyncio.sleep(0.2)
        order = connector.get_order(cid)
        assert order is not None and order.current_state is OrderState.FAILED
        # the venue's orderUpdates status arrives before the placement answer (market data is faster): the
        # failure is decided by the status, and the answer's sentence becomes the reason when it arrives
        assert order.reason is not None and order.reason.startswith("Post only order would have immediately matched")
        assert events.fills == []
        await connector.stop()

    in_virtual_time(scenario)


def test_orders_and_market_data_arrive_after_their_latency() -> None:
    async def scenario() -> None:
        venue, connector, _events = await started(LatencyModel(order_entry=0.1, market_data=0.03))
        start = now()
        cid = connector.buy("BTC-USD", D("0.01"), price=D("99990"))
        await asyncio.sleep(0.09)
        assert not venue.engine.accounts[USER].open_orders  # still on its way
        await asyncio.sleep(0.02)
        assert venue.engine.accounts[USER].open_orders  # at the venue after 0.1 s
        order = connector.get_order(cid)
        assert order is not None and order.exchange_order_id is None  # no answer yet
        await asyncio.sleep(0.1)
        assert order.current_state is OrderState.OPEN and order.exchange_order_id is not None
        assert abs(order.last_update_timestamp - start - 0.1) < 1e-6  # the venue's time of the order
        venue.apply(btc_book(now() - EPOCH, [("99995", "1")], [("99997", "1")]))
        await asyncio.sleep(0.02)
        assert connector.get_order_book("BTC-USD").best_bid == D("99999")  # not yet
        await asyncio.sleep(0.02)
        assert connector.get_order_book("BTC-USD").best_bid == D("99995")
        await connector.stop()

    in_virtual_time(scenario)


def test_funding_is_paid_at_the_recorded_rate_or_the_configured_one() -> None:
    async def scenario(configured: D | None) -> list[FundingPaymentEvent]:
        venue, connector, events = await started(funding_rate=configured)
        venue.apply(AssetCtxUpdate(at(1), "BTC", D("100000"), D("100000"), D("0.00002")))
        connector.buy("BTC-USD", D("0.01"), price=D("100010"))
        await asyncio.sleep(0.3)
        balance = venue.equity()
        venue.pay_funding(int((EPOCH + 3600) * 1000))
        await asyncio.sleep(0.1)
        assert venue.equity() == balance + events.funding[0].amount
        await connector.stop()
        return events.funding

    [recorded] = in_virtual_time(lambda: scenario(None))
    assert recorded.amount == -D("0.01") * D("100000") * D("0.00002")
    assert recorded.funding_rate == D("0.00002")
    [configured] = in_virtual_time(lambda: scenario(D("-0.0001")))
    assert configured.amount == D("0.01") * D("100000") * D("0.0001")  # negative rate: longs receive


class PositionAtFill(Events):
    """Records the connector's position of BTC-USD as each fill event goes out."""

    def __init__(self, connector: BacktestConnector) -> None:
        super().__init__()
        self._connector = connector
        self.positions: list[D] = []

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        super().on_order_filled(event)
        held = self._connector.account_positions.get("BTC-USD")
        self.positions.append(held.amount if held is not None else D(0))


def test_fills_close_together_move_the_position_with_no_divergence(caplog: pytest.LogCaptureFixture) -> None:
    # two of our bids filled in the same millisecond (two venue actions), then two asks filled 10 ms
    # apart, the second before the first reaches us (market data 20 ms): the connector's position must
    # follow each fill as its event goes out and match the venue's, with nothing logged as diverged
    async def scenario() -> None:
        venue, connector, _events = await started()
        seen = PositionAtFill(connector)
        connector.add_listener(seen)
        for _ in range(2):
            connector.buy("BTC-USD", D("0.01"), price=D("99999"))
        await asyncio.sleep(0.2)
        venue.apply(TradesUpdate(at(1), "BTC", (TradePrint(D("99998"), D("0.1"), False, 1, 0),)))  # through
        await asyncio.sleep(0.1)
        assert venue.position("BTC") == D("0.02")
        connector.sell("BTC-USD", D("0.01"), price=D("100001"))
        connector.sell("BTC-USD", D("0.01"), price=D("100002"))
        await asyncio.sleep(0.2)
        # through the first ask, at the second's price with 0.5 ahead of it; 10 ms later through both
        venue.apply(TradesUpdate(at(now() - EPOCH), "BTC", (TradePrint(D("100002"), D("0.1"), True, 2, 0),)))
        await asyncio.sleep(0.01)
        venue.apply(TradesUpdate(at(now() - EPOCH), "BTC", (TradePrint(D("100003"), D("0.1"), True, 3, 0),)))
        await asyncio.sleep(0.1)
        assert venue.position("BTC") == D(0)
        assert seen.positions == [D("0.01"), D("0.02"), D("0.01"), D(0)]
        assert "BTC-USD" not in connector.account_positions
        await connector.stop()

    with caplog.at_level(logging.WARNING):
        in_virtual_time(scenario)
    assert [r.getMessage() for r in caplog.records if "diverged" in r.getMessage()] == []
