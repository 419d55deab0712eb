"""How fast ``wingbeat backtest`` replays one pair of archive data (target: 100x real time on 2 cores).

Writes one hour of BTC ``l2Book`` snapshots in the public archive's layout and line shape (two a second,
20 levels a side, a seeded random walk whose levels persist and change size between snapshots, so queues
move) into a temporary folder, then backtests the built-in market maker over it, end to end: LZ4
decompression, JSON and book parsing, the venue engine, the queue model, the connector, the strategy's
ticks and the report's summary. Reported per run: events/s, the speed-up over real time (simulated
seconds / wall seconds) and CPU seconds (the machine may be shared: the best of ``--repeat`` runs is
the least disturbed one; every run does the same work).

Run: ``.venv/bin/python benchmarks/backtest_replay.py [--hours H] [--repeat R]``
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lz4.frame
from rich.console import Console
from rich.table import Table

from wingbeat.backtest.replay import run_backtest
from wingbeat.backtest.settings import parse_backtest_config
from wingbeat.backtest.summary import summarize

TARGET_SPEEDUP = 100.0
START = datetime(2025, 3, 11, 9, tzinfo=UTC)
CONFIG = {
    "exchange": {"trading_pairs": ["BTC-USD"]},
    "engine": {"tick_interval": 1.0},
    "risk": {"max_position": "0.2"},
    "strategy": {
        "kind": "market_maker",
        "trading_pair": "BTC-USD",
        "order_amount": "0.01",
        "bid_spread": "0.00005",
        "ask_spread": "0.00005",
        "order_refresh_time": 5.0,
    },
    "backtest": {"seed": 1},
}


def _time_text(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000"


def write_archive_hours(root: Path, hours: int, seed: int = 15) -> int:
    """``hours`` hours of BTC snapshots under ``root/market_data``; returns the number of snapshots."""
    rng = random.Random(seed)
    mid = 82_000
    sizes_bid = [rng.uniform(0.05, 3) for _ in range(20)]
    sizes_ask = [rng.uniform(0.05, 3) for _ in range(20)]
    count = 0
    for h in range(hours):
        hour_start = START + timedelta(hours=h)
        lines = []
        for i in range(7200):
            t = hour_start + timedelta(milliseconds=i * 500 + rng.randrange(0, 40))
            step = rng.choice((-2, -1, -1, 0, 0, 0, 0, 1, 1, 2))
            mid += step
            # levels shift with the mid and change size a little; new levels appear at the far end
            if step > 0:
                sizes_bid = [rng.uniform(0.05, 3) for _ in range(step)] + sizes_bid[:-step]
                sizes_ask = sizes_ask[step:] + [rng.uniform(0.05, 3) for _ in range(step)]
            elif step < 0:
                sizes_bid = sizes_bid[-step:] + [rng.uniform(0.05, 3) for _ in range(-step)]
                sizes_ask = [rng.uniform(0.05, 3) for _ in range(-step)] + sizes_ask[:step]
            sizes_bid = [max(0.001, s + rng.gauss(0, 0.05)) for s in sizes_bid]
            sizes_ask = [max(0.001, s + rng.gauss(0, 0.05)) for s in sizes_ask]
            bids = [
                {"px": str(mid - 1 - k), "sz": f"{s:.5f}", "n": 1 + k % 7} for k, s in enumerate(sizes_bid)
            ]
            asks = [
                {"px": str(mid + 1 + k), "sz": f"{s:.5f}", "n": 1 + k % 5} for k, s in enumerate(sizes_ask)
            ]
            raw = {
                "channel": "l2Book",
                "data": {"coin": "BTC", "time": int(t.timestamp() * 1000) - 200, "levels": [bids, asks]},
            }
            lines.append(json.dumps({"time": _time_text(t), "ver_num": 1, "raw": raw}, separators=(",", ":")))
            count += 1
        path = (
            root / "market_data" / hour_start.strftime("%Y%m%d") / str(hour_start.hour) / "l2Book" / "BTC.lz4"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(lz4.frame.compress(("\n".join(lines) + "\n").encode()))
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    cfg = parse_backtest_config(CONFIG)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        snapshots = write_archive_hours(root, args.hours)
        table = Table(
            title=f"backtest replay: {args.hours} h of BTC archive data ({snapshots} snapshots), "
            "MarketMakerStrategy, 1 s ticks"
        )
        for column in ("run", "events", "wall s", "cpu s", "events/s", "speed-up", "fills", "orders"):
            table.add_column(column, justify="right")
        best = 0.0
        for run in range(1, args.repeat + 1):
            wall, cpu = time.perf_counter(), time.process_time()
            result = run_backtest(cfg, root)
            summary = summarize(result, seed=1, order_latency_ms=50, market_data_latency_ms=20)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            speedup = (result.end - result.start) / wall
            best = max(best, speedup)
            table.add_row(
                str(run),
                str(result.events),
                f"{wall:.2f}",
                f"{cpu:.2f}",
                f"{result.events / wall:,.0f}",
                f"{speedup:,.0f}x",
                str(summary["fills"]),
                str(summary["orders"]),
            )
        console.print(table)
        verdict = "meets" if best >= TARGET_SPEEDUP else "MISSES"
        console.print(
            f"best speed-up {best:,.0f}x real time: {verdict} the {TARGET_SPEEDUP:.0f}x target "
            f"(an hour replays in {3600 / best:.1f} s)"
        )


if __name__ == "__main__":
    main()
