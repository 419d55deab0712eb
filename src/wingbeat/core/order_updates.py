"""The value objects that carry exchange news into the order tracker: order state changes and fills."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from wingbeat.core.frozen_init import fast_frozen_init
from wingbeat.core.order_state import OrderState

__all__ = ["OrderOpened", "OrderUpdate", "TradeUpdate"]

_ZERO = Decimal(0)


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


class OrderOpened(NamedTuple):
    """The exchange says an order rests under ``exchange_order_id`` with nothing filled: the news every order of
    a burst gets once. It means exactly :meth:`as_update`; a tuple because it is built once per order on the
    busiest path, where an :class:`OrderUpdate` costs several times as much to make."""

    client_order_id: str
    trading_pair: str
    exchange_order_id: str
    update_timestamp: float  # seconds since epoch

    # read like an OrderUpdate's
    @property
    def new_state(self) -> OrderState:
        """Always OPEN."""
        return OrderState.OPEN

    @property
    def reason(self) -> None:
        """Always None."""
        return None

    @property
    def filled_amount(self) -> Decimal:
        """Always zero."""
        return _ZERO

    def as_update(self) -> OrderUpdate:
        """The same news as an :class:`OrderUpdate` (OPEN, nothing filled)."""
        return OrderUpdate(
            client_order_id=self.client_order_id, trading_pair=self.trading_pair,
            update_timestamp=self.update_timestamp, new_state=OrderState.OPEN,
            exchange_order_id=self.exchange_order_id, filled_amount=_ZERO,
        )


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
