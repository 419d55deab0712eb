"""Per-user websocket channels of the local exchange: what each sends, in Hyperliquid's shapes.

Account-state channels (:data:`STATE_TYPES`) carry a whole state, re-rendered when it may have
changed; event channels with a snapshot (:data:`SNAPSHOT_TYPES`) send their history first, then
one message per event. Shapes follow the nktkas/hyperliquid SDK's subscription types (the docs list
the channels, not all the fields). Rendering goes through ``handle_info`` where an ``/info`` type
has the same data, so the two agree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wingbeat.sim.protocol.info import handle_info, render_asset_ctx, render_meta
from wingbeat.sim.protocol.info_accounts import net_inflow, render_active_asset_data, total_vault_equity
from wingbeat.sim.protocol.info_spot import render_spot_asset_ctx
from wingbeat.sim.protocol.info_twap import render_twap_history, render_twap_states
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.markets import venue_context
from wingbeat.sim.venue.render import usd

__all__ = [
    "DEX_TYPES",
    "MARK_TYPES",
    "SNAPSHOT_TYPES",
    "STATE_TYPES",
    "render_snapshot",
    "render_state",
]

ZERO = Decimal(0)
STATE_TYPES = frozenset(
    {
        "clearinghouseState",
        "allDexsClearinghouseState",
        "openOrders",
        "webData2",
        "webData3",
        "activeAssetData",
        "twapStates",
        "spotState",
    }
)
# re-rendered when the mark of a coin the user holds moves (webData2/3 carry every market's context:
# they follow the periodic refresh instead, so a busy book does not re-render them on every trade)
MARK_TYPES = frozenset({"clearinghouseState", "allDexsClearinghouseState", "activeAssetData"})
SNAPSHOT_TYPES = frozenset({"userNonFundingLedgerUpdates", "userTwapSliceFills", "userTwapHistory"})
DEX_TYPES = frozenset({"clearinghouseState", "openOrders", "twapStates"})  # take an optional "dex"


@venue_context
def render_state(
    engine: ExchangeEngine, kind: str, user: str, coin: str | None, dex: str | None = None
) -> Any:
    """The data of one account-state channel of ``user`` (``coin`` for ``activeAssetData``; ``dex``
    a builder dex's name for ``clearinghouseState`` / ``openOrders``, None for the main dex)."""
    dex_name = dex or ""
    if kind == "clearinghouseState":
        state = handle_info(engine, {"type": "clearinghouseState", "user": user, "dex": dex_name})
        return {"dex": dex_name, "user": user, "clearinghouseState": state}
    if kind == "allDexsClearinghouseState":
        # one [dex name, clearinghouseState] per perp dex, the main dex ("") first (nktkas SDK's
        # AllDexsClearinghouseStateEvent)
        states = [
            [d.name, handle_info(engine, {"type": "clearinghouseState", "user": user, "dex": d.name})]
            for d in engine.dexes
        ]
        return {"user": user, "clearinghouseStates": states}
    if kind == "openOrders":
        orders = handle_info(engine, {"type": "frontendOpenOrders", "user": user, "dex": dex_name})
        return {"dex": dex_name, "user": user, "orders": orders}
    if kind == "spotState":
        return {
            "user": user,
            "spotState": handle_info(engine, {"type": "spotClearinghouseState", "user": user}),
        }
    if kind == "twapStates":
        return {"dex": dex_name, "user": user, "states": render_twap_states(engine, user, dex_name)}
    if kind == "activeAssetData":
        return render_active_asset_data(engine, user, coin or "")
    if kind == "webData3":
        return {
            "userState": _user_state(engine, user),
            # one entry per perp dex, the main dex first (vault equity is the main dex's)
            "perpDexStates": [
                {
                    "totalVaultEquity": usd(total_vault_equity(engine, user) if not d.is_builder else ZERO),
                    "perpsAtOpenInterestCap": handle_info(
                        engine, {"type": "perpsAtOpenInterestCap", "dex": d.name}
                    ),
                    "leadingVaults": [],
                }
                for d in engine.dexes
            ],
        }
    return _web_data2(engine, user)


def _user_state(engine: ExchangeEngine, user: str) -> dict[str, Any]:
    acct = engine.accounts.get(user)
    agent = next(iter(acct.agents), None) if acct is not None else None
    return {
        "agentAddress": agent,
        "agentValidUntil": None,
        "cumLedger": usd(net_inflow(acct) if acct is not None else ZERO),
        "serverTime": engine.now,
        "isVault": acct is not None and acct.vault_leader is not None,
        "user": user,
    }


def _web_data2(engine: ExchangeEngine, user: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "clearinghouseState": handle_info(engine, {"type": "clearinghouseState", "user": user}),
        "leadingVaults": [],
        "totalVaultEquity": usd(total_vault_equity(engine, user)),
        "openOrders": handle_info(engine, {"type": "frontendOpenOrders", "user": user}),
    }
    out.update(_user_state(engine, user))
    out.update(
        {
            "meta": render_meta(engine),
            "assetCtxs": [render_asset_ctx(m) for m in engine.markets],
            "twapStates": render_twap_states(engine, user),
            "spotState": handle_info(engine, {"type": "spotClearinghouseState", "user": user}),
            "spotAssetCtxs": [render_spot_asset_ctx(engine, m) for m in engine.spot_markets],
        }
    )
    return out


@venue_context
def render_snapshot(engine: ExchangeEngine, kind: str, user: str) -> dict[str, Any]:
    """The first message of an event channel with history (``isSnapshot``)."""
    if kind == "userNonFundingLedgerUpdates":
        updates = handle_info(engine, {"type": "userNonFundingLedgerUpdates", "user": user, "startTime": 0})
        return {"isSnapshot": True, "user": user, "nonFundingLedgerUpdates": updates}
    if kind == "userTwapSliceFills":
        fills = handle_info(engine, {"type": "userTwapSliceFills", "user": user})
        return {"isSnapshot": True, "user": user, "twapSliceFills": fills}
    return {"isSnapshot": True, "user": user, "history": render_twap_history(engine, user)}
