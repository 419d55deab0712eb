"""Info types about account money and settings, and the defaults: each answered in its shape
(keys compared with the recorded Hyperliquid payloads where one exists)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from tests.sim.test_info import recorded, same_shape
from wingbeat.sim.protocol.info import InfoError, handle_info
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.types import OrderRequest

A = "0x" + "a" * 40
B = "0x" + "b" * 40
T0 = 1_700_000_000_000

USER_TYPES = [
    "userFees",
    "portfolio",
    "userNonFundingLedgerUpdates",
    "referral",
    "subAccounts",
    "userVaultEquities",
    "delegations",
    "delegatorSummary",
    "delegatorHistory",
    "delegatorRewards",
    "userTwapSliceFills",
    "twapHistory",
    "userToMultiSigSigners",
    "userDexAbstraction",
    "spotDeployState",
    "userAbstraction",
]
OTHER_TYPES = [
    {"type": "exchangeStatus"},
    {"type": "vaultDetails", "vaultAddress": B},
    {"type": "maxBuilderFee", "user": A, "builder": B},
    {"type": "predictedFundings"},
    {"type": "perpsAtOpenInterestCap"},
    {"type": "marginTable", "id": 50},
    {"type": "recentTrades", "coin": "BTC"},
    {"type": "perpDeployAuctionStatus"},
]


@pytest.fixture
def engine() -> ExchangeEngine:
    e = ExchangeEngine(clock=lambda: T0)
    e.fund(A, D(100_000))
    e.fund(B, D(100_000))
    e.place_orders(A, [OrderRequest(0, False, D("60000"), D("0.1"), False, "Gtc")])
    e.place_orders(B, [OrderRequest(0, True, D("60000"), D("0.05"), False, "Ioc")])
    return e


def info(engine: ExchangeEngine, body: dict[str, Any]) -> Any:
    return handle_info(engine, body)


@pytest.mark.parametrize("kind", USER_TYPES)
def test_every_user_info_type_is_answered_and_needs_a_user(engine: ExchangeEngine, kind: str) -> None:
    info(engine, {"type": kind, "user": A})
    with pytest.raises(InfoError) as exc:
        info(engine, {"type": kind, "user": "0x12"})
    assert exc.value.status == 422


@pytest.mark.parametrize("body", OTHER_TYPES, ids=lambda b: b["type"])
def test_every_other_info_type_is_answered(engine: ExchangeEngine, body: dict[str, Any]) -> None:
    info(engine, body)


def test_shapes_match_the_recorded_payloads(engine: ExchangeEngine) -> None:
    portfolio = info(engine, {"type": "portfolio", "user": A})
    theirs = recorded("info_portfolio.json")
    assert [p for p, _ in portfolio] == [p for p, _ in theirs]
    same_shape(portfolio, theirs)
    assert info(engine, {"type": "userTwapSliceFills", "user": A}) == recorded("info_userTwapSliceFills.json")
    ledger = recorded(
        "info_userNonFundingLedgerUpdates_test_user_non_funding_ledger_updates_with_end_time.json"
    )
    assert (
        info(engine, {"type": "userNonFundingLedgerUpdates", "user": A, "startTime": 1, "endTime": 2})
        == ledger
    )
    history = info(engine, {"type": "delegatorHistory", "user": A})
    assert history == [] and isinstance(recorded("info_delegatorHistory.json"), list)


def test_vault_equities_and_details_follow_deposits(engine: ExchangeEngine) -> None:
    from wingbeat.sim.venue import transfers

    vault = "0x" + "c" * 40
    engine.fund(vault, D(1000))
    engine.accounts[vault].vault_leader = B
    transfers.vault_transfer(engine, A, vault, B, True, D(250))
    equities = info(engine, {"type": "userVaultEquities", "user": A})
    same_shape(equities, recorded("info_userVaultEquities.json"))
    assert equities[0]["equity"] == "250.0"
    details = info(engine, {"type": "vaultDetails", "vaultAddress": vault, "user": A})
    assert details["followerState"]["vaultEquity"] == "250.0"
    same_shape(details["portfolio"], recorded("info_portfolio.json"))
    assert info(engine, {"type": "vaultDetails", "vaultAddress": A}) is None  # not a vault


def test_portfolio_pnl_is_measured_against_deposits(engine: ExchangeEngine) -> None:
    engine.set_oracle_price("BTC", D(61000))
    [_, day] = info(engine, {"type": "portfolio", "user": B})[0]
    value = D(day["accountValueHistory"][0][1])
    assert D(day["pnlHistory"][0][1]) == value - 100_000
    assert day["vlm"] == "3000.0"


def test_recent_trades_are_rebuilt_from_both_sides(engine: ExchangeEngine) -> None:
    [trade] = info(engine, {"type": "recentTrades", "coin": "BTC"})
    assert (trade["side"], trade["px"], trade["sz"], trade["users"]) == ("B", "60000.0", "0.05", [B, A])
    assert info(engine, {"type": "recentTrades", "coin": "NOPE"}) == []


def test_fees_predicted_fundings_and_status(engine: ExchangeEngine) -> None:
    fees = info(engine, {"type": "userFees", "user": A})
    assert (fees["userCrossRate"], fees["userAddRate"]) == ("0.00045", "0.00015")
    [btc, *_] = info(engine, {"type": "predictedFundings"})
    assert btc[0] == "BTC" and btc[1][0][0] == "HlPerp"
    assert set(btc[1][0][1]) == {"fundingRate", "nextFundingTime", "fundingIntervalHours"}
    assert info(engine, {"type": "exchangeStatus"}) == {"time": T0, "specialStatuses": None}
    assert info(engine, {"type": "marginTable", "id": 50})["marginTiers"][0]["maxLeverage"] == 50
    with pytest.raises(InfoError):
        info(engine, {"type": "maxBuilderFee", "user": A})
