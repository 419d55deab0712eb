"""Parameter sweeps: ``--sweep strategy.bid_spread=0.0001,0.0002 --sweep strategy.order_amount=0.01,0.02``.

The grid is the cartesian product of every ``key=v1,v2,...`` given, in the order given. Each point is a
full backtest in its own process (a `ProcessPoolExecutor` over all cores by default), so points run in
parallel and never share state; each is as deterministic as a single run. The results come back in grid
order as one table (``sweep.csv``): the swept values, then the summary's numbers.
"""

from __future__ import annotations

import csv
import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wingbeat.backtest.settings import load_backtest_config, parse_value
from wingbeat.engine.config import ConfigError

__all__ = ["SWEEP_COLUMNS", "SweepPoint", "parse_sweep", "run_sweep", "write_sweep_table"]

SWEEP_COLUMNS = ("fills", "orders", "volume", "fees", "funding", "pnl", "max_drawdown", "sharpe", "position")
"""The summary fields shown per grid point."""


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One point of the grid: ``(key, raw value text)`` pairs."""

    values: tuple[tuple[str, str], ...]


def parse_sweep(items: Sequence[str]) -> list[SweepPoint]:
    """The grid of ``key=v1,v2`` items; `ConfigError` for a malformed item or a key given twice."""
    axes: list[list[tuple[str, str]]] = []
    keys: set[str] = set()
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        texts = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or "." not in key or not texts:
            raise ConfigError(f"--sweep takes section.key=value1,value2,..., got {item!r}")
        if key in keys:
            raise ConfigError(f"--sweep names {key} twice")
        keys.add(key)
        axes.append([(key, text) for text in texts])
    return [SweepPoint(tuple(combo)) for combo in itertools.product(*axes)]


def _run_point(
    config: str, data: str, point: SweepPoint, start_ns: int | None, end_ns: int | None
) -> dict[str, Any]:
    """One grid point in a worker process: its summary plus wall time."""
    from wingbeat.backtest.replay import run_backtest
    from wingbeat.backtest.report import timing
    from wingbeat.backtest.summary import summarize

    cfg = load_backtest_config(config, [(k, parse_value(v)) for k, v in point.values])
    result = run_backtest(cfg, Path(data), start_ns=start_ns, end_ns=end_ns)
    s = cfg.settings
    summary = summarize(
        result,
        seed=s.seed,
        order_latency_ms=s.order_latency_ms,
        market_data_latency_ms=s.market_data_latency_ms,
    )
    return {**summary, **timing(result)}


def run_sweep(
    config: Path,
    data: Path,
    points: Sequence[SweepPoint],
    *,
    start_ns: int | None = None,
    end_ns: int | None = None,
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every point (validated first, in this process, so a bad value fails before any work starts);
    returns one summary per point, in grid order."""
    for point in points:
        load_backtest_config(config, [(k, parse_value(v)) for k, v in point.values])
    workers = max(1, min(workers or os.cpu_count() or 1, len(points)))
    results: list[dict[str, Any] | None] = [None] * len(points)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {
            pool.submit(_run_point, str(config), str(data), point, start_ns, end_ns): i
            for i, point in enumerate(points)
        }
        for done, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = future.result()
            if on_done is not None:
                on_done(done)
    return [r for r in results if r is not None]


def write_sweep_table(points: Sequence[SweepPoint], results: Sequence[dict[str, Any]], path: Path) -> None:
    """``sweep.csv``: one row per point, the swept keys first."""
    keys = [k for k, _ in points[0].values] if points else []
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([*keys, *SWEEP_COLUMNS])
        for point, result in zip(points, results, strict=True):
            writer.writerow([v for _, v in point.values] + [result[c] for c in SWEEP_COLUMNS])
