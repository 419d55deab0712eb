"""Account and order views of the engine in Hyperliquid's ``/info`` shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from wingbeat.sim.venue.book import Order, OrderRecord
from wingbeat.sim.venue.markets import fmt
from wingbeat.sim.venue.render import px, side, usd

if TYPE_CHECKING:
    from wingbeat.sim.venue.engine import ExchangeEngine
    from wingbeat.sim.venue.perp_dex import PerpDex

__all__ = ["clearinghouse_state", "frontend_order", "historical_orders", "order_status_entry"]

ZERO = Decimal(0)


def _order_type(order: Order | OrderRecord) -> str:
    trig = order.trigger
    if trig is None:
        return "Market" if order.tif == "Ioc" else "Limit"
    if trig.tpsl == "tp":
        return "Take Profit Market" if trig.is_market else "Take Profit Limit"
    return "Stop Market" if trig.is_market else "Stop Limit"


def frontend_order(engine: ExchangeEngine, order: Order | OrderRecord) -> dict[str, Any]:
    """The ``frontendOpenOrders`` / ``orderStatus`` order object."""
    trig = order.trigger
    if trig is None:
        condition = "N/A"
    else:
        above = (trig.tpsl == "tp") != order.is_buy
        # a whole price without ".0" (recorded payloads: "Price above 10.004", clients parse the number)
        px_text = fmt(trig.trigger_px).removesuffix(".0")
        condition = f"Price {'above' if above else 'below'} {px_text}"
    children = [frontend_order(engine, c) for c in order.children if engine.is_open(c)]
    return {
        "coin": order.coin,
        "side": side(order.is_buy),
        "limitPx": fmt(order.limit_px),
        "sz": fmt(order.sz),
        "oid": order.oid,
        "timestamp": order.timestamp,
        "triggerCondition": condition,
        "isTrigger": trig is not None,
        "triggerPx": fmt(trig.trigger_px) if trig is not None else "0.0",
        "children": children,
        "isPositionTpsl": order.position_tpsl,
        "reduceOnly": order.reduce_only,
        "orderType": _order_type(order),
        "origSz": fmt(order.orig_sz),
        "tif": order.tif if trig is None or order.triggered else None,
        "cloid": order.cloid,
    }


def order_status_entry(engine: ExchangeEngine, user: str, oid: int) -> dict[str, Any] | None:
    """``{"order", "status", "statusTimestamp"}`` of one order of ``user``, or None if unknown."""
    live = engine.open_order(user, oid)
    if live is not None:
        fired = engine.history.triggered(oid) if live.triggered else None
        if fired is not None:  # a TP/SL that fired and now rests as a limit order
            return {
                "order": frontend_order(engine, live),
                "status": "triggered",
                "statusTimestamp": fired.status_ts,
            }
        return {"order": frontend_order(engine, live), "status": "open", "statusTimestamp": live.timestamp}
    done = engine.history.get(oid)
    if done is None or done.user != user:
        return None
    return {"order": frontend_order(engine, done), "status": done.status, "statusTimestamp": done.status_ts}


def historical_orders(engine: ExchangeEngine, user: str, limit: int) -> list[dict[str, Any]]:
    """The ``historicalOrders`` answer: each finished order with its final status and each TP/SL
    that fired with status ``triggered`` (before its outcome), newest first, at most ``limit``."""
    history = engine.history
    entries: list[tuple[int, int, OrderRecord]] = []
    for oid in history:
        record = history[oid]
        if record.user == user:
            entries.append((oid, 1, record))
    for oid in history.triggered_oids():
        fired = history.triggered(oid)
        if fired is not None and fired.user == user:
            entries.append((oid, 0, fired))
    entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
    return [
        {"order": frontend_order(engine, r), "status": r.status, "statusTimestamp": r.status_ts}
        for _, _, r in entries[:limit]
    ]


def clearinghouse_state(engine: ExchangeEngine, user: str, dex: PerpDex | None = None) -> dict[str, Any]:
    """The ``clearinghouseState`` answer of ``user``'s margin account on ``dex`` (default: the main
    dex; all zeros for an address that has none there)."""
    acct = (dex or engine.dexes[0]).accounts.get(user)
    now = engine.now
    empty = {"accountValue": "0.0", "totalNtlPos": "0.0", "totalRawUsd": "0.0", "totalMarginUsed": "0.0"}
    if acct is None:
        return {
            "assetPositions": [],
            "marginSummary": dict(empty),
            "crossMarginSummary": dict(empty),
            "crossMaintenanceMarginUsed": "0.0",
            "withdrawable": "0.0",
            "time": now,
        }
    marks, maxlev = engine.marks, engine.max_leverages
    value = acct.account_value(marks)
    cross_value = acct.cross_value(marks)
    cross_mm = acct.maintenance_margin(marks, maxlev, cross=True)
    positions: list[dict[str, Any]] = []
    ntl_total = signed_ntl = margin_total = ZERO
    cross_ntl = cross_signed = cross_margin = ZERO
    for asset, pos in sorted(acct.positions.items()):
        if not pos.szi:
            continue
        m = engine.market_by_asset(asset)
        assert m is not None  # a position is on a listed perp
        mark = marks[asset]
        lev = acct.leverage_of(asset, m.cfg.max_leverage)
        value_pos = abs(pos.szi) * mark
        upnl = pos.unrealized(mark)
        pos_mm = value_pos / (2 * m.cfg.max_leverage)
        ntl_total += value_pos
        signed_ntl += pos.szi * mark
        if acct.is_cross(asset):
            margin = value_pos / lev
            cross_ntl += value_pos
            cross_signed += pos.szi * mark
            cross_margin += margin
            leverage: dict[str, Any] = {"type": "cross", "value": lev}
            free = cross_value - cross_mm
        else:
            iso = acct.isolated_margin.get(asset, ZERO)
            margin = iso + upnl  # what the position holds now
            leverage = {"type": "isolated", "value": lev, "rawUsd": usd(iso - pos.szi * pos.entry_px)}
            free = margin - pos_mm
        margin_total += margin
        liq = _liquidation_px(pos.szi, mark, free, m.cfg.max_leverage)
        positions.append(
            {
                "type": "oneWay",
                "position": {
                    "coin": m.coin,
                    "szi": fmt(pos.szi),
                    "leverage": leverage,
                    "entryPx": px(pos.entry_px),
                    "positionValue": usd(value_pos),
                    "unrealizedPnl": usd(upnl),
                    "returnOnEquity": fmt(upnl * lev / pos.entry_ntl, 8),
                    "liquidationPx": px(liq) if liq is not None else None,
                    "marginUsed": usd(margin),
                    "maxLeverage": m.cfg.max_leverage,
                    "cumFunding": {
                        "allTime": usd(pos.cum_all),
                        "sinceOpen": usd(pos.cum_open),
                        "sinceChange": usd(pos.cum_change),
                    },
                },
            }
        )
    return {
        "assetPositions": positions,
        "marginSummary": {
            "accountValue": usd(value),
            "totalNtlPos": usd(ntl_total),
            "totalRawUsd": usd(value - signed_ntl),
            "totalMarginUsed": usd(margin_total),
        },
        "crossMarginSummary": {
            "accountValue": usd(cross_value),
            "totalNtlPos": usd(cross_ntl),
            "totalRawUsd": usd(cross_value - cross_signed),
            "totalMarginUsed": usd(cross_margin),
        },
        "crossMaintenanceMarginUsed": usd(cross_mm),
        "withdrawable": usd(max(ZERO, cross_value - cross_margin - acct.order_margin)),
        "time": now,
    }


def _liquidation_px(szi: Decimal, mark: Decimal, free: Decimal, max_leverage: int) -> Decimal | None:
    """Price at which ``free`` (margin above maintenance: the cross account's, or an isolated
    position's) is used up, moving this asset only."""
    direction = 1 if szi > 0 else -1
    maint_rate = Decimal(1) / (2 * max_leverage)
    liq = mark - direction * free / abs(szi) / (1 - maint_rate * direction)
    return liq if liq > 0 else None
