"""record -> backtest -> report through the command line: ``wingbeat record`` against a local exchange
over real sockets, then ``wingbeat backtest`` of that recording, both as subprocesses."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from tests.engine.cli_helpers import assert_user_error, run_cli, run_cli_async

if TYPE_CHECKING:
    from wingbeat.sim import LocalExchange

CONFIG = """
[exchange]
trading_pairs = ["BTC-USD"]

[engine]
tick_interval = 0.5

[strategy]
kind = "market_maker"
trading_pair = "BTC-USD"
order_amount = "0.001"
bid_spread = "0.00001"
ask_spread = "0.00001"
order_refresh_time = 1.0

[backtest]
order_latency_ms = 30
market_data_latency_ms = 10
"""


async def test_record_then_backtest_then_report(
    tmp_path: Path, start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]]
) -> None:
    recording = tmp_path / "rec"
    async with start_local_exchange() as ex:
        recorded = await run_cli_async(
            "record",
            "--network",
            ex.base_url,
            "--pairs",
            "BTC-USD,ETH-USD",
            "--duration",
            "4",
            "--out",
            str(recording),
            limit=60,
        )
    assert recorded.code == 0, recorded.err
    assert "l2Book=" in recorded.out and "recorded into" in recorded.out
    assert sorted(p.name for p in recording.rglob("*.lz4")) == ["BTC.lz4", "ETH.lz4"]

    config = tmp_path / "mm.toml"
    config.write_text(CONFIG, encoding="utf-8")
    report = tmp_path / "report"
    result = run_cli("backtest", str(config), "--data", str(recording), "--report", str(report), timeout=120)
    assert result.code == 0, result.err
    assert "backtest summary" in result.out and "MarketMakerStrategy" in result.out
    summary = orjson.loads((report / "summary.json").read_bytes())
    assert summary["trading_pair"] == "BTC-USD"
    assert summary["orders"] > 0
    assert 2 < summary["simulated_seconds"] < 6
    assert (report / "fills.csv").read_text(encoding="utf-8").startswith("time,client_order_id")
    orders = (report / "orders.csv").read_text(encoding="utf-8").splitlines()
    assert len(orders) == summary["orders"] + 1
    assert (report / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (report / "chart.html").read_text(encoding="utf-8")
    assert "wingbeat-backtest" in html and '<script src="http' not in html  # the JS is inlined

    again = run_cli(
        "backtest",
        str(config),
        "--data",
        str(recording),
        "--report",
        str(tmp_path / "again"),
        "--no-charts",
        timeout=120,
    )
    assert again.code == 0, again.err
    assert (tmp_path / "again" / "summary.json").read_bytes() == (report / "summary.json").read_bytes()


def test_backtest_user_errors_are_one_line(tmp_path: Path) -> None:
    config = tmp_path / "mm.toml"
    config.write_text(CONFIG.replace("order_latency_ms = 30", "order_latency = 30"), encoding="utf-8")
    assert_user_error(
        run_cli("backtest", str(config), "--data", str(tmp_path)), 2, "unknown key backtest.order_latency"
    )
    assert_user_error(
        run_cli("backtest", str(config), "--data", str(tmp_path / "none")), 2, "is not a folder"
    )
    config.write_text(CONFIG, encoding="utf-8")
    assert_user_error(run_cli("backtest", str(config), "--data", str(tmp_path)), 1, "no data for BTC")


def test_backtest_sweep_through_the_cli_prints_and_writes_one_table(tmp_path: Path) -> None:
    archive = Path(__file__).parent.parent / "fixtures" / "hyperliquid_archive"
    config = tmp_path / "mm.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = run_cli(
        "backtest",
        str(config),
        "--data",
        str(archive),
        "--sweep",
        "strategy.bid_spread=0.00001,0.001",
        "--sweep",
        "strategy.order_amount=0.001,0.002",
        "--report",
        str(tmp_path / "out"),
        "--workers",
        "2",
        timeout=120,
    )
    assert result.code == 0, result.err
    assert "sweep: 4 runs" in result.out
    rows = (tmp_path / "out" / "sweep.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("strategy.bid_spread,strategy.order_amount,fills,")
    assert [r.split(",")[:2] for r in rows[1:]] == [
        ["0.00001", "0.001"],
        ["0.00001", "0.002"],
        ["0.001", "0.001"],
        ["0.001", "0.002"],
    ]
