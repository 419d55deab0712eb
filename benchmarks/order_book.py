"""Order book benchmark: applying a Hyperliquid l2Book push (20 levels a side), wingbeat vs ccxt, one run.

The input is a stream of distinct, realistic l2Book websocket frames (a random-walk mid on a 0.1 tick,
sizes with five decimals) so that parsing caches see realistic hit rates rather than one repeated frame.
Rows, per message:

* ``apply_snapshot`` of already parsed ``Decimal`` levels (the book alone);
* raw bytes -> ``orjson`` -> ``Decimal(str)`` per field -> ``apply_snapshot`` (a generic parse);
* raw bytes -> ``orjson`` -> ``hyperliquid.schemas.parse_l2_book`` -> ``OrderBookSnapshot`` ->
  ``OrderBookTracker.on_snapshot`` (exactly what the connector runs per push);
* peer, measured in the same run: ccxt.pro's ``hyperliquid.handle_order_book`` (orjson, float levels,
  ``parse_order_book`` + ``OrderBook.reset``), fed the same frames;
* Hummingbot's and NautilusTrader's order books are measured beside ours (diffs + best bid/ask) by
  ``benchmarks/vs_peers.py`` (``make bench-peers``).

A second table times the queries a strategy runs per update. Target: connector path under 40 us.
Run: ``.venv/bin/python benchmarks/order_book.py [--quick]``.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import orjson

from wingbeat.core.data_sources import OrderBookSnapshot
from wingbeat.core.order_book import Level, OrderBook
from wingbeat.core.order_book_tracker import OrderBookTracker
from wingbeat.hyperliquid.schemas import parse_l2_book

TARGET_US = 40.0
LEVELS = 20
FRAMES = 500


def make_frames(count: int, seed: int = 7) -> list[bytes]:
    """Distinct l2Book websocket frames for BTC around a random-walk mid."""
    rng = random.Random(seed)
    mid_ticks = 650_000  # 65000.0 on a 0.1 tick
    frames = []
    for i in range(count):
        mid_ticks += rng.randint(-3, 3)
        bids: list[dict[str, Any]] = []
        asks: list[dict[str, Any]] = []
        for k in range(LEVELS):
            for side, ticks in ((bids, mid_ticks - 1 - k), (asks, mid_ticks + 1 + k)):
                size = Decimal(rng.randint(1, 500_000)).scaleb(-5)
                side.append({"px": str(Decimal(ticks).scaleb(-1)), "sz": str(size), "n": rng.randint(1, 9)})
        data = {"coin": "BTC", "time": 1_700_000_000_000 + 500 * i, "levels": [bids, asks]}
        frames.append(orjson.dumps({"channel": "l2Book", "data": data}))
    return frames


def generic_parse(side: Sequence[dict[str, Any]]) -> list[Level]:
    return [(Decimal(lv["px"]), Decimal(lv["sz"])) for lv in side]


class _NullSource:
    """Just enough of a data source for a tracker that is fed directly."""

    snapshot_after_reconnect = False


def candidates(frames: list[bytes]) -> dict[str, Callable[[], None]]:
    parsed = []
    for raw in frames:
        b, a = orjson.loads(raw)["data"]["levels"]
        parsed.append((generic_parse(b), generic_parse(a)))

    book = OrderBook("BTC")

    def apply_parsed() -> None:
        apply = book.apply_snapshot
        for bids, asks in parsed:
            apply(bids, asks, 1.0)

    def generic() -> None:
        apply = book.apply_snapshot
        loads = orjson.loads
        for raw in frames:
            data = loads(raw)["data"]
            b, a = data["levels"]
            apply(generic_parse(b), generic_parse(a), data["time"] / 1000)

    tracker = OrderBookTracker(_NullSource(), ["BTC"])  # type: ignore[arg-type]

    def connector_path() -> None:
        loads = orjson.loads
        on_snapshot = tracker.on_snapshot
        for raw in frames:
            l2 = parse_l2_book(loads(raw)["data"])
            on_snapshot(
                OrderBookSnapshot(trading_pair="BTC", bids=l2.bids, asks=l2.asks, timestamp=l2.time_ms / 1000)
            )

    out = {
        "apply_snapshot (parsed Decimals)": apply_parsed,
        "orjson + Decimal + apply_snapshot": generic,
        "connector path: orjson + parse_l2_book + tracker": connector_path,
    }
    peer = ccxt_candidate(frames)
    if peer is not None:
        out["peer ccxt.pro hyperliquid (floats)"] = peer
    return out


def ccxt_candidate(frames: list[bytes]) -> Callable[[], None] | None:
    try:
        import ccxt.pro as ccxtpro  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - ccxt is a dev dependency
        return None
    ex = ccxtpro.hyperliquid()
    ex.set_markets(
        [
            {
                "id": "BTC/USDC:USDC",
                "symbol": "BTC/USDC:USDC",
                "base": "BTC",
                "quote": "USDC",
                "settle": "USDC",
                "baseId": "BTC",
                "quoteId": "USDC",
                "type": "swap",
                "swap": True,
                "spot": False,
                "contract": True,
                "linear": True,
                "active": True,
                "precision": {},
                "limits": {},
                "info": {},
            }
        ]
    )

    class _Client:
        def resolve(self, *args: object) -> None:
            pass

    client = _Client()

    def run() -> None:
        loads = orjson.loads  # what ccxt's websocket client uses when orjson is installed
        handle = ex.handle_order_book
        for raw in frames:
            handle(client, loads(raw))

    return run


def us_per_item(
    fns: dict[str, Callable[[], None]], items: int, rounds: int
) -> dict[str, tuple[float, float]]:
    """(median, best) microseconds per item; rounds interleave the candidates so noise hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm up caches and imports
    gc.disable()
    try:
        for _ in range(rounds):
            for name, fn in fns.items():
                start = time.perf_counter()
                fn()
                samples[name].append((time.perf_counter() - start) / items * 1e6)
    finally:
        gc.enable()
    return {name: (statistics.median(values), min(values)) for name, values in samples.items()}


def query_candidates(frames: list[bytes]) -> dict[str, Callable[[], None]]:
    b, a = orjson.loads(frames[0])["data"]["levels"]
    book = OrderBook("BTC")
    book.apply_snapshot(generic_parse(b), generic_parse(a), 1.0)
    volume = Decimal("10")  # walks several levels
    n = 1000

    def best_and_mid() -> None:
        for _ in range(n):
            _ = book.best_bid, book.best_ask, book.mid_price

    def vwap() -> None:
        for _ in range(n):
            book.get_vwap_for_volume(True, volume)

    def price_for_volume() -> None:
        for _ in range(n):
            book.get_price_for_volume(False, volume)

    return {
        "best_bid + best_ask + mid_price": best_and_mid,
        "get_vwap_for_volume(10)": vwap,
        "get_price_for_volume(10)": price_for_volume,
    }


def main() -> None:
    quick = "--quick" in sys.argv
    rounds = 5 if quick else 21
    frames = make_frames(FRAMES)
    timed = us_per_item(candidates(frames), len(frames), rounds)
    results = {name: median for name, (median, _) in timed.items()}
    peer = results.get("peer ccxt.pro hyperliquid (floats)")

    print(
        f"l2Book push, {LEVELS}x{LEVELS} levels, {len(frames)} distinct frames, median (and best) of {rounds} rounds"
    )
    header = f"{'path':<50} {'us/msg':>8} {'best':>7} {'msgs/s':>10} {'vs ccxt':>8}"
    print(header)
    print("-" * len(header))
    for name, us in results.items():
        vs_peer = f"{peer / us:.1f}x" if peer else "n/a"
        best = timed[name][1]
        print(f"{name:<50} {us:>8.2f} {best:>7.2f} {1e6 / us:>10,.0f} {vs_peer:>8}")
    median, best = timed["connector path: orjson + parse_l2_book + tracker"]
    verdict = "meets" if best < TARGET_US else "MISSES"
    print(
        f"connector path best {best:.1f} us (median {median:.1f}) {verdict} the {TARGET_US:.0f} us target;"
        " ratios (medians) > 1x = wingbeat faster"
    )

    print()
    queries = {
        name: median for name, (median, _) in us_per_item(query_candidates(frames), 1000, rounds).items()
    }
    print(f"{'query on a 20x20 book':<50} {'us/call':>8}")
    print("-" * 59)
    for name, us in queries.items():
        print(f"{name:<50} {us:>8.3f}")


if __name__ == "__main__":
    main()
