"""``POST /info`` of the local exchange: every request type answered in Hyperliquid's JSON shapes.

``handle_info(engine, body)`` returns the JSON-ready reply or raises :class:`InfoError` carrying the
HTTP status and plain-text body the real server gives (422 ``Failed to deserialize the JSON body
into the target type`` for bodies it cannot decode). The websocket half renders its channels with
the ``render_*`` functions here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from wingbeat.core.errors import WingbeatError
from wingbeat.sim.protocol.info_accounts import ACCOUNT_HANDLERS, MARKET_HANDLERS
from wingbeat.sim.protocol.info_dex import DEX_HANDLERS, NEVER_CHANGED, UnknownDex, dex_of_body
from wingbeat.sim.protocol.info_spot import render_spot_asset_ctx, render_spot_meta, spot_clearinghouse_state
from wingbeat.sim.venue.accounts import Account, Fill, fill_direction
from wingbeat.sim.venue.book import Order
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.market_state import MarketState, SpotMarketState
from wingbeat.sim.venue.markets import fmt, venue_context
from wingbeat.sim.venue.perp_dex import PerpDex
from wingbeat.sim.venue.render import basic_order, order_update, px, render_fill, render_trade, usd
from wingbeat.sim.venue.state_views import (
    clearinghouse_state,
    frontend_order,
    historical_orders,
    order_status_entry,
)

__all__ = [
    "DESERIALIZE_ERROR",
    "InfoError",
    "handle_info",
    "order_update",
    "render_active_asset_ctx",
    "render_all_mids",
    "render_asset_ctx",
    "render_bbo",
    "render_candle",
    "render_fill",
    "render_l2_book",
    "render_meta",
    "render_trade",
]

DESERIALIZE_ERROR = "Failed to deserialize the JSON body into the target type"
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_CLOID = re.compile(r"^0x[0-9a-fA-F]{32}$")
_MAX_FILLS = 2000
_MAX_RANGE_ITEMS = 500
_MAX_CANDLES = 5000
_DEFAULT_REQUESTS_BUFFER = 10_000  # Hyperliquid's initial per-address action buffer
_PX_QUANTUM = Decimal("0.00000001")
_INTERVALS_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
    "1M": 2_592_000_000,  # 30 days: the local exchange does not follow calendar months
}


class InfoError(WingbeatError):
    """A request the info endpoint refuses: ``status`` and ``text`` are the HTTP answer."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status}: {text}")
        self.status = status
        self.text = text


def _bad(detail: str) -> InfoError:
    return InfoError(422, f"{DESERIALIZE_ERROR}: {detail}")


def _user(body: dict[str, Any]) -> str:
    user = body.get("user")
    if not isinstance(user, str) or not _ADDRESS.match(user):
        raise _bad("user: expected a 0x-prefixed 20-byte hex address")
    return user.lower()


def _int(body: dict[str, Any], key: str, *, required: bool = True) -> int | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(f"{key}: expected an integer")
    return value


def _time_range(body: dict[str, Any]) -> tuple[int, int]:
    """``startTime`` (required) and ``endTime`` (optional: open-ended) of a range query, in ms."""
    start = _int(body, "startTime")
    end = _int(body, "endTime", required=False)
    assert start is not None
    return start, end if end is not None else 1 << 62


def _coin(engine: ExchangeEngine, body: dict[str, Any]) -> MarketState | None:
    coin = body.get("coin")
    if not isinstance(coin, str):
        raise _bad("coin: expected a string")
    return engine.market(coin)


def _dex(engine: ExchangeEngine, body: dict[str, Any]) -> PerpDex:
    try:
        return dex_of_body(engine, body)
    except UnknownDex as exc:
        raise _bad(str(exc)) from None


# ---------------------------------------------------------------- renderers (shared with websocket)
def _universe_entry(dex: PerpDex, m: MarketState) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": m.coin,
        "szDecimals": m.cfg.sz_decimals,
        "maxLeverage": m.cfg.max_leverage,
        "marginTableId": m.cfg.max_leverage,
    }
    mode = dex.modes.get(m.index)
    if mode is not None:  # a HIP-3 perp that trades isolated only (both flags, as meta lists them)
        entry["onlyIsolated"] = True
        entry["marginMode"] = mode
    if dex.cfg is not None:  # a HIP-3 perp's meta carries its fee scale (recorded meta(dex) rows)
        entry["deployerFeeScale"] = fmt(dex.cfg.deployer_fee_scale)
        entry["lastFeeScaleChangeTime"] = NEVER_CHANGED
    return entry


def render_meta(engine: ExchangeEngine, dex: PerpDex | None = None) -> dict[str, Any]:
    """The ``meta`` answer of ``dex`` (default: the main dex; a builder dex's coins are
    ``"dex:COIN"`` and its ``collateralToken`` the spot index of its collateral)."""
    dex = dex or engine.dexes[0]
    levs = sorted({m.cfg.max_leverage for m in dex.markets})
    return {
        "universe": [_universe_entry(dex, m) for m in dex.markets],
        "marginTables": [
            [lev, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": lev}]}]
            for lev in levs
        ],
        "collateralToken": 0 if dex.cfg is None else dex.cfg.collateral_token,
    }


def render_asset_ctx(m: MarketState) -> dict[str, Any]:
    """One asset context as in ``metaAndAssetCtxs`` / ``activeAssetCtx``."""
    bid, ask = m.book.best_bid(), m.book.best_ask()
    mid = m.book.mid()
    return {
        "funding": fmt(m.funding_rate),
        "openInterest": fmt(m.open_interest),
        "prevDayPx": fmt(m.prev_day_px),
        "dayNtlVlm": usd(m.day_ntl_vlm),
        "premium": fmt(m.premium),
        "oraclePx": fmt(m.oracle),
        "markPx": fmt(m.mark),
        "midPx": px(mid) if mid is not None else None,
        "impactPxs": [fmt(bid), fmt(ask)] if bid is not None and ask is not None else None,
        "dayBaseVlm": fmt(m.day_base_vlm),
    }


def render_active_asset_ctx(engine: ExchangeEngine, m: MarketState) -> dict[str, Any]:
    """Websocket ``activeAssetCtx`` data (``activeSpotAssetCtx`` for a spot pair)."""
    if isinstance(m, SpotMarketState):
        return {"coin": m.coin, "ctx": render_spot_asset_ctx(engine, m)}
    return {"coin": m.coin, "ctx": render_asset_ctx(m)}


def render_all_mids(engine: ExchangeEngine, dex: PerpDex | None = None) -> dict[str, str]:
    """``allMids``: coin -> mid (last trade, then oracle, when a side is empty), perps then spot
    pairs (Hyperliquid's allMids of the first perp dex carries the ``@N`` spot keys too); of a
    builder ``dex``, only its own ``"dex:COIN"`` perps."""
    if dex is not None and dex.cfg is not None:
        return {m.coin: px(m.mid()) for m in dex.markets}
    mids = {m.coin: px(m.mid()) for m in engine.markets}
    for s in engine.spot_markets:
        mids[s.coin] = px(s.mid())
    return mids


def render_l2_book(engine: ExchangeEngine, m: MarketState, n_sig_figs: int | None = None) -> dict[str, Any]:
    """``l2Book`` answer / websocket data: up to 20 levels a side."""
    bids, asks = m.book.levels(20, n_sig_figs)
    return {
        "coin": m.coin,
        "time": engine.now,
        "levels": [
            [{"px": fmt(p), "sz": fmt(s), "n": n} for p, s, n in bids],
            [{"px": fmt(p), "sz": fmt(s), "n": n} for p, s, n in asks],
        ],
    }


def render_bbo(engine: ExchangeEngine, m: MarketState) -> dict[str, Any]:
    """Websocket ``bbo`` data: best level per side, or null."""
    return {"coin": m.coin, "time": engine.now, "bbo": [_best(m, True), _best(m, False)]}


def _best(m: MarketState, is_bid: bool) -> dict[str, Any] | None:
    best = m.book.best_level(is_bid)
    if best is None:
        return None
    px, level = best
    sz = sum((o.sz for o in level.values()), Decimal(0))
    return {"px": fmt(px), "sz": fmt(sz), "n": len(level)}


def render_candle(m: MarketState, interval: str, start: int) -> dict[str, Any] | None:
    """The candle of ``interval`` opening at ``start`` (aggregated from 1m candles), or None."""
    step = _INTERVALS_MS[interval]
    got = _candles(m, interval, start, start + step - 1)
    return got[0] if got else None


def _candles(m: MarketState, interval: str, start: int, end: int) -> list[dict[str, Any]]:
    step = _INTERVALS_MS[interval]
    buckets: dict[int, list[Any]] = {}
    for t in sorted(m.candles):
        if t + 60_000 <= start or t > end:
            continue
        o, h, lo, c, v, n, _ = m.candles[t]
        key = t - t % step
        b = buckets.get(key)
        if b is None:
            buckets[key] = [o, h, lo, c, v, n]
        else:
            b[1], b[2], b[3] = max(b[1], h), min(b[2], lo), c
            b[4] += v
            b[5] += n
    out = [
        {
            "t": t,
            "T": t + step - 1,
            "s": m.coin,
            "i": interval,
            "o": fmt(b[0]),
            "c": fmt(b[3]),
            "h": fmt(b[1]),
            "l": fmt(b[2]),
            "v": fmt(b[4]),
            "n": b[5],
        }
        for t, b in buckets.items()
    ]
    return out[-_MAX_CANDLES:]


# ---------------------------------------------------------------- request handlers
def _meta_and_ctxs(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    dex = _dex(engine, body)
    return [render_meta(engine, dex), [render_asset_ctx(m) for m in dex.markets]]


def _l2_book(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    m = _coin(engine, body)
    n_sig = body.get("nSigFigs")
    if n_sig is not None and n_sig not in (2, 3, 4, 5):
        raise _bad("nSigFigs: expected 2, 3, 4, 5 or null")
    mantissa = body.get("mantissa")
    if mantissa is not None and (n_sig != 5 or mantissa not in (1, 2, 5)):
        raise _bad("mantissa: only 1, 2 or 5, and only with nSigFigs 5")
    if m is None:
        return None
    return render_l2_book(engine, m, n_sig)


def _clearinghouse(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    return clearinghouse_state(engine, _user(body), _dex(engine, body))


def _live_orders(engine: ExchangeEngine, user: str, dex: PerpDex) -> list[Order]:
    """The open orders of ``user`` on ``dex`` (spot orders count to the main dex, as Hyperliquid
    lists them only with the first perp dex)."""
    acct = dex.accounts.get(user)
    if acct is None:
        return []
    return sorted(acct.open_orders.values(), key=lambda o: o.oid, reverse=True)


def _open_orders(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    dex = _dex(engine, body)
    return [basic_order(o) for o in _live_orders(engine, _user(body), dex)]


def _frontend_open_orders(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    dex = _dex(engine, body)
    return [frontend_order(engine, o) for o in _live_orders(engine, _user(body), dex)]


def _order_status(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    user = _user(body)
    ref = body.get("oid")
    acct = engine.accounts.get(user)
    if isinstance(ref, str):
        if not _CLOID.match(ref):
            raise _bad("oid: expected an integer or a 0x-prefixed 16-byte hex cloid")
        oid = acct.cloids.get(ref.lower()) if acct is not None else None
    elif isinstance(ref, int) and not isinstance(ref, bool):
        oid = ref
    else:
        raise _bad("oid: expected an integer or a 0x-prefixed 16-byte hex cloid")
    entry = order_status_entry(engine, user, oid) if oid is not None else None
    if entry is None:
        return {"status": "unknownOid"}
    return {"status": "order", "order": entry}


def _account_or_none(engine: ExchangeEngine, body: dict[str, Any]) -> Account | None:
    return engine.accounts.get(_user(body))


def _aggregate_by_time(body: dict[str, Any], fills: list[Fill]) -> list[Fill]:
    """With ``aggregateByTime``, the fills one crossing order got from several resting orders at
    once are combined into one (size summed, price volume-weighted)."""
    flag = body.get("aggregateByTime", False)
    if not isinstance(flag, bool):
        raise _bad("aggregateByTime: expected a boolean")
    if not flag:
        return fills
    out: list[Fill] = []
    for f in fills:
        prev = out[-1] if out else None
        if prev is not None and f.crossed and prev.crossed and (prev.oid, prev.time) == (f.oid, f.time):
            sz = prev.sz + f.sz
            out[-1] = prev._replace(
                px=((prev.px * prev.sz + f.px * f.sz) / sz).quantize(_PX_QUANTUM),
                sz=sz,
                closed_pnl=prev.closed_pnl + f.closed_pnl,
                fee=prev.fee + f.fee,
                dir=prev.dir if prev.dir == f.dir else fill_direction(prev.start_position, f.is_buy, sz),
            )
        else:
            out.append(f)
    return out


def _user_fills(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    acct = _account_or_none(engine, body)
    if acct is None:
        return []
    fills = _aggregate_by_time(body, acct.fills[-_MAX_FILLS:])
    return [render_fill(f) for f in reversed(fills)]


def _user_fills_by_time(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    acct = _account_or_none(engine, body)
    start, hi = _time_range(body)
    if acct is None:
        return []
    picked = _aggregate_by_time(body, [f for f in acct.fills if start <= f.time <= hi])
    return [render_fill(f) for f in reversed(picked[:_MAX_FILLS])]


def _user_funding(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    acct = _account_or_none(engine, body)
    start, hi = _time_range(body)
    if acct is None:
        return []
    out = []
    for r in acct.fundings:
        if start <= r.time <= hi:
            delta = {
                "type": "funding",
                "coin": r.coin,
                "usdc": usd(r.usdc),
                "szi": fmt(r.szi),
                "fundingRate": fmt(r.funding_rate),
                "nSamples": None,
            }
            out.append({"time": r.time, "hash": r.hash, "delta": delta})
            if len(out) == _MAX_RANGE_ITEMS:
                break
    return out


def _funding_history(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    m = _coin(engine, body)
    start, hi = _time_range(body)
    if m is None:
        return []
    out = []
    for t, rate, premium in m.funding_history:
        if start <= t <= hi:
            out.append({"coin": m.coin, "fundingRate": fmt(rate), "premium": fmt(premium), "time": t})
            if len(out) == _MAX_RANGE_ITEMS:
                break
    return out


def _candle_snapshot(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    req = body.get("req")
    if not isinstance(req, dict):
        raise _bad("req: expected an object")
    m = _coin(engine, req)
    interval = req.get("interval")
    if interval not in _INTERVALS_MS:
        raise _bad(f"interval: unknown interval {interval!r}")
    start = _int(req, "startTime")
    end = _int(req, "endTime")
    assert start is not None and end is not None
    if m is None:
        return []
    return _candles(m, str(interval), start, end)


def _user_rate_limit(
    engine: ExchangeEngine,
    body: dict[str, Any],
    requests_used: Callable[[str], int] | None,
    requests_cap: Callable[[str], int] | None,
) -> Any:
    user = _user(body)
    vlm = engine.volume_of(user)  # on every dex and spot
    # the protocol half's limiter knows its configured buffer; without one, Hyperliquid's default
    cap = requests_cap(user) if requests_cap is not None else _DEFAULT_REQUESTS_BUFFER + int(vlm)
    used = requests_used(user) if requests_used is not None else 0
    return {
        "cumVlm": usd(vlm),
        "nRequestsUsed": used,
        "nRequestsCap": cap,
        "nRequestsSurplus": max(0, used - cap),
    }


def _historical_orders(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    return historical_orders(engine, _user(body), _MAX_FILLS)


def _user_role(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    user = _user(body)
    acct = engine.accounts.get(user)
    if acct is not None:
        if acct.master is not None:
            return {"role": "subAccount", "data": {"master": acct.master}}
        if acct.vault_leader is not None:
            return {"role": "vault"}  # as recorded (info_userRole.json)
        return {"role": "user"}
    owner = engine.account_for_signer(user)
    if owner is not None:
        return {"role": "agent", "data": {"user": owner}}
    return {"role": "missing"}


def _extra_agents(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    acct = _account_or_none(engine, body)
    if acct is None:
        return []
    return [
        {"name": n, "address": a, "validUntil": acct.agents_valid_until.get(a)}
        for a, n in acct.agents.items()
        if n
    ]


def _spot_clearinghouse(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    return spot_clearinghouse_state(engine, engine.accounts.get(_user(body)))


def _spot_meta_and_ctxs(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    return [render_spot_meta(engine), [render_spot_asset_ctx(engine, m) for m in engine.spot_markets]]


def _meta(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    return render_meta(engine, _dex(engine, body))


def _all_mids(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    return render_all_mids(engine, _dex(engine, body))


_HANDLERS: dict[str, Callable[[ExchangeEngine, dict[str, Any]], Any]] = {
    "meta": _meta,
    "metaAndAssetCtxs": _meta_and_ctxs,
    "allMids": _all_mids,
    "l2Book": _l2_book,
    "clearinghouseState": _clearinghouse,
    "openOrders": _open_orders,
    "frontendOpenOrders": _frontend_open_orders,
    "orderStatus": _order_status,
    "userFills": _user_fills,
    "userFillsByTime": _user_fills_by_time,
    "userFunding": _user_funding,
    "fundingHistory": _funding_history,
    "candleSnapshot": _candle_snapshot,
    "historicalOrders": _historical_orders,
    "userRole": _user_role,
    "extraAgents": _extra_agents,
    "spotMeta": lambda e, b: render_spot_meta(e),
    "spotMetaAndAssetCtxs": _spot_meta_and_ctxs,
    "spotClearinghouseState": _spot_clearinghouse,
}


def _with_user(handler: Callable[[ExchangeEngine, dict[str, Any], str], Any]) -> Callable[..., Any]:
    return lambda engine, body: handler(engine, body, _user(body))


_HANDLERS.update({kind: _with_user(handler) for kind, handler in ACCOUNT_HANDLERS.items()})
_HANDLERS.update(MARKET_HANDLERS)
_HANDLERS.update(DEX_HANDLERS)


@venue_context
def handle_info(
    engine: ExchangeEngine,
    body: Any,
    *,
    requests_used: Callable[[str], int] | None = None,
    requests_cap: Callable[[str], int] | None = None,
) -> Any:
    """Answer one ``/info`` body; raise :class:`InfoError` (422) for what cannot be decoded.

    ``requests_used`` and ``requests_cap`` let the protocol half report its per-address action
    count and cap in ``userRateLimit`` (without a cap: 10,000 plus one per traded USDC).
    """
    if not isinstance(body, dict):
        raise _bad("expected a JSON object")
    kind = body.get("type")
    if kind == "userRateLimit":
        return _user_rate_limit(engine, body, requests_used, requests_cap)
    handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise _bad(
            f"unknown variant {kind!r}: this local exchange answers {sorted([*_HANDLERS, 'userRateLimit'])}"
        )
    try:
        return handler(engine, body)
    except ValueError as exc:  # a field the handler could not decode
        raise _bad(str(exc)) from None
