"""Fixtures of the Hyperliquid connector tests: a conformance harness on the shared local exchange, a
connector factory for the harness's account and a started session of one such connector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.suite import Session
from tests.connector.harness import LocalExchangeHarness
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.sim.protocol.server import LocalExchange


@pytest.fixture
async def harness(local_exchange: LocalExchange) -> LocalExchangeHarness:
    return await LocalExchangeHarness.create(local_exchange)


@pytest.fixture
def make_connector(harness: LocalExchangeHarness) -> Any:
    def make(*, journal_path: Path | None = None, **options: Any) -> HyperliquidPerpetualConnector:
        # a short order validity: tests that lose an answer decide "never arrived" after ~2 s, not ~11 s
        config = options.pop("config", HyperliquidConfig(order_validity=1.0))
        return HyperliquidPerpetualConnector(
            harness.signer, trading_pairs=[harness.trading_pair], network=harness.exchange.base_url,
            journal_path=str(journal_path) if journal_path else None, config=config,
            status_retry_delay=0.05, **options,
        )

    return make


@pytest.fixture
async def session(make_connector: Any) -> AsyncIterator[Session]:
    s = await Session.open(make_connector)
    try:
        yield s
    finally:
        await s.close()
