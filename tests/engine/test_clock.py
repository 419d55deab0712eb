"""The clock ticks its targets, survives a failing target and leaves no task behind."""

import asyncio

from wingbeat.engine.clock import Clock


class _Counter:
    def __init__(self, stop_after: int) -> None:
        self.ticks: list[float] = []
        self.enough = asyncio.Event()
        self._stop_after = stop_after

    async def tick(self, timestamp: float) -> None:
        self.ticks.append(timestamp)
        if len(self.ticks) >= self._stop_after:
            self.enough.set()


class _Broken:
    calls = 0

    async def tick(self, timestamp: float) -> None:
        self.calls += 1
        raise RuntimeError("boom")


async def test_clock_ticks_every_target_in_order_and_keeps_ticking_after_a_failure() -> None:
    clock = Clock(0.01)
    broken, counter = _Broken(), _Counter(stop_after=3)
    clock.add(broken)
    clock.add(counter)
    clock.start()
    await asyncio.wait_for(counter.enough.wait(), 5)
    await clock.stop()
    assert broken.calls >= 3
    assert counter.ticks == sorted(counter.ticks)
    assert clock.tick_count >= 3


async def test_stop_cancels_the_clock_task() -> None:
    clock = Clock(0.01)
    counter = _Counter(stop_after=1)
    clock.add(counter)
    clock.start()
    await asyncio.wait_for(counter.enough.wait(), 5)
    await clock.stop()
    assert not clock.running
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("wingbeat.engine.clock")]
