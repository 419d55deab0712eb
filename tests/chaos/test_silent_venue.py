"""A venue that accepts connections and never answers (issue 12): every wait on it has a deadline, so
``start()`` fails in time and ``stop()`` returns within its own, whatever is in flight; nothing is left
running. The silent venue is a real loopback TCP server (``silent_venue.SilentVenue``), for REST and the
websocket alike."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from tests.chaos.silent_venue import SilentVenue
from tests.chaos.truth import LogWatch
from tests.conftest import exchange_options, new_trader
from wingbeat.core.connector_base import STOP_TEARDOWN_S
from wingbeat.core.enums import OrderType
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim.protocol.server import LocalExchange

_TIMEOUT = 0.5


def _connector(
    url: str, key: str, over_ws: bool, dead_man_switch: float | None = None, request_timeout: float = _TIMEOUT
) -> HyperliquidPerpetualConnector:
    config = HyperliquidConfig(
        actions_over_websocket=over_ws,
        request_timeout=request_timeout,
        order_validity=1.0,
        ready_timeout=1.0,
        dead_man_switch=dead_man_switch,
    )
    return HyperliquidPerpetualConnector(
        Signer(key), ["BTC-USD"], network=url, config=config, reconcile_interval=0.2, status_retry_delay=0.05
    )


def _leftover(baseline: set[asyncio.Task[object]]) -> list[str]:
    current = asyncio.current_task()
    return [t.get_name() for t in asyncio.all_tasks() - baseline if t is not current and not t.done()]


async def test_start_against_a_venue_that_never_answers_fails_in_time() -> None:
    baseline = set(asyncio.all_tasks())
    async with SilentVenue(0, silent=True) as venue:
        conn = _connector(venue.base_url, new_trader().key, over_ws=True)
        started = time.monotonic()
        with pytest.raises(Exception, match="within"):
            await conn.start()
        assert time.monotonic() - started < 5.0
        assert venue.connections >= 1
        await asyncio.wait_for(conn.stop(), 5)
        assert not conn.ready
    assert not [n for n in _leftover(baseline) if "connector" in n or "hyperliquid" in n]


@pytest.mark.parametrize("over_ws", [True, False], ids=["ws", "rest"])
async def test_stop_returns_within_its_deadline_when_the_venue_goes_silent(over_ws: bool) -> None:
    trader = new_trader()
    baseline = set(asyncio.all_tasks())
    async with LocalExchange(**exchange_options()) as exchange:
        await exchange.fund(trader.address, Decimal(100_000))
        assert exchange.port is not None
        async with SilentVenue(exchange.port) as venue:
            with LogWatch() as logs:
                # requests wait long for their answer: stop's deadline must not depend on it
                conn = _connector(
                    venue.base_url, trader.key, over_ws, dead_man_switch=30.0, request_timeout=5.0
                )
                await conn.start()
                first = conn.get_order(
                    conn.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, Decimal(50_000))
                )
                assert first is not None
                await asyncio.wait_for(first.wait_until_open(), 5)
                venue.go_silent()
                cids = [
                    conn.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, Decimal(50_000 + i))
                    for i in range(3)
                ]
                conn.cancel("BTC-USD", first.client_order_id)
                await asyncio.sleep(0)  # the flushers take the queues: the requests are on the wire
                grace = 0.5
                started = time.monotonic()
                await asyncio.wait_for(conn.stop(grace=grace), 10)
                took = time.monotonic() - started
                assert took < grace + STOP_TEARDOWN_S, took
                orders = [conn.get_order(c) for c in cids]
                assert all(o is not None and o.current_state is not OrderState.PENDING_CREATE for o in orders)
            assert not [t for t in conn._tasks.tasks if not t.done()]
            assert not logs.unexpected, logs.unexpected
    assert not [n for n in _leftover(baseline) if "connector" in n or "hyperliquid" in n]
