"""Perpetual account state: positions and funding information."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

__all__ = ["FundingInfo", "Position", "PositionSide"]


class PositionSide(Enum):
    """Direction of a position; BOTH is a one-way (netted) account's single slot."""

    LONG = "LONG"
    SHORT = "SHORT"
    BOTH = "BOTH"


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """An open perpetual position. ``amount`` is signed: positive long, negative short."""

    trading_pair: str
    position_side: PositionSide
    amount: Decimal
    entry_price: Decimal
    unrealized_pnl: Decimal
    leverage: int
    liquidation_price: Decimal | None = None
    margin_used: Decimal = Decimal(0)

    @property
    def notional(self) -> Decimal:
        """Absolute size times entry price."""
        return abs(self.amount) * self.entry_price


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingInfo:
    """Funding state of one perpetual market. ``index_price`` is the venue's oracle / index price;
    ``rate`` is the current (hourly on Hyperliquid) funding rate as a fraction."""

    trading_pair: str
    index_price: Decimal
    mark_price: Decimal
    next_funding_utc_timestamp: float
    rate: Decimal
