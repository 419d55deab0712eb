"""The SQLite state file of ``wingbeat sim --state``: one snapshot of the venue and the log after it.

Tables: ``meta`` (format version and the venue configuration the file belongs to), ``snapshots``
(the latest whole-venue snapshot, tagged with the last log entry it includes) and ``log`` (every
input applied since: ``/exchange`` actions, admin mutations, timer ticks, each with the venue time
it was applied at). Restart = the snapshot + the log after it, replayed in order.

Durability: WAL journal with ``synchronous=NORMAL``, every entry committed before the caller
answers. A commit then reaches the operating system (not necessarily the platter), which is what
survives a SIGKILL of the process; a power cut may lose the last commits, never the file's
consistency. ``FULL`` would add an fsync per action (milliseconds) for power-loss durability that
a paper-trading venue does not need. The file is held with an exclusive lock, so a second process
cannot write to it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from wingbeat.core.errors import WingbeatError

__all__ = ["FORMAT_VERSION", "LogEntry", "StateFileError", "StateStore"]

FORMAT_VERSION = "5"  # 2: fills carry the id of the TWAP they are a slice of; 3: and their fee token
# (spot); 4: the engine holds perp dexes (HIP-3), each market its dex's clearinghouse; 5: a dex
# remembers its last setOracle

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
    last_seq INTEGER PRIMARY KEY, taken_ms INTEGER NOT NULL, state BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
    payload BLOB NOT NULL
);
"""


class StateFileError(WingbeatError):
    """The state file cannot be used: in use by another process, unreadable, or of another venue."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One logged input: ``kind`` says how to replay ``payload`` at venue time ``at_ms``."""

    seq: int
    at_ms: int
    kind: str
    payload: bytes


class StateStore:
    """An open state file. Not thread-safe: the server's event loop is its only user."""

    def __init__(self, path: str | Path, venue: str) -> None:
        """Open (or create) ``path`` for the venue described by ``venue`` (a canonical text of its
        configuration); StateFileError if the file belongs to another configuration or is locked."""
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StateFileError(f"state file {self.path}: {exc}") from None
        try:
            self._open(venue)
        except BaseException:
            self._db.close()  # never keep the lock of a file that was refused
            raise

    def _open(self, venue: str) -> None:
        try:
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # a checkpoint (WAL -> database) is the one step that fsyncs under NORMAL: every 40 MB of
            # log rather than SQLite's 4 MB halves the per-action cost on a busy disk (76 -> 40 us)
            self._db.execute("PRAGMA wal_autocheckpoint=10000")
            self._db.execute("BEGIN IMMEDIATE")  # takes the exclusive lock now, not at the first write
            self._db.executescript(_SCHEMA)  # commits
        except sqlite3.OperationalError as exc:
            raise StateFileError(
                f"state file {self.path}: {exc} (is another wingbeat sim using it?)"
            ) from None
        except sqlite3.DatabaseError as exc:
            raise StateFileError(f"state file {self.path} is not a wingbeat state file: {exc}") from None
        self._check_meta(venue)

    def _check_meta(self, venue: str) -> None:
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if not meta:
            self._db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)", [("format", FORMAT_VERSION), ("venue", venue)]
            )
            return
        if meta.get("format") != FORMAT_VERSION:
            raise StateFileError(
                f"state file {self.path} has format {meta.get('format')!r}, not {FORMAT_VERSION}"
            )
        if meta.get("venue") != venue:
            raise StateFileError(
                f"state file {self.path} belongs to a venue with other markets, seed, chain, liquidity or "
                "funding interval; start with the same options or use another file"
            )

    def latest_snapshot(self) -> tuple[int, bytes] | None:
        """``(last_seq, state)`` of the latest snapshot, or None for a new file."""
        row = self._db.execute(
            "SELECT last_seq, state FROM snapshots ORDER BY last_seq DESC LIMIT 1"
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def entries_after(self, seq: int) -> list[LogEntry]:
        """The log entries after ``seq``, oldest first."""
        rows = self._db.execute(
            "SELECT seq, at_ms, kind, payload FROM log WHERE seq > ? ORDER BY seq", (seq,)
        ).fetchall()
        return [LogEntry(int(s), int(t), str(k), bytes(p)) for s, t, k, p in rows]

    def append(self, at_ms: int, kind: str, payload: bytes) -> None:
        """Log one input and commit it (autocommit: the statement is its own transaction)."""
        self._db.execute("INSERT INTO log (at_ms, kind, payload) VALUES (?, ?, ?)", (at_ms, kind, payload))

    def write_snapshot(self, taken_ms: int, state: bytes) -> None:
        """Store ``state`` as including every entry logged so far, and drop what it replaces."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'log'").fetchone()
            last = int(row[0]) if row is not None else 0
            db.execute(
                "INSERT OR REPLACE INTO snapshots (last_seq, taken_ms, state) VALUES (?, ?, ?)",
                (last, taken_ms, state),
            )
            db.execute("DELETE FROM snapshots WHERE last_seq < ?", (last,))
            db.execute("DELETE FROM log WHERE seq <= ?", (last,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def log_length(self) -> int:
        """Entries logged since the latest snapshot."""
        return int(self._db.execute("SELECT count(*) FROM log").fetchone()[0])

    def close(self) -> None:
        """Checkpoint the WAL into the file and release the lock."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._db.close()
