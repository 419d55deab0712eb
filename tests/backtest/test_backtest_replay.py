"""Whole backtests on the archive fixture: deterministic summary bytes, the report files, sweeps."""

from __future__ import annotations

import csv
import logging
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from wingbeat.backtest.replay import run_backtest
from wingbeat.backtest.report import write_report
from wingbeat.backtest.settings import load_backtest_config, parse_value
from wingbeat.backtest.summary import summarize
from wingbeat.backtest.sweep import parse_sweep, run_sweep, write_sweep_table
from wingbeat.core.enums import TradeType
from wingbeat.engine.config import ConfigError

ARCHIVE = Path(__file__).parent.parent / "fixtures" / "hyperliquid_archive"

CONFIG = """
[exchange]
trading_pairs = ["BTC-USD"]

[engine]
tick_interval = 1.0

[risk]
max_position = "0.05"

[strategy]
kind = "market_maker"
trading_pair = "BTC-USD"
order_amount = "0.01"
bid_spread = "0.00002"
ask_spread = "0.00002"
order_refresh_time = 5.0

[backtest]
seed = 3
order_latency_ms = 40
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mm.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def _report(config: Path, out: Path) -> dict[str, object]:
    cfg = load_backtest_config(config)
    result = run_backtest(cfg, ARCHIVE)
    summary = summarize(
        result,
        seed=cfg.settings.seed,
        order_latency_ms=cfg.settings.order_latency_ms,
        market_data_latency_ms=cfg.settings.market_data_latency_ms,
    )
    write_report(result, summary, out, charts=False)
    return summary


def test_the_same_data_config_and_seed_give_byte_identical_summaries(config: Path, tmp_path: Path) -> None:
    first = _report(config, tmp_path / "a")
    second = _report(config, tmp_path / "b")
    assert (tmp_path / "a" / "summary.json").read_bytes() == (tmp_path / "b" / "summary.json").read_bytes()
    assert (tmp_path / "a" / "fills.csv").read_bytes() == (tmp_path / "b" / "fills.csv").read_bytes()
    assert first["fills"] and first["fills"] == second["fills"]


def test_a_replay_of_the_archive_trades_and_reports_every_field(config: Path, tmp_path: Path) -> None:
    summary = _report(config, tmp_path / "r")
    on_disk = orjson.loads((tmp_path / "r" / "summary.json").read_bytes())
    assert on_disk == summary
    for key in (
        "fills",
        "orders",
        "pnl",
        "fees",
        "funding",
        "volume",
        "max_drawdown",
        "sharpe",
        "simulated_seconds",
    ):
        assert key in summary
    assert 175 < float(str(summary["simulated_seconds"])) < 185  # three minutes of data
    assert summary["events"] == 360
    timing = orjson.loads((tmp_path / "r" / "timing.json").read_bytes())
    assert timing["wall_seconds"] > 0 and timing["events_per_second"] > 0
    with (tmp_path / "r" / "fills.csv").open(encoding="utf-8") as fh:
        fills = list(csv.DictReader(fh))
    assert len(fills) == summary["fills"]
    fees = sum(float(f["fee"]) for f in fills)
    assert abs(fees - float(str(summary["fees"]))) < 1e-6
    assert all(f["liquidity"] == "maker" for f in fills)  # the quotes rest; nothing crosses
    with (tmp_path / "r" / "orders.csv").open(encoding="utf-8") as fh:
        orders = list(csv.DictReader(fh))
    assert len(orders) == summary["orders"]
    assert {o["state"] for o in orders} <= {"FILLED", "CANCELED"}  # the stop cancelled what rested


def test_a_replay_of_the_archive_never_finds_the_position_diverged_from_the_venue(
    config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # the connector's positions follow every fill and agree with each venue state it adopts (before:
    # 177 'position diverged' warnings on this fixture, one a fill: fills never moved the position)
    with caplog.at_level(logging.WARNING):
        result = run_backtest(load_backtest_config(config), ARCHIVE)
    assert [r.getMessage() for r in caplog.records if "diverged" in r.getMessage()] == []
    assert len(result.fills) > 20
    signed = sum((f.amount if f.trade_type is TradeType.BUY else -f.amount for f in result.fills), Decimal(0))
    assert signed == result.equity[-1].position  # the venue's position after the stop


def test_risk_limits_of_the_config_apply_in_the_backtest(config: Path, tmp_path: Path) -> None:
    text = config.read_text(encoding="utf-8").replace('max_position = "0.05"', 'max_order_size = "0.001"')
    config.write_text(text, encoding="utf-8")
    summary = _report(config, tmp_path / "r")
    assert summary["orders"] == 0 and summary["fills"] == 0
    assert int(str(summary["refused_orders"])) > 0


def test_a_sweep_runs_each_point_in_its_own_process_and_writes_one_table(
    config: Path, tmp_path: Path
) -> None:
    points = parse_sweep(["strategy.bid_spread=0.00002,0.001", "strategy.order_amount=0.01"])
    assert [p.values for p in points] == [
        (("strategy.bid_spread", "0.00002"), ("strategy.order_amount", "0.01")),
        (("strategy.bid_spread", "0.001"), ("strategy.order_amount", "0.01")),
    ]
    results = run_sweep(config, ARCHIVE, points, workers=2)
    write_sweep_table(points, results, tmp_path / "sweep.csv")
    with (tmp_path / "sweep.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["strategy.bid_spread"] for r in rows] == ["0.00002", "0.001"]
    assert int(rows[0]["fills"]) > 0
    assert rows[0]["pnl"] != rows[1]["pnl"]  # a 10 bps bid is hit far less than a 0.2 bp one
    single = _report(config, tmp_path / "single")
    assert single["pnl"] == results[0]["pnl"]  # a sweep point is the same run as on its own


def test_sweep_and_config_errors_are_clear(config: Path) -> None:
    with pytest.raises(ConfigError, match=r"section\.key=value1"):
        parse_sweep(["bid_spread=1"])
    with pytest.raises(ConfigError, match="twice"):
        parse_sweep(["strategy.bid_spread=1", "strategy.bid_spread=2"])
    with pytest.raises(ConfigError, match="bid_spread"):
        run_sweep(config, ARCHIVE, parse_sweep(["strategy.bid_spread=2"]))
    with pytest.raises(ConfigError, match=r"unknown key backtest\.nope"):
        load_backtest_config(config, [("backtest.nope", 1)])
    assert (
        str(parse_value("0.0001")) == "0.0001" and parse_value("true") is True and parse_value("abc") == "abc"
    )


def test_requote_with_modify_moves_the_two_quotes_instead_of_replacing_them(config: Path, tmp_path: Path) -> None:
    wide = config.read_text(encoding="utf-8").replace('"0.00002"', '"0.002"')  # quotes that never fill
    config.write_text(wide, encoding="utf-8")
    replaced = _report(config, tmp_path / "replaced")
    modify = wide.replace("order_refresh_time = 5.0\n", "order_refresh_time = 5.0\nrequote_with_modify = true\n")
    config.write_text(modify, encoding="utf-8")
    modified = _report(config, tmp_path / "modified")
    assert int(str(replaced["orders"])) > 40  # a new pair of quotes every refresh
    assert modified["orders"] == 2 and modified["fills"] == replaced["fills"] == 0  # the same two, moved
    with (tmp_path / "modified" / "orders.csv").open(encoding="utf-8") as fh:
        assert {o["state"] for o in csv.DictReader(fh)} == {"CANCELED"}  # the stop cancelled them
