"""Hyperliquid JSON shapes of engine objects shared by events and ``/info`` answers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .accounts import Fill
from .book import Order, OrderRecord
from .markets import FMT_CACHE as _CACHE  # hot renders look up first, then call fmt
from .markets import fmt

__all__ = ["basic_order", "order_update", "px", "render_fill", "render_trade", "side", "usd"]

_USD_PLACES = 6
_PX_PLACES = 8


def side(is_buy: bool) -> str:
    """``"B"`` for a bid/buy, ``"A"`` for an ask/sell."""
    return "B" if is_buy else "A"


def basic_order(order: Order | OrderRecord) -> dict[str, Any]:
    """The ``openOrders`` / ``orderUpdates`` order object (``sz`` is what remains)."""
    texts = order.texts
    if texts is None:
        texts = (fmt(order.limit_px), fmt(order.orig_sz))
        if isinstance(order, Order):  # both never change: render once per live order
            order.texts = texts
    sz = order.sz
    out: dict[str, Any] = {
        "coin": order.coin,
        "side": "B" if order.is_buy else "A",
        "limitPx": texts[0],
        "sz": _CACHE.get(sz) or fmt(sz),
        "oid": order.oid,
        "timestamp": order.timestamp,
        "origSz": texts[1],
    }
    if order.cloid is not None:
        out["cloid"] = order.cloid
    return out


def order_update(order: Order, status: str, now: int) -> dict[str, Any]:
    """One ``orderUpdates`` entry."""
    return {"order": basic_order(order), "status": status, "statusTimestamp": now}


def render_fill(f: Fill, px_text: str | None = None, sz_text: str | None = None) -> dict[str, Any]:
    """A fill in the ``userFills`` shape (``px_text``/``sz_text``: already rendered px and sz)."""
    start, pnl, fee = f.start_position, f.closed_pnl, f.fee
    out: dict[str, Any] = {
        "coin": f.coin,
        "px": px_text or fmt(f.px),
        "sz": sz_text or fmt(f.sz),
        "side": "B" if f.is_buy else "A",
        "time": f.time,
        "startPosition": _CACHE.get(start) or fmt(start),
        "dir": f.dir,
        "closedPnl": fmt(pnl, _USD_PLACES) if pnl else "0.0",
        "hash": f.hash,
        "oid": f.oid,
        "crossed": f.crossed,
        "fee": _CACHE.get(fee) or fmt(fee),  # already whole micro-USDC
        "tid": f.tid,
        "feeToken": "USDC",
    }
    if f.cloid is not None:
        out["cloid"] = f.cloid
    if f.liquidation is not None:
        out["liquidation"] = f.liquidation
    return out


def render_trade(
    coin: str, is_buy: bool, px_text: str, sz_text: str, tx: str, now: int, tid: int, buyer: str, seller: str
) -> dict[str, Any]:
    """A public trade in the websocket ``trades`` shape (side = the aggressor's; px and sz rendered)."""
    return {
        "coin": coin,
        "side": "B" if is_buy else "A",
        "px": px_text,
        "sz": sz_text,
        "hash": tx,
        "time": now,
        "tid": tid,
        "users": [buyer, seller],
    }


def usd(value: Decimal) -> str:
    """A USDC amount rendered with at most 6 decimals."""
    return fmt(value, _USD_PLACES)


def px(value: Decimal) -> str:
    """A derived price (entry, liquidation) rendered with at most 8 decimals."""
    return fmt(value, _PX_PLACES)
