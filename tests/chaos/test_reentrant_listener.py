"""A strategy that calls back into the connector from its event handlers - cancel as soon as an order is created,
hedge each fill with a new order, cancel everything on an expiry - while the websocket duplicates and reorders
messages. Re-entrant calls must neither crash the event fan-out nor corrupt the state: afterwards the connector
matches the exchange."""

from __future__ import annotations

import asyncio
import contextlib
import random
from decimal import Decimal

from tests.chaos.truth import EventLog, LogWatch, VenueRecorder, divergences
from tests.conftest import Trader
from wingbeat.core.enums import OrderType, TimeInForce, TradeType
from wingbeat.core.events import EventListener, OrderCreatedEvent, OrderExpiredEvent, OrderFilledEvent
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim.protocol.faults import FaultKind
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

PAIR = "BTC-USD"


class _Reentrant(EventListener):
    def __init__(self, conn: HyperliquidPerpetualConnector, orders: dict[str, InFlightOrder], seed: int) -> None:
        self.conn, self.orders, self.rng = conn, orders, random.Random(seed)
        self.calls = 0

    def _track(self, cid: str) -> None:
        order = self.conn.get_order(cid)
        if order is not None:
            self.orders[cid] = order

    def on_order_created(self, event: OrderCreatedEvent) -> None:
        if self.rng.random() < 0.4:
            self.calls += 1
            self.conn.cancel(event.trading_pair, event.client_order_id)

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        if len(self.orders) < 60:  # hedge: the opposite side, resting a little away
            self.calls += 1
            side = TradeType.SELL if event.trade_type is TradeType.BUY else TradeType.BUY
            price = event.price * (Decimal("1.01") if side is TradeType.SELL else Decimal("0.99"))
            self._track(self.conn.place_order(side, event.trading_pair, event.amount, OrderType.LIMIT, price))

    def on_order_expired(self, event: OrderExpiredEvent) -> None:
        self.calls += 1
        for order in self.conn.open_orders:
            self.conn.cancel(order.trading_pair, order.client_order_id)


async def test_listener_calling_back_into_the_connector_keeps_it_consistent(
        local_exchange: LocalExchange, trader: Trader) -> None:
    exchange = local_exchange
    counterparty = "0x" + "c4" * 20
    await exchange.fund(counterparty, Decimal(10_000_000))
    market = exchange.engine.market("BTC")
    assert market is not None
    recorder = VenueRecorder.attach(exchange, [trader.address])
    conn = HyperliquidPerpetualConnector(Signer(trader.key), [PAIR], network=exchange.base_url,
                                         config=HyperliquidConfig(dead_man_switch=None, account_refresh_interval=1.0),
                                         reconcile_interval=0.2, stale_order_after=2.0)
    orders: dict[str, InFlightOrder] = {}
    log = EventLog()
    strategy = _Reentrant(conn, orders, seed=3)
    conn.add_listener(log)
    conn.add_listener(strategy)
    rng = random.Random(3)
    with LogWatch() as logs:
        await conn.start()
        try:
            exchange.faults.add(FaultKind.WS_DUPLICATE, probability=0.2)
            exchange.faults.add(FaultKind.WS_REORDER, probability=0.1)
            for _round in range(12):
                exchange.engine.place_orders(counterparty, [OrderRequest(
                    asset=market.index, is_buy=rng.random() < 0.5, price=Decimal(60_000 + rng.randint(-30, 30)),
                    size=Decimal("0.003"), reduce_only=False, tif="Gtc")])
                cids = [conn.place_order(TradeType.BUY, PAIR, Decimal("0.001"), OrderType.LIMIT, Decimal(60_040)),
                        conn.place_order(TradeType.SELL, PAIR, Decimal("0.002"), OrderType.LIMIT, Decimal(59_960),
                                         time_in_force=TimeInForce.IOC),
                        conn.place_order(TradeType.BUY, PAIR, Decimal("0.001"), OrderType.LIMIT, Decimal(59_000))]
                for cid in cids:
                    strategy._track(cid)
                _done, pending = await asyncio.wait(
                    [asyncio.ensure_future(orders[c].wait_until_open()) for c in cids], timeout=5)
                for waiter in pending:
                    waiter.cancel()
            exchange.faults.clear()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while (problems := divergences(conn, exchange, recorder, orders, log)) and loop.time() < deadline:
                await conn.reconcile_now()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(log.changed.wait(), 0.5)
                log.changed.clear()
        finally:
            await conn.stop()
    assert strategy.calls > 10 and log.fills
    assert problems == []
    assert logs.unexpected == []
