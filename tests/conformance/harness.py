"""What the conformance suite needs from a venue, independent of which venue it is.

A connector proves itself by passing ``ConnectorConformanceSuite`` against a harness for its venue: the
harness drives the *other side* of the market (a counterparty that takes or provides liquidity) and the
venue's clock (funding, liquidation), so every scenario can be produced on demand without sleeping.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from wingbeat.core.connector_base import PerpetualConnectorBase


class ConnectorFactory(Protocol):
    """Builds an unstarted connector for the harness's account; ``journal_path`` None = memory only."""

    def __call__(self, *, journal_path: Path | None = None) -> PerpetualConnectorBase: ...


class ExchangeHarness(Protocol):
    """Counterparty and venue controls for one test market, driven by the suite."""

    trading_pair: str
    """A pair the connector trades, e.g. ``"BTC-USD"``."""

    reference_price: Decimal
    """A price around which the suite places orders (the venue's mid or mark). The suite uses whole-number
    prices within a few percent of it, one unit apart: they must be valid prices on the venue."""

    order_size: Decimal
    """A size valid on the venue whose notional at ``reference_price`` is above the minimum."""

    async def provide_liquidity(self, *, is_buy: bool, price: Decimal, size: Decimal) -> None:
        """A counterparty rests an order (the suite then takes it with a market or IOC order)."""

    async def take_liquidity(self, *, is_buy: bool, price: Decimal, size: Decimal) -> None:
        """A counterparty sends an IOC order that trades against our resting order."""

    async def pay_funding(self) -> None:
        """Make the venue settle one funding interval now (our account must hold a position)."""

    async def liquidate_account(self) -> None:
        """Move the mark far enough against our position that the venue liquidates it."""

    async def position_size(self) -> Decimal:
        """Our signed position in ``trading_pair`` as the venue sees it (positive = long)."""

    async def leverage(self) -> int:
        """Our leverage in ``trading_pair`` as the venue sees it."""

    async def open_order_count(self) -> int:
        """How many of our orders rest on the venue."""


HarnessFactory = Callable[[], Awaitable[ExchangeHarness]]
