"""Hummingbot's order book and order-state paths, timed in Hummingbot's own venv (``make bench-peers``).

Run by ``benchmarks/vs_peers.py`` as a child process; imports only Hummingbot and the standard library.
Reads the workload as JSON on stdin, prints microseconds per item as JSON on stdout:

* ``book_us``: per diff message, ``OrderBook.apply_diffs`` (a bid and an ask ``OrderBookRow``, floats as
  Hummingbot keeps them; size 0 removes a level) then ``get_price(False)`` / ``get_price(True)`` (best bid
  and ask), on a book that got ``apply_snapshot`` of the workload's levels first (untimed);
* ``snapshot_us``: per snapshot, ``OrderBook.apply_snapshot`` of 20 + 20 ``OrderBookRow`` (replacing the book)
  then best bid and ask;
* ``order_us``: per order, ``InFlightOrder(...)`` + ``ClientOrderTracker.start_tracking_order``, an OPEN
  ``OrderUpdate`` with the exchange id through ``process_order_update`` (a task, awaited: that is how
  Hummingbot runs it), then a partial-fill ``TradeUpdate`` (``AddedToCostTradeFee``) through
  ``process_trade_update`` (it adds to the executed amount and emits the fill; Hummingbot changes the state
  only on the venue's next order update). Events go to a connector stand-in whose ``trigger_event`` does
  nothing;
* ``bytes_per_order``: tracemalloc's Python-heap growth per order with ``memory_orders`` orders tracked and
  acknowledged OPEN (as above, without the fill).
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
import tracemalloc
from decimal import Decimal
from typing import Any

from hummingbot.connector.client_order_tracker import ClientOrderTracker
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState, OrderUpdate, TradeUpdate
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_row import OrderBookRow
from hummingbot.core.data_type.trade_fee import AddedToCostTradeFee, TokenAmount

PAIR = "BTC-USD"


class _Connector:
    """What ClientOrderTracker calls on its connector in these paths."""

    current_timestamp = 1.0

    def trigger_event(self, event_tag: Any, message: Any) -> None:
        pass


def time_book(work: dict[str, Any]) -> tuple[float, list[float]]:
    """Microseconds per diff message, and the book's end state: best bid, best ask, levels a side."""
    snapshot_bids = [OrderBookRow(float(p), float(s), 1) for p, s in work["bids"]]
    snapshot_asks = [OrderBookRow(float(p), float(s), 1) for p, s in work["asks"]]
    diffs = [
        (
            [OrderBookRow(float(p), float(s), 2 + i) for p, s in bids],
            [OrderBookRow(float(p), float(s), 2 + i) for p, s in asks],
        )
        for i, (bids, asks) in enumerate(work["diffs"])
    ]

    def run() -> float:
        book = OrderBook()
        book.apply_snapshot(snapshot_bids, snapshot_asks, 1)
        gc.collect()
        t0 = time.perf_counter_ns()
        for i, (bids, asks) in enumerate(diffs):
            book.apply_diffs(bids, asks, 2 + i)
            book.get_price(False)
            book.get_price(True)
        elapsed = (time.perf_counter_ns() - t0) / 1_000 / len(diffs)
        top.append(
            [
                book.get_price(False),
                book.get_price(True),
                len(list(book.bid_entries())),
                len(list(book.ask_entries())),
            ]
        )
        return elapsed

    top: list[list[float]] = []
    run()  # warm-up
    return run(), top[-1]


def time_snapshots(work: dict[str, Any]) -> tuple[float, list[float]]:
    """Microseconds per full snapshot replacing the book, and the last best bid / ask."""
    snapshots = [
        (
            [OrderBookRow(float(p), float(s), 2 + i) for p, s in bids],
            [OrderBookRow(float(p), float(s), 2 + i) for p, s in asks],
        )
        for i, (bids, asks) in enumerate(work["snapshots"])
    ]

    def run() -> float:
        book = OrderBook()
        gc.collect()
        t0 = time.perf_counter_ns()
        for i, (bids, asks) in enumerate(snapshots):
            book.apply_snapshot(bids, asks, 2 + i)
            book.get_price(False)
            book.get_price(True)
        elapsed = (time.perf_counter_ns() - t0) / 1_000 / len(snapshots)
        top.append([book.get_price(False), book.get_price(True)])
        return elapsed

    top: list[list[float]] = []
    run()  # warm-up
    return run(), top[-1]


async def time_orders(count: int) -> float:
    price, amount, fill = Decimal("65000.5"), Decimal("0.01"), Decimal("0.004")
    fee = AddedToCostTradeFee(flat_fees=[TokenAmount("USDC", Decimal("0.001"))])

    async def run(tag: str) -> float:
        tracker = ClientOrderTracker(_Connector())  # type: ignore[arg-type]
        gc.collect()
        t0 = time.perf_counter_ns()
        for i in range(count):
            cid = f"{tag}{i}"
            tracker.start_tracking_order(
                InFlightOrder(
                    client_order_id=cid,
                    trading_pair=PAIR,
                    order_type=OrderType.LIMIT,
                    trade_type=TradeType.BUY,
                    amount=amount,
                    creation_timestamp=1.0,
                    price=price,
                )
            )
            await tracker.process_order_update(
                OrderUpdate(
                    trading_pair=PAIR,
                    update_timestamp=1.1,
                    new_state=OrderState.OPEN,
                    client_order_id=cid,
                    exchange_order_id=str(i),
                )
            )
            tracker.process_trade_update(
                TradeUpdate(
                    trade_id=f"t{tag}{i}",
                    client_order_id=cid,
                    exchange_order_id=str(i),
                    trading_pair=PAIR,
                    fill_timestamp=1.2,
                    fill_price=price,
                    fill_base_amount=fill,
                    fill_quote_amount=fill * price,
                    fee=fee,
                    is_taker=False,
                )
            )
        elapsed = (time.perf_counter_ns() - t0) / 1_000 / count
        order = tracker.fetch_order(client_order_id=f"{tag}0")
        # Hummingbot takes states from order updates only: a fill adds to the executed amount.
        assert order is not None and order.current_state is OrderState.OPEN, order.current_state
        assert order.executed_amount_base == fill, order.executed_amount_base
        return elapsed

    await run("w")  # warm-up
    return await run("o")


async def bytes_per_order(count: int) -> float:
    """Python-heap bytes per tracked order (tracemalloc): ``count`` orders tracked and acknowledged OPEN."""
    price, amount = Decimal("65000.5"), Decimal("0.01")
    tracker = ClientOrderTracker(_Connector())  # type: ignore[arg-type]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(count):
        cid = f"m{i}"
        tracker.start_tracking_order(
            InFlightOrder(
                client_order_id=cid,
                trading_pair=PAIR,
                order_type=OrderType.LIMIT,
                trade_type=TradeType.BUY,
                amount=amount,
                creation_timestamp=1.0,
                price=price,
            )
        )
        await tracker.process_order_update(
            OrderUpdate(
                trading_pair=PAIR,
                update_timestamp=1.1,
                new_state=OrderState.OPEN,
                client_order_id=cid,
                exchange_order_id=str(i),
            )
        )
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(tracker.active_orders) == count
    return (after - before) / count


def main() -> None:
    work = json.load(sys.stdin)
    book_us, top = time_book(work)
    snapshot_us, snapshot_top = time_snapshots(work)
    order_us = asyncio.run(time_orders(work["orders"]))
    memory = asyncio.run(bytes_per_order(work["memory_orders"]))
    result = {
        "book_us": book_us,
        "snapshot_us": snapshot_us,
        "top": top + snapshot_top,
        "order_us": order_us,
        "bytes_per_order": memory,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
