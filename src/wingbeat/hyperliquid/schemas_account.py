"""Typed decoding of a Hyperliquid account's ``/info`` answers: clearinghouse state, orders, fills,
funding and the address rate limit.

Split from :mod:`wingbeat.hyperliquid.schemas` (which re-exports every name here; both build on
:mod:`wingbeat.hyperliquid.schemas_fields`) to keep modules small; the same rules apply: frozen slotted dataclasses, ``Decimal`` money, tolerant of missing newer
fields and unknown extra ones, strict about types, :class:`MalformedMessageError` on bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wingbeat.hyperliquid.schemas_fields import (
    MalformedMessageError,
    arr,
    obj,
    opt_bool,
    opt_dec,
    opt_int,
    opt_str,
    parse_list,
    req_bool,
    req_dec,
    req_int,
    req_side,
    req_str,
)

__all__ = [
    "ClearinghouseState",
    "CumFunding",
    "Fill",
    "FillLiquidation",
    "FundingPayment",
    "Leverage",
    "MarginSummary",
    "OpenOrder",
    "OrderWithStatus",
    "PerpPosition",
    "UserRateLimit",
    "parse_clearinghouse_state",
    "parse_fill",
    "parse_fills",
    "parse_funding_payment",
    "parse_historical_orders",
    "parse_open_orders",
    "parse_order",
    "parse_order_status",
    "parse_order_with_status",
    "parse_user_funding",
    "parse_user_rate_limit",
]


# --- account state -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Leverage:
    """Leverage setting of a position: ``kind`` is ``"cross"`` or ``"isolated"``."""

    kind: str
    value: int
    raw_usd: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CumFunding:
    """Funding paid (positive) or received by a position, cumulated."""

    all_time: Decimal
    since_open: Decimal
    since_change: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PerpPosition:
    """One position of ``clearinghouseState.assetPositions``; ``szi`` is signed (negative = short)."""

    coin: str
    szi: Decimal
    entry_px: Decimal | None
    position_value: Decimal
    unrealized_pnl: Decimal
    return_on_equity: Decimal
    liquidation_px: Decimal | None
    margin_used: Decimal
    leverage: Leverage
    max_leverage: int | None = None
    cum_funding: CumFunding | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginSummary:
    """Margin totals of an account (all cross + isolated, or cross only)."""

    account_value: Decimal
    total_ntl_pos: Decimal
    total_raw_usd: Decimal
    total_margin_used: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearinghouseState:
    """Answer to ``clearinghouseState``: positions, margin and withdrawable USDC."""

    positions: tuple[PerpPosition, ...]
    margin_summary: MarginSummary
    cross_margin_summary: MarginSummary
    withdrawable: Decimal
    cross_maintenance_margin_used: Decimal | None = None
    time_ms: int | None = None


def _leverage(raw: Any, what: str) -> Leverage:
    d = obj(raw, what)
    kind = req_str(d, "type", what)
    if kind not in ("cross", "isolated"):
        raise MalformedMessageError(f"{what}.type: expected 'cross' or 'isolated', got {kind!r:.20}")
    return Leverage(kind=kind, value=req_int(d, "value", what), raw_usd=opt_dec(d, "rawUsd", what))


def _cum_funding(raw: Any, what: str) -> CumFunding | None:
    if raw is None:
        return None
    d = obj(raw, what)
    return CumFunding(
        all_time=req_dec(d, "allTime", what),
        since_open=req_dec(d, "sinceOpen", what),
        since_change=req_dec(d, "sinceChange", what),
    )


def _position(raw: Any, what: str) -> PerpPosition:
    d = obj(obj(raw, what).get("position"), f"{what}.position")
    what = f"{what}.position"
    return PerpPosition(
        coin=req_str(d, "coin", what),
        szi=req_dec(d, "szi", what),
        entry_px=opt_dec(d, "entryPx", what),
        position_value=req_dec(d, "positionValue", what),
        unrealized_pnl=req_dec(d, "unrealizedPnl", what),
        return_on_equity=req_dec(d, "returnOnEquity", what),
        liquidation_px=opt_dec(d, "liquidationPx", what),
        margin_used=req_dec(d, "marginUsed", what),
        leverage=_leverage(d.get("leverage"), f"{what}.leverage"),
        max_leverage=opt_int(d, "maxLeverage", what),
        cum_funding=_cum_funding(d.get("cumFunding"), f"{what}.cumFunding"),
    )


def _margin_summary(raw: Any, what: str) -> MarginSummary:
    d = obj(raw, what)
    return MarginSummary(
        account_value=req_dec(d, "accountValue", what),
        total_ntl_pos=req_dec(d, "totalNtlPos", what),
        total_raw_usd=req_dec(d, "totalRawUsd", what),
        total_margin_used=req_dec(d, "totalMarginUsed", what),
    )


def parse_clearinghouse_state(raw: Any) -> ClearinghouseState:
    """Decode a ``clearinghouseState`` answer."""
    what = "clearinghouseState"
    d = obj(raw, what)
    return ClearinghouseState(
        positions=parse_list(d.get("assetPositions"), f"{what}.assetPositions", _position),
        margin_summary=_margin_summary(d.get("marginSummary"), f"{what}.marginSummary"),
        cross_margin_summary=_margin_summary(d.get("crossMarginSummary"), f"{what}.crossMarginSummary"),
        withdrawable=req_dec(d, "withdrawable", what),
        cross_maintenance_margin_used=opt_dec(d, "crossMaintenanceMarginUsed", what),
        time_ms=opt_int(d, "time", what),
    )


# --- orders ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrder:
    """An order as openOrders, frontendOpenOrders, orderStatus and orderUpdates show it.

    ``sz`` is the remaining size. The frontend-only fields are ``None`` when the source does not
    carry them. ``cloid`` is lowercased.
    """

    coin: str
    side: str
    limit_px: Decimal
    sz: Decimal
    oid: int
    timestamp_ms: int
    orig_sz: Decimal | None = None
    cloid: str | None = None
    reduce_only: bool | None = None
    order_type: str | None = None
    tif: str | None = None
    is_trigger: bool | None = None
    trigger_px: Decimal | None = None
    trigger_condition: str | None = None
    is_position_tpsl: bool | None = None
    children: tuple[OpenOrder, ...] = ()

    @property
    def is_buy(self) -> bool:
        """True for a bid."""
        return self.side == "B"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderWithStatus:
    """An order with its status string (orderStatus, historicalOrders, websocket orderUpdates).

    ``status`` is Hyperliquid's string: ``open``, ``filled``, ``canceled``, ``triggered``,
    ``rejected``, ``scheduledCancel`` or one of the ``*Canceled`` / ``*Rejected`` variants.
    """

    order: OpenOrder
    status: str
    status_timestamp_ms: int


def parse_order(raw: Any, what: str = "order") -> OpenOrder:
    """Decode one order object (any of the order shapes)."""
    d = obj(raw, what)
    cloid = opt_str(d, "cloid", what)
    children_raw = d.get("children")
    children = () if children_raw is None else parse_list(children_raw, f"{what}.children", parse_order)
    return OpenOrder(
        coin=req_str(d, "coin", what),
        side=req_side(d, "side", what),
        limit_px=req_dec(d, "limitPx", what),
        sz=req_dec(d, "sz", what),
        oid=req_int(d, "oid", what),
        timestamp_ms=req_int(d, "timestamp", what),
        orig_sz=opt_dec(d, "origSz", what),
        cloid=None if cloid is None else cloid.lower(),
        reduce_only=opt_bool(d, "reduceOnly", what),
        order_type=opt_str(d, "orderType", what),
        tif=opt_str(d, "tif", what),
        is_trigger=opt_bool(d, "isTrigger", what),
        trigger_px=opt_dec(d, "triggerPx", what),
        trigger_condition=opt_str(d, "triggerCondition", what),
        is_position_tpsl=opt_bool(d, "isPositionTpsl", what),
        children=children,
    )


def parse_open_orders(raw: Any) -> tuple[OpenOrder, ...]:
    """Decode an ``openOrders`` or ``frontendOpenOrders`` answer."""
    return parse_list(raw, "openOrders", parse_order)


def parse_order_with_status(raw: Any, what: str = "orderWithStatus") -> OrderWithStatus:
    """Decode ``{"order":{...},"status":str,"statusTimestamp":int}``."""
    d = obj(raw, what)
    return OrderWithStatus(
        order=parse_order(d.get("order"), f"{what}.order"),
        status=req_str(d, "status", what),
        status_timestamp_ms=req_int(d, "statusTimestamp", what),
    )


def parse_order_status(raw: Any) -> OrderWithStatus | None:
    """Decode an ``orderStatus`` answer; ``None`` when the exchange answers ``unknownOid``."""
    d = obj(raw, "orderStatus")
    status = req_str(d, "status", "orderStatus")
    if status == "unknownOid":
        return None
    if status != "order":
        raise MalformedMessageError(f"orderStatus.status: unexpected {status!r:.40}")
    return parse_order_with_status(d.get("order"), "orderStatus.order")


def parse_historical_orders(raw: Any) -> tuple[OrderWithStatus, ...]:
    """Decode a ``historicalOrders`` answer."""
    return parse_list(raw, "historicalOrders", parse_order_with_status)


# --- fills and funding -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FillLiquidation:
    """Liquidation details attached to a fill that was part of a liquidation."""

    liquidated_user: str | None
    mark_px: Decimal
    method: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One fill of the user (userFills, userFillsByTime, websocket userFills / userEvents).

    ``crossed`` is True when the user was the taker; ``fee`` is negative for a rebate. ``tid`` is
    missing in old recordings: use :attr:`trade_id`, which falls back to a key built from the
    order, hash and position fields.
    """

    coin: str
    px: Decimal
    sz: Decimal
    side: str
    time_ms: int
    dir: str
    closed_pnl: Decimal
    hash: str
    oid: int
    crossed: bool
    fee: Decimal
    fee_token: str = "USDC"
    tid: int | None = None
    cloid: str | None = None
    start_position: Decimal | None = None
    builder_fee: Decimal | None = None
    liquidation: FillLiquidation | None = None
    twap_id: int | None = None

    @property
    def is_buy(self) -> bool:
        """True when the user bought."""
        return self.side == "B"

    @property
    def trade_id(self) -> str:
        """Unique key of this fill: ``str(tid)``, else hash, oid, start position, size and price.

        One order filled against several makers in one transaction shares hash and oid, so the
        fallback also needs the start position and size to tell those fills apart.
        """
        if self.tid is not None:
            return str(self.tid)
        return f"{self.hash}:{self.oid}:{self.start_position}:{self.sz}:{self.px}"


def _fill_liquidation(raw: Any, what: str) -> FillLiquidation | None:
    if raw is None:
        return None
    d = obj(raw, what)
    return FillLiquidation(
        liquidated_user=opt_str(d, "liquidatedUser", what),
        mark_px=req_dec(d, "markPx", what),
        method=req_str(d, "method", what),
    )


def parse_fill(raw: Any, what: str = "fill") -> Fill:
    """Decode one fill object."""
    d = obj(raw, what)
    cloid = opt_str(d, "cloid", what)
    fee_token = opt_str(d, "feeToken", what)
    return Fill(
        coin=req_str(d, "coin", what),
        px=req_dec(d, "px", what),
        sz=req_dec(d, "sz", what),
        side=req_side(d, "side", what),
        time_ms=req_int(d, "time", what),
        dir=req_str(d, "dir", what),
        closed_pnl=req_dec(d, "closedPnl", what),
        hash=req_str(d, "hash", what),
        oid=req_int(d, "oid", what),
        crossed=req_bool(d, "crossed", what),
        fee=req_dec(d, "fee", what),
        fee_token="USDC" if fee_token is None else fee_token,
        tid=opt_int(d, "tid", what),
        cloid=None if cloid is None else cloid.lower(),
        start_position=opt_dec(d, "startPosition", what),
        builder_fee=opt_dec(d, "builderFee", what),
        liquidation=_fill_liquidation(d.get("liquidation"), f"{what}.liquidation"),
        twap_id=opt_int(d, "twapId", what),
    )


def parse_fills(raw: Any, what: str = "userFills") -> tuple[Fill, ...]:
    """Decode a ``userFills`` / ``userFillsByTime`` answer (newest first, as sent)."""
    return parse_list(raw, what, parse_fill)


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingPayment:
    """One hourly funding payment of a position; ``usdc`` is negative when the user paid."""

    time_ms: int
    coin: str
    usdc: Decimal
    szi: Decimal
    funding_rate: Decimal
    n_samples: int | None = None
    hash: str | None = None


def parse_funding_payment(
    raw: Any, what: str = "funding", *, time_ms: int | None = None, tx_hash: str | None = None
) -> FundingPayment:
    """Decode ``{"time"?, "coin", "usdc", "szi", "fundingRate", "nSamples"}``.

    ``time_ms`` / ``tx_hash`` come from the enclosing ledger entry when the object lacks them.
    """
    d = obj(raw, what)
    return FundingPayment(
        time_ms=req_int(d, "time", what) if time_ms is None else time_ms,
        coin=req_str(d, "coin", what),
        usdc=req_dec(d, "usdc", what),
        szi=req_dec(d, "szi", what),
        funding_rate=req_dec(d, "fundingRate", what),
        n_samples=opt_int(d, "nSamples", what),
        hash=tx_hash,
    )


def parse_user_funding(raw: Any) -> tuple[FundingPayment, ...]:
    """Decode a ``userFunding`` answer; ledger entries other than funding are skipped."""
    out: list[FundingPayment] = []
    for i, entry in enumerate(arr(raw, "userFunding")):
        what = f"userFunding[{i}]"
        e = obj(entry, what)
        delta = obj(e.get("delta"), f"{what}.delta")
        if req_str(delta, "type", f"{what}.delta") != "funding":
            continue
        out.append(
            parse_funding_payment(
                delta, f"{what}.delta", time_ms=req_int(e, "time", what), tx_hash=opt_str(e, "hash", what)
            )
        )
    return tuple(out)


# --- misc --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRateLimit:
    """Answer to ``userRateLimit``: the address-based action budget."""

    cum_vlm: Decimal
    n_requests_used: int
    n_requests_cap: int
    n_requests_surplus: int | None = None


def parse_user_rate_limit(raw: Any) -> UserRateLimit:
    """Decode a ``userRateLimit`` answer."""
    what = "userRateLimit"
    d = obj(raw, what)
    return UserRateLimit(
        cum_vlm=req_dec(d, "cumVlm", what),
        n_requests_used=req_int(d, "nRequestsUsed", what),
        n_requests_cap=req_int(d, "nRequestsCap", what),
        n_requests_surplus=opt_int(d, "nRequestsSurplus", what),
    )
