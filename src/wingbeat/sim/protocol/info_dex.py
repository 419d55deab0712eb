"""The ``/info`` types about perp dexes (HIP-3): ``perpDexs``, ``perpDexLimits``, ``perpDexStatus``,
``perpsAtOpenInterestCap``, and :func:`dex_of_body`, the ``dex`` field every dex-scoped request
carries (``meta``, ``metaAndAssetCtxs``, ``allMids``, ``clearinghouseState``, ``openOrders``,
``frontendOpenOrders``; empty or absent: the main dex).

Shapes as Hyperliquid answers them (the typed schemas of the nktkas TypeScript SDK): ``perpDexs``
lists ``null`` for the main dex, then one object per builder dex; ``perpDexLimits`` is ``null``
for the main dex.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.markets import fmt
from wingbeat.sim.venue.perp_dex import PerpDex
from wingbeat.sim.venue.render import usd

__all__ = ["DEX_HANDLERS", "NEVER_CHANGED", "UnknownDex", "dex_of_body", "render_perp_dexs"]

ZERO = Decimal(0)
#: CHOSEN: the venue never changed a fee scale (Hyperliquid renders the time without a timezone)
NEVER_CHANGED = "1970-01-01T00:00:00"


class UnknownDex(ValueError):
    """A ``dex`` field that names no perp dex of the venue (answered 422)."""


def dex_of_body(engine: ExchangeEngine, body: dict[str, Any]) -> PerpDex:
    """The perp dex a request's ``dex`` field names (absent, null or ``""``: the main dex)."""
    name = body.get("dex")
    if name is None:
        name = ""
    if not isinstance(name, str):
        raise UnknownDex("dex: expected a string")
    dex = engine.dex(name)
    if dex is None:
        raise UnknownDex(f"unknown perp dex {name!r}")
    return dex


def render_perp_dexs(engine: ExchangeEngine) -> list[dict[str, Any] | None]:
    """The ``perpDexs`` answer: ``null`` (the main dex), then each builder dex."""
    out: list[dict[str, Any] | None] = [None]
    for dex in engine.dexes[1:]:
        cfg = dex.cfg
        assert cfg is not None
        out.append(
            {
                "name": cfg.name,
                "fullName": cfg.full_name,
                "deployer": cfg.deployer,
                "oracleUpdater": cfg.oracle_updater,
                "feeRecipient": cfg.fee_recipient,
                "assetToStreamingOiCap": _coin_caps(dex),
                "subDeployers": [],
                "deployerFeeScale": fmt(cfg.deployer_fee_scale),
                "lastDeployerFeeScaleChangeTime": NEVER_CHANGED,
                "assetToFundingMultiplier": [[m.coin, fmt(cfg.funding_multiplier)] for m in dex.markets],
            }
        )
    return out


def _coin_caps(dex: PerpDex) -> list[list[str]]:
    assert dex.cfg is not None
    return [[dex.cfg.coin(perp), usd(perp.oi_cap)] for perp in dex.cfg.perps if perp.oi_cap is not None]


def _perp_dex_limits(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    dex = dex_of_body(engine, body)
    cfg = dex.cfg
    if cfg is None:
        return None  # the main dex has no builder limits
    return {
        "totalOiCap": usd(cfg.total_oi_cap),
        "oiSzCapPerPerp": fmt(cfg.oi_sz_cap_per_perp),
        "maxTransferNtl": usd(cfg.max_transfer_ntl),
        "coinToOiCap": _coin_caps(dex),
    }


def _perp_dex_status(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    dex = dex_of_body(engine, body)
    # CHOSEN: the collateral the dex's margin accounts hold (balances and isolated margin); trades
    # and funding move it between them, so it is what was sent in, less fees
    total = ZERO
    for acct in dex.accounts.values():
        total += acct.balance + sum(acct.isolated_margin.values(), ZERO)
    return {"totalNetDeposit": usd(max(total, ZERO))}


def _perps_at_open_interest_cap(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    dex = dex_of_body(engine, body)
    return [m.coin for m in dex.markets if dex.at_open_interest_cap(m, engine.marks)]


DEX_HANDLERS: dict[str, Callable[[ExchangeEngine, dict[str, Any]], Any]] = {
    "perpDexs": lambda engine, body: render_perp_dexs(engine),
    "perpDexLimits": _perp_dex_limits,
    "perpDexStatus": _perp_dex_status,
    "perpsAtOpenInterestCap": _perps_at_open_interest_cap,
}
"""Handlers of the perp-dex ``/info`` types (``info.py`` dispatches to them)."""
