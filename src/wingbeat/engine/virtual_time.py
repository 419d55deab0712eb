"""Virtual time for backtests: an asyncio event loop whose clock jumps instead of waiting, and `now()`.

`VirtualTimeEventLoop` is a selector event loop that never blocks: when nothing is ready it advances its
clock straight to the next timer. ``asyncio.sleep``, ``asyncio.wait_for`` / ``asyncio.timeout`` and every
other timer then run in simulated time, as fast as the CPU allows, and in the same order on every run.
``loop.time()`` counts seconds from the start of the run (small numbers keep float timers exact); `now()`
adds the loop's ``epoch``.

`now()` is what strategies read instead of ``time.time()``: the wall clock normally, the virtual clock
when called inside a `VirtualTimeEventLoop`. Nothing else changes for code that runs live.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from typing import Any

__all__ = ["VirtualTimeEventLoop", "VirtualTimeStalled", "now"]


class VirtualTimeStalled(RuntimeError):
    """Nothing is ready and no timer is due: a coroutine waits for something that can never happen."""


class _JumpingSelector(selectors.DefaultSelector):
    """Polls without blocking; where a real loop would sleep ``timeout`` seconds, the clock jumps."""

    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeEventLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            # only another thread could still wake the loop (call_soon_threadsafe); give it a second
            ready = super().select(1.0)
            if not ready:
                raise VirtualTimeStalled("virtual time stalled: no timer is scheduled and nothing is ready")
            return ready
        assert self.loop is not None
        self.loop.jump(timeout)
        return []


class VirtualTimeEventLoop(asyncio.SelectorEventLoop):
    """An event loop on simulated time starting at ``epoch`` (seconds since the Unix epoch).

    Run coroutines with ``loop.run_until_complete(...)``; `now()` inside them returns ``epoch`` plus the
    simulated seconds elapsed. Threads (``run_in_executor``) work but their duration is not simulated.
    """

    def __init__(self, epoch: float = 0.0) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        selector.loop = self
        self.epoch = epoch
        self._virtual = 0.0

    def time(self) -> float:
        """Simulated seconds since the loop was created."""
        return self._virtual

    def jump(self, seconds: float) -> None:
        """Move the simulated clock forward (the loop does this by itself when it would wait)."""
        if seconds > 0:
            self._virtual += seconds

    def now(self) -> float:
        """Simulated seconds since the Unix epoch."""
        return self.epoch + self._virtual


def now() -> float:
    """Seconds since the Unix epoch: simulated inside a `VirtualTimeEventLoop`, the wall clock otherwise."""
    loop: Any
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return time.time()
    if type(loop) is VirtualTimeEventLoop:
        return loop.epoch + loop._virtual
    return time.time()
