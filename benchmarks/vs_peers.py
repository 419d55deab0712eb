"""wingbeat beside Hummingbot and NautilusTrader, measured in one run (``make bench-peers``).

The peers are built by ``make bench-peers`` into their own venvs (``.venv-peers/hummingbot``: the PyPI sdist
compiled with Cython and gcc; ``.venv-peers/nautilus``: the PyPI wheel). Each round runs our path here, then
each peer's script under ``benchmarks/peers/`` as a child process in the peer's venv, all fed the same
workload as JSON (rounds alternate, so load on the machine hits every side alike); the table gives medians.
A peer whose venv is missing or whose script fails is left out of the table, with the reason.

Rows (the peer scripts' docstrings say what the peer does on its side):

* order book: a 20x20 book (untimed snapshot), then per diff message one bid and one ask level changed
  (15% of them removed), then best bid and best ask read. Ours: ``OrderBook.apply_diff`` with ``Decimal``
  levels, ``best_bid`` / ``best_ask``.
* order book snapshots: a full 20x20 book replacing the previous one (what a Hyperliquid l2Book push is), then
  best bid and best ask read; 500 distinct books on a random-walk mid. Ours: ``OrderBook.apply_snapshot``.
* memory: tracemalloc's heap growth per order with 20,000 orders tracked and acknowledged OPEN (measured
  once, outside the timed rounds). Ours: ``InFlightOrder`` + ``start_tracking`` + the OPEN update.
* order state: per order, an order created and tracked, an OPEN update with the exchange id, a partial fill.
  Ours: ``InFlightOrder`` + ``ClientOrderTracker.start_tracking``, ``process_order_update(OrderUpdate)``,
  ``process_trade_update(TradeUpdate)`` (events go to a publisher with no subscribers).

Run: ``.venv/bin/python benchmarks/vs_peers.py [--quick]``.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

from wingbeat.core import (
    ClientOrderTracker,
    InFlightOrder,
    OrderBook,
    OrderState,
    OrderType,
    OrderUpdate,
    TradeType,
    TradeUpdate,
)

ROOT = Path(__file__).resolve().parent.parent
PEERS = {
    "Hummingbot": (ROOT / ".venv-peers/hummingbot/bin/python", ROOT / "benchmarks/peers/hummingbot_paths.py"),
    "NautilusTrader": (ROOT / ".venv-peers/nautilus/bin/python", ROOT / "benchmarks/peers/nautilus_paths.py"),
}
LEVELS = 20
DIFFS = 2_000
SNAPSHOTS = 500
MEMORY_ORDERS = 20_000
ORDERS = 2_000
PAIR = "BTC-USD"


def make_workload(seed: int = 5) -> dict[str, Any]:
    """A 20x20 BTC book on a 1.0 tick around 65,000 and ``DIFFS`` messages each changing one level a side."""
    rng = random.Random(seed)

    def size() -> str:
        return str(Decimal(rng.randint(1, 500_000)).scaleb(-5))

    bids = [[f"{65_000 - 1 - k}.0", size()] for k in range(LEVELS)]
    asks = [[f"{65_000 + 1 + k}.0", size()] for k in range(LEVELS)]
    diffs = []
    for _ in range(DIFFS):
        bid_size = "0.00000" if rng.random() < 0.15 else size()
        ask_size = "0.00000" if rng.random() < 0.15 else size()
        diffs.append(
            [
                [[f"{65_000 - rng.randint(1, LEVELS)}.0", bid_size]],
                [[f"{65_000 + rng.randint(1, LEVELS)}.0", ask_size]],
            ]
        )
    snapshots = []
    mid = 65_000
    for _ in range(SNAPSHOTS):
        mid += rng.randint(-2, 2)
        snapshots.append(
            [
                [[f"{mid - 1 - k}.0", size()] for k in range(LEVELS)],
                [[f"{mid + 1 + k}.0", size()] for k in range(LEVELS)],
            ]
        )
    return {
        "bids": bids,
        "asks": asks,
        "diffs": diffs,
        "snapshots": snapshots,
        "orders": ORDERS,
        "memory_orders": MEMORY_ORDERS,
    }


def time_book(work: dict[str, Any]) -> tuple[float, list[float]]:
    """Microseconds per diff message, and the book's end state: best bid, best ask, levels a side."""
    snapshot_bids = [(Decimal(p), Decimal(s)) for p, s in work["bids"]]
    snapshot_asks = [(Decimal(p), Decimal(s)) for p, s in work["asks"]]
    diffs = [
        ([(Decimal(p), Decimal(s)) for p, s in b], [(Decimal(p), Decimal(s)) for p, s in a])
        for b, a in work["diffs"]
    ]

    def run() -> float:
        book = OrderBook(PAIR)
        book.apply_snapshot(snapshot_bids, snapshot_asks, 1.0)
        gc.collect()
        t0 = time.perf_counter_ns()
        for bids, asks in diffs:
            book.apply_diff(bids, asks, 2.0)
            _ = book.best_bid, book.best_ask
        elapsed = (time.perf_counter_ns() - t0) / 1_000 / len(diffs)
        top.append(
            [
                float(book.best_bid or 0),
                float(book.best_ask or 0),
                len(list(book.bids())),
                len(list(book.asks())),
            ]
        )
        return elapsed

    top: list[list[float]] = []
    run()  # warm-up, as the peers do
    return run(), top[-1]


def time_snapshots(work: dict[str, Any]) -> tuple[float, list[float]]:
    """Microseconds per full 20x20 snapshot replacing the book, and the last best bid / ask."""
    snapshots = [
        ([(Decimal(p), Decimal(s)) for p, s in b], [(Decimal(p), Decimal(s)) for p, s in a])
        for b, a in work["snapshots"]
    ]

    def run() -> float:
        book = OrderBook(PAIR)
        gc.collect()
        t0 = time.perf_counter_ns()
        for bids, asks in snapshots:
            book.apply_snapshot(bids, asks, 1.0)
            _ = book.best_bid, book.best_ask
        elapsed = (time.perf_counter_ns() - t0) / 1_000 / len(snapshots)
        top.append([float(book.best_bid or 0), float(book.best_ask or 0)])
        return elapsed

    top: list[list[float]] = []
    run()
    return run(), top[-1]


def time_orders(count: int) -> float:
    price, amount, fill = Decimal("65000.5"), Decimal("0.01"), Decimal("0.004")

    def run(tag: str) -> float:
        tracker = ClientOrderTracker(completed_cache_size=count)
        gc.collect()
        t0 = time.perf_counter_ns()
        for i in range(count):
            cid = f"{tag}{i}"
            tracker.start_tracking(
                InFlightOrder(
                    client_order_id=cid,
                    trading_pair=PAIR,
                    trade_type=TradeType.BUY,
                    order_type=OrderType.LIMIT,
                    amount=amount,
                    price=price,
                    creation_timestamp=1.0,
                )
            )
            tracker.process_order_update(
                OrderUpdate(
                    client_order_id=cid,
                    trading_pair=PAIR,
                    update_timestamp=1.1,
                    new_state=OrderState.OPEN,
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
                    fee_asset="USDC",
                    fee_amount=Decimal("0.001"),
                    is_taker=False,
                )
            )
        elapsed = (time.perf_counter_ns() - t0) / 1_000 / count
        order = tracker.get_order(f"{tag}0")
        assert order is not None and order.current_state is OrderState.PARTIALLY_FILLED, order
        return elapsed

    run("w")
    return run("o")


def bytes_per_order(count: int) -> float:
    """Python-heap bytes per tracked order (tracemalloc): ``count`` orders tracked and acknowledged OPEN."""
    price, amount = Decimal("65000.5"), Decimal("0.01")
    tracker = ClientOrderTracker(completed_cache_size=count)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(count):
        cid = f"m{i}"
        tracker.start_tracking(
            InFlightOrder(
                client_order_id=cid,
                trading_pair=PAIR,
                trade_type=TradeType.BUY,
                order_type=OrderType.LIMIT,
                amount=amount,
                price=price,
                creation_timestamp=1.0,
            )
        )
        tracker.process_order_update(
            OrderUpdate(
                client_order_id=cid,
                trading_pair=PAIR,
                update_timestamp=1.1,
                new_state=OrderState.OPEN,
                exchange_order_id=str(i),
            )
        )
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(tracker.active_orders) == count
    return (after - before) / count


def run_peer(python: Path, script: Path, payload: bytes) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), str(script)], input=payload, capture_output=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace").strip().splitlines()[-1:])
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def verdict(ratio: float) -> str:
    """``ratio`` is the peer's time over ours."""
    return f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"


def main() -> None:
    rounds = 3 if "--quick" in sys.argv else 7
    work = make_workload()
    payload = json.dumps(work).encode()
    peers = {}
    for name, (python, script) in PEERS.items():
        if python.exists():
            peers[name] = (python, script)
        else:
            print(f"{name}: not built ({python.relative_to(ROOT)} missing; run `make bench-peers`), left out")
    samples: dict[str, dict[str, list[float]]] = {
        n: {"book_us": [], "snapshot_us": [], "order_us": []} for n in ["wingbeat", *peers]
    }
    last_bytes: dict[str, float] = {}
    for _ in range(rounds):
        book_us, top = time_book(work)
        snapshot_us, snapshot_top = time_snapshots(work)
        top += snapshot_top
        samples["wingbeat"]["book_us"].append(book_us)
        samples["wingbeat"]["snapshot_us"].append(snapshot_us)
        samples["wingbeat"]["order_us"].append(time_orders(ORDERS))
        for name, (python, script) in list(peers.items()):
            try:
                result = run_peer(python, script, payload)
            except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
                print(f"{name}: failed ({exc}), left out")
                del peers[name], samples[name]
                continue
            # The same book at the end on both sides, or the row would compare different work.
            if [round(x, 6) for x in result["top"]] != top:
                print(f"{name}: book ends as {result['top']}, ours as {top}: left out")
                del peers[name], samples[name]
                continue
            last_bytes[name] = result["bytes_per_order"]
            for key in ("book_us", "snapshot_us", "order_us"):
                samples[name][key].append(result[key])

    memory = {"wingbeat": bytes_per_order(MEMORY_ORDERS)}
    memory.update({n: last_bytes[n] for n in peers})
    medians = {n: {k: statistics.median(v) for k, v in per.items()} for n, per in samples.items()}
    rows = [
        ("book_us", f"order book: {DIFFS:,} diffs (1 bid + 1 ask level) + best bid/ask, per diff"),
        ("snapshot_us", f"order book: {SNAPSHOTS} distinct 20x20 snapshots + best bid/ask, per snapshot"),
        ("order_us", f"order state: create + track + OPEN + partial fill, {ORDERS:,} orders, per order"),
    ]
    print(f"median of {rounds} alternating rounds; peers in their own venvs as child processes; µs per item")
    names = ["wingbeat", *peers]
    header = f"{'measure':<72}" + "".join(f"{n:>16}" for n in names) + ("   wingbeat is" if peers else "")
    print(header)
    print("-" * len(header))
    for key, label in rows:
        ours = medians["wingbeat"][key]
        ratios = ", ".join(f"vs {n}: {verdict(medians[n][key] / ours)}" for n in peers)
        print(f"{label:<72}" + "".join(f"{medians[n][key]:>16.2f}" for n in names) + f"   {ratios}")
    label = f"memory per tracked OPEN order ({MEMORY_ORDERS:,} orders, tracemalloc), bytes"
    smaller = ", ".join(f"vs {n}: {memory[n] / memory['wingbeat']:.1f}x smaller" for n in peers)
    print(f"{label:<72}" + "".join(f"{memory[n]:>16,.0f}" for n in names) + f"   {smaller}")


if __name__ == "__main__":
    main()
