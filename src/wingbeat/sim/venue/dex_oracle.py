"""A HIP-3 deployer's oracle: ``perpDeploy`` ``setOracle``, the action by which a builder dex's
oracle updater sets its perps' oracle prices (the HIP-3 deployer actions docs).

As documented: only the dex's oracle updater (its deployer when none is set) may call it; calls must
be at least 2.5 s apart; each update may move an oracle price by at most 1 %. The mark then
follows the new oracle price within the book's spread, as on the main dex. ``markPxs`` and
``externalPerpPxs`` are checked (coins of the dex, positive prices) but do not set the mark here
(CHOSEN: the local exchange's mark is the oracle clamped into the book, for every dex). The refusal
texts are the local exchange's own (CHOSEN: the docs state the rules, not the messages).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from wingbeat.sim.venue.market_state import MarketState
from wingbeat.sim.venue.perp_dex import PerpDex
from wingbeat.sim.venue.types import EngineError

__all__ = ["MAX_ORACLE_MOVE", "MIN_ORACLE_INTERVAL_MS", "set_oracle"]

MIN_ORACLE_INTERVAL_MS = 2_500
"""The docs: at least 2.5 seconds between two setOracle calls of a dex."""
MAX_ORACLE_MOVE = Decimal("0.01")
"""The docs: each update can change the oracle price by at most 1 %."""
_MAX_PRICE = Decimal(10) ** 12

PricesByCoin = Sequence[tuple[str, Decimal]]


def _dex_market(dex: PerpDex, coin: str) -> MarketState:
    # CHOSEN: the coin as "dex:COIN" or bare "COIN" (the official SDK's deploy example sends bare
    # names, deployers' own code the prefixed ones; the docs say only "asset")
    full = coin if ":" in coin else f"{dex.name}:{coin}"
    for m in dex.markets:
        if m.coin == full:
            return m
    raise EngineError(f"Unknown coin {coin} on perp dex {dex.name}.")


def _checked(dex: PerpDex, prices: PricesByCoin) -> list[tuple[MarketState, Decimal]]:
    out: list[tuple[MarketState, Decimal]] = []
    for coin, px in prices:
        m = _dex_market(dex, coin)
        if not px.is_finite() or not 0 < px <= _MAX_PRICE:
            raise EngineError(f"Invalid price {px} for {coin}.")
        out.append((m, px))
    return out


def set_oracle(
    dex: PerpDex,
    user: str,
    oracle_pxs: PricesByCoin,
    mark_pxs: Sequence[PricesByCoin],
    external_pxs: PricesByCoin,
    now: int,
) -> list[MarketState]:
    """Check a ``setOracle`` of ``user`` on ``dex`` and set its oracle prices; returns the markets
    moved (the caller marks them for the mark settlement). EngineError when refused."""
    cfg = dex.cfg
    if cfg is None:
        raise EngineError("The main perp dex has no deployer oracle.")
    updater = cfg.oracle_updater or cfg.deployer
    if user != updater:
        raise EngineError(f"Only the oracle updater of perp dex {dex.name} can set its oracle prices.")
    if dex.oracle_updated_ms is not None and now - dex.oracle_updated_ms < MIN_ORACLE_INTERVAL_MS:
        raise EngineError("Oracle prices can be set at most once every 2.5 seconds.")
    updates = _checked(dex, oracle_pxs)
    for group in mark_pxs:
        _checked(dex, group)
    _checked(dex, external_pxs)
    for m, px in updates:
        if abs(px - m.oracle) > m.oracle * MAX_ORACLE_MOVE:
            raise EngineError(f"Oracle price of {m.coin} can move by at most 1% per update.")
    for m, px in updates:
        m.oracle = px
    dex.oracle_updated_ms = now
    return [m for m, _ in updates]
