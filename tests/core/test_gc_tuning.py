"""``tune_gc``: the start-up heap frozen out of later collections, young objects collected in larger batches;
a connector started in a program leaves that program's collector alone (only the program calls ``tune_gc``).

Each case runs in a child interpreter: the settings are process-wide and must not leak into the suite."""

from __future__ import annotations

from tests.engine.cli_helpers import child_json

_TUNED = """
import gc, json, weakref
import wingbeat.hyperliquid.connector  # a program's start-up heap: the connector's modules
from wingbeat.core import tune_gc
from wingbeat.core.gc_tuning import GC_THRESHOLD
before = (gc.get_freeze_count(), gc.get_threshold())
class Node:
    pass
node = Node()
node.self = node  # a reference cycle only the collector frees: collected before the freeze, not frozen
dead = weakref.ref(node)
del node
tune_gc()
print(json.dumps([before, (gc.get_freeze_count(), gc.get_threshold()), GC_THRESHOLD, dead() is None]))
"""

_EMBEDDED = """
import asyncio, gc, json
from wingbeat.sim import LocalExchange
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer

async def main():
    before = (gc.get_freeze_count(), gc.get_threshold())
    async with LocalExchange(port=0, liquidity=False) as ex:
        signer = Signer("0x" + "22" * 32)
        await ex.fund(signer.address, 1000)
        conn = HyperliquidPerpetualConnector(signer, ["BTC-USD"], ex.base_url,
                                             config=HyperliquidConfig(dead_man_switch=None))
        await conn.start()
        await conn.wait_ready(30)
        during = (gc.get_freeze_count(), gc.get_threshold())
        await conn.stop()
    print(json.dumps([before, during]))

asyncio.run(main())
"""


def test_tune_gc_freezes_what_is_alive_and_collects_young_objects_in_larger_batches() -> None:
    (frozen_before, threshold_before), (frozen_after, threshold_after), tuned, cycle_freed = child_json(_TUNED)
    assert frozen_before == 0 and threshold_before != tuned  # Python's defaults
    assert frozen_after > 10_000  # the modules of start-up
    assert threshold_after == tuned
    assert cycle_freed


def test_a_connector_started_in_a_program_leaves_its_collector_alone() -> None:
    before, during = child_json(_EMBEDDED)
    assert before == during and before[0] == 0
