"""Time-driven venue processes: funding payments, liquidations and the dead man's switch.

Functions over an :class:`~wingbeat.sim.venue.engine_view.EngineView` (the engine), run from ``advance()``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from wingbeat.sim.venue.accounts import Account, Fill, FundingRecord
from wingbeat.sim.venue.engine_view import EngineView
from wingbeat.sim.venue.markets import fmt
from wingbeat.sim.venue.render import usd
from wingbeat.sim.venue.types import AssetCtxChanged, FundingEvent, LiquidationEvent

from . import transfers

if TYPE_CHECKING:
    from wingbeat.sim.venue.market_state import MarketState
    from wingbeat.sim.venue.perp_dex import PerpDex

__all__ = [
    "funding_rate",
    "liquidate",
    "pay_funding_at",
    "run_funding",
    "run_liquidations",
    "run_scheduled_cancels",
]

ZERO = Decimal(0)
_INTEREST_8H = Decimal("0.0001")
_CLAMP = Decimal("0.0005")
MAX_RATE = Decimal("0.04")  # per period, either way
_RATE_PLACES = Decimal("0.00000001")
_MAX_CATCH_UP = 48  # funding periods settled at most per advance() (a long pause skips the rest)


def funding_rate(m: MarketState) -> tuple[Decimal, Decimal]:
    """``(rate per interval, premium)``: Hyperliquid's formula, premium + clamp(interest - premium),
    of an 8h rate paid in eighths."""
    premium = ((m.mark - m.oracle) / m.oracle).quantize(_RATE_PLACES)
    rate_8h = premium + min(max(_INTEREST_8H - premium, -_CLAMP), _CLAMP)
    rate = (rate_8h / 8).quantize(_RATE_PLACES)
    return min(max(rate, -MAX_RATE), MAX_RATE), premium


def run_funding(engine: EngineView, now: int) -> None:
    """Pay funding for every period that ended by ``now``: longs pay shorts when the rate is positive."""
    interval = engine.funding_interval_ms
    for m in engine.perp_markets:
        if m.next_funding > now:
            continue
        periods = (now - m.next_funding) // interval + 1
        if periods > _MAX_CATCH_UP:
            m.next_funding += (periods - _MAX_CATCH_UP) * interval
        while m.next_funding <= now:
            _pay_funding(engine, m, m.next_funding)
            m.next_funding += interval


def pay_funding_at(engine: EngineView, m: MarketState, t: int, rate: Decimal) -> None:
    """Pay one funding period of ``m`` at ``t`` at a given ``rate`` (a replay of recorded rates)."""
    _pay_funding(engine, m, t, rate)


def _pay_funding(engine: EngineView, m: MarketState, t: int, given: Decimal | None = None) -> None:
    rate, premium = funding_rate(m) if given is None else (given, m.premium)
    dex = engine.dex_of(m.index)
    if given is None and dex is not None and dex.cfg is not None and dex.cfg.funding_multiplier != 1:
        # a builder dex's funding multiplier scales the formula's rate (perpDexs'
        # assetToFundingMultiplier), within the same cap
        rate = min(max((rate * dex.cfg.funding_multiplier).quantize(_RATE_PLACES), -MAX_RATE), MAX_RATE)
    if (rate, premium) != (m.funding_rate, m.premium) and engine.has_subscribers:
        engine.emit(AssetCtxChanged(m.coin))
    m.funding_rate, m.premium = rate, premium
    m.funding_history.append((t, rate, premium))
    for user in list(m.holders):
        acct = m.accounts[user]  # the margin account on the market's dex
        pos = acct.positions[m.index]
        paid = pos.szi * m.oracle * rate
        acct.balance -= paid
        pos.cum_all += paid
        pos.cum_open += paid
        pos.cum_change += paid
        record = FundingRecord(t, m.coin, -paid, pos.szi, rate, engine.tx_hash())
        acct.fundings.append(record)
        if engine.has_subscribers:
            engine.emit(
                FundingEvent(
                    user,
                    {
                        "time": t,
                        "coin": m.coin,
                        "usdc": usd(-paid),
                        "szi": fmt(pos.szi),
                        "fundingRate": fmt(rate),
                        "nSamples": None,
                    },
                )
            )


def run_scheduled_cancels(engine: EngineView, now: int) -> None:
    """Fire every dead man's switch that is due: all the user's open orders are canceled."""
    for acct in list(engine.accounts.values()):
        due = acct.scheduled_cancel
        if due is not None and due <= now:
            acct.scheduled_cancel = None
            acct.scheduled_cancel_count += 1
            engine.cancel_all_of(acct, "scheduledCancel", now)
            for dex in engine.dexes[1:]:  # the switch covers the user's orders on every dex
                dex_acct = dex.accounts.get(acct.user)
                if dex_acct is not None and dex_acct.open_orders:
                    engine.cancel_all_of(dex_acct, "scheduledCancel", now)


def run_liquidations(engine: EngineView, now: int) -> None:
    """Liquidate every isolated position whose margin + PnL fell below its maintenance margin,
    then every account whose cross value fell below the cross maintenance margin."""
    marks, maxlev = engine.marks, engine.max_leverages
    for dex in engine.dexes:  # each dex's clearinghouse margins its own accounts
        users: dict[str, None] = {}
        for m in dex.markets:
            users.update(m.holders)
        users.pop(engine.liquidator, None)
        for user in users:
            acct = dex.accounts[user]
            for asset in [a for a in acct.isolated_margin if acct.szi(a)]:
                pos = acct.positions[asset]
                mm = abs(pos.szi) * marks[asset] / (2 * maxlev[asset])
                if acct.isolated_margin[asset] + pos.unrealized(marks[asset]) < mm:
                    liquidate(engine, acct, now, isolated_asset=asset, dex=dex)
            mm = acct.maintenance_margin(marks, maxlev, cross=True)
            if mm > 0 and acct.cross_value(marks) < mm:
                liquidate(engine, acct, now, dex=dex)


def liquidate(
    engine: EngineView,
    acct: Account,
    now: int,
    *,
    isolated_asset: int | None = None,
    dex: PerpDex | None = None,
) -> None:
    """Hand positions to the backstop liquidator at mark: every cross position (after canceling
    all the account's orders), or the one isolated position (after canceling its market's orders).
    ``acct`` is a margin account of ``dex`` (default: the main dex)."""
    if dex is None:
        dex = engine.dexes[0]
    marks = engine.marks
    if isolated_asset is None:
        engine.cancel_all_of(acct, "liquidatedCanceled", now, perp_only=True)  # spot is not margin
        assets = [a for a, p in acct.positions.items() if p.szi and acct.is_cross(a)]
        value = acct.cross_value(marks)
    else:
        engine.cancel_all_of(acct, "liquidatedCanceled", now, asset=isolated_asset)
        assets = [isolated_asset]
        pos = acct.positions[isolated_asset]
        value = acct.isolated_margin[isolated_asset] + pos.unrealized(marks[isolated_asset])
    liq = dex.account(engine.accounts[engine.liquidator])
    ntl = ZERO
    tx = engine.tx_hash()
    closed: list[dict[str, Any]] = []
    for asset in assets:
        pos = acct.positions[asset]
        m = dex.market(asset)
        assert m is not None  # a position of this dex's account
        closed.append({"coin": m.coin, "szi": fmt(pos.szi)})
        mark = engine.marks[asset]
        sz = abs(pos.szi)
        ntl += sz * mark
        is_buy = pos.szi < 0  # the closing side
        tid = engine.new_tid()
        info = {"liquidatedUser": acct.user, "markPx": fmt(mark), "method": "backstop"}
        start, pnl, direction = acct.apply_fill(asset, is_buy, mark, sz, ZERO)
        lstart, lpnl, ldirection = liq.apply_fill(asset, not is_buy, mark, sz, ZERO)
        m.on_position_change(acct.user, acct.szi(asset))
        m.on_position_change(liq.user, liq.szi(asset))
        mine = Fill(
            m.coin,
            mark,
            sz,
            is_buy,
            now,
            start,
            direction,
            pnl,
            tx,
            engine.new_oid(),
            True,
            ZERO,
            tid,
            None,
            info,
        )
        theirs = Fill(
            m.coin,
            mark,
            sz,
            not is_buy,
            now,
            lstart,
            ldirection,
            lpnl,
            tx,
            engine.new_oid(),
            False,
            ZERO,
            tid,
            None,
            info,
        )
        acct.add_fill(mine)
        liq.add_fill(theirs)
        engine.queue_fill(acct.user, mine)
        engine.queue_fill(liq.user, theirs)
    lid = engine.new_tid()
    if engine.has_subscribers:
        engine.emit(
            LiquidationEvent(
                acct.user,
                {
                    "lid": lid,
                    "liquidator": engine.liquidator,
                    "liquidated_user": acct.user,
                    "liquidated_ntl_pos": usd(ntl),
                    "liquidated_account_value": usd(value),
                },
            )
        )
    delta = {
        "type": "liquidation",
        "liquidatedNtlPos": usd(ntl),
        "accountValue": usd(value),
        "leverageType": "Cross" if isolated_asset is None else "Isolated",
        "liquidatedPositions": closed,
    }
    transfers.record(engine, acct, now, delta)
