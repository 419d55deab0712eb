"""NautilusTrader's order book and order-state paths, timed in its own venv (``make bench-peers``).

Run by ``benchmarks/vs_peers.py`` as a child process; imports only NautilusTrader and the standard library.
Reads the workload as JSON on stdin, prints microseconds per item as JSON on stdout:

* ``book_us``: per diff message, ``OrderBook.apply_deltas`` of an ``OrderBookDeltas`` holding the bid and
  the ask change (``UPDATE`` with the new size, ``DELETE`` for size 0; L2 by-price book) then
  ``best_bid_price()`` / ``best_ask_price()``, on a book that got the workload's levels as ``ADD`` deltas
  first (untimed; the delta objects are built before the clock starts, as Hummingbot's rows are);
* ``snapshot_us``: per snapshot, ``apply_deltas`` of one ``OrderBookDeltas``: a ``CLEAR`` then 20 + 20 ``ADD``
  (how a by-price book takes a full snapshot) then best bid and ask;
* ``order_us``: per order, ``LimitOrder(...)`` kept in a dict by client order id, then ``OrderSubmitted``,
  ``OrderAccepted`` (venue order id) and a partial ``OrderFilled`` built and passed to ``order.apply``
  (Nautilus' order state machine needs SUBMITTED before ACCEPTED);
* ``bytes_per_order``: tracemalloc's heap growth per order with ``memory_orders`` orders kept in the dict,
  SUBMITTED and ACCEPTED (as above, without the fill).
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc
from typing import Any

from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.data import BookOrder, OrderBookDelta, OrderBookDeltas
from nautilus_trader.model.enums import BookAction, BookType, LiquiditySide, OrderSide, OrderStatus, OrderType
from nautilus_trader.model.events import OrderAccepted, OrderFilled, OrderSubmitted
from nautilus_trader.model.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
    TraderId,
    VenueOrderId,
)
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.model.orders import LimitOrder

INSTRUMENT = InstrumentId.from_str("BTC-USD.HYPERLIQUID")


def _delta(side: OrderSide, price: str, size: str, sequence: int, add: bool = False) -> OrderBookDelta:
    removed = float(size) == 0
    action = BookAction.ADD if add else BookAction.DELETE if removed else BookAction.UPDATE
    order = BookOrder(side, Price.from_str(price), Quantity.from_str(size), 0)
    return OrderBookDelta(INSTRUMENT, action, order, 0, sequence, sequence, sequence)


def time_book(work: dict[str, Any]) -> tuple[float, list[float]]:
    """Microseconds per diff message, and the book's end state: best bid, best ask, levels a side."""
    snapshot = [_delta(OrderSide.BUY, p, s, 1, add=True) for p, s in work["bids"]]
    snapshot += [_delta(OrderSide.SELL, p, s, 1, add=True) for p, s in work["asks"]]
    diffs = []
    for i, (bids, asks) in enumerate(work["diffs"]):
        deltas = [_delta(OrderSide.BUY, p, s, 2 + i) for p, s in bids]
        deltas += [_delta(OrderSide.SELL, p, s, 2 + i) for p, s in asks]
        diffs.append(OrderBookDeltas(INSTRUMENT, deltas))

    def run() -> float:
        book = OrderBook(INSTRUMENT, BookType.L2_MBP)
        book.apply_deltas(OrderBookDeltas(INSTRUMENT, snapshot))
        gc.collect()
        t0 = time.perf_counter_ns()
        for deltas in diffs:
            book.apply_deltas(deltas)
            book.best_bid_price()
            book.best_ask_price()
        elapsed = (time.perf_counter_ns() - t0) / 1_000 / len(diffs)
        top.append(
            [
                book.best_bid_price().as_double(),
                book.best_ask_price().as_double(),
                len(book.bids()),
                len(book.asks()),
            ]
        )
        return elapsed

    top: list[list[float]] = []
    run()  # warm-up
    return run(), top[-1]


def time_snapshots(work: dict[str, Any]) -> tuple[float, list[float]]:
    """Microseconds per full snapshot replacing the book, and the last best bid / ask."""
    snapshots = []
    for i, (bids, asks) in enumerate(work["snapshots"]):
        deltas = [OrderBookDelta.clear(INSTRUMENT, 2 + i, 2 + i, 2 + i)]
        deltas += [_delta(OrderSide.BUY, p, s, 2 + i, add=True) for p, s in bids]
        deltas += [_delta(OrderSide.SELL, p, s, 2 + i, add=True) for p, s in asks]
        snapshots.append(OrderBookDeltas(INSTRUMENT, deltas))

    def run() -> float:
        book = OrderBook(INSTRUMENT, BookType.L2_MBP)
        gc.collect()
        t0 = time.perf_counter_ns()
        for deltas in snapshots:
            book.apply_deltas(deltas)
            book.best_bid_price()
            book.best_ask_price()
        elapsed = (time.perf_counter_ns() - t0) / 1_000 / len(snapshots)
        top.append([book.best_bid_price().as_double(), book.best_ask_price().as_double()])
        return elapsed

    top: list[list[float]] = []
    run()  # warm-up
    return run(), top[-1]


def time_orders(count: int) -> float:
    trader, strategy, account = TraderId("BENCH-001"), StrategyId("S-001"), AccountId("HYPERLIQUID-001")
    price, quantity, fill = Price.from_str("65000.5"), Quantity.from_str("0.01"), Quantity.from_str("0.004")
    commission = Money(0.001, USDC)

    def run(tag: str) -> float:
        orders: dict[ClientOrderId, LimitOrder] = {}
        gc.collect()
        t0 = time.perf_counter_ns()
        for i in range(count):
            cid = ClientOrderId(f"{tag}{i}")
            order = LimitOrder(trader, strategy, INSTRUMENT, cid, OrderSide.BUY, quantity, price, UUID4(), 1)
            orders[cid] = order
            order.apply(OrderSubmitted(trader, strategy, INSTRUMENT, cid, account, UUID4(), 2, 2))
            venue_id = VenueOrderId(str(i))
            order.apply(OrderAccepted(trader, strategy, INSTRUMENT, cid, venue_id, account, UUID4(), 3, 3))
            order.apply(
                OrderFilled(
                    trader,
                    strategy,
                    INSTRUMENT,
                    cid,
                    venue_id,
                    account,
                    TradeId(f"t{tag}{i}"),
                    None,
                    OrderSide.BUY,
                    OrderType.LIMIT,
                    fill,
                    price,
                    USDC,
                    commission,
                    LiquiditySide.MAKER,
                    UUID4(),
                    4,
                    4,
                )
            )
        elapsed = (time.perf_counter_ns() - t0) / 1_000 / count
        first = orders[ClientOrderId(f"{tag}0")]
        assert first.status == OrderStatus.PARTIALLY_FILLED, first
        return elapsed

    run("w")  # warm-up
    return run("o")


def bytes_per_order(count: int) -> float:
    """Heap bytes per order (tracemalloc, which sees the Cython objects' allocations): ``count`` orders kept
    in a dict by client order id with ``OrderSubmitted`` and ``OrderAccepted`` applied."""
    trader, strategy, account = TraderId("BENCH-001"), StrategyId("S-001"), AccountId("HYPERLIQUID-001")
    price, quantity = Price.from_str("65000.5"), Quantity.from_str("0.01")
    orders: dict[ClientOrderId, LimitOrder] = {}
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(count):
        cid = ClientOrderId(f"m{i}")
        order = LimitOrder(trader, strategy, INSTRUMENT, cid, OrderSide.BUY, quantity, price, UUID4(), 1)
        orders[cid] = order
        order.apply(OrderSubmitted(trader, strategy, INSTRUMENT, cid, account, UUID4(), 2, 2))
        venue_id = VenueOrderId(str(i))
        order.apply(OrderAccepted(trader, strategy, INSTRUMENT, cid, venue_id, account, UUID4(), 3, 3))
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(orders) == count
    return (after - before) / count


def main() -> None:
    work = json.load(sys.stdin)
    book_us, top = time_book(work)
    snapshot_us, snapshot_top = time_snapshots(work)
    order_us = time_orders(work["orders"])
    memory = bytes_per_order(work["memory_orders"])
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
