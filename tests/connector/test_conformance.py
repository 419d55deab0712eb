"""The venue-agnostic conformance suite, run against the Hyperliquid connector and the local exchange."""

from __future__ import annotations

from tests.conformance.suite import ConnectorConformanceSuite


class TestHyperliquidConformance(ConnectorConformanceSuite):
    """Every lifecycle of the suite, over real loopback sockets (fixtures in tests/connector/conftest.py)."""
