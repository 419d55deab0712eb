"""The venue-agnostic connector conformance suite.

A connector proves itself by subclassing :class:`ConnectorConformanceSuite` in a ``Test*`` class that
provides two fixtures:

- ``harness``: an :class:`~tests.conformance.harness.ExchangeHarness` for a running venue (a real one
  reached over loopback sockets, never a mock);
- ``make_connector``: a :class:`~tests.conformance.harness.ConnectorFactory` building an unstarted
  connector for the harness's account.

Every scenario waits on events with timeouts (never sleeps) and checks that each order's events arrive
in a legal order with the right amounts (:func:`assert_legal_order_events`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.harness import ConnectorFactory, ExchangeHarness
from tests.conformance.recorder import EventRecorder, assert_legal_order_events
from wingbeat.core.connector_base import PerpetualConnectorBase
from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.events import (
    FundingPaymentEvent,
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderExpiredEvent,
    OrderFailedEvent,
    OrderFilledEvent,
    OrderModifiedEvent,
    OrderPartiallyFilledEvent,
    PositionLiquidatedEvent,
)
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.journal import OrderJournal
from wingbeat.core.order_book import OrderBook
from wingbeat.core.order_state import OrderState

READY_TIMEOUT = 10.0
EVENT_TIMEOUT = 5.0


async def wait_book(connector: Any, trading_pair: str, predicate: Callable[[OrderBook], bool],
                    timeout: float = EVENT_TIMEOUT) -> None:  # noqa: ASYNC109
    """Wait until the connector's book of ``trading_pair`` satisfies ``predicate``.

    The suite requires connectors to expose ``get_order_book(pair)`` and ``order_book_tracker`` (core's
    OrderBookTracker), as the Hummingbot-style public face does."""
    async with asyncio.timeout(timeout):
        while not predicate(connector.get_order_book(trading_pair)):
            await connector.order_book_tracker.wait_for_update(trading_pair)


class Session:
    """A started connector with its event recorder; the suite's unit of work."""

    def __init__(self, connector: PerpetualConnectorBase, recorder: EventRecorder) -> None:
        self.connector = connector
        self.recorder = recorder

    @classmethod
    async def open(cls, make_connector: ConnectorFactory, journal_path: Path | None = None) -> Session:
        connector = make_connector(journal_path=journal_path)
        recorder = EventRecorder()
        connector.add_listener(recorder)
        await connector.start()
        await connector.wait_ready(timeout=READY_TIMEOUT)
        await connector.wait_recovered(timeout=READY_TIMEOUT)  # journaled orders are resolved in the background
        return cls(connector, recorder)

    async def close(self) -> None:
        await self.connector.stop()


class ConnectorConformanceSuite:
    """Order lifecycles every perpetual connector must get right. Subclass with the two fixtures."""

    @pytest.fixture
    async def session(self, make_connector: ConnectorFactory) -> AsyncIterator[Session]:
        s = await Session.open(make_connector)
        try:
            yield s
        finally:
            await s.close()

    # --------------------------------------------------------------------------------- helpers

    @staticmethod
    def _passive_price(harness: ExchangeHarness, side: TradeType) -> Decimal:
        """A price 2% away from the reference on the passive side: rests, never crosses."""
        factor = Decimal("0.98") if side is TradeType.BUY else Decimal("1.02")
        return (harness.reference_price * factor).quantize(Decimal(1))

    async def _open_long(self, s: Session, harness: ExchangeHarness, size: Decimal) -> None:
        """Take a long of ``size`` with a market buy against liquidity the counterparty provides."""
        ask = (harness.reference_price * Decimal("1.001")).quantize(Decimal(1))
        await harness.provide_liquidity(is_buy=False, price=ask, size=size)
        await wait_book(s.connector, harness.trading_pair, lambda book: book.best_ask == ask)
        cid = s.connector.buy(harness.trading_pair, size, OrderType.MARKET, position_action=PositionAction.OPEN)
        await s.recorder.wait_event(OrderCompletedEvent, cid, timeout=EVENT_TIMEOUT)
        assert await harness.position_size() == size

    # --------------------------------------------------------------------------------- lifecycles

    async def test_limit_order_rests_partially_fills_then_completes(self, session: Session,
                                                                     harness: ExchangeHarness) -> None:
        s, pair, size = session, harness.trading_pair, harness.order_size
        price = self._passive_price(harness, TradeType.BUY)
        cid = s.connector.buy(pair, size, OrderType.LIMIT, price, position_action=PositionAction.OPEN)
        created = await s.recorder.wait_event(OrderCreatedEvent, cid)
        assert created[0].amount == size and created[0].price == price
        assert s.connector.get_order(cid) is not None

        half = size / 2
        await harness.take_liquidity(is_buy=False, price=price, size=half)
        partial = await s.recorder.wait_event(OrderPartiallyFilledEvent, cid)
        assert partial[0].remaining_amount == size - half
        await harness.take_liquidity(is_buy=False, price=price, size=size - half)
        completed = await s.recorder.wait_event(OrderCompletedEvent, cid)

        fills = s.recorder.of(OrderFilledEvent, cid)
        assert sum(f.amount for f in fills) == size
        assert all(f.price == price and not f.is_taker for f in fills)
        assert completed[0].executed_amount_base == size
        assert completed[0].average_price == price
        order = s.connector.get_order(cid)
        assert order is not None and order.current_state is OrderState.FILLED
        assert_legal_order_events(s.recorder.for_order(cid), size)
        assert await harness.position_size() == size

    async def test_modify_moves_a_resting_order_under_the_same_client_order_id_and_fills_complete_it(
            self, session: Session, harness: ExchangeHarness) -> None:
        s, pair, size = session, harness.trading_pair, harness.order_size
        price = self._passive_price(harness, TradeType.BUY)
        cid = s.connector.buy(pair, size, OrderType.LIMIT, price, position_action=PositionAction.OPEN)
        await s.recorder.wait_event(OrderCreatedEvent, cid)
        new_price, new_amount = price - 10, size * 2
        assert s.connector.modify(cid, price=new_price, amount=new_amount) == cid
        [modified] = await s.recorder.wait_event(OrderModifiedEvent, cid)
        assert (modified.price, modified.amount, modified.previous_price) == (new_price, new_amount, price)
        order = s.connector.get_order(cid)
        assert order is not None and (order.price, order.amount) == (new_price, new_amount)
        assert await harness.open_order_count() == 1  # replaced, not added
        await harness.take_liquidity(is_buy=False, price=new_price, size=new_amount)
        completed = await s.recorder.wait_event(OrderCompletedEvent, cid)
        assert completed[0].executed_amount_base == new_amount and completed[0].average_price == new_price
        assert sum(f.amount for f in s.recorder.of(OrderFilledEvent, cid)) == new_amount
        assert_legal_order_events(s.recorder.for_order(cid), new_amount)
        assert await harness.position_size() == new_amount

    async def test_cancel_open_order_emits_cancelled_and_removes_it(self, session: Session,
                                                                   harness: ExchangeHarness) -> None:
        s, pair = session, harness.trading_pair
        cid = s.connector.sell(pair, harness.order_size, OrderType.LIMIT, self._passive_price(harness, TradeType.SELL),
                               position_action=PositionAction.OPEN)
        await s.recorder.wait_event(OrderCreatedEvent, cid)
        assert await harness.open_order_count() == 1
        s.connector.cancel(pair, cid)
        await s.recorder.wait_event(OrderCancelledEvent, cid)
        assert await harness.open_order_count() == 0
        assert cid not in {o.client_order_id for o in s.connector.open_orders}
        assert_legal_order_events(s.recorder.for_order(cid), harness.order_size)

    async def test_post_only_order_that_would_cross_fails_with_reason(self, session: Session,
                                                                      harness: ExchangeHarness) -> None:
        s, pair = session, harness.trading_pair
        ask = (harness.reference_price * Decimal("1.001")).quantize(Decimal(1))
        await harness.provide_liquidity(is_buy=False, price=ask, size=harness.order_size)
        cid = s.connector.buy(pair, harness.order_size, OrderType.LIMIT_MAKER, ask + 10,
                              position_action=PositionAction.OPEN)
        failed = await s.recorder.wait_event(OrderFailedEvent, cid)
        assert failed[0].reason
        assert not s.recorder.of(OrderCreatedEvent, cid)
        assert await harness.position_size() == 0
        order = s.connector.get_order(cid)
        assert order is not None and order.current_state is OrderState.FAILED

    async def test_market_order_fills_completely_as_taker(self, session: Session, harness: ExchangeHarness) -> None:
        await self._open_long(session, harness, harness.order_size)
        [cid] = {e.client_order_id for e in session.recorder.of(OrderCompletedEvent)}
        fills = session.recorder.of(OrderFilledEvent, cid)
        assert fills and all(f.is_taker for f in fills)
        assert sum(f.amount for f in fills) == harness.order_size
        assert_legal_order_events(session.recorder.for_order(cid), harness.order_size)

    async def test_market_order_remainder_expires_after_partial_fill(self, session: Session,
                                                                    harness: ExchangeHarness) -> None:
        s, pair, size = session, harness.trading_pair, harness.order_size
        ask = (harness.reference_price * Decimal("1.001")).quantize(Decimal(1))
        await harness.provide_liquidity(is_buy=False, price=ask, size=size)
        await wait_book(s.connector, pair, lambda book: book.best_ask == ask)
        cid = s.connector.buy(pair, size * 2, OrderType.MARKET, position_action=PositionAction.OPEN)
        expired = await s.recorder.wait_event(OrderExpiredEvent, cid)
        await s.recorder.wait_for(lambda: sum(f.amount for f in s.recorder.of(OrderFilledEvent, cid)) == size,
                                  EVENT_TIMEOUT, "the fill of the matched half")
        assert expired[0].executed_amount_base in (Decimal(0), size)  # the fill may land before or after
        order = s.connector.get_order(cid)
        assert order is not None and order.current_state is OrderState.EXPIRED
        assert order.executed_amount_base == size
        assert_legal_order_events(s.recorder.for_order(cid), size * 2)
        assert await harness.position_size() == size

    async def test_ioc_limit_order_takes_what_it_can_and_the_rest_expires(self, session: Session,
                                                                          harness: ExchangeHarness) -> None:
        s, pair, size = session, harness.trading_pair, harness.order_size
        ask = (harness.reference_price * Decimal("1.001")).quantize(Decimal(1))
        await harness.provide_liquidity(is_buy=False, price=ask, size=size)
        cid = s.connector.place_order(TradeType.BUY, pair, size * 3, OrderType.LIMIT, ask,
                                      time_in_force=TimeInForce.IOC, position_action=PositionAction.OPEN)
        await s.recorder.wait_event(OrderExpiredEvent, cid)
        await s.recorder.wait_for(lambda: sum(f.amount for f in s.recorder.of(OrderFilledEvent, cid)) == size,
                                  EVENT_TIMEOUT, "the fill of the available third")
        fills = s.recorder.of(OrderFilledEvent, cid)
        assert all(f.price == ask and f.is_taker for f in fills)
        assert_legal_order_events(s.recorder.for_order(cid), size * 3)
        assert await harness.open_order_count() == 0  # an IOC never rests

    async def test_reduce_only_close_flattens_the_position(self, session: Session, harness: ExchangeHarness) -> None:
        s, pair, size = session, harness.trading_pair, harness.order_size
        await self._open_long(s, harness, size)
        bid = (harness.reference_price * Decimal("0.999")).quantize(Decimal(1))
        await harness.provide_liquidity(is_buy=True, price=bid, size=size * 3)
        await wait_book(s.connector, pair, lambda book: book.best_bid == bid)
        # a reduce-only order bigger than the position may only close it, never flip it
        cid = s.connector.sell(pair, size, OrderType.MARKET, position_action=PositionAction.CLOSE)
        await s.recorder.wait_event(OrderCompletedEvent, cid)
        assert await harness.position_size() == 0
        await s.connector._update_balances_and_positions()  # the base's refresh hook, so no waiting
        assert pair not in s.connector.account_positions

    async def test_reduce_only_order_that_would_open_a_position_fails(self, session: Session,
                                                                      harness: ExchangeHarness) -> None:
        s, pair = session, harness.trading_pair
        cid = s.connector.sell(pair, harness.order_size, OrderType.LIMIT, self._passive_price(harness, TradeType.SELL),
                               position_action=PositionAction.CLOSE)
        failed = await s.recorder.wait_event(OrderFailedEvent, cid)
        assert failed[0].reason
        assert await harness.open_order_count() == 0

    async def test_set_leverage_changes_the_venue_leverage(self, session: Session, harness: ExchangeHarness) -> None:
        await session.connector.set_leverage(harness.trading_pair, 7)
        assert await harness.leverage() == 7
        await session.connector.set_leverage(harness.trading_pair, 3)
        assert await harness.leverage() == 3

    async def test_funding_payment_on_an_open_position_emits_an_event(self, session: Session,
                                                                      harness: ExchangeHarness) -> None:
        await self._open_long(session, harness, harness.order_size)
        await harness.pay_funding()
        [payment, *_] = await session.recorder.wait_event(FundingPaymentEvent)
        assert payment.trading_pair == harness.trading_pair
        assert payment.amount != 0
        assert payment.position_size in (None, harness.order_size)

    async def test_liquidation_emits_an_event_and_closes_the_position(self, session: Session,
                                                                      harness: ExchangeHarness) -> None:
        await self._open_long(session, harness, harness.order_size)
        await harness.liquidate_account()
        await session.recorder.wait_event(PositionLiquidatedEvent, timeout=EVENT_TIMEOUT)
        assert await harness.position_size() == 0

    async def test_200_orders_placed_in_one_tick_all_open_then_cancel_all(self, session: Session,
                                                                          harness: ExchangeHarness) -> None:
        s, pair, size = session, harness.trading_pair, harness.order_size
        base = self._passive_price(harness, TradeType.BUY)
        cids = [s.connector.buy(pair, size, OrderType.LIMIT, base - i, position_action=PositionAction.OPEN)
                for i in range(200)]
        assert len(set(cids)) == 200
        await s.recorder.wait_event(OrderCreatedEvent, count=200, timeout=10.0)
        assert {e.client_order_id for e in s.recorder.of(OrderCreatedEvent)} == set(cids)
        assert await harness.open_order_count() == 200
        results = await s.connector.cancel_all(timeout=10.0)
        assert len(results) == 200 and all(r.success for r in results)
        await s.recorder.wait_event(OrderCancelledEvent, count=200)
        assert await harness.open_order_count() == 0
        for cid in cids[:5]:
            assert_legal_order_events(s.recorder.for_order(cid), size)

    async def test_invalid_orders_fail_locally_and_send_nothing(self, session: Session,
                                                               harness: ExchangeHarness) -> None:
        s, pair = session, harness.trading_pair
        price = self._passive_price(harness, TradeType.BUY)
        bad = [
            s.connector.buy("NOPE-USD", harness.order_size, OrderType.LIMIT, price),
            s.connector.buy(pair, Decimal(0), OrderType.LIMIT, price),
            s.connector.buy(pair, harness.order_size, OrderType.LIMIT, Decimal(-1)),
            s.connector.buy(pair, Decimal("NaN"), OrderType.LIMIT, price),
            s.connector.buy(pair, harness.order_size / 1000, OrderType.LIMIT, price),  # below min notional
        ]
        await s.recorder.wait_event(OrderFailedEvent, count=len(bad))
        assert {e.client_order_id for e in s.recorder.of(OrderFailedEvent)} == set(bad)
        assert all(e.reason for e in s.recorder.of(OrderFailedEvent))
        assert not s.recorder.of(OrderCreatedEvent)
        assert await harness.open_order_count() == 0

    async def test_restart_recovers_open_orders_and_fills_made_while_down(
            self, make_connector: ConnectorFactory, harness: ExchangeHarness, tmp_path: Path) -> None:
        journal = tmp_path / "orders.db"
        pair, size = harness.trading_pair, harness.order_size
        price = self._passive_price(harness, TradeType.BUY)
        first = await Session.open(make_connector, journal)
        try:
            fully = first.connector.buy(pair, size, OrderType.LIMIT, price, position_action=PositionAction.OPEN)
            partly = first.connector.buy(pair, size, OrderType.LIMIT, price - 1, position_action=PositionAction.OPEN)
            untouched = first.connector.buy(pair, size, OrderType.LIMIT, price - 2, position_action=PositionAction.OPEN)
            await first.recorder.wait_event(OrderCreatedEvent, count=3)
        finally:
            await first.close()

        # while we are down: the best bid fills completely, the next one half, the third not at all
        await harness.take_liquidity(is_buy=False, price=price - 1, size=size + size / 2)
        assert await harness.open_order_count() == 2

        second = await Session.open(make_connector, journal)
        try:
            c = second.connector
            done, half, idle = c.get_order(fully), c.get_order(partly), c.get_order(untouched)
            assert done is not None and half is not None and idle is not None
            assert done.current_state is OrderState.FILLED and done.executed_amount_base == size
            assert half.current_state is OrderState.PARTIALLY_FILLED
            assert half.executed_amount_base == size / 2
            assert idle.current_state is OrderState.OPEN and idle.executed_amount_base == 0
            await second.recorder.wait_event(OrderCompletedEvent, fully)
            # the missed fills were published once each, and the open orders are cancellable again
            assert sum(f.amount for f in second.recorder.of(OrderFilledEvent)) == size + size / 2
            c.cancel(pair, partly)
            c.cancel(pair, untouched)
            await second.recorder.wait_event(OrderCancelledEvent, count=2)
            assert await harness.open_order_count() == 0
        finally:
            await second.close()

    async def test_restart_fails_a_journaled_order_the_venue_never_received(
            self, make_connector: ConnectorFactory, harness: ExchangeHarness, tmp_path: Path) -> None:
        journal_path = tmp_path / "orders.db"
        # a crash between the journal commit and the send: the order is on disk, the venue never saw it
        probe = make_connector(journal_path=None)
        cid = probe._new_client_order_id(TradeType.BUY, harness.trading_pair)
        order = InFlightOrder(client_order_id=cid, trading_pair=harness.trading_pair, trade_type=TradeType.BUY,
                              order_type=OrderType.LIMIT, amount=harness.order_size,
                              price=self._passive_price(harness, TradeType.BUY), creation_timestamp=time.time(),
                              position_action=PositionAction.OPEN)
        async with OrderJournal(journal_path) as journal:
            journal.record_order(order)
            await journal.commit()

        s = await Session.open(make_connector, journal_path)
        try:
            restored = s.connector.get_order(cid)
            assert restored is not None and restored.current_state is OrderState.FAILED  # before wait_recovered returned
            [failed] = s.recorder.of(OrderFailedEvent, cid)
            assert failed.reason
            assert await harness.open_order_count() == 0
        finally:
            await s.close()
