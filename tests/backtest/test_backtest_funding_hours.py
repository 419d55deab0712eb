"""A replay across a whole hour: funding paid at the recorded rate on the position held, maker fees from
a trade printed through our bid, and --start / --end cutting the replay."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from wingbeat.backtest.market_data import parse_time
from wingbeat.backtest.recording_writer import RecordingWriter
from wingbeat.backtest.replay import run_backtest
from wingbeat.backtest.settings import parse_backtest_config
from wingbeat.backtest.summary import summarize

CONFIG = {
    "exchange": {"trading_pairs": ["BTC-USD"]},
    "engine": {"tick_interval": 1.0},
    "strategy": {
        "kind": "market_maker",
        "trading_pair": "BTC-USD",
        "order_amount": "0.01",
        "bid_spread": "0.00001",
        "ask_spread": "0.5",
        "order_refresh_time": 600.0,
        "inventory_skew": False,
    },
}


def _frame(channel: str, data: object) -> bytes:
    return orjson.dumps({"channel": channel, "data": data})


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    writer = RecordingWriter(tmp_path)
    t0 = parse_time("2025-03-11T09:59:50")
    for i in range(41):  # 09:59:50 .. 10:00:10, two a second
        t = t0 + i * 500_000_000
        ms = t // 1_000_000
        if i % 4 == 0:
            ctx = {
                "funding": "0.00003",
                "openInterest": "10",
                "prevDayPx": "100000",
                "dayNtlVlm": "0",
                "oraclePx": "100000",
                "markPx": "100000",
            }
            writer.write_frame("BTC", t, _frame("activeAssetCtx", {"coin": "BTC", "ctx": ctx}))
        book = {
            "coin": "BTC",
            "time": ms,
            "levels": [[{"px": "99999", "sz": "1", "n": 1}], [{"px": "100001", "sz": "1", "n": 1}]],
        }
        writer.write_frame("BTC", t + 1000, _frame("l2Book", book))
        if i == 10:  # 09:59:55: a sell prints through our bid at 99999
            trade = [
                {"coin": "BTC", "side": "A", "px": "99990", "sz": "0.5", "time": ms, "tid": 7, "hash": "0x0"}
            ]
            writer.write_frame("BTC", t + 2000, _frame("trades", trade))
    writer.close()
    return tmp_path


def test_funding_is_paid_on_the_hour_at_the_recorded_rate(recording: Path) -> None:
    cfg = parse_backtest_config(CONFIG)
    result = run_backtest(cfg, recording)
    summary = summarize(result, seed=0, order_latency_ms=50, market_data_latency_ms=20)
    assert summary["fills"] == 1 and summary["maker_fills"] == 1
    assert summary["position"] == "0.01000"
    assert summary["fees"] == "0.149998"  # 99999 x 0.01 x 0.015%, to the micro-USDC
    [payment] = result.funding
    assert payment.timestamp == parse_time("2025-03-11T10:00:00") / 1e9
    assert payment.funding_rate == Decimal("0.00003")
    assert summary["funding"] == "-0.030000"  # a long pays 0.01 x 100000 x 0.003%


def test_start_and_end_cut_the_replay(recording: Path) -> None:
    cfg = parse_backtest_config(CONFIG)
    result = run_backtest(
        cfg, recording, start_ns=parse_time("2025-03-11T09:59:58"), end_ns=parse_time("2025-03-11T10:00:05")
    )
    summary = summarize(result, seed=0, order_latency_ms=50, market_data_latency_ms=20)
    assert 6 < summary["simulated_seconds"] < 8
    assert summary["fills"] == 0  # the trade at 09:59:55 is before the start
    assert result.start >= parse_time("2025-03-11T09:59:58") / 1e9


def test_a_price_fall_liquidates_the_account_and_the_kill_switch_ends_the_replay(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path)
    t0 = parse_time("2025-03-11T12:00:00")
    for i in range(40):
        t = t0 + i * 500_000_000
        mid = 100_000 if i < 20 else 95_000  # a 5% fall at 12:00:10
        book = {
            "coin": "BTC",
            "time": t // 1_000_000,
            "levels": [[{"px": str(mid - 1), "sz": "1", "n": 1}], [{"px": str(mid + 1), "sz": "1", "n": 1}]],
        }
        writer.write_frame("BTC", t, _frame("l2Book", book))
        if i == 10:
            trade = [
                {"coin": "BTC", "side": "A", "px": "99990", "sz": "0.5", "time": t // 1_000_000, "tid": 1}
            ]
            writer.write_frame("BTC", t + 1000, _frame("trades", trade))
    writer.close()
    config = {
        **CONFIG,
        "strategy": {**CONFIG["strategy"], "order_amount": "0.02"},
        "backtest": {"initial_balance": "100"},
    }
    result = run_backtest(parse_backtest_config(config), tmp_path)
    summary = summarize(result, seed=0, order_latency_ms=50, market_data_latency_ms=20)
    assert summary["stop_reason"] == "kill switch: position liquidated (account)"
    assert Decimal(str(summary["position"])) == 0  # the backstop liquidator took it over
    assert summary["simulated_seconds"] < 12  # stopped at the fall, not at the end of the data
    assert Decimal(str(summary["final_equity"])) < 10
