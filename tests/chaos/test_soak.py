"""The chaos soak, short version for CI (``WINGBEAT_SOAK_ORDERS`` orders, default 1,000; ``make soak`` runs
20,000): under every injected fault, nothing is lost, sent twice or counted twice."""

from __future__ import annotations

import os

from tests.chaos.soak import SoakConfig, run_soak
from wingbeat.sim.faults import SILENT_CHANNEL, WS_DROP, FaultKind

SOAK_ORDERS = int(os.environ.get("WINGBEAT_SOAK_ORDERS", "1000"))


async def test_strategy_load_under_random_faults_ends_with_zero_divergences() -> None:
    report = await run_soak(SoakConfig(orders=SOAK_ORDERS, seed=int(os.environ.get("WINGBEAT_SOAK_SEED", "1")),
                                       settle_timeout=max(30.0, SOAK_ORDERS / 200)))
    print("\n" + report.render())  # the soak report (visible with -s, as `make soak` runs it)

    assert report.orders >= SOAK_ORDERS
    assert report.fills > 0 and report.cancels > 0
    injected = {kind for kind, count in report.faults.items() if count > 0}
    # every kind of fault really happened at least once in the run
    wanted = {WS_DROP, SILENT_CHANNEL, FaultKind.HTTP_5XX, FaultKind.TIMEOUT, FaultKind.LOSE_ANSWER,
              FaultKind.DELAY, FaultKind.WS_DUPLICATE, FaultKind.WS_REORDER, FaultKind.RATE_LIMIT}
    assert wanted <= injected, f"faults never injected: {wanted - injected}"
    assert report.divergences == []
    assert report.unexpected_errors == []
    assert report.leftover_tasks == []
