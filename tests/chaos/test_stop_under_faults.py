"""``stop()`` in the middle of trouble: orders queued, requests held by the exchange past the client's deadline
(and applied later, as Hyperliquid does), answers lost, the websocket just dropped. Stop must return, leave no
task behind and no unexpected error in the logs, and a connector restarted on the same journal must end with
every order in the exchange's state."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from pathlib import Path

from tests.chaos.truth import EventLog, LogWatch, VenueRecorder, count_venue_requests, venue_state
from tests.conftest import exchange_options, new_trader
from wingbeat.core.enums import OrderType
from wingbeat.core.journal import OrderJournal
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim.protocol.faults import FaultKind
from wingbeat.sim.protocol.server import LocalExchange

_RESTING = frozenset({OrderState.OPEN, OrderState.PARTIALLY_FILLED})


def _connector(exchange: LocalExchange, key: str, journal: Path) -> HyperliquidPerpetualConnector:
    config = HyperliquidConfig(actions_over_websocket=False, request_timeout=0.5, order_validity=3.0,
                               dead_man_switch=None)
    return HyperliquidPerpetualConnector(Signer(key), ["BTC-USD"], network=exchange.base_url, journal_path=journal,
                                         config=config, reconcile_interval=0.2, status_retry_delay=0.05)


async def test_stop_while_requests_hang_then_restart_ends_in_the_venues_state(tmp_path: Path) -> None:
    exchange = LocalExchange(**exchange_options())
    requests = count_venue_requests(exchange)
    journal = tmp_path / "orders.db"
    trader = new_trader()
    async with exchange:
        await exchange.fund(trader.address, Decimal(100_000))
        recorder = VenueRecorder.attach(exchange, [trader.address])
        baseline = set(asyncio.all_tasks())
        with LogWatch() as logs:
            conn = _connector(exchange, trader.key, journal)
            await conn.start()
            resting = conn.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, Decimal(50_000))
            first = conn.get_order(resting)
            assert first is not None
            await asyncio.wait_for(first.wait_until_open(), 10)
            faults = exchange.faults
            faults.add(FaultKind.DELAY, delay_ms=1_500, count=1, action="order")  # applied after the deadline
            cids = [conn.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, Decimal(50_000 + i)) for i in range(3)]
            await asyncio.wait_for(requests.wait_until(lambda r: r.in_flight > 0), 10)  # held by the exchange
            faults.add(FaultKind.LOSE_ANSWER, count=1, action="order")  # applied, the answer lost
            cids += [conn.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, Decimal(51_000 + i)) for i in range(2)]
            await asyncio.wait_for(requests.wait_finished(2), 10)  # the first order and this one
            faults.add(FaultKind.HTTP_5XX, count=1, action="order")  # never applied
            cids += [conn.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, Decimal(52_000 + i)) for i in range(2)]
            conn.cancel("BTC-USD", resting)
            exchange.faults.drop_websockets()
            await asyncio.wait_for(conn.stop(grace=0.2), 15)
            assert not [t.get_name() for t in conn._tasks.tasks if not t.done()]
            current = asyncio.current_task()
            leftover = [t.get_name() for t in asyncio.all_tasks() - baseline if t is not current and not t.done()]
            assert not [n for n in leftover if "connector" in n or "hyperliquid" in n], leftover
            await asyncio.wait_for(requests.wait_idle(), 10)  # the held request has been applied by now
            assert faults.counters.get(FaultKind.DELAY) == faults.counters.get(FaultKind.LOSE_ANSWER) == 1
            exchange.faults.clear()

            restarted = _connector(exchange, trader.key, journal)
            log = EventLog()
            restarted.add_listener(log)
            await restarted.start()
            try:
                all_cids = [resting, *cids]
                async with asyncio.timeout(15):
                    while problems := _disagreements(restarted, exchange, trader.address, all_cids, journal):
                        await restarted.reconcile_now()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(log.changed.wait(), 0.5)
                        log.changed.clear()
            finally:
                await restarted.stop()
        assert problems == []
        assert not [c for c, n in recorder.submissions.items() if n > 1], "an order was sent twice"
        assert set(exchange.engine.accounts[trader.address].cloids) <= set(all_cids)
        assert logs.unexpected == []


def _disagreements(conn: HyperliquidPerpetualConnector, exchange: LocalExchange, user: str, cids: list[str],
                   journal: Path) -> list[str]:
    stored = {o.client_order_id: o for o in OrderJournal(journal).iter_orders()}
    problems = []
    for cid in cids:
        order = conn.get_order(cid) or stored.get(cid)
        venue = venue_state(exchange, user, cid)
        ours = order.current_state if order is not None else None
        if ours is None:
            problems.append(f"{cid} unknown")
        elif venue is None and ours not in (OrderState.FAILED, OrderState.CANCELED):
            problems.append(f"{cid} is {ours.name}, the exchange never got it")
        elif venue is OrderState.OPEN and ours not in _RESTING:
            problems.append(f"{cid} is {ours.name}, it rests on the exchange")
        elif venue is not None and venue is not OrderState.OPEN and ours is not venue:
            problems.append(f"{cid} is {ours.name}, the exchange says {venue.name}")
    return problems
