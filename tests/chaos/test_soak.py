"""The chaos soak, short version for CI (``WINGBEAT_SOAK_ORDERS`` orders, default 600; ``make soak`` runs
20,000): under every injected fault, nothing is lost, sent twice or counted twice. With
``WINGBEAT_SOAK_REPORT=path`` the report is also written there as JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.soak import SoakConfig, run_soak
from wingbeat.sim.protocol.faults import OUTAGE, OUTAGE_REFUSED, SILENT_CHANNEL, WS_DROP, FaultKind

SOAK_ORDERS = int(os.environ.get("WINGBEAT_SOAK_ORDERS", "600"))
SOAK_SEED = int(os.environ.get("WINGBEAT_SOAK_SEED", "1"))


def _write(path: Path, report: dict[str, Any]) -> None:
    path.write_text(json.dumps(report, indent=2, default=str))


@pytest.mark.timeout(120 + SOAK_ORDERS // 20)  # about 50 orders/s under faults; the long run needs longer
async def test_strategy_load_under_random_faults_ends_with_zero_divergences() -> None:
    config = SoakConfig(orders=SOAK_ORDERS, seed=SOAK_SEED, settle_timeout=max(30.0, SOAK_ORDERS / 200))
    report = await run_soak(config)
    print("\n" + report.render())  # the soak report (visible with -s, as `make soak` runs it)
    if path := os.environ.get("WINGBEAT_SOAK_REPORT"):
        _write(Path(path), {"config": asdict(config), **asdict(report)})

    assert report.orders >= SOAK_ORDERS
    assert report.fills > 0 and report.cancels > 0
    assert {"FILLED", "CANCELED", "EXPIRED", "FAILED"} <= set(report.final_states), report.final_states
    injected = {kind for kind, count in report.faults.items() if count > 0}
    # every kind of fault really happened at least once in the run
    wanted = {
        WS_DROP,
        SILENT_CHANNEL,
        FaultKind.HTTP_5XX,
        FaultKind.TIMEOUT,
        FaultKind.LOSE_ANSWER,
        FaultKind.DELAY,
        FaultKind.WS_DUPLICATE,
        FaultKind.WS_REORDER,
        FaultKind.RATE_LIMIT,
    }
    wanted |= {OUTAGE, OUTAGE_REFUSED}  # the venue down, with a burst of orders sent into it
    assert wanted <= injected, f"faults never injected: {wanted - injected}"
    assert report.lost == report.stuck == report.duplicated_fills == report.duplicated_fill_events == 0, (
        report
    )
    assert report.venue_age_ms, "no order ever reached the venue"
    assert report.divergences == []
    assert report.unexpected_errors == []
    assert report.leftover_tasks == []
