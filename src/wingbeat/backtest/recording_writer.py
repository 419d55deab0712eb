"""Writing a recording: one LZ4 JSON-lines file per hour and pair, in the archive's line shape.

``DIR/<YYYYMMDD>/<hour>/<COIN>.lz4`` (see `wingbeat.backtest.market_data`). A file left by an earlier
run for the same hour is appended to as a new LZ4 frame (a reader decodes concatenated frames), so a
restarted recorder resumes instead of overwriting. Files are rotated when a line of the next hour arrives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import lz4.frame
import orjson

from wingbeat.backtest.market_data import format_time

__all__ = ["STATE_FILE", "RecordingWriter", "hour_path"]

STATE_FILE = "recorder-state.json"
"""Where the recorder notes the last receive time per coin, for the gap line of a restart."""

_HOUR_NS = 3600 * 1_000_000_000


def hour_path(root: Path, coin: str, t_ns: int) -> Path:
    """The file of ``coin`` for the hour holding ``t_ns``."""
    dt = datetime.fromtimestamp(t_ns // 1_000_000_000, UTC)
    return root / dt.strftime("%Y%m%d") / str(dt.hour) / f"{coin}.lz4"


class RecordingWriter:
    """Appends frames per coin to the hour's file; `close` finishes every LZ4 frame."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[str, tuple[int, IO[bytes]]] = {}  # coin -> (hour index, file)
        self.files_written: set[Path] = set()
        self.lines = 0
        self.last_seen: dict[str, int] = {}
        """Receive time (ns) of the last line written per coin."""

    def write_frame(self, coin: str, t_ns: int, frame: bytes) -> None:
        """One websocket frame (already JSON) of ``coin`` received at ``t_ns``."""
        line = b'{"time":"' + format_time(t_ns).encode() + b'","ver_num":1,"raw":' + frame.strip() + b"}\n"
        self._file(coin, t_ns).write(line)
        self.lines += 1
        self.last_seen[coin] = t_ns

    def write_gap(self, coin: str, since_ns: int, t_ns: int, reason: str) -> None:
        """Note that the feed of ``coin`` was down from ``since_ns`` to ``t_ns``."""
        gap = orjson.dumps({"since": format_time(since_ns), "reason": reason})
        line = b'{"time":"' + format_time(t_ns).encode() + b'","ver_num":1,"gap":' + gap + b"}\n"
        self._file(coin, t_ns).write(line)
        self.lines += 1

    def flush(self) -> None:
        """Push buffered lines into the files and note the last receive time per coin in ``STATE_FILE``
        (a restarted recorder starts with a gap line from there)."""
        for _, fh in self._open.values():
            fh.flush()
        if self.last_seen:
            state = self.root / STATE_FILE
            state.write_bytes(orjson.dumps({**self.previous_last_seen(), **self.last_seen}))

    def previous_last_seen(self) -> dict[str, int]:
        """The last receive time per coin an earlier run of the recorder noted (empty if none)."""
        try:
            raw = orjson.loads((self.root / STATE_FILE).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        if not isinstance(raw, dict):
            return {}
        return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, int)}

    def close(self) -> None:
        """Close every open file (ends their LZ4 frames), noting the last receive times first."""
        self.flush()
        for _, fh in self._open.values():
            fh.close()
        self._open.clear()

    def _file(self, coin: str, t_ns: int) -> IO[bytes]:
        hour = t_ns // _HOUR_NS
        current = self._open.get(coin)
        if current is not None and current[0] == hour:
            return current[1]
        if current is not None:
            current[1].close()
        path = hour_path(self.root, coin, t_ns)
        path.parent.mkdir(parents=True, exist_ok=True)
        fh: IO[bytes] = lz4.frame.open(path, "ab")
        self._open[coin] = (hour, fh)
        self.files_written.add(path)
        return fh
