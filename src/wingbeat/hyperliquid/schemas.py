"""Typed decoding of Hyperliquid's ``/info`` answers, done once at the boundary.

Every ``parse_*`` function takes already-decoded JSON (``orjson.loads`` output) and returns frozen
slotted dataclasses with ``Decimal`` prices, sizes, fees and pnl. Parsing is tolerant of missing
newer fields (``tid``, ``feeToken``, ``cumFunding``...) and of unknown extra fields, and strict
about types: a decimal must be a JSON string, an integer a JSON number, and anything else raises
:class:`MalformedMessageError` with the path of the offending field. Callers log and skip.

Websocket-only messages live in :mod:`wingbeat.hyperliquid.schemas_ws`, ``/exchange`` replies in
:mod:`wingbeat.hyperliquid.schemas_exchange`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from wingbeat.core.errors import WingbeatError

_T = TypeVar("_T")


class MalformedMessageError(WingbeatError, ValueError):
    """A REST answer or websocket message does not have the shape Hyperliquid documents.

    The message names the offending field; the caller logs it and skips the message.
    """


# --- field readers ---------------------------------------------------------------------------
# ``what`` is the path of the object being read, used only to build error messages.


def obj(value: Any, what: str) -> dict[str, Any]:
    """``value`` as a JSON object, else :class:`MalformedMessageError`."""
    if type(value) is not dict:
        raise MalformedMessageError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def arr(value: Any, what: str) -> list[Any]:
    """``value`` as a JSON array, else :class:`MalformedMessageError`."""
    if type(value) is not list:
        raise MalformedMessageError(f"{what}: expected an array, got {type(value).__name__}")
    return value


def _missing(what: str, key: str) -> MalformedMessageError:
    return MalformedMessageError(f"{what}: missing field {key!r}")


def _wrong(what: str, key: str, expected: str, value: Any) -> MalformedMessageError:
    return MalformedMessageError(
        f"{what}.{key}: expected {expected}, got {type(value).__name__} {value!r:.40}"
    )


def to_decimal(value: Any, what: str) -> Decimal:
    """A finite ``Decimal`` from a JSON string, else :class:`MalformedMessageError`."""
    if type(value) is not str:
        raise MalformedMessageError(f"{what}: expected a decimal string, got {type(value).__name__}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise MalformedMessageError(f"{what}: not a decimal: {value!r:.40}") from None
    if not result.is_finite():
        raise MalformedMessageError(f"{what}: not a finite decimal: {value!r:.40}")
    return result


def req_str(d: dict[str, Any], key: str, what: str) -> str:
    """Required string field."""
    try:
        value = d[key]
    except KeyError:
        raise _missing(what, key) from None
    if type(value) is not str:
        raise _wrong(what, key, "a string", value)
    return value


def opt_str(d: dict[str, Any], key: str, what: str) -> str | None:
    """Optional string field: missing or null gives ``None``."""
    value = d.get(key)
    if value is None:
        return None
    if type(value) is not str:
        raise _wrong(what, key, "a string or null", value)
    return value


def req_dec(d: dict[str, Any], key: str, what: str) -> Decimal:
    """Required decimal field (a JSON string)."""
    try:
        value = d[key]
    except KeyError:
        raise _missing(what, key) from None
    return to_decimal(value, f"{what}.{key}")


def opt_dec(d: dict[str, Any], key: str, what: str) -> Decimal | None:
    """Optional decimal field: missing or null gives ``None``."""
    value = d.get(key)
    if value is None:
        return None
    return to_decimal(value, f"{what}.{key}")


def req_int(d: dict[str, Any], key: str, what: str) -> int:
    """Required integer field (a JSON number without fraction; booleans refused)."""
    try:
        value = d[key]
    except KeyError:
        raise _missing(what, key) from None
    if type(value) is not int:
        raise _wrong(what, key, "an integer", value)
    return value


def opt_int(d: dict[str, Any], key: str, what: str) -> int | None:
    """Optional integer field: missing or null gives ``None``."""
    value = d.get(key)
    if value is None:
        return None
    if type(value) is not int:
        raise _wrong(what, key, "an integer or null", value)
    return value


def req_bool(d: dict[str, Any], key: str, what: str) -> bool:
    """Required boolean field."""
    try:
        value = d[key]
    except KeyError:
        raise _missing(what, key) from None
    if type(value) is not bool:
        raise _wrong(what, key, "a boolean", value)
    return value


def opt_bool(d: dict[str, Any], key: str, what: str) -> bool | None:
    """Optional boolean field: missing or null gives ``None``."""
    value = d.get(key)
    if value is None:
        return None
    if type(value) is not bool:
        raise _wrong(what, key, "a boolean or null", value)
    return value


def req_side(d: dict[str, Any], key: str, what: str) -> str:
    """Required side field: ``"B"`` (bid / buy) or ``"A"`` (ask / sell)."""
    side = req_str(d, key, what)
    if side != "B" and side != "A":
        raise MalformedMessageError(f"{what}.{key}: expected 'B' or 'A', got {side!r:.20}")
    return side


def parse_list(value: Any, what: str, item: Callable[[Any, str], _T]) -> tuple[_T, ...]:
    """Parse a JSON array with ``item(element, path)``."""
    return tuple(item(element, f"{what}[{i}]") for i, element in enumerate(arr(value, what)))


# --- meta / asset contexts ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetMeta:
    """One perpetual of ``meta.universe``; ``asset`` is its index, the id used in order actions."""

    asset: int
    name: str
    sz_decimals: int
    max_leverage: int | None = None
    only_isolated: bool = False
    is_delisted: bool = False
    margin_table_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Meta:
    """Answer to ``{"type":"meta"}``: the perpetual universe in asset-index order."""

    universe: tuple[AssetMeta, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetCtx:
    """Live context of one perpetual (metaAndAssetCtxs, activeAssetCtx)."""

    funding: Decimal
    open_interest: Decimal
    prev_day_px: Decimal
    day_ntl_vlm: Decimal
    oracle_px: Decimal
    mark_px: Decimal
    premium: Decimal | None = None
    mid_px: Decimal | None = None
    impact_pxs: tuple[Decimal, Decimal] | None = None
    day_base_vlm: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MetaAndAssetCtxs:
    """Answer to ``{"type":"metaAndAssetCtxs"}``: ``ctxs[i]`` belongs to ``meta.universe[i]``.

    ``ctxs`` may be shorter than the universe (the documented example is); use :meth:`ctx_of`.
    """

    meta: Meta
    ctxs: tuple[AssetCtx, ...]

    def ctx_of(self, asset: int) -> AssetCtx | None:
        """Context of the asset with index ``asset``, or ``None`` when the answer has none."""
        return self.ctxs[asset] if 0 <= asset < len(self.ctxs) else None


def _asset_meta(value: Any, what: str, index: int) -> AssetMeta:
    d = obj(value, what)
    return AssetMeta(
        asset=index,
        name=req_str(d, "name", what),
        sz_decimals=req_int(d, "szDecimals", what),
        max_leverage=opt_int(d, "maxLeverage", what),
        only_isolated=bool(opt_bool(d, "onlyIsolated", what)),
        is_delisted=bool(opt_bool(d, "isDelisted", what)),
        margin_table_id=opt_int(d, "marginTableId", what),
    )


def parse_meta(raw: Any) -> Meta:
    """Decode a ``meta`` answer."""
    d = obj(raw, "meta")
    items = arr(d.get("universe"), "meta.universe")
    return Meta(universe=tuple(_asset_meta(v, f"meta.universe[{i}]", i) for i, v in enumerate(items)))


def parse_asset_ctx(raw: Any, what: str = "assetCtx") -> AssetCtx:
    """Decode one asset context object."""
    d = obj(raw, what)
    impact: tuple[Decimal, Decimal] | None = None
    impact_raw = d.get("impactPxs")
    if impact_raw is not None:
        pair = arr(impact_raw, f"{what}.impactPxs")
        if len(pair) != 2:
            raise MalformedMessageError(f"{what}.impactPxs: expected 2 prices, got {len(pair)}")
        impact = (to_decimal(pair[0], f"{what}.impactPxs[0]"), to_decimal(pair[1], f"{what}.impactPxs[1]"))
    return AssetCtx(
        funding=req_dec(d, "funding", what),
        open_interest=req_dec(d, "openInterest", what),
        prev_day_px=req_dec(d, "prevDayPx", what),
        day_ntl_vlm=req_dec(d, "dayNtlVlm", what),
        oracle_px=req_dec(d, "oraclePx", what),
        mark_px=req_dec(d, "markPx", what),
        premium=opt_dec(d, "premium", what),
        mid_px=opt_dec(d, "midPx", what),
        impact_pxs=impact,
        day_base_vlm=opt_dec(d, "dayBaseVlm", what),
    )


def parse_meta_and_asset_ctxs(raw: Any) -> MetaAndAssetCtxs:
    """Decode a ``metaAndAssetCtxs`` answer (a two-element array)."""
    pair = arr(raw, "metaAndAssetCtxs")
    if len(pair) != 2:
        raise MalformedMessageError(f"metaAndAssetCtxs: expected 2 elements, got {len(pair)}")
    meta = parse_meta(pair[0])
    ctxs = parse_list(pair[1], "metaAndAssetCtxs[1]", parse_asset_ctx)
    return MetaAndAssetCtxs(meta=meta, ctxs=ctxs)


def parse_all_mids(raw: Any, what: str = "allMids") -> dict[str, Decimal]:
    """Decode an ``allMids`` answer: coin -> mid price."""
    d = obj(raw, what)
    return {coin: to_decimal(px, f"{what}.{coin}") for coin, px in d.items()}


# --- l2Book (hot path) -------------------------------------------------------------------------

Level = tuple[Decimal, Decimal]
"""One book level: (price, size)."""


@dataclass(frozen=True, slots=True)
class L2Book:
    """An l2Book snapshot (REST answer or websocket push).

    ``bids`` descend and ``asks`` ascend, as Hyperliquid sends them; each level is a
    ``(price, size)`` tuple ready for ``core.order_book.OrderBook.apply_snapshot``.
    """

    coin: str
    time_ms: int
    bids: list[Level]
    asks: list[Level]


# Book prices and sizes repeat from one push to the next; caching their Decimals halves parse time.
_BOOK_DECIMALS: dict[str, Decimal] = {}
_BOOK_DECIMALS_MAX = 50_000  # ~8 MB; live books of ~100 coins need a few thousand entries
_DIGITS = "0123456789"


def clear_book_cache() -> None:
    """Forget the cached Decimals of book prices and sizes (benchmarks start cold with it)."""
    _BOOK_DECIMALS.clear()


class _BadLevel(Exception):
    pass


def _book_side(levels: Any, what: str) -> list[Level]:
    if type(levels) is not list:
        raise MalformedMessageError(f"{what}: expected an array, got {type(levels).__name__}")
    cache = _BOOK_DECIMALS
    get = cache.get
    out: list[Level] = []
    append = out.append
    # One flat loop with the cache miss inlined: this loop is the whole cost of a book update.
    # A level that is not an object, lacks a key or holds an unhashable value raises
    # KeyError / TypeError from the lookups, an empty string IndexError, a bad decimal InvalidOperation.
    try:
        for level in levels:
            px_text = level["px"]
            sz_text = level["sz"]
            px = get(px_text)
            if px is None:
                if type(px_text) is not str:
                    raise _BadLevel(f"px is {type(px_text).__name__}, not a decimal string")
                px = Decimal(px_text)
                # A decimal string starting with a digit has no sign and is not inf/nan, so it is
                # finite and >= 0; zero is caught by truthiness. Cheaper than two Decimal compares.
                if px_text[0] not in _DIGITS or not px:
                    raise _BadLevel(f"price must be positive and finite, got {px_text!r:.40}")
                cache[px_text] = px
            sz = get(sz_text)
            if sz is None:
                if type(sz_text) is not str:
                    raise _BadLevel(f"sz is {type(sz_text).__name__}, not a decimal string")
                sz = Decimal(sz_text)
                if sz_text[0] not in _DIGITS or not sz:
                    raise _BadLevel(f"size must be positive and finite, got {sz_text!r:.40}")
                cache[sz_text] = sz
            append((px, sz))
    except _BadLevel as exc:
        raise MalformedMessageError(f"{what}: {exc}") from None
    except KeyError as exc:
        raise MalformedMessageError(f"{what}: level without {exc.args[0]!r}") from None
    except InvalidOperation:
        raise MalformedMessageError(f"{what}: a price or size is not a positive finite decimal") from None
    except (TypeError, IndexError) as exc:
        raise MalformedMessageError(f"{what}: malformed level: {exc}") from None
    return out


def parse_l2_book(raw: Any) -> L2Book:
    """Decode an l2Book answer or websocket ``data``; the fast path of every book update."""
    if type(raw) is not dict:
        raise MalformedMessageError(f"l2Book: expected an object, got {type(raw).__name__}")
    try:
        coin = raw["coin"]
        time_ms = raw["time"]
        levels = raw["levels"]
    except KeyError as exc:
        raise MalformedMessageError(f"l2Book: missing field {exc.args[0]!r}") from None
    if type(coin) is not str:
        raise _wrong("l2Book", "coin", "a string", coin)
    if type(time_ms) is not int:
        raise _wrong("l2Book", "time", "an integer", time_ms)
    if type(levels) is not list or len(levels) != 2:
        raise MalformedMessageError("l2Book.levels: expected [bids, asks]")
    if len(_BOOK_DECIMALS) > _BOOK_DECIMALS_MAX:
        _BOOK_DECIMALS.clear()
    return L2Book(coin, time_ms, _book_side(levels[0], "l2Book.bids"), _book_side(levels[1], "l2Book.asks"))


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
