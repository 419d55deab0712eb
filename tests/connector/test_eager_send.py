"""A burst placed in one go is sent in batches while it is being placed (``eager_send_at``), end to end
against the local exchange on loopback: what goes when, in which order, and the cases that must wait for
the tick's flush (a journal to commit first, no websocket to write to)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.suite import Session
from tests.connector.harness import LocalExchangeHarness
from wingbeat.core.enums import OrderType
from wingbeat.core.events import OrderCancelledEvent, OrderCreatedEvent, OrderFailedEvent
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector

EAGER = 50
CONFIG = HyperliquidConfig(order_validity=1.0, dead_man_switch=None)


def _bid(harness: LocalExchangeHarness, offset: int = 0) -> Decimal:
    return (harness.reference_price * Decimal("0.98")).quantize(Decimal(1)) - offset


def _place(conn: HyperliquidPerpetualConnector, harness: LocalExchangeHarness, count: int) -> tuple[list[str], list[int]]:
    """``count`` buys in one go (no await between them); the actions sent after each one."""
    cids, sent = [], []
    for i in range(count):
        cids.append(conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness, i)))
        sent.append(conn.actions_sent)
    return cids, sent


@contextlib.asynccontextmanager
async def _eager(make_connector: Any, journal_path: Path | None = None,
                 config: HyperliquidConfig = CONFIG) -> AsyncIterator[tuple[Session, HyperliquidPerpetualConnector]]:
    """A started session whose connector sends early at ``EAGER`` orders."""
    s = await Session.open(lambda **kw: make_connector(eager_send_at=EAGER, config=config, **kw),
                           journal_path=journal_path)
    try:
        assert isinstance(s.connector, HyperliquidPerpetualConnector)
        yield s, s.connector
    finally:
        await s.close()


async def test_a_burst_is_sent_in_batches_while_it_is_placed_and_the_venue_keeps_their_order(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    async with _eager(make_connector) as (s, conn):
        before = conn.actions_sent
        cids, sent = _place(conn, harness, 360)
        # the 50th buy() sent what was queued before returning, then each batch twice the one before: the 150th
        # (100 orders), the 350th (200); the last 10 wait for the tick
        assert [n - before for n in sent] == [0] * 49 + [1] * 100 + [2] * 200 + [3] * 11
        await s.recorder.wait_event(OrderCreatedEvent, count=360)
        assert conn.actions_sent - before == 4
        assert await harness.open_order_count() == 360
        # the venue numbers orders as it takes them: in the order they were placed, batch after batch
        oids = [conn.get_order(c).exchange_order_id for c in cids]  # type: ignore[union-attr]
        assert oids == sorted(oids, key=int) and len(set(oids)) == 360
        venue = harness.exchange.engine.accounts[harness.user].open_orders.values()
        assert {o.cloid for o in venue} == set(cids)
        # the next tick's burst starts again from eager_send_at
        before = conn.actions_sent
        _cids, sent = _place(conn, harness, EAGER)
        assert sent[-1] - before == 1 and sent[-2] == before


async def test_the_ticks_flush_writes_its_batch_in_its_own_step(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    # one order's place -> OPEN: the frame leaves when the flush task runs, not a task later (after whatever
    # else the loop had ready, such as pushes being read)
    async with _eager(make_connector) as (s, conn):
        before = conn.actions_sent
        cid = conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, _bid(harness))
        assert conn.actions_sent == before
        await asyncio.sleep(0)  # one loop turn: the flush task, woken by buy(), runs once before this resumes
        assert conn.actions_sent == before + 1
        await s.recorder.wait_event(OrderCreatedEvent, cid)


@pytest.mark.parametrize("setup", ["journal", "rest only"])
async def test_a_burst_that_cannot_leave_at_once_goes_with_the_tick_as_one_action(
        make_connector: Any, harness: LocalExchangeHarness, tmp_path: Path, setup: str) -> None:
    # a journal: nothing may leave before it is on disk, and the commit is awaited; REST: no write without awaiting
    journal = tmp_path / "orders.db" if setup == "journal" else None
    config = CONFIG if journal else HyperliquidConfig(order_validity=1.0, dead_man_switch=None,
                                                      actions_over_websocket=False)
    async with _eager(make_connector, journal, config) as (s, conn):
        before = conn.actions_sent
        _cids, sent = _place(conn, harness, 120)
        assert sent[-1] == before
        await s.recorder.wait_event(OrderCreatedEvent, count=120)
        assert conn.actions_sent - before == 1
        assert await harness.open_order_count() == 120


async def test_cancels_right_after_a_burst_reach_orders_already_sent_and_orders_still_queued(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    async with _eager(make_connector) as (s, conn):
        cids, _sent = _place(conn, harness, 60)
        sent_early, queued = cids[0], cids[55]
        assert conn.get_order(sent_early).current_state is OrderState.PENDING_CREATE  # type: ignore[union-attr]
        conn.cancel(harness.trading_pair, sent_early)  # on its way: cancelled once the venue confirms it
        conn.cancel(harness.trading_pair, queued)  # never sent: cancelled here
        await s.recorder.wait_event(OrderCancelledEvent, count=2)
        await s.recorder.wait_event(OrderCreatedEvent, count=59)
        for cid in (sent_early, queued):
            assert conn.get_order(cid).current_state is OrderState.CANCELED  # type: ignore[union-attr]
        venue = {o.cloid for o in harness.exchange.engine.accounts[harness.user].open_orders.values()}
        assert len(venue) == 58 and not venue & {sent_early, queued}


async def test_an_order_the_venue_refuses_inside_an_early_batch_fails_with_its_reason_the_others_rest(
        make_connector: Any, harness: LocalExchangeHarness) -> None:
    async with _eager(make_connector) as (s, conn):
        before = conn.actions_sent
        cids = []
        for i in range(EAGER):  # the 10th is far below the mark: the venue refuses that one only
            price = (harness.reference_price / 10).quantize(Decimal(1)) if i == 9 else _bid(harness, i)
            cids.append(conn.buy(harness.trading_pair, harness.order_size, OrderType.LIMIT, price))
        assert conn.actions_sent - before == 1
        [failed] = await s.recorder.wait_event(OrderFailedEvent, cids[9])
        assert failed.reason.startswith("rejected")  # the status news, first on the socket
        order = conn.get_order(cids[9])
        assert order is not None  # then the batch's answer gives the venue's own sentence
        await s.recorder.wait_for(lambda: "price" in (order.reason or "").lower(), 5.0, "the answer's reason")
        await s.recorder.wait_event(OrderCreatedEvent, count=EAGER - 1)
        assert await harness.open_order_count() == EAGER - 1


@pytest.mark.parametrize("bad", [0, -5, 2.5, "100"])
def test_eager_send_at_must_be_a_positive_int_or_none(make_connector: Any, bad: object) -> None:
    with pytest.raises(ValueError, match="eager_send_at"):
        make_connector(eager_send_at=bad)
