"""``wingbeat record``: Hyperliquid's public feeds of some pairs, written to hourly LZ4 files.

Subscribes to ``l2Book``, ``trades``, ``bbo`` and ``activeAssetCtx`` of every coin and writes each frame
as received, stamped with the receive time, through `RecordingWriter`. The market's ``meta`` (size
decimals, max leverage of the recorded coins) goes to ``DIR/meta.json`` for the backtest's trading rules.
When the connection drops, the websocket reconnects with backoff and resubscribes; the outage is written
into every pair's file as a gap line (``since`` = when the feed went down), never papered over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from wingbeat.backtest.recording_writer import RecordingWriter
from wingbeat.core.ws_client import ReconnectingWebSocket, WebSocketConfig
from wingbeat.hyperliquid.constants import resolve_network, trading_pair_to_coin

__all__ = ["CHANNELS", "RecorderStats", "record"]

_logger = logging.getLogger("wingbeat.backtest.recorder")

CHANNELS = ("l2Book", "trades", "bbo", "activeAssetCtx")
"""The public channels recorded for every coin."""


@dataclass(slots=True)
class RecorderStats:
    """What a recording has written so far (for the progress line)."""

    started: float = field(default_factory=time.monotonic)
    messages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHANNELS, 0))
    gaps: int = 0
    reconnects: int = 0
    connected: bool = False
    files: int = 0

    @property
    def elapsed(self) -> float:
        """Seconds since the recording started."""
        return time.monotonic() - self.started

    def line(self) -> str:
        """One progress line."""
        counts = " ".join(f"{name}={count}" for name, count in self.messages.items())
        state = "connected" if self.connected else "reconnecting"
        return (
            f"recording {self.elapsed:7.1f}s  {counts}  files={self.files} gaps={self.gaps} "
            f"reconnects={self.reconnects}  [{state}]"
        )


def _coin_of(channel: str, data: Any) -> str | None:
    if channel == "trades":
        if type(data) is list and data and type(data[0]) is dict:
            coin = data[0].get("coin")
            return coin if type(coin) is str else None
        return None
    if type(data) is dict:
        coin = data.get("coin")
        return coin if type(coin) is str else None
    return None


async def _fetch_meta(rest_url: str, coins: Sequence[str], timeout: float) -> list[dict[str, Any]]:  # noqa: ASYNC109
    async with (
        aiohttp.ClientSession() as session,
        asyncio.timeout(timeout),
        session.post(f"{rest_url}/info", json={"type": "meta"}) as response,
    ):
        response.raise_for_status()
        meta = await response.json(loads=orjson.loads)
    universe = meta.get("universe", []) if isinstance(meta, dict) else []
    found = [dict(a) for a in universe if isinstance(a, dict) and a.get("name") in coins]
    missing = sorted(set(coins) - {a["name"] for a in found})
    if missing:
        raise ValueError(f"the exchange does not list {', '.join(missing)}")
    return found


def _write_meta(out: Path, universe: list[dict[str, Any]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "meta.json").write_bytes(orjson.dumps({"universe": universe}, option=orjson.OPT_INDENT_2))


async def record(
    network: str,
    trading_pairs: Sequence[str],
    out: Path,
    *,
    duration: float | None = None,
    stop: asyncio.Event | None = None,
    on_progress: Callable[[RecorderStats], None] | None = None,
    progress_interval: float = 1.0,
    connect_timeout: float = 15.0,
) -> RecorderStats:
    """Record the public feeds of ``trading_pairs`` into ``out`` until ``duration`` elapses or ``stop``.

    Raises ValueError for an unknown network or coin, TimeoutError when the first connection does not
    come up within ``connect_timeout``."""
    rest_url, ws_url, _ = resolve_network(network)
    coins = [trading_pair_to_coin(p) for p in trading_pairs]
    if not coins:
        raise ValueError("no trading pairs to record")
    meta = await _fetch_meta(rest_url, coins, connect_timeout)
    _write_meta(out, meta)
    writer = RecordingWriter(out)
    stats = RecorderStats()
    down_since: list[int] = []  # when the connection was lost, until the next connect notes the gap
    earlier = {coin: t for coin, t in writer.previous_last_seen().items() if coin in coins}
    client: ReconnectingWebSocket

    def on_message(frame: bytes) -> None:
        received = time.time_ns()
        try:
            message = orjson.loads(frame)
        except orjson.JSONDecodeError:
            return  # the connect banner or a broken frame: nothing a backtest reads
        if type(message) is not dict:
            return
        channel = message.get("channel")
        if channel not in stats.messages:
            return
        coin = _coin_of(channel, message.get("data"))
        if coin is None or coin not in coins:
            _logger.debug("frame of %s without a recorded coin skipped", channel)
            return
        writer.write_frame(coin, received, frame)
        stats.messages[channel] += 1

    async def on_connected() -> None:
        if earlier:  # an earlier run stopped (or died): the time in between is a gap too
            now = time.time_ns()
            for coin, since in earlier.items():
                writer.write_gap(coin, since, now, "recorder was not running")
            earlier.clear()
            stats.gaps += 1
        if down_since:
            now = time.time_ns()
            for coin in coins:
                writer.write_gap(coin, down_since[0], now, "websocket disconnected; resubscribed")
            down_since.clear()
            stats.gaps += 1
            stats.reconnects += 1
        for coin in coins:
            for channel in CHANNELS:
                await client.send(
                    orjson.dumps({"method": "subscribe", "subscription": {"type": channel, "coin": coin}})
                )
        stats.connected = True

    def on_disconnected(error: BaseException | None) -> None:
        stats.connected = False
        if stopping:
            return
        if not down_since:
            down_since.append(time.time_ns())
        _logger.warning("recording feed lost (%r); reconnecting", error)

    client = ReconnectingWebSocket(
        ws_url,
        on_message=on_message,
        on_connected=on_connected,
        on_disconnected=on_disconnected,
        config=WebSocketConfig(heartbeat_interval=20.0, stale_timeout=30.0, backoff_max=10.0),
        name="wingbeat.backtest.recorder",
    )
    stop = stop or asyncio.Event()
    deadline = None if duration is None else time.monotonic() + duration
    stopping = False
    await client.start()
    try:
        await client.wait_connected(connect_timeout)
        while not stop.is_set():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            wait = progress_interval if remaining is None else min(progress_interval, remaining)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            writer.flush()
            stats.files = len(writer.files_written)
            if on_progress is not None:
                on_progress(stats)
    finally:
        stopping = True
        await client.stop()
        writer.close()
        stats.files = len(writer.files_written)
    return stats
