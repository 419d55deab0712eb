"""The clock that drives strategies: one owned task calling ``tick(timestamp)`` at a fixed interval.

Ticks are aligned to multiples of the interval on the wall clock (as Hummingbot's clock does), so two
strategies on the same interval tick together. A tick that runs longer than the interval does not pile up:
the missed ticks are skipped and the next one starts on the next boundary. A target that raises is logged
and keeps receiving ticks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from wingbeat.core.tasks import TaskOwner

_logger = logging.getLogger("wingbeat.engine.clock")


class TickTarget(Protocol):
    """Anything the clock can drive (strategies implement it)."""

    async def tick(self, timestamp: float) -> None:
        """Called once per clock tick with the tick's wall-clock time (seconds since epoch)."""


class Clock:
    """Calls ``tick`` on every added target, every ``tick_interval`` seconds, from one named task."""

    def __init__(self, tick_interval: float = 1.0, *, time_fn: Callable[[], float] = time.time) -> None:
        if not tick_interval > 0:
            raise ValueError("tick_interval must be positive")
        self.tick_interval = tick_interval
        self._time = time_fn
        self._targets: list[TickTarget] = []
        self._tasks = TaskOwner("wingbeat.engine.clock", _logger)
        self._task: asyncio.Task[None] | None = None
        self.tick_count = 0

    def add(self, target: TickTarget) -> None:
        """Drive ``target`` from the next tick on (adding it twice does nothing)."""
        if target not in self._targets:
            self._targets.append(target)

    def remove(self, target: TickTarget) -> None:
        """Stop driving ``target``; unknown targets are ignored."""
        if target in self._targets:
            self._targets.remove(target)

    @property
    def running(self) -> bool:
        """True while the clock task runs."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the clock task (the first tick fires at once)."""
        if self.running:
            return
        self._task = self._tasks.create_task(self._run(), name="run")

    async def stop(self) -> None:
        """Cancel the clock task and wait for it; a tick in progress is cancelled."""
        self._task = None
        await self._tasks.stop()

    async def _run(self) -> None:
        while True:
            now = self._time()
            self.tick_count += 1
            for target in tuple(self._targets):
                try:
                    await target.tick(now)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    _logger.exception("tick of %r failed; it keeps ticking", target)
            # sleep to the next boundary; a long tick skips the boundaries it overran
            wait = self.tick_interval - (self._time() % self.tick_interval)
            await asyncio.sleep(wait if wait > 1e-3 else self.tick_interval)
