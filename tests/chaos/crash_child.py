"""Child process of the crash-recovery test: a journaled Hyperliquid connector trading on a local exchange
until it is SIGKILLed.

Usage: ``HL_PRIVATE_KEY=... python -m tests.chaos.crash_child URL JOURNAL SEED MOMENT NTH OVER_WS``
(``WINGBEAT_CHILD_DEAD_MAN_SWITCH=SECONDS`` arms the connector's dead man's switch).
Prints ``READY`` once started, ``SENT <cid>`` for each order right before its batch is handed to the
network, ``FILL <trade id> <cid>`` for each fill event it published. ``MOMENT`` freezes the process
(synchronously: nothing else runs) at the ``NTH`` occurrence of:

- ``journaled``: the batch is committed to the journal, no byte of it sent yet;
- ``answered``: the order action reached the exchange and its answer arrived, but the connector has not read it;
- ``cancel_answered``: the same for a cancel action;
- ``filled_early``: an order is FILLED (on disk) while its fills have not arrived yet;
- ``fill_published``: inside the listener, right after the ``NTH`` fill event was received (printed);
- ``recovering``: at the first status query about orders restored from the journal (a crash during crash
  recovery, which runs in the background once ``start()`` returned); when the journal holds no unfinished
  order, at once after ``READY``;
- ``none``: never (the parent kills it at a random point instead).

After printing ``FROZEN <moment>`` the child waits for its SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

from wingbeat.core.enums import OrderType, TimeInForce, TradeType
from wingbeat.core.events import EventListener, OrderFilledEvent
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import OrderUpdate
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer

PAIRS = ("BTC-USD", "ETH-USD")


def _say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # unbuffered: what the parent reads is what happened


def _freeze(moment: str) -> None:
    _say(f"FROZEN {moment}")
    time.sleep(3600)  # blocks the event loop: the process is stopped exactly here until SIGKILL


class _FillPrinter(EventListener):
    def __init__(self, freeze_at: int | None) -> None:
        self._freeze_at = freeze_at
        self._fills = 0

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        _say(f"FILL {event.trade_id} {event.client_order_id}")
        self._fills += 1
        if self._fills == self._freeze_at:  # the listener has booked it: the crash comes right after
            _freeze("fill_published")


def connector_for(
    url: str, signer: Signer, journal: str, over_ws: bool, dead_man_switch: float | None = None
) -> HyperliquidPerpetualConnector:
    """The connector both the child and the parent's restart use (same journal, same settings)."""
    config = HyperliquidConfig(
        actions_over_websocket=over_ws, request_timeout=2.0, dead_man_switch=dead_man_switch
    )
    return HyperliquidPerpetualConnector(
        signer,
        trading_pairs=list(PAIRS),
        network=url,
        journal_path=journal,
        config=config,
        reconcile_interval=0.2,
        status_retry_delay=0.1,
    )


def _hook_journaled(conn: HyperliquidPerpetualConnector, moment: str, nth: int) -> None:
    place: Callable[[Sequence[InFlightOrder]], Awaitable[Sequence[OrderUpdate]]] = conn._place_orders
    calls = 0

    async def place_orders(orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate]:
        nonlocal calls
        calls += 1
        for order in orders:
            _say(f"SENT {order.client_order_id}")
        if moment == "journaled" and calls == nth:
            _freeze(moment)
        return await place(orders)

    conn._place_orders = place_orders  # type: ignore[method-assign]


def _hook_answered(conn: HyperliquidPerpetualConnector, moment: str, nth: int) -> None:
    calls = 0
    kind = "order" if moment == "answered" else "cancelByCloid"

    def wrap(send: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def sent_and_answered(payload: Any, **kwargs: Any) -> Any:
            nonlocal calls
            answer = await send(payload, **kwargs)
            if payload.get("action", {}).get("type") == kind:
                calls += 1
                if calls == nth:
                    _freeze(moment)
            return answer

        return sent_and_answered

    assert conn._rest is not None and conn._ws is not None
    conn._rest.exchange = wrap(conn._rest.exchange)  # type: ignore[method-assign, assignment]
    conn._ws.post_action = wrap(conn._ws.post_action)  # type: ignore[method-assign, assignment]


def _hook_recovering(conn: HyperliquidPerpetualConnector) -> None:
    query: Callable[[Sequence[InFlightOrder]], Awaitable[Sequence[Any]]] = conn._request_order_statuses

    async def frozen_query(orders: Sequence[InFlightOrder]) -> Sequence[Any]:
        _freeze("recovering")
        return await query(orders)

    conn._request_order_statuses = frozen_query  # type: ignore[method-assign]


async def _trade(conn: HyperliquidPerpetualConnector, rng: random.Random, moment: str) -> None:
    placed: list[InFlightOrder] = []
    while True:
        batch = []
        for _ in range(rng.randint(1, 4)):
            pair = rng.choice(PAIRS)
            book = conn.get_order_book(pair)
            bid, ask = book.best_bid, book.best_ask
            if bid is None or ask is None:
                continue
            mid = (bid + ask) / 2
            side = TradeType.BUY if rng.random() < 0.5 else TradeType.SELL
            size = (Decimal(rng.randint(20, 60)) / mid).quantize(Decimal("0.0001"))
            if rng.random() < 0.7:  # resting inside or near the makers' spread
                offset = Decimal(rng.randint(-1, 8)) / 10_000
                price = mid * (1 - offset) if side is TradeType.BUY else mid * (1 + offset)
                cid = conn.place_order(side, pair, size, OrderType.LIMIT, price)
            else:
                price = mid * (Decimal("1.01") if side is TradeType.BUY else Decimal("0.99"))
                cid = conn.place_order(
                    side, pair, size, OrderType.LIMIT, price, time_in_force=TimeInForce.IOC
                )
            order = conn.get_order(cid)
            if order is not None:
                batch.append(order)
        resting = [o for o in placed if o.current_state is OrderState.OPEN]
        if resting and rng.random() < 0.3:
            victim = rng.choice(resting)
            conn.cancel(victim.trading_pair, victim.client_order_id)
        placed = [o for o in placed if not o.is_done] + batch
        waiters = [asyncio.ensure_future(o.wait_until_open()) for o in batch]
        if waiters:  # pacing: the next step once this one is acknowledged (or after a while)
            _done, pending = await asyncio.wait(waiters, timeout=2.0)
            for waiter in pending:
                waiter.cancel()
        if moment == "filled_early" and any(o.is_filled and not o.is_fully_executed for o in batch):
            assert conn.journal is not None
            await conn.journal.commit()  # FILLED is on disk, its fills are not (not even received)
            _freeze(moment)


async def main(url: str, journal: str, seed: int, moment: str, nth: int, over_ws: bool) -> None:
    switch = os.environ.get("WINGBEAT_CHILD_DEAD_MAN_SWITCH")  # seconds, when the switch is armed
    conn = connector_for(
        url, Signer.from_env("HL_PRIVATE_KEY"), journal, over_ws, float(switch) if switch else None
    )
    conn.add_listener(_FillPrinter(nth if moment == "fill_published" else None))
    _hook_journaled(conn, moment, nth)
    if moment == "recovering":
        _hook_recovering(conn)
    await conn.start()
    if moment in ("answered", "cancel_answered"):
        _hook_answered(conn, moment, nth)
    _say("READY")
    if moment == "recovering":
        if conn.recovering:  # restored orders are reconciled in the background: the hook freezes there
            await conn.wait_recovered()
        _freeze("nothing to recover")
    await _trade(conn, random.Random(seed), moment)


if __name__ == "__main__":
    url_arg, journal_arg, seed_arg, moment_arg, nth_arg, over_ws_arg = sys.argv[1:7]
    asyncio.run(main(url_arg, journal_arg, int(seed_arg), moment_arg, int(nth_arg), over_ws_arg == "1"))
