"""Recorded market data: the line format, the two folder layouts, and the replay event stream.

Every file is LZ4-framed JSON lines in the shape of Hyperliquid's public archive::

    {"time": "2025-03-11T09:00:03.296545473", "ver_num": 1,
     "raw": {"channel": "l2Book", "data": {"coin": "SOL", "time": 1741683599768, "levels": [[...], [...]]}}}

``time`` is when the frame was received (UTC, nanoseconds), ``raw`` the websocket frame as sent. A
``wingbeat record`` file holds every channel of one pair (l2Book, trades, bbo, activeAssetCtx) and may
hold ``{"time": ..., "ver_num": 1, "gap": {"reason": ..., "since": ...}}`` lines where the feed was down.

Layouts under a data folder ``DIR``:

- the archive (``s3://hyperliquid-archive``): ``DIR/market_data/<YYYYMMDD>/<hour>/l2Book/<COIN>.lz4``,
  l2Book snapshots only (about two a second);
- a recording: ``DIR/<YYYYMMDD>/<hour>/<COIN>.lz4`` (hours not zero-padded, as in the archive).

`read_events` merges the files of the requested coins into one stream ordered by receive time. Lines
that are not valid JSON or not a known channel are logged and skipped; a truncated LZ4 frame (a
recorder killed mid-write) ends that file with a warning, keeping what was read.
"""

from __future__ import annotations

import heapq
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import lz4.frame
import orjson

from wingbeat.hyperliquid.schemas import MalformedMessageError, parse_l2_book
from wingbeat.hyperliquid.schemas_ws import parse_active_asset_ctx, parse_bbo, parse_trades

__all__ = [
    "AssetCtxUpdate",
    "BboUpdate",
    "BookUpdate",
    "DataGap",
    "MarketEvent",
    "TradePrint",
    "TradesUpdate",
    "data_files",
    "file_hour_ns",
    "format_time",
    "parse_time",
    "read_events",
    "read_file",
]

_logger = logging.getLogger("wingbeat.backtest.market_data")

Level = tuple[Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class BookUpdate:
    """An l2Book snapshot of ``coin`` received at ``t_ns`` (bids descending, asks ascending)."""

    t_ns: int
    coin: str
    bids: list[Level]
    asks: list[Level]


@dataclass(frozen=True, slots=True)
class TradePrint:
    """One public trade; ``is_buy`` when the aggressor bought."""

    px: Decimal
    sz: Decimal
    is_buy: bool
    tid: int
    time_ms: int


@dataclass(frozen=True, slots=True)
class TradesUpdate:
    """The trades of one ``trades`` frame."""

    t_ns: int
    coin: str
    trades: tuple[TradePrint, ...]


@dataclass(frozen=True, slots=True)
class BboUpdate:
    """Best bid and offer of ``coin`` (``bbo``); a side is None when empty."""

    t_ns: int
    coin: str
    bid: Level | None
    ask: Level | None


@dataclass(frozen=True, slots=True)
class AssetCtxUpdate:
    """Mark, oracle and the current hourly funding rate of ``coin`` (``activeAssetCtx``)."""

    t_ns: int
    coin: str
    mark_px: Decimal
    oracle_px: Decimal
    funding: Decimal


@dataclass(frozen=True, slots=True)
class DataGap:
    """The recorder lost the feed of ``coin`` from ``since_ns`` to ``t_ns`` (it reconnected then)."""

    t_ns: int
    coin: str
    since_ns: int
    reason: str


MarketEvent = BookUpdate | TradesUpdate | BboUpdate | AssetCtxUpdate | DataGap

_SECOND_CACHE: dict[str, int] = {}


def parse_time(text: str) -> int:
    """Nanoseconds since the epoch of an ISO time with up to 9 fraction digits (UTC when naive)."""
    head, _, frac = text.partition(".")
    base = _SECOND_CACHE.get(head)
    if base is None:
        dt = datetime.fromisoformat(head)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        base = int(dt.timestamp()) * 1_000_000_000
        if len(_SECOND_CACHE) > 100_000:
            _SECOND_CACHE.clear()
        _SECOND_CACHE[head] = base
    digits = frac.rstrip("Z")
    if "+" in digits:
        digits = digits.partition("+")[0]
    return base + (int(digits.ljust(9, "0")[:9]) if digits else 0)


def format_time(t_ns: int) -> str:
    """The archive's time text of ``t_ns``: ``YYYY-MM-DDTHH:MM:SS.nnnnnnnnn`` (UTC)."""
    seconds, frac = divmod(t_ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}"


def decode_line(line: bytes, coin: str) -> MarketEvent | None:
    """The event of one file line, None for a channel the backtest does not use (pong, ...).

    Raises `MalformedMessageError` (or orjson's error) for a line it cannot read."""
    item = orjson.loads(line)
    if type(item) is not dict:
        raise MalformedMessageError("line is not an object")
    t_ns = parse_time(item["time"])
    gap = item.get("gap")
    if gap is not None:
        return DataGap(t_ns, coin, parse_time(gap["since"]), str(gap.get("reason", "")))
    raw = item["raw"]
    channel = raw.get("channel")
    data = raw.get("data")
    if channel == "l2Book":
        book = parse_l2_book(data)
        return BookUpdate(t_ns, book.coin, book.bids, book.asks)
    if channel == "trades":
        trades = parse_trades(data)
        if not trades:
            return None
        prints = tuple(TradePrint(t.px, t.sz, t.is_buy, t.tid, t.time_ms) for t in trades)
        return TradesUpdate(t_ns, trades[0].coin, prints)
    if channel == "bbo":
        bbo = parse_bbo(data)
        return BboUpdate(t_ns, bbo.coin, bbo.bid, bbo.ask)
    if channel == "activeAssetCtx":
        ctx = parse_active_asset_ctx(data)
        return AssetCtxUpdate(t_ns, ctx.coin, ctx.ctx.mark_px, ctx.ctx.oracle_px, ctx.ctx.funding)
    return None


def read_file(path: Path, coin: str) -> Iterator[MarketEvent]:
    """The events of one data file, in file order; bad lines are logged and skipped."""
    bad = 0
    try:
        with lz4.frame.open(path, "rb") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    event = decode_line(line, coin)
                except (
                    MalformedMessageError,
                    orjson.JSONDecodeError,
                    KeyError,
                    TypeError,
                    ValueError,
                    AttributeError,
                ) as exc:
                    bad += 1
                    if bad <= 5:
                        _logger.warning("%s line %d skipped: %s", path, number, exc)
                    continue
                if event is not None:
                    yield event
    except (RuntimeError, EOFError, OSError) as exc:  # lz4 raises RuntimeError on a truncated frame
        _logger.warning("%s ends early (%s): the events read so far are used", path, exc)
    if bad > 5:
        _logger.warning("%s: %d bad lines skipped in all", path, bad)


_DATE = re.compile(r"\d{8}")


def _hour_start_ns(date: str, hour: str) -> int:
    dt = datetime.strptime(date, "%Y%m%d").replace(tzinfo=UTC)
    return (int(dt.timestamp()) + int(hour) * 3600) * 1_000_000_000


def data_files(
    root: Path, coins: Iterable[str], start_ns: int | None = None, end_ns: int | None = None
) -> dict[str, list[Path]]:
    """The files of each coin under ``root`` (archive or recording layout), oldest hour first, limited to
    the hours that overlap ``[start_ns, end_ns)``."""
    archive = root / "market_data"
    base = archive if archive.is_dir() else root
    out: dict[str, list[tuple[int, Path]]] = {coin: [] for coin in coins}
    if not base.is_dir():
        return {coin: [] for coin in out}
    for day in sorted(p for p in base.iterdir() if p.is_dir() and _DATE.fullmatch(p.name)):
        for hour in (p for p in day.iterdir() if p.is_dir() and p.name.isdigit()):
            start = _hour_start_ns(day.name, hour.name)
            if (end_ns is not None and start >= end_ns) or (
                start_ns is not None and start + 3600 * 10**9 <= start_ns
            ):
                continue
            folder = hour / "l2Book" if base is archive else hour
            for coin in out:
                path = folder / f"{coin}.lz4"
                if path.is_file():
                    out[coin].append((start, path))
    return {coin: [p for _, p in sorted(files)] for coin, files in out.items()}


def file_hour_ns(path: Path) -> int | None:
    """Start of the hour a data file covers, from its ``<YYYYMMDD>/<hour>`` folders (None if not laid out so)."""
    for folder in path.parents:
        if folder.name.isdigit() and _DATE.fullmatch(folder.parent.name):
            return _hour_start_ns(folder.parent.name, folder.name)
    return None


def _coin_stream(
    paths: Sequence[Path], coin: str, start_ns: int | None, end_ns: int | None
) -> Iterator[MarketEvent]:
    for path in paths:
        for event in read_file(path, coin):
            if start_ns is not None and event.t_ns < start_ns:
                continue
            if end_ns is not None and event.t_ns >= end_ns:
                return
            yield event


def _time_of(event: MarketEvent) -> int:
    return event.t_ns


def read_events(
    root: Path, coins: Sequence[str], start_ns: int | None = None, end_ns: int | None = None
) -> Iterator[MarketEvent]:
    """Every event of ``coins`` under ``root`` within ``[start_ns, end_ns)``, ordered by receive time
    (ties: the order of ``coins``, then file order)."""
    files = data_files(root, coins, start_ns, end_ns)
    streams = [_coin_stream(files[coin], coin, start_ns, end_ns) for coin in coins]
    return heapq.merge(*streams, key=_time_of)
