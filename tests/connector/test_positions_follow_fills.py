"""Positions follow fills at once and defer to the venue: over real sockets against the local exchange.

A fill moves ``account_positions`` before its events are published (no refresh needed: the account-state
channel is silenced and polling is a minute away); a fill made on the account by another program that
the stream never delivers is corrected to the venue's numbers, with a warning, both from the venue's
``clearinghouseState`` push and, where no push comes, from polling.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tests.conformance.recorder import EventRecorder
from tests.connector.harness import COIN, LocalExchangeHarness
from wingbeat.core.enums import OrderType
from wingbeat.core.events import OrderCompletedEvent, OrderCreatedEvent
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.sim.venue.types import OrderRequest

_DIVERGED = "position diverged from the venue"


class _LogWaiter(logging.Handler):
    """Wakes a test when a record containing ``needle`` is logged (no polling)."""

    def __init__(self, needle: str) -> None:
        super().__init__(logging.WARNING)
        self.needle = needle
        self.messages: list[str] = []
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.messages.append(record.getMessage())
            self.seen.set()


@pytest.fixture
async def diverged() -> AsyncIterator[_LogWaiter]:
    waiter = _LogWaiter(_DIVERGED)
    logger = logging.getLogger("wingbeat.core.connector")
    logger.addHandler(waiter)
    try:
        yield waiter
    finally:
        logger.removeHandler(waiter)


async def _started(
    make_connector: Any, refresh: float
) -> tuple[HyperliquidPerpetualConnector, EventRecorder]:
    conn: HyperliquidPerpetualConnector = make_connector(
        config=HyperliquidConfig(dead_man_switch=None, order_validity=1.0, account_refresh_interval=refresh)
    )
    recorder = EventRecorder()
    conn.add_listener(recorder)
    await conn.start()
    return conn, recorder


async def _market(
    conn: HyperliquidPerpetualConnector, recorder: EventRecorder, *, buy: bool, amount: Decimal
) -> None:
    place = conn.buy if buy else conn.sell
    cid = place("BTC-USD", amount, OrderType.MARKET)
    await recorder.wait_for(lambda: bool(recorder.of(OrderCompletedEvent, cid)), what=f"{cid} completed")


async def _quotes(harness: LocalExchangeHarness) -> tuple[Decimal, Decimal]:
    bid, ask = harness.reference_price * Decimal("0.999"), harness.reference_price * Decimal("1.001")
    bid, ask = bid.quantize(Decimal(1)), ask.quantize(Decimal(1))
    await harness.provide_liquidity(is_buy=True, price=bid, size=Decimal("0.05"))
    await harness.provide_liquidity(is_buy=False, price=ask, size=Decimal("0.05"))
    return bid, ask


def _other_program_buys(harness: LocalExchangeHarness, price: Decimal, size: Decimal) -> None:
    """Another program trading the same account (in-process, as any signed order would)."""
    engine = harness.exchange.engine
    asset = engine.asset_index(COIN)
    assert asset is not None
    [status] = engine.place_orders(
        harness.user,
        [OrderRequest(asset=asset, is_buy=True, price=price, size=size, reduce_only=False, tif="Ioc")],
    )
    assert isinstance(status, dict) and "filled" in status, status


async def test_a_market_fill_moves_the_position_before_any_refresh(
    harness: LocalExchangeHarness, make_connector: Any
) -> None:
    harness.exchange.faults.silence("clearinghouseState")  # no push; and polling is a minute away
    conn, recorder = await _started(make_connector, refresh=60.0)
    try:
        bid, ask = await _quotes(harness)
        assert "BTC-USD" not in conn.account_positions
        await _market(conn, recorder, buy=True, amount=Decimal("0.004"))
        opened = conn.account_positions["BTC-USD"]  # read at once: the fill's events have just been published
        assert (opened.amount, opened.entry_price, opened.realized_pnl) == (Decimal("0.004"), ask, 0)
        await _market(conn, recorder, buy=False, amount=Decimal("0.001"))
        reduced = conn.account_positions["BTC-USD"]
        assert (
            reduced.amount == Decimal("0.003") and reduced.entry_price == ask
        )  # a reduction keeps the entry
        assert reduced.realized_pnl == (bid - ask) * Decimal("0.001")
        assert await harness.position_size() == reduced.amount  # the venue agrees
    finally:
        await conn.stop()


async def test_a_fill_the_stream_never_delivered_is_corrected_by_the_venue_push(
    harness: LocalExchangeHarness, make_connector: Any, diverged: _LogWaiter
) -> None:
    conn, _recorder = await _started(make_connector, refresh=60.0)
    try:
        _bid, ask = await _quotes(harness)
        for channel in ("userFills", "user"):  # the fill news is lost; the account-state push is not
            harness.exchange.faults.silence(channel)
        _other_program_buys(harness, ask, Decimal("0.002"))
        await asyncio.wait_for(diverged.seen.wait(), 10)
        position = conn.account_positions["BTC-USD"]
        assert position.amount == Decimal("0.002") == await harness.position_size()
        assert position.entry_price == ask
        assert "ours 0 @ 0, the venue's 0.002 @" in diverged.messages[0]
    finally:
        await conn.stop()


async def test_without_account_pushes_polling_corrects_the_position(
    harness: LocalExchangeHarness, make_connector: Any, diverged: _LogWaiter
) -> None:
    for channel in ("clearinghouseState", "userFills", "user"):  # a venue without the channel, fills lost
        harness.exchange.faults.silence(channel)
    conn, _recorder = await _started(make_connector, refresh=0.3)
    try:
        _bid, ask = await _quotes(harness)
        _other_program_buys(harness, ask, Decimal("0.002"))
        await asyncio.wait_for(diverged.seen.wait(), 10)
        assert conn.account_positions["BTC-USD"].amount == Decimal("0.002") == await harness.position_size()
    finally:
        await conn.stop()


async def test_another_programs_fill_on_the_stream_moves_the_position_without_divergence(
    harness: LocalExchangeHarness, make_connector: Any, diverged: _LogWaiter
) -> None:
    harness.exchange.faults.silence("clearinghouseState")
    conn, recorder = await _started(make_connector, refresh=60.0)
    try:
        _bid, ask = await _quotes(harness)
        _other_program_buys(harness, ask, Decimal("0.002"))
        # our own order's fill comes after the other program's on the same stream: both are counted then
        await _market(conn, recorder, buy=True, amount=Decimal("0.001"))
        position = conn.account_positions["BTC-USD"]
        assert position.amount == Decimal("0.003") == await harness.position_size()
        assert position.entry_price == ask
        assert not diverged.messages
    finally:
        await conn.stop()


async def test_an_ordinary_fill_sequence_never_finds_the_position_diverged(
    harness: LocalExchangeHarness, make_connector: Any, diverged: _LogWaiter
) -> None:
    # account pushes on, polling fast: every venue state is compared with the fills the stream delivered
    conn, recorder = await _started(make_connector, refresh=0.2)
    try:
        _bid, _ask = await _quotes(harness)
        await _market(conn, recorder, buy=True, amount=Decimal("0.004"))
        rest = [
            conn.sell("BTC-USD", Decimal("0.001"), price=(harness.reference_price * k).quantize(Decimal(1)))
            for k in (Decimal("1.0004"), Decimal("1.0005"))
        ]
        await recorder.wait_for(lambda: all(recorder.of(OrderCreatedEvent, cid) for cid in rest), what="rested")
        # another account takes both asks in one order: two maker fills of ours in the same millisecond
        await harness.take_liquidity(is_buy=True, price=harness.reference_price * Decimal("1.0006"),
                                     size=Decimal("0.002"))
        await recorder.wait_for(lambda: all(recorder.of(OrderCompletedEvent, cid) for cid in rest), what="taken")
        both = [conn.sell("BTC-USD", Decimal("0.003"), OrderType.MARKET),
                conn.buy("BTC-USD", Decimal("0.001"), OrderType.MARKET)]  # one batch, back to back
        await recorder.wait_for(lambda: all(recorder.of(OrderCompletedEvent, cid) for cid in both), what="both")
        await _market(conn, recorder, buy=True, amount=Decimal("0.002"))
        venue = await harness.position_size()
        assert venue == Decimal("0.002") == conn.account_positions["BTC-USD"].amount
        assert not diverged.messages
    finally:
        await conn.stop()
