"""Venue time: the wall clock, or a time pinned while one input is applied or replayed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["VenueClock"]


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class VenueClock:
    """Milliseconds since the epoch, read by the engine and the action processor.

    While :meth:`pinned` is active every read answers the pinned time, so one action sees one
    time however often it reads the clock, and a replay sees exactly the time the action was
    applied at (the state file logs it).
    """

    __slots__ = ("_pinned",)

    def __init__(self) -> None:
        self._pinned: int | None = None

    def __call__(self) -> int:
        """The pinned time, else the wall clock."""
        pinned = self._pinned
        return _wall_ms() if pinned is None else pinned

    @staticmethod
    def wall() -> int:
        """The wall clock, pinned or not."""
        return _wall_ms()

    @contextmanager
    def pinned(self, at_ms: int) -> Iterator[int]:
        """Answer ``at_ms`` until the block ends (nested pins keep the outer time)."""
        if self._pinned is not None:
            yield self._pinned
            return
        self._pinned = at_ms
        try:
            yield at_ms
        finally:
            self._pinned = None
