"""Value types of the local exchange's venue half: order requests, engine events, engine errors.

Event payloads are in Hyperliquid's websocket ``data`` shapes (plain JSON-ready dicts and lists
with decimal strings), so the protocol half only routes them to subscribers. The per-trade payloads
(fills, trades, order updates) are rendered on first read, so that what nobody reads costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
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
    "TwapHistoryEvent",
    "TwapSliceFillsEvent",
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


_Render = Callable[[list[Any]], list[dict[str, Any]]]


class _LazyPayload:
    """An event whose payload list is rendered on first read, from the rows the engine queued
    (snapshots of values that do not change afterwards) by the renderer it queued them for: a
    subscriber that routes by user or coin and finds nobody subscribed never pays for the dicts.
    Built from the rendered list itself (``rows`` and ``render`` left out), it is that list."""

    __slots__ = ("_data", "_render", "_rows")
    _data: list[dict[str, Any]] | None
    _rows: list[Any] | None
    _render: _Render | None

    def _payload(self) -> list[dict[str, Any]]:
        data = self._data
        if data is None:
            rows, render = self._rows, self._render
            if rows is None or render is None:
                raise TypeError(f"{type(self).__name__} was built without its payload")
            data = self._data = render(rows)
            self._rows = self._render = None
        return data

    def _key(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _LazyPayload)
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # the payload is a mutable list

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._key()!r}"


class TradesEvent(_LazyPayload):
    """Public trades on ``coin``; ``trades`` is the websocket ``trades`` data list."""

    __slots__ = ("coin",)
    __match_args__ = ("coin", "trades")

    def __init__(
        self,
        coin: str,
        trades: list[dict[str, Any]] | None = None,
        rows: list[Any] | None = None,
        render: _Render | None = None,
    ) -> None:
        self.coin = coin
        self._data, self._rows, self._render = trades, rows, render

    @property
    def trades(self) -> list[dict[str, Any]]:
        """The websocket ``trades`` data list (rendered on first read)."""
        return self._payload()

    def _key(self) -> tuple[Any, ...]:
        return (self.coin, self.trades)


class OrderUpdatesEvent(_LazyPayload):
    """Order status changes of ``user``; ``updates`` is the websocket ``orderUpdates`` data list."""

    __slots__ = ("user",)
    __match_args__ = ("user", "updates")

    def __init__(
        self,
        user: str,
        updates: list[dict[str, Any]] | None = None,
        rows: list[Any] | None = None,
        render: _Render | None = None,
    ) -> None:
        self.user = user
        self._data, self._rows, self._render = updates, rows, render

    @property
    def updates(self) -> list[dict[str, Any]]:
        """The websocket ``orderUpdates`` data list (rendered on first read)."""
        return self._payload()

    def _key(self) -> tuple[Any, ...]:
        return (self.user, self.updates)


class FillsEvent(_LazyPayload):
    """Fills of ``user``; ``fills`` are in the ``userFills`` fill shape."""

    __slots__ = ("user",)
    __match_args__ = ("user", "fills")

    def __init__(
        self,
        user: str,
        fills: list[dict[str, Any]] | None = None,
        rows: list[Any] | None = None,
        render: _Render | None = None,
    ) -> None:
        self.user = user
        self._data, self._rows, self._render = fills, rows, render

    @property
    def fills(self) -> list[dict[str, Any]]:
        """The fills in the ``userFills`` shape (rendered on first read)."""
        return self._payload()

    def _key(self) -> tuple[Any, ...]:
        return (self.user, self.fills)


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


@dataclass(frozen=True, slots=True)
class TwapHistoryEvent:
    """TWAPs of ``user`` started or ended: ``entries`` in the ``twapHistory`` shape."""

    user: str
    entries: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class TwapSliceFillsEvent:
    """Fills of ``user``'s TWAP slices, as Fill-field rows (each carries its TWAP's id)."""

    user: str
    rows: list[tuple[Any, ...]]


EngineEvent = (
    AccountChanged
    | LedgerEvent
    | TwapHistoryEvent
    | TwapSliceFillsEvent
    | BookChanged
    | TradesEvent
    | OrderUpdatesEvent
    | FillsEvent
    | FundingEvent
    | LiquidationEvent
    | NonUserCancelEvent
    | AssetCtxChanged
)
