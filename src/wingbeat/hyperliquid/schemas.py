"""Typed decoding of Hyperliquid's ``/info`` answers, done once at the boundary.

Every ``parse_*`` function takes already-decoded JSON (``orjson.loads`` output) and returns frozen
slotted dataclasses with ``Decimal`` prices, sizes, fees and pnl. Parsing is tolerant of missing
newer fields (``tid``, ``feeToken``, ``cumFunding``...) and of unknown extra fields, and strict
about types: a decimal must be a JSON string, an integer a JSON number, and anything else raises
:class:`MalformedMessageError` with the path of the offending field. Callers log and skip.

Account answers (clearinghouse state, orders, fills, funding) live in
:mod:`wingbeat.hyperliquid.schemas_account` and are importable from here too; websocket-only
messages live in :mod:`wingbeat.hyperliquid.schemas_ws`, ``/exchange`` replies in
:mod:`wingbeat.hyperliquid.schemas_exchange`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# Account shapes are importable from here too (schemas_account builds on schemas_fields, not on
# this module, so there is no import circle).
from wingbeat.hyperliquid.schemas_account import (
    ClearinghouseState as ClearinghouseState,
)
from wingbeat.hyperliquid.schemas_account import (
    CumFunding as CumFunding,
)
from wingbeat.hyperliquid.schemas_account import (
    Fill as Fill,
)
from wingbeat.hyperliquid.schemas_account import (
    FillLiquidation as FillLiquidation,
)
from wingbeat.hyperliquid.schemas_account import (
    FundingPayment as FundingPayment,
)
from wingbeat.hyperliquid.schemas_account import (
    Leverage as Leverage,
)
from wingbeat.hyperliquid.schemas_account import (
    MarginSummary as MarginSummary,
)
from wingbeat.hyperliquid.schemas_account import (
    OpenOrder as OpenOrder,
)
from wingbeat.hyperliquid.schemas_account import (
    OrderWithStatus as OrderWithStatus,
)
from wingbeat.hyperliquid.schemas_account import (
    PerpPosition as PerpPosition,
)
from wingbeat.hyperliquid.schemas_account import (
    UserRateLimit as UserRateLimit,
)
from wingbeat.hyperliquid.schemas_account import (
    parse_clearinghouse_state as parse_clearinghouse_state,
)
from wingbeat.hyperliquid.schemas_account import (
    parse_fill as parse_fill,
)
from wingbeat.hyperliquid.schemas_account import (
    parse_fills as parse_fills,
)
from wingbeat.hyperliquid.schemas_account import (
    parse_funding_payment as parse_funding_payment,
)
from wingbeat.hyperliquid.schemas_account import (
    parse_historical_orders as parse_historical_orders,
)
from wingbeat.hyperliquid.schemas_account import (
    parse_open_orders as parse_open_orders,
)
from wingbeat.hyperliquid.schemas_account import (
    parse_order as parse_order,
)
from wingbeat.hyperliquid.schemas_account import (
    parse_order_status as parse_order_status,
)
from wingbeat.hyperliquid.schemas_account import (
    parse_order_with_status as parse_order_with_status,
)
from wingbeat.hyperliquid.schemas_account import (
    parse_user_funding as parse_user_funding,
)
from wingbeat.hyperliquid.schemas_account import (
    parse_user_rate_limit as parse_user_rate_limit,
)
from wingbeat.hyperliquid.schemas_fields import (
    MalformedMessageError as MalformedMessageError,
)
from wingbeat.hyperliquid.schemas_fields import _wrong
from wingbeat.hyperliquid.schemas_fields import (
    arr as arr,
)
from wingbeat.hyperliquid.schemas_fields import (
    obj as obj,
)
from wingbeat.hyperliquid.schemas_fields import (
    opt_bool as opt_bool,
)
from wingbeat.hyperliquid.schemas_fields import (
    opt_dec as opt_dec,
)
from wingbeat.hyperliquid.schemas_fields import (
    opt_int as opt_int,
)
from wingbeat.hyperliquid.schemas_fields import (
    opt_str as opt_str,
)
from wingbeat.hyperliquid.schemas_fields import (
    parse_list as parse_list,
)
from wingbeat.hyperliquid.schemas_fields import (
    req_bool as req_bool,
)
from wingbeat.hyperliquid.schemas_fields import (
    req_dec as req_dec,
)
from wingbeat.hyperliquid.schemas_fields import (
    req_int as req_int,
)
from wingbeat.hyperliquid.schemas_fields import (
    req_side as req_side,
)
from wingbeat.hyperliquid.schemas_fields import (
    req_str as req_str,
)
from wingbeat.hyperliquid.schemas_fields import (
    to_decimal as to_decimal,
)

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
    margin_mode: str | None = None
    """``"noCross"`` (isolated margin only) or ``"strictIsolated"`` (isolated, and margin cannot be taken
    out of an open position) where the dex sets one; None: cross allowed (unless ``only_isolated``)."""

    @property
    def isolated_only(self) -> bool:
        """Whether positions in this perp must be isolated (``onlyIsolated`` or a ``marginMode``)."""
        return self.only_isolated or self.margin_mode in ("noCross", "strictIsolated")


@dataclass(frozen=True, slots=True, kw_only=True)
class Meta:
    """Answer to ``{"type":"meta"}``: the perpetual universe in asset-index order."""

    universe: tuple[AssetMeta, ...]
    collateral_token: int | None = None
    """Index in ``spotMeta.tokens`` of the dex's collateral (0 = USDC on the main dex)."""


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
        margin_mode=opt_str(d, "marginMode", what),
    )


def parse_meta(raw: Any) -> Meta:
    """Decode a ``meta`` answer."""
    d = obj(raw, "meta")
    items = arr(d.get("universe"), "meta.universe")
    return Meta(
        universe=tuple(_asset_meta(v, f"meta.universe[{i}]", i) for i, v in enumerate(items)),
        collateral_token=opt_int(d, "collateralToken", "meta"),
    )


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


@dataclass(frozen=True, slots=True, kw_only=True)
class PerpDex:
    """One builder-deployed (HIP-3) perp dex of ``perpDexs``; ``position`` is its place in that list (the
    main dex, listed as ``null``, is 0), which fixes its asset ids: ``100000 + position * 10000 + index``."""

    name: str
    position: int
    full_name: str | None = None

    @property
    def asset_offset(self) -> int:
        """Asset id of the dex's first perp (110000 for the first builder dex, as the SDK computes it)."""
        return 100_000 + self.position * 10_000


def parse_perp_dexs(raw: Any) -> tuple[PerpDex, ...]:
    """Decode a ``perpDexs`` answer ``[null, {"name", "fullName", ...}, ...]`` into its builder dexes."""
    dexes: list[PerpDex] = []
    for i, item in enumerate(arr(raw, "perpDexs")):
        if item is None:
            continue  # the main dex
        what = f"perpDexs[{i}]"
        d = obj(item, what)
        dexes.append(
            PerpDex(name=req_str(d, "name", what), position=i, full_name=opt_str(d, "fullName", what))
        )
    return tuple(dexes)


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotTokenMeta:
    """One token of ``spotMeta.tokens`` (``index`` is what pairs and ``collateralToken`` refer to)."""

    name: str
    index: int
    sz_decimals: int
    wei_decimals: int
    token_id: str
    is_canonical: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotPairMeta:
    """One pair of ``spotMeta.universe``: ``name`` is its wire coin (``"PURR/USDC"`` or ``"@N"``), ``tokens``
    the (base, quote) token indices, ``index`` the spot index (asset id ``10000 + index``)."""

    name: str
    tokens: tuple[int, int]
    index: int
    is_canonical: bool = False

    @property
    def asset(self) -> int:
        """The asset id orders of this pair carry."""
        return 10_000 + self.index


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotMeta:
    """Answer to ``{"type":"spotMeta"}``: the spot tokens and pairs."""

    tokens: tuple[SpotTokenMeta, ...]
    universe: tuple[SpotPairMeta, ...]

    def token(self, index: int) -> SpotTokenMeta | None:
        """The token with ``index`` (None when none is listed so)."""
        for token in self.tokens:
            if token.index == index:
                return token
        return None


def _spot_token(value: Any, what: str) -> SpotTokenMeta:
    d = obj(value, what)
    return SpotTokenMeta(
        name=req_str(d, "name", what),
        index=req_int(d, "index", what),
        sz_decimals=req_int(d, "szDecimals", what),
        wei_decimals=req_int(d, "weiDecimals", what),
        token_id=req_str(d, "tokenId", what),
        is_canonical=bool(opt_bool(d, "isCanonical", what)),
    )


def _spot_pair(value: Any, what: str) -> SpotPairMeta:
    d = obj(value, what)
    tokens = arr(d.get("tokens"), f"{what}.tokens")
    if len(tokens) != 2 or any(type(t) is not int for t in tokens):
        raise MalformedMessageError(f"{what}.tokens: expected [base, quote] token indices")
    return SpotPairMeta(
        name=req_str(d, "name", what),
        tokens=(tokens[0], tokens[1]),
        index=req_int(d, "index", what),
        is_canonical=bool(opt_bool(d, "isCanonical", what)),
    )


def parse_spot_meta(raw: Any) -> SpotMeta:
    """Decode a ``spotMeta`` answer (or the first element of ``spotMetaAndAssetCtxs``)."""
    d = obj(raw, "spotMeta")
    return SpotMeta(
        tokens=parse_list(d.get("tokens"), "spotMeta.tokens", _spot_token),
        universe=parse_list(d.get("universe"), "spotMeta.universe", _spot_pair),
    )


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
