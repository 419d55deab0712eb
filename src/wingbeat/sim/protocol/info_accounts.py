"""``/info`` types about account money and settings, and the ones the local exchange answers with
defaults because it has no such state (staking, TWAPs, deployments, multi-sig).

Shapes follow Hyperliquid's docs, the recorded payloads and the nktkas/hyperliquid SDK's response
types. Handlers take the engine and the decoded body; ``info.py`` validates ``user`` and registers
them. A field that does not decode raises ``ValueError`` (answered 422 by ``info``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from typing import Any

from wingbeat.sim.protocol.info_spot import spot_clearinghouse_state, spot_value
from wingbeat.sim.protocol.info_twap import TWAP_HANDLERS
from wingbeat.sim.venue import transfers
from wingbeat.sim.venue.accounts import Account
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.markets import fmt
from wingbeat.sim.venue.render import px, render_trade, usd
from wingbeat.sim.venue.state_views import clearinghouse_state

__all__ = [
    "ACCOUNT_HANDLERS",
    "MARKET_HANDLERS",
    "net_inflow",
    "render_active_asset_data",
    "total_vault_equity",
]

ZERO = Decimal(0)
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_ZERO_ADDRESS = "0x" + "0" * 40
_VAULT_LOCKUP_MS = 86_400_000  # a user vault's 1-day lockup after a deposit
_RECENT_TRADES = 10
_FILLS_SCANNED = 200  # per account, newest first, when rebuilding recent trades from fills
_PORTFOLIO_PERIODS = ("day", "week", "month", "allTime", "perpDay", "perpWeek", "perpMonth", "perpAllTime")
# Hyperliquid's referral discount
_REFERRAL_DISCOUNT = "0.04"
_INFLOWS = {"deposit": 1, "withdraw": -1}


def _address(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise ValueError(f"{key}: expected a 0x-prefixed 20-byte hex address")
    return value.lower()


def net_inflow(acct: Account) -> Decimal:
    """USDC that came in minus what left, from the ledger (what PnL is measured against)."""
    net = ZERO
    for update in acct.ledger:
        delta = update.delta
        kind = delta["type"]
        if kind in _INFLOWS:
            net += _INFLOWS[kind] * Decimal(delta["usdc"])
        elif kind in ("internalTransfer", "subAccountTransfer"):
            sign = 1 if delta["destination"] == acct.user else -1
            if delta["user"] != delta["destination"]:
                net += sign * Decimal(delta["usdc"])
        elif kind in ("send", "spotTransfer") and delta["user"] != delta["destination"]:
            net += (1 if delta["destination"] == acct.user else -1) * Decimal(delta["usdcValue"])
        elif kind == "vaultDeposit":  # vault equity is not in the account value
            net -= Decimal(delta["usdc"])
        elif kind == "vaultWithdraw":
            net += Decimal(delta["netWithdrawnUsd"])
    return net


def _portfolio(engine: ExchangeEngine, body: dict[str, Any], user: str) -> Any:
    acct = engine.accounts.get(user)
    now = engine.now
    if acct is None:
        value = pnl = vlm = ZERO
    else:
        value = acct.account_value(engine.marks) + spot_value(engine, acct)
        pnl = value - net_inflow(acct)
        vlm = engine.volume_of(user)
    # the local exchange keeps no account-value history: each period holds the current point
    data = {"accountValueHistory": [[now, usd(value)]], "pnlHistory": [[now, usd(pnl)]], "vlm": usd(vlm)}
    return [[period, data] for period in _PORTFOLIO_PERIODS]


def _ledger(engine: ExchangeEngine, body: dict[str, Any], user: str) -> Any:
    start, end = body.get("startTime", 0), body.get("endTime")
    if isinstance(start, bool) or not isinstance(start, int):
        raise ValueError("startTime: expected an integer")
    if end is not None and (isinstance(end, bool) or not isinstance(end, int)):
        raise ValueError("endTime: expected an integer or null")
    acct = engine.accounts.get(user)
    if acct is None:
        return []
    hi = end if end is not None else 1 << 62
    picked = [u for u in acct.ledger if start <= u.time <= hi][:500]
    return [{"time": u.time, "hash": u.hash, "delta": u.delta} for u in picked]


def _user_fees(engine: ExchangeEngine, body: dict[str, Any], user: str) -> Any:
    taker, maker = fmt(engine.taker_fee), fmt(engine.maker_fee)
    return {
        "dailyUserVlm": [],  # the local exchange keeps no daily volume history
        "feeSchedule": {
            "cross": taker,
            "add": maker,
            "spotCross": fmt(engine.spot_taker_fee),
            "spotAdd": fmt(engine.spot_maker_fee),
            "tiers": {"vip": [], "mm": []},  # one flat fee level here
            "referralDiscount": _REFERRAL_DISCOUNT,
            "stakingDiscountTiers": [],
        },
        "userCrossRate": taker,
        "userAddRate": maker,
        "userSpotCrossRate": fmt(engine.spot_taker_fee),
        "userSpotAddRate": fmt(engine.spot_maker_fee),
        "activeReferralDiscount": "0.0",
        "trial": None,
        "feeTrialEscrow": "0.0",
        "nextTrialAvailableTimestamp": None,
        "stakingLink": None,
        "activeStakingDiscount": {"bpsOfMaxSupply": "0.0", "discount": "0.0"},
    }


def _referral(engine: ExchangeEngine, body: dict[str, Any], user: str) -> Any:
    acct = engine.accounts.get(user)
    code = acct.referred_by if acct is not None else None
    return {
        # referral codes have no owners in the local exchange (no registerReferrer): a zero referrer
        "referredBy": {"referrer": _ZERO_ADDRESS, "code": code} if code is not None else None,
        "cumVlm": usd(engine.volume_of(user)),
        "unclaimedRewards": "0.0",
        "claimedRewards": "0.0",
        "builderRewards": "0.0",
        "referrerState": {"stage": "needToCreateCode"},
        "rewardHistory": [],
        "tokenToState": [],
    }


def _sub_accounts(engine: ExchangeEngine, body: dict[str, Any], user: str) -> Any:
    acct = engine.accounts.get(user)
    if acct is None or not acct.sub_accounts:
        return None
    out = []
    for sub in acct.sub_accounts:
        sub_acct = engine.accounts[sub]
        out.append(
            {
                "name": sub_acct.name,
                "subAccountUser": sub,
                "master": user,
                "clearinghouseState": clearinghouse_state(engine, sub),
                "spotState": spot_clearinghouse_state(engine, sub_acct),
            }
        )
    return out


def render_active_asset_data(engine: ExchangeEngine, user: str, coin: str) -> dict[str, Any]:
    """``activeAssetData``: ``user``'s leverage on ``coin`` and what it can still trade there.

    ``availableToTrade`` is the notional the free margin buys at the coin's leverage, per side
    (buy, sell); ``maxTradeSzs`` the same in coin, plus the position an order on that side closes.
    """
    m = engine.market(coin)
    if m is None:
        raise ValueError(f"coin: unknown coin {coin!r}")
    acct = m.accounts.get(user)  # the user's margin account on the coin's dex
    max_lev = m.cfg.max_leverage
    mark = engine.marks[m.index]
    dex = engine.dex_of(m.index)
    if acct is None:
        leverage: dict[str, Any] = {"type": "cross", "value": max_lev}
        if dex is not None and dex.isolated_only(m.index):
            leverage = {"type": "isolated", "value": max_lev, "rawUsd": "0.0"}
        free = szi = ZERO
    else:
        lev = acct.leverage_of(m.index, max_lev)
        leverage = {"type": "cross", "value": lev}
        if not acct.is_cross(m.index):
            iso = acct.isolated_margin.get(m.index, ZERO)
            pos = acct.positions.get(m.index)
            entry = pos.szi * pos.entry_px if pos is not None else ZERO
            leverage = {"type": "isolated", "value": lev, "rawUsd": usd(iso - entry)}
        free = max(ZERO, acct.available(engine.marks, engine.max_leverages)) * lev
        szi = acct.szi(m.index)
    quantum = Decimal(1).scaleb(-m.cfg.sz_decimals)
    base = (free / mark).quantize(quantum, rounding=ROUND_DOWN) if mark else ZERO
    buy, sell = base + max(ZERO, -szi), base + max(ZERO, szi)
    return {
        "user": user,
        "coin": coin,
        "leverage": leverage,
        "maxTradeSzs": [fmt(buy), fmt(sell)],
        "availableToTrade": [usd(free), usd(free)],
        "markPx": px(mark),
    }


def total_vault_equity(engine: ExchangeEngine, user: str) -> Decimal:
    """``user``'s equity in all the vaults it deposited into."""
    acct = engine.accounts.get(user)
    if acct is None:
        return ZERO
    return sum((transfers.vault_equity(engine, engine.accounts[v], user) for v in acct.vault_entries), ZERO)


def _active_asset_data(engine: ExchangeEngine, body: dict[str, Any], user: str) -> Any:
    coin = body.get("coin")
    if not isinstance(coin, str):
        raise ValueError("coin: expected a string")
    return render_active_asset_data(engine, user, coin)


def _vault_equities(engine: ExchangeEngine, body: dict[str, Any], user: str) -> Any:
    acct = engine.accounts.get(user)
    if acct is None:
        return []
    out = []
    for vault_address, entered in acct.vault_entries.items():
        equity = transfers.vault_equity(engine, engine.accounts[vault_address], user)
        if equity:
            out.append(
                {
                    "vaultAddress": vault_address,
                    "equity": usd(equity),
                    "lockedUntilTimestamp": entered + _VAULT_LOCKUP_MS,
                }
            )
    return out


def _max_builder_fee(engine: ExchangeEngine, body: dict[str, Any], user: str) -> Any:
    builder = _address(body, "builder")
    acct = engine.accounts.get(user)
    return acct.builder_fees.get(builder, 0) if acct is not None else 0


def _vault_details(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    vault_address = _address(body, "vaultAddress")
    user = body.get("user")
    if user is not None:
        user = _address(body, "user")
    vault = engine.accounts.get(vault_address)
    if vault is None or vault.vault_leader is None:
        return None
    leader = vault.vault_leader
    total = sum(vault.vault_shares.values(), ZERO)
    value = vault.account_value(engine.marks)
    followers = []
    for member in vault.vault_shares:
        entered = (
            engine.accounts[member].vault_entries.get(vault_address, 0) if member in engine.accounts else 0
        )
        followers.append(_follower(engine, vault, member, "Leader" if member == leader else member, entered))
    follower_state = None
    if isinstance(user, str) and vault.vault_shares.get(user):
        entered = engine.accounts[user].vault_entries.get(vault_address, 0)
        follower_state = _follower(engine, vault, user, user, entered)
    return {
        "name": vault_address,  # vaults registered with the local exchange have no name
        "vaultAddress": vault_address,
        "leader": leader,
        "description": "",
        "portfolio": _portfolio(engine, {}, vault_address),
        "apr": 0,
        "followerState": follower_state,
        "leaderFraction": float(vault.vault_shares.get(leader, ZERO) / total) if total else 1.0,
        "leaderCommission": 0,
        "followers": followers,
        "maxDistributable": float(value),
        "maxWithdrawable": float(vault.available(engine.marks, engine.max_leverages)),
        "isClosed": False,
        "relationship": {"type": "normal"},
        "allowDeposits": True,
        "alwaysCloseOnWithdraw": False,
    }


def _follower(
    engine: ExchangeEngine, vault: Account, member: str, label: str, entered: int
) -> dict[str, Any]:
    equity = transfers.vault_equity(engine, vault, member)
    days = max(0, (engine.now - entered) // 86_400_000) if entered else 0
    return {
        "user": label,
        "vaultEquity": usd(equity),
        "pnl": "0.0",  # deposits are not tracked per follower: no PnL basis
        "allTimePnl": "0.0",
        "daysFollowing": days,
        "vaultEntryTime": entered,
        "lockupUntil": entered + _VAULT_LOCKUP_MS if entered else 0,
    }


def _recent_trades(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    coin = body.get("coin")
    if not isinstance(coin, str):
        raise ValueError("coin: expected a string")
    if engine.market(coin) is None:
        return []
    # rebuilt from both sides' fills (the taker's side and price, the maker's address)
    takers: dict[int, tuple[Any, str]] = {}
    makers: dict[int, str] = {}
    for acct in engine.accounts.values():
        rows = acct.fills.rows
        for i in range(len(rows) - 1, max(-1, len(rows) - 1 - _FILLS_SCANNED), -1):
            fill = acct.fills[i]
            if fill.coin != coin:
                continue
            if fill.crossed:
                takers[fill.tid] = (fill, acct.user)
            else:
                makers[fill.tid] = acct.user
    out = []
    for tid in sorted(takers, reverse=True)[:_RECENT_TRADES]:
        fill, taker = takers[tid]
        maker = makers.get(tid, _ZERO_ADDRESS)
        buyer, seller = (taker, maker) if fill.is_buy else (maker, taker)
        out.append(
            render_trade(
                coin, fill.is_buy, fmt(fill.px), fmt(fill.sz), fill.hash, fill.time, tid, buyer, seller
            )
        )
    return out


def _margin_table(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    table = body.get("id")
    if isinstance(table, bool) or not isinstance(table, int):
        raise ValueError("id: expected an integer")
    # each market's table id is its max leverage, with one tier (as meta's marginTables)
    if table not in {m.cfg.max_leverage for m in engine.perp_markets}:
        return None  # no source for the answer to an unknown table id
    return {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": table}]}


def _predicted_fundings(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    hours = engine.funding_interval_ms // 3_600_000
    out = []
    for m in engine.markets:
        venue: dict[str, Any] = {"fundingRate": fmt(m.funding_rate), "nextFundingTime": m.next_funding}
        if hours >= 1:
            venue["fundingIntervalHours"] = hours
        out.append([m.coin, [["HlPerp", venue]]])
    return out


# an idle deploy auction: the shape is Hyperliquid's, the values have no source (nothing is deployed here)
_AUCTION = {
    "startTimeSeconds": 0,
    "durationSeconds": 111600,
    "startGas": "500.0",
    "currentGas": None,
    "endGas": None,
}

ACCOUNT_HANDLERS: dict[str, Callable[[ExchangeEngine, dict[str, Any], str], Any]] = {
    "userFees": _user_fees,
    "portfolio": _portfolio,
    "userNonFundingLedgerUpdates": _ledger,
    "referral": _referral,
    "subAccounts": _sub_accounts,
    "userVaultEquities": _vault_equities,
    "maxBuilderFee": _max_builder_fee,
    "activeAssetData": _active_asset_data,
    **TWAP_HANDLERS,
    # no staking, multi-sig or deployment state in the local exchange: their empty answers
    "delegations": lambda e, b, u: [],
    "delegatorSummary": lambda e, b, u: {
        "delegated": "0.0",
        "undelegated": "0.0",
        "totalPendingWithdrawal": "0.0",
        "nPendingWithdrawals": 0,
    },
    "delegatorHistory": lambda e, b, u: [],
    "delegatorRewards": lambda e, b, u: [],
    "userToMultiSigSigners": lambda e, b, u: None,
    "userDexAbstraction": lambda e, b, u: None,
    "userAbstraction": lambda e, b, u: "disabled",  # perp and spot balances are kept apart here
    "spotDeployState": lambda e, b, u: {"states": [], "gasAuction": dict(_AUCTION)},
}
"""Handlers of ``{"type", "user", ...}`` bodies: called with the validated, lowercased user."""

MARKET_HANDLERS: dict[str, Callable[[ExchangeEngine, dict[str, Any]], Any]] = {
    "exchangeStatus": lambda e, b: {"time": e.now, "specialStatuses": None},
    "vaultDetails": _vault_details,
    "predictedFundings": _predicted_fundings,
    "marginTable": _margin_table,
    "recentTrades": _recent_trades,
    "perpDeployAuctionStatus": lambda e, b: dict(_AUCTION),
}
"""Handlers of bodies without a ``user``."""
