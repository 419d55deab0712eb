"""Hyperliquid JSON shapes of engine objects shared by events and ``/info`` answers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wingbeat.sim.venue.accounts import Fill
from wingbeat.sim.venue.book import Order, OrderRecord
from wingbeat.sim.venue.markets import FMT_CACHE as _CACHE  # hot renders look up first, then call fmt
from wingbeat.sim.venue.markets import fmt, fmt_new

__all__ = [
    "basic_order",
    "order_update",
    "px",
    "render_fill",
    "render_fill_rows",
    "render_trade",
    "render_trade_rows",
    "render_update_rows",
    "side",
    "update_row",
    "usd",
]

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
        "sz": (_CACHE.get(sz) or fmt(sz)) if sz else "0.0",
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
        "startPosition": fmt_new(start),  # positions and fees are computed per fill: not in the cache
        "dir": f.dir,
        "closedPnl": fmt(pnl, _USD_PLACES) if pnl else "0.0",
        "hash": f.hash,
        "oid": f.oid,
        "crossed": f.crossed,
        "fee": fmt_new(fee),  # already rounded to the fee token's decimals
        "tid": f.tid,
        "feeToken": f.fee_token,
    }
    if f.cloid is not None:
        out["cloid"] = f.cloid
    if f.liquidation is not None:
        out["liquidation"] = f.liquidation
    if f.twap_id is not None:
        out["twapId"] = f.twap_id
    return out


def update_row(order: Order, status: str, now: int) -> tuple[Any, ...]:
    """What :func:`render_update_rows` needs of one ``orderUpdates`` entry, taken now: the parts of
    ``order`` that may still change in the same action (remaining size, and for a fired trigger
    its price, size and texts) are copied."""
    return (order, status, now, order.sz, order.texts, order.limit_px, order.orig_sz)


def render_update_rows(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The ``orderUpdates`` entries of rows built by :func:`update_row` (as :func:`order_update`)."""
    out = []
    cache = _CACHE
    for order, status, now, sz, texts, limit_px, orig_sz in rows:
        if texts is None:
            texts = (cache.get(limit_px) or fmt(limit_px), cache.get(orig_sz) or fmt(orig_sz))
            if order.texts is None and order.limit_px is limit_px and order.orig_sz is orig_sz:
                order.texts = texts  # both never change: render once per live order
        entry: dict[str, Any] = {
            "coin": order.coin,
            "side": "B" if order.is_buy else "A",
            "limitPx": texts[0],
            # an untouched order's size is its origSz object; a filled order's 0 is a new Decimal: no hash
            "sz": (texts[1] if sz is orig_sz else cache.get(sz) or fmt(sz)) if sz else "0.0",
            "oid": order.oid,
            "timestamp": order.timestamp,
            "origSz": texts[1],
        }
        if order.cloid is not None:
            entry["cloid"] = order.cloid
        out.append({"order": entry, "status": status, "statusTimestamp": now})
    return out


def render_fill_rows(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Fills kept as plain tuples of :class:`Fill`'s fields, in the ``userFills`` shape (as
    :func:`render_fill`)."""
    out = []
    cache = _CACHE
    for (
        coin,
        fpx,
        sz,
        is_buy,
        time,
        start,
        direction,
        pnl,
        tx,
        oid,
        crossed,
        fee,
        tid,
        cloid,
        liq,
        twap_id,
        fee_token,
    ) in rows:
        fill: dict[str, Any] = {
            "coin": coin,
            "px": cache.get(fpx) or fmt(fpx),
            "sz": cache.get(sz) or fmt(sz),
            "side": "B" if is_buy else "A",
            "time": time,
            "startPosition": fmt_new(start),  # positions and fees are computed per fill: not in the cache
            "dir": direction,
            "closedPnl": fmt(pnl, _USD_PLACES) if pnl else "0.0",
            "hash": tx,
            "oid": oid,
            "crossed": crossed,
            "fee": fmt_new(fee),  # already rounded to the fee token's decimals
            "tid": tid,
            "feeToken": fee_token,
        }
        if cloid is not None:
            fill["cloid"] = cloid
        if liq is not None:
            fill["liquidation"] = liq
        if twap_id is not None:
            fill["twapId"] = twap_id
        out.append(fill)
    return out


def render_trade_rows(groups: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Public trades in the websocket ``trades`` shape (as :func:`render_trade`), from the groups
    ``(coin, is_buy, tx, time, taker, rows)`` the engine queues per taker order, ``rows`` holding
    ``(px, sz, tid, maker)`` per trade."""
    cache = _CACHE
    out = []
    for coin, is_buy, tx, now, taker, rows in groups:
        trade = None
        for tpx, sz, tid, maker in rows:
            px_text = cache.get(tpx) or fmt(tpx)
            sz_text = cache.get(sz) or fmt(sz)
            if trade is None:
                buyer, seller = (taker, maker) if is_buy else (maker, taker)
                trade = render_trade(coin, is_buy, px_text, sz_text, tx, now, tid, buyer, seller)
            else:
                # the trades of one taker order differ in these four fields only: a copy of the
                # previous one with them set costs about half as much as an 8-key dict display
                trade = trade.copy()
                trade["px"] = px_text
                trade["sz"] = sz_text
                trade["tid"] = tid
                trade["users"] = [taker, maker] if is_buy else [maker, taker]
            out.append(trade)
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
