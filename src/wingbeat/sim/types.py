"""Value types of the local exchange's venue half: order requests, engine events, engine errors.

Event payloads are already in Hyperliquid's websocket ``data`` shapes (plain JSON-ready dicts and
lists with decimal strings), so the protocol half only routes them to subscribers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from wingbeat.core.errors import WingbeatError

__all__ = [
    "AccountChanged",
    "AssetCtxChanged",
    "BookChanged",
    "EngineError",
    "EngineEvent",
    "FillsEvent",
    "FundingEvent",
    "LedgerEvent",
    "LiquidationEvent",
    "NonUserCancelEvent",
    "OrderRequest",
    "OrderUpdatesEvent",
    "TradesEvent",
    "TriggerSpec",
]


@dataclass(frozen=True, slots=True)
class TriggerSpec:
    """Trigger part of a TP/SL order: fires when the mark price crosses ``trigger_px``."""

    is_market: bool
    trigger_px: Decimal
    tpsl: Literal["tp", "sl"]


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order as the engine sees it, decoded from an order wire (``a b p s r t c``)."""

    asset: int
    is_buy: bool
    price: Decimal
    size: Decimal
    reduce_only: bool
    tif: Literal["Gtc", "Ioc", "Alo"] | None  # None for a trigger order
    trigger: TriggerSpec | None = None
    cloid: str | None = None  # "0x" + 32 hex, lowercase


class EngineError(WingbeatError):
    """An action the venue refuses as a whole; ``message`` is the exchange's own error text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class BookChanged:
    """The L2 book of ``coin`` changed (render ``l2Book``/``bbo`` from ``info``)."""

    coin: str


@dataclass(frozen=True, slots=True)
class TradesEvent:
    """Public trades on ``coin``; ``trades`` is the websocket ``trades`` data list."""

    coin: str
    trades: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class OrderUpdatesEvent:
    """Order status changes of ``user``; ``updates`` is the websocket ``orderUpdates`` data list."""

    user: str
    updates: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class FillsEvent:
    """Fills of ``user``; ``fills`` are in the ``userFills`` fill shape."""

    user: str
    fills: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class FundingEvent:
    """A funding payment of ``user``: ``{"time","coin","usdc","szi","fundingRate","nSamples"}``."""

    user: str
    funding: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LiquidationEvent:
    """``user`` was liquidated: ``{"lid","liquidator","liquidated_user","liquidated_ntl_pos",
    "liquidated_account_value"}``."""

    user: str
    liquidation: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NonUserCancelEvent:
    """Orders of ``user`` canceled by the venue: ``[{"coin","oid"}]``."""

    user: str
    cancels: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class AssetCtxChanged:
    """Mark/oracle/funding context of ``coin`` changed (render ``activeAssetCtx``/``allMids``)."""

    coin: str


@dataclass(frozen=True, slots=True)
class AccountChanged:
    """Balance or margin settings of ``user`` changed without a fill or an order update (a
    deposit, a transfer, a leverage or isolated-margin change): account views must be re-rendered."""

    user: str


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """A non-funding ledger update of ``user``: ``update`` is ``{"time","hash","delta"}``."""

    user: str
    update: dict[str, Any]


EngineEvent = (
    AccountChanged
    | LedgerEvent
    | BookChanged
    | TradesEvent
    | OrderUpdatesEvent
    | FillsEvent
    | FundingEvent
    | LiquidationEvent
    | NonUserCancelEvent
    | AssetCtxChanged
)
