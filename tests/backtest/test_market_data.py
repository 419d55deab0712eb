"""Reading recorded market data: the archive fixture, the recording layout, bad lines, time ranges."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import lz4.frame

from wingbeat.backtest.market_data import (
    BookUpdate,
    DataGap,
    data_files,
    format_time,
    parse_time,
    read_events,
)
from wingbeat.backtest.recording_writer import RecordingWriter

ARCHIVE = Path(__file__).parent.parent / "fixtures" / "hyperliquid_archive"


def test_archive_fixture_is_read_as_l2book_snapshots_in_time_order() -> None:
    events = list(read_events(ARCHIVE, ["BTC"]))
    assert len(events) == 360
    assert all(isinstance(e, BookUpdate) and e.coin == "BTC" for e in events)
    times = [e.t_ns for e in events]
    assert times == sorted(times)
    first = events[0]
    assert isinstance(first, BookUpdate)
    assert format_time(first.t_ns).startswith("2025-03-11T09:00:00.")
    assert len(first.bids) == 20 and len(first.asks) == 20
    assert first.bids[0][0] < first.asks[0][0]
    assert all(isinstance(px, Decimal) and isinstance(sz, Decimal) for px, sz in first.bids)


def test_time_range_limits_the_events_and_the_files() -> None:
    start = parse_time("2025-03-11T09:01:00")
    end = parse_time("2025-03-11T09:02:00")
    events = list(read_events(ARCHIVE, ["BTC"], start, end))
    assert 110 <= len(events) <= 130  # two a second
    assert all(start <= e.t_ns < end for e in events)
    assert data_files(ARCHIVE, ["BTC"], parse_time("2025-03-11T10:00:00"), None) == {"BTC": []}


def test_parse_time_keeps_nanoseconds_and_round_trips() -> None:
    t = parse_time("2025-03-11T09:00:03.296545473")
    assert t % 1_000_000_000 == 296_545_473
    assert parse_time(format_time(t)) == t
    assert parse_time("2025-03-11T09:00:03Z") == t - 296_545_473


def test_recording_layout_with_gap_and_bad_lines(tmp_path: Path) -> None:
    writer = RecordingWriter(tmp_path)
    t0 = parse_time("2026-01-02T03:59:59.5")
    book = b'{"channel":"l2Book","data":{"coin":"ETH","time":1,"levels":[[{"px":"10","sz":"1","n":1}],[{"px":"11","sz":"2","n":1}]]}}'
    writer.write_frame("ETH", t0, book)
    writer.write_gap("ETH", t0 + 1, t0 + 10**9, "test outage")  # crosses into the next hour: rotated
    writer.write_frame("ETH", t0 + 2 * 10**9, book)
    writer.close()
    # a broken line and an unknown channel are skipped, the rest still read
    path = tmp_path / "20260102" / "4" / "ETH.lz4"
    with lz4.frame.open(path, "ab") as fh:
        fh.write(b"{not json\n")
        fh.write(b'{"time":"2026-01-02T04:00:03","ver_num":1,"raw":{"channel":"pong"}}\n')
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.lz4")) == [
        "20260102/3/ETH.lz4",
        "20260102/4/ETH.lz4",
    ]
    events = list(read_events(tmp_path, ["ETH"]))
    assert [type(e).__name__ for e in events] == ["BookUpdate", "DataGap", "BookUpdate"]
    gap = events[1]
    assert isinstance(gap, DataGap) and gap.since_ns == t0 + 1 and gap.reason == "test outage"


def test_truncated_file_keeps_what_was_read(tmp_path: Path) -> None:
    source = ARCHIVE / "market_data" / "20250311" / "9" / "l2Book" / "BTC.lz4"
    target = tmp_path / "market_data" / "20250311" / "9" / "l2Book" / "BTC.lz4"
    target.parent.mkdir(parents=True)
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    events = list(read_events(tmp_path, ["BTC"]))
    assert 0 < len(events) < 360
