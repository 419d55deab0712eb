"""``record`` against a local exchange over real sockets: every channel written, gaps noted on reconnect."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from wingbeat.backtest.market_data import AssetCtxUpdate, BookUpdate, DataGap, read_events
from wingbeat.backtest.recorder import RecorderStats, record

if TYPE_CHECKING:
    from wingbeat.sim import LocalExchange


async def test_record_writes_books_and_contexts_of_each_pair(
    tmp_path: Path, start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]]
) -> None:
    stop = asyncio.Event()

    def progress(stats: RecorderStats) -> None:
        if min(stats.messages["l2Book"], stats.messages["activeAssetCtx"]) >= 4:
            stop.set()

    async with start_local_exchange() as ex:
        stats = await asyncio.wait_for(
            record(
                ex.base_url,
                ["BTC-USD", "ETH-USD"],
                tmp_path,
                stop=stop,
                on_progress=progress,
                progress_interval=0.2,
            ),
            30,
        )
    assert stats.gaps == 0 and stats.files == 2
    meta = orjson.loads((tmp_path / "meta.json").read_bytes())
    assert {a["name"] for a in meta["universe"]} == {"BTC", "ETH"}
    events = list(read_events(tmp_path, ["BTC", "ETH"]))
    kinds = {(type(e).__name__, e.coin) for e in events}
    assert {
        ("BookUpdate", "BTC"),
        ("BookUpdate", "ETH"),
        ("AssetCtxUpdate", "BTC"),
        ("BboUpdate", "ETH"),
    } <= kinds
    assert [e.t_ns for e in events] == sorted(e.t_ns for e in events)
    assert any(isinstance(e, BookUpdate) and e.bids and e.asks for e in events)
    assert all(e.oracle_px > 0 for e in events if isinstance(e, AssetCtxUpdate))
    assert "recording" in stats.line() and "l2Book=" in stats.line()


async def test_record_notes_a_gap_after_the_feed_drops(
    tmp_path: Path, start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]]
) -> None:
    stop = asyncio.Event()
    seen: list[RecorderStats] = []
    dropped = False
    async with start_local_exchange() as ex:

        def progress(stats: RecorderStats) -> None:
            nonlocal dropped
            seen.append(stats)
            # once, when the feed is flowing (not at an exact report: on a busy machine l2Book may lag it)
            if not dropped and stats.messages["l2Book"] >= 2 and stats.reconnects == 0 and len(seen) >= 3:
                dropped = True
                ex.faults.drop_websockets()
            if stats.gaps >= 1 and stats.connected:
                stop.set()

        await asyncio.wait_for(
            record(
                ex.base_url, ["BTC-USD"], tmp_path, stop=stop, on_progress=progress, progress_interval=0.2
            ),
            30,
        )
    gaps = [e for e in read_events(tmp_path, ["BTC"]) if isinstance(e, DataGap)]
    assert len(gaps) == 1
    assert gaps[0].since_ns < gaps[0].t_ns


async def test_record_refuses_an_unknown_coin(tmp_path: Path, local_exchange: LocalExchange) -> None:
    try:
        await record(local_exchange.base_url, ["NOPE-USD"], tmp_path, duration=1)
    except ValueError as exc:
        assert "NOPE" in str(exc)
    else:
        raise AssertionError("an unknown coin was recorded")
    assert not (tmp_path / "meta.json").exists()


async def test_a_restarted_recorder_appends_and_notes_the_time_it_was_down(
    tmp_path: Path, start_local_exchange: Callable[..., AbstractAsyncContextManager[LocalExchange]]
) -> None:
    async with start_local_exchange() as ex:
        for _ in range(2):
            stop = asyncio.Event()

            def progress(stats: RecorderStats, stop: asyncio.Event = stop) -> None:
                if stats.messages["l2Book"] >= 2:
                    stop.set()

            await asyncio.wait_for(
                record(
                    ex.base_url, ["BTC-USD"], tmp_path, stop=stop, on_progress=progress, progress_interval=0.2
                ),
                30,
            )
    events = list(read_events(tmp_path, ["BTC"]))
    gaps = [e for e in events if isinstance(e, DataGap)]
    assert [g.reason for g in gaps] == ["recorder was not running"]
    books = [e for e in events if isinstance(e, BookUpdate)]
    assert len(books) >= 4  # both runs' lines, the second appended as a new LZ4 frame
    first_run_last_book = max(b.t_ns for b in books if b.t_ns < gaps[0].t_ns)
    assert first_run_last_book <= gaps[0].since_ns < gaps[0].t_ns  # from the first run's last line on
