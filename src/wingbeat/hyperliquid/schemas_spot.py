"""Typed Hyperliquid spot account and context answers: ``spotMetaAndAssetCtxs``, ``spotClearinghouseState``
and the websocket ``spotState`` push (``spotMeta`` itself is in :mod:`~wingbeat.hyperliquid.schemas`, beside
``meta``).

Shapes from Hyperliquid's info-endpoint docs (spot) and the official SDK's ``Info.spot_meta_and_asset_ctxs`` /
``spot_user_state``: contexts ``{coin, markPx, midPx, prevDayPx, dayNtlVlm, ...}`` (``coin`` the pair's wire
name, ``"PURR/USDC"`` or ``"@{index}"``) and balances ``{coin, token, hold, total, entryNtl}``. Fields
wingbeat does not use are not decoded (so additions on the venue's side break nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wingbeat.hyperliquid.schemas import SpotMeta, parse_spot_meta
from wingbeat.hyperliquid.schemas_fields import (
    MalformedMessageError,
    arr,
    obj,
    opt_dec,
    opt_str,
    parse_list,
    req_dec,
    req_int,
    req_str,
)

__all__ = [
    "SpotAssetCtx",
    "SpotBalance",
    "SpotClearinghouseState",
    "SpotMetaAndAssetCtxs",
    "SpotStateMessage",
    "parse_spot_clearinghouse_state",
    "parse_spot_meta_and_asset_ctxs",
    "parse_spot_state_message",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotAssetCtx:
    """A spot pair's live context (``mid_px`` None while its book is empty)."""

    coin: str
    mark_px: Decimal
    mid_px: Decimal | None
    prev_day_px: Decimal
    day_ntl_vlm: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotMetaAndAssetCtxs:
    """``spotMetaAndAssetCtxs``: the meta and one context per pair (the venue lists them in universe order,
    each naming its coin)."""

    meta: SpotMeta
    ctxs: tuple[SpotAssetCtx, ...]

    def ctx_of(self, coin: str) -> SpotAssetCtx | None:
        """The context of ``coin`` (a pair's name), None when the venue sent none."""
        for ctx in self.ctxs:
            if ctx.coin == coin:
                return ctx
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotBalance:
    """One token balance: ``total`` held, of which ``hold`` is locked by resting orders (free = total - hold)."""

    coin: str
    token: int
    total: Decimal
    hold: Decimal
    entry_ntl: Decimal | None = None

    @property
    def available(self) -> Decimal:
        """What new orders may use: total minus what resting orders hold."""
        return self.total - self.hold


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotClearinghouseState:
    """``spotClearinghouseState``: the account's token balances (tokens it never held are left out)."""

    balances: tuple[SpotBalance, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotStateMessage:
    """The websocket ``spotState`` push of ``user``: the same shape as ``spotClearinghouseState``."""

    user: str
    state: SpotClearinghouseState


def _ctx(raw: Any, what: str) -> SpotAssetCtx:
    d = obj(raw, what)
    return SpotAssetCtx(
        coin=req_str(d, "coin", what),
        mark_px=req_dec(d, "markPx", what),
        mid_px=opt_dec(d, "midPx", what),
        prev_day_px=req_dec(d, "prevDayPx", what),
        day_ntl_vlm=req_dec(d, "dayNtlVlm", what),
    )


def parse_spot_meta_and_asset_ctxs(raw: Any) -> SpotMetaAndAssetCtxs:
    """Decode ``spotMetaAndAssetCtxs`` (``[spotMeta, [ctx, ...]]``)."""
    pair = arr(raw, "spotMetaAndAssetCtxs")
    if len(pair) != 2:
        raise MalformedMessageError(f"spotMetaAndAssetCtxs: expected [meta, contexts], got {len(pair)} items")
    return SpotMetaAndAssetCtxs(
        meta=parse_spot_meta(pair[0]),
        ctxs=parse_list(pair[1], "spotMetaAndAssetCtxs[1]", _ctx),
    )


def _balance(raw: Any, what: str) -> SpotBalance:
    d = obj(raw, what)
    return SpotBalance(
        coin=req_str(d, "coin", what),
        token=req_int(d, "token", what),
        total=req_dec(d, "total", what),
        hold=req_dec(d, "hold", what),
        entry_ntl=opt_dec(d, "entryNtl", what),
    )


def parse_spot_clearinghouse_state(raw: Any) -> SpotClearinghouseState:
    """Decode ``spotClearinghouseState`` (``{"balances": [...]}``)."""
    d = obj(raw, "spotClearinghouseState")
    return SpotClearinghouseState(
        balances=parse_list(d.get("balances", []), "spotClearinghouseState.balances", _balance)
    )


def parse_spot_state_message(raw: Any) -> SpotStateMessage:
    """Decode the ``spotState`` channel payload ``{"user", "spotState": {"balances": [...]}}``."""
    d = obj(raw, "spotState")
    return SpotStateMessage(
        user=(opt_str(d, "user", "spotState") or "").lower(),
        state=parse_spot_clearinghouse_state(d.get("spotState")),
    )
