"""The standalone local exchange (``run_local_exchange``, what ``wingbeat sim`` runs) sets its process's
garbage collector for serving; an embedded ``LocalExchange`` leaves the host program's collector alone.

Each case runs in a child interpreter: the settings are process-wide and must not leak into the suite."""

from __future__ import annotations

from tests.engine.cli_helpers import child_json

_STANDALONE = """
import asyncio, gc, io, json, sys
from wingbeat.core.gc_tuning import GC_THRESHOLD as SERVING_GC_THRESHOLD
from wingbeat.sim.protocol.server import run_local_exchange

class Watch(io.StringIO):
    def __init__(self, ready):
        super().__init__()
        self.ready = ready
    def write(self, text):
        if "listening on" in text:
            self.ready.set()
        return super().write(text)

async def main():
    before = (gc.get_freeze_count(), gc.get_threshold())
    ready = asyncio.Event()
    sys.stdout = Watch(ready)
    task = asyncio.create_task(run_local_exchange(port=0, liquidity=False))
    await asyncio.wait_for(ready.wait(), 30)
    after = (gc.get_freeze_count(), gc.get_threshold())
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    sys.stdout = sys.__stdout__
    print(json.dumps([before, after, SERVING_GC_THRESHOLD]))

asyncio.run(main())
"""

_EMBEDDED = """
import asyncio, gc, json
from wingbeat.sim import LocalExchange

async def main():
    before = (gc.get_freeze_count(), gc.get_threshold())
    async with LocalExchange(port=0, liquidity=False):
        during = (gc.get_freeze_count(), gc.get_threshold())
    print(json.dumps([before, during]))

asyncio.run(main())
"""


def test_the_standalone_exchange_freezes_its_start_up_heap_and_collects_young_objects_in_larger_batches() -> None:
    (frozen_before, threshold_before), (frozen_after, threshold_after), serving = child_json(_STANDALONE)
    assert frozen_before == 0
    assert threshold_before != serving  # Python's defaults
    assert frozen_after > 10_000  # the modules and markets of start-up
    assert threshold_after == serving


def test_an_embedded_exchange_leaves_the_host_programs_collector_alone() -> None:
    before, during = child_json(_EMBEDDED)
    assert before == during
    assert before[0] == 0
