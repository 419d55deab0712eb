"""Account-setting actions of the engine: leverage, isolated margin, the dead man's switch."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from wingbeat.sim.venue.accounts import Account
from wingbeat.sim.venue.engine_view import EngineView
from wingbeat.sim.venue.perp_dex import PerpDex
from wingbeat.sim.venue.types import EngineError

if TYPE_CHECKING:
    from wingbeat.sim.venue.market_state import MarketState

__all__ = ["schedule_cancel", "update_isolated_margin", "update_leverage"]

ZERO = Decimal(0)
_DAY_MS = 86_400_000
_MIN_SCHEDULE_AHEAD_MS = 5_000
_MAX_SCHEDULES_PER_DAY = 10
#: CHOSEN: no source for the text of a cross-margin request on an isolated-only HIP-3 perp.
CROSS_NOT_ALLOWED = "Cross margin is not allowed for this asset."
#: CHOSEN: no source for the text of a margin removal from a strictIsolated HIP-3 position.
STRICT_ISOLATED = "Cannot remove margin from a strictly isolated position."


def _market(dex: PerpDex, asset: int) -> MarketState:
    m = dex.market(asset)
    if m is None:
        raise EngineError("Invalid asset.")
    return m


def update_leverage(
    engine: EngineView, dex: PerpDex, acct: Account, asset: int, is_cross: bool, leverage: int
) -> None:
    """Set leverage and margin mode for ``asset`` of ``dex`` on the user's margin account of that
    dex; refused if the position would lack margin, and cross on an isolated-only perp."""
    m = _market(dex, asset)
    if not 1 <= leverage <= m.cfg.max_leverage:
        raise EngineError("Invalid leverage value.")
    if is_cross and dex.isolated_only(asset):
        raise EngineError(CROSS_NOT_ALLOWED)
    if acct.szi(asset) and acct.is_cross(asset) != is_cross:
        raise EngineError("Cannot switch leverage type with open position.")
    if acct.szi(asset) and not is_cross and acct.leverage_of(asset, leverage) != leverage:
        # the position's margin was allocated at the old leverage: top up or remove it instead
        raise EngineError("Cannot change leverage of an open isolated position.")
    previous = acct.leverage.get(asset)
    acct.leverage[asset] = (is_cross, leverage)
    if acct.szi(asset) and acct.available(engine.marks, engine.max_leverages) < 0:
        if previous is None:
            del acct.leverage[asset]
        else:
            acct.leverage[asset] = previous
        raise EngineError("Insufficient margin to update leverage.")


def update_isolated_margin(engine: EngineView, dex: PerpDex, acct: Account, asset: int, ntli: int) -> None:
    """Move ``ntli`` / 1e6 USDC into (or, negative, out of) an isolated position's margin (never
    out of a ``strictIsolated`` HIP-3 perp's)."""
    m = _market(dex, asset)
    if acct.is_cross(asset) or not acct.szi(asset):
        raise EngineError("Cannot update margin for a position that is not isolated.")
    amount = Decimal(ntli) / 1_000_000
    current = acct.isolated_margin.get(asset, ZERO)
    if amount > 0 and amount > acct.available(engine.marks, engine.max_leverages):
        raise EngineError("Insufficient margin to add.")
    if amount < 0 and dex.modes.get(asset) == "strictIsolated":
        raise EngineError(STRICT_ISOLATED)
    if amount < 0:
        # what stays must still cover the position's initial margin at its leverage
        pos = acct.positions[asset]
        mark = engine.marks[asset]
        initial = abs(pos.szi) * mark / acct.leverage_of(asset, m.cfg.max_leverage)
        if current + amount + pos.unrealized(mark) < initial:
            raise EngineError("Insufficient isolated margin to remove.")
    acct.isolated_margin[asset] = current + amount
    acct.balance -= amount


def schedule_cancel(acct: Account, time_ms: int | None, now: int) -> None:
    """Set (or clear with None) the time at which all the account's open orders are canceled."""
    if time_ms is None:
        acct.scheduled_cancel = None
        return
    if time_ms < now + _MIN_SCHEDULE_AHEAD_MS:
        raise EngineError("Scheduled cancel time too early, must be at least 5 seconds from now.")
    day = now // _DAY_MS
    if acct.scheduled_cancel_day != day:
        acct.scheduled_cancel_day, acct.scheduled_cancel_count = day, 0
    if acct.scheduled_cancel_count >= _MAX_SCHEDULES_PER_DAY:
        raise EngineError("Too many scheduled cancels today.")
    acct.scheduled_cancel = time_ms
