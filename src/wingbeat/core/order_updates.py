"""The two value objects that carry exchange news into the order tracker: order state changes and fills."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from wingbeat.core.frozen_init import fast_frozen_init
from wingbeat.core.order_state import OrderState

__all__ = ["OrderUpdate", "TradeUpdate"]


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdate:
    """The exchange (or our own submission logic) says an order is now in ``new_state``."""

    client_order_id: str
    trading_pair: str
    update_timestamp: float  # seconds since epoch
    new_state: OrderState
    exchange_order_id: str | None = None
    reason: str | None = None  # failure / cancel reason, human-readable
    filled_amount: Decimal | None = None
    """The venue's cumulative filled base amount as of this update, when it says so (None: not said).
    Fills beyond what we counted are then awaited and fetched if they do not come."""


@fast_frozen_init
@dataclass(frozen=True, slots=True, kw_only=True)
class TradeUpdate:
    """One fill of an order. ``trade_id`` is unique per fill on the venue: fills are counted once by it."""

    trade_id: str
    client_order_id: str
    exchange_order_id: str | None
    trading_pair: str
    fill_timestamp: float
    fill_price: Decimal
    fill_base_amount: Decimal
    fill_quote_amount: Decimal
    fee_asset: str
    fee_amount: Decimal  # negative = rebate
    is_taker: bool
