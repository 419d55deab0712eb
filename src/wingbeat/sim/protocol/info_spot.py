"""The spot ``/info`` types of the local exchange: ``spotMeta``, ``spotMetaAndAssetCtxs``,
``spotClearinghouseState``, and the spot asset context the websocket's ``activeSpotAssetCtx`` and
``webData2`` carry.

Shapes from Hyperliquid's docs (info endpoint, spot) and recorded mainnet answers: tokens
``{name, szDecimals, weiDecimals, index, tokenId, isCanonical, evmContract, fullName, deployerTradingFeeShare}``, pairs
``{name, tokens: [base, quote], index, isCanonical}``, contexts ``{prevDayPx, dayNtlVlm, markPx,
midPx, circulatingSupply, coin, totalSupply, dayBaseVlm}`` in pair order, balances
``{coin, token, hold, total, entryNtl}``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wingbeat.sim.venue import transfers
from wingbeat.sim.venue.accounts import Account
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.market_state import SpotMarketState
from wingbeat.sim.venue.markets import fmt
from wingbeat.sim.venue.render import px, usd

__all__ = [
    "render_spot_asset_ctx",
    "render_spot_meta",
    "spot_clearinghouse_state",
    "spot_value",
]

ZERO = Decimal(0)


def render_spot_meta(engine: ExchangeEngine) -> dict[str, Any]:
    """The ``spotMeta`` answer."""
    spot = engine.spot
    index = {t.name: i for i, t in enumerate(spot.tokens)}
    return {
        "universe": [
            {
                "tokens": [index[m.base.name], index[m.quote.name]],
                "name": m.coin,
                "index": m.spot_index,
                # CHOSEN: only PURR/USDC is canonical on Hyperliquid; here the pair at index 0
                "isCanonical": m.spot_index == 0,
            }
            for m in engine.spot_markets
        ],
        "tokens": [
            {
                "name": t.name,
                "szDecimals": t.sz_decimals,
                "weiDecimals": t.wei_decimals,
                "index": i,
                "tokenId": t.token_id,
                "isCanonical": t.is_canonical,
                "evmContract": None,
                "fullName": t.full_name,
                # the deployer's share of the pair's fees (mainnet's tokens carry it; none deploy here)
                "deployerTradingFeeShare": "0.0",
            }
            for i, t in enumerate(spot.tokens)
        ],
    }


def _supply(engine: ExchangeEngine, token: str) -> Decimal:
    total = engine.spot_fees_collected.get(token, ZERO)
    for acct in engine.accounts.values():
        total += acct.spot.get(token, ZERO)
    return total


def render_spot_asset_ctx(engine: ExchangeEngine, m: SpotMarketState) -> dict[str, Any]:
    """One spot asset context as in ``spotMetaAndAssetCtxs`` / ``activeSpotAssetCtx``.

    The supply is every balance of the base token on the venue (the local exchange has no
    non-circulating balances, so circulating and total supply are the same)."""
    mid = m.book.mid()
    supply = fmt(_supply(engine, m.base.name))
    return {
        "prevDayPx": fmt(m.prev_day_px),
        "dayNtlVlm": usd(m.day_ntl_vlm),
        "markPx": fmt(m.mark),
        "midPx": px(mid) if mid is not None else None,
        "circulatingSupply": supply,
        "coin": m.coin,
        "totalSupply": supply,
        "dayBaseVlm": fmt(m.day_base_vlm),
    }


def spot_clearinghouse_state(engine: ExchangeEngine, acct: Account | None) -> dict[str, Any]:
    """``spotClearinghouseState``: the account's token balances in token order (USDC is token 0),
    each with what resting orders hold and its entry notional."""
    if acct is None:
        return {"balances": []}
    balances = []
    for i, token in enumerate(engine.spot.tokens):
        total = acct.spot.get(token.name, ZERO)
        hold = acct.spot_hold.get(token.name, ZERO)
        if not total and not hold:
            continue
        entry = acct.spot_entry.get(token.name, ZERO)
        balances.append(
            {"coin": token.name, "token": i, "hold": fmt(hold), "total": fmt(total), "entryNtl": usd(entry)}
        )
    return {"balances": balances}


def spot_value(engine: ExchangeEngine, acct: Account) -> Decimal:
    """The USDC value of ``acct``'s spot balances at the marks of their USDC pairs."""
    return sum((transfers.usdc_value(engine, token, total) for token, total in acct.spot.items()), ZERO)
