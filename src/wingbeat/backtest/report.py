"""``--report DIR``: summary.json, timing.json, fills.csv, orders.csv, chart.png and chart.html.

``summary.json`` is the deterministic summary (`summarize`): the same data, configuration and seed give
the same bytes. ``timing.json`` holds what the machine adds: ``wall_seconds`` and events per second.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson

from wingbeat.backtest.charts import write_html_chart, write_png_chart
from wingbeat.backtest.replay import BacktestResult
from wingbeat.backtest.summary import money, utc

__all__ = ["timing", "write_report"]


def timing(result: BacktestResult) -> dict[str, Any]:
    """Wall time of the run, events per second and the speed-up over real time."""
    wall = result.wall_seconds
    simulated = result.end - result.start
    return {
        "wall_seconds": round(wall, 3),
        "events_per_second": round(result.events / wall) if wall > 0 else None,
        "speedup": round(simulated / wall, 1) if wall > 0 else None,
    }


def _fills_csv(result: BacktestResult, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "time",
                "client_order_id",
                "exchange_order_id",
                "trade_id",
                "side",
                "price",
                "amount",
                "quote",
                "fee",
                "fee_asset",
                "liquidity",
            ]
        )
        for f in result.fills:
            writer.writerow(
                [
                    utc(f.timestamp),
                    f.client_order_id,
                    f.exchange_order_id or "",
                    f.trade_id,
                    f.trade_type.name.lower(),
                    f"{f.price:f}",
                    f"{f.amount:f}",
                    money(f.price * f.amount),
                    f"{f.fee_amount:f}",
                    f.fee_asset,
                    "taker" if f.is_taker else "maker",
                ]
            )


def _orders_csv(result: BacktestResult, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "created",
                "client_order_id",
                "exchange_order_id",
                "side",
                "type",
                "time_in_force",
                "price",
                "amount",
                "executed",
                "state",
                "last_update",
                "reason",
            ]
        )
        for o in result.orders:
            writer.writerow(
                [
                    utc(o.creation_timestamp),
                    o.client_order_id,
                    o.exchange_order_id or "",
                    o.trade_type.name.lower(),
                    o.order_type.name,
                    o.time_in_force.name,
                    f"{o.price:f}",
                    f"{o.amount:f}",
                    f"{o.executed_amount_base:f}",
                    o.current_state.name,
                    utc(o.last_update_timestamp),
                    o.reason or "",
                ]
            )


def write_report(
    result: BacktestResult, summary: dict[str, Any], out: Path, *, charts: bool = True
) -> list[Path]:
    """Write every report file into ``out`` (created); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "summary.json", out / "timing.json", out / "fills.csv", out / "orders.csv"]
    paths[0].write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    paths[1].write_bytes(orjson.dumps(timing(result), option=orjson.OPT_INDENT_2) + b"\n")
    _fills_csv(result, paths[2])
    _orders_csv(result, paths[3])
    if charts:
        title = f"{result.strategy} on {result.trading_pair}: {summary['start']} to {summary['end']}"
        png, html = out / "chart.png", out / "chart.html"
        write_png_chart(result, png, title=title)
        write_html_chart(result, html, title=title)
        paths += [png, html]
    return paths
