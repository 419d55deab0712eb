"""The basis strategy's decision and configuration, on real objects (pure: no venue needed)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wingbeat.engine.basis import BasisConfig, annualised, basis_decision

D = Decimal


def config(**overrides: object) -> BasisConfig:
    options: dict[str, object] = {
        "token": "HYPE",
        "target_notional": D(1000),
        "min_entry_funding_apr": D("0.20"),
        "exit_funding_apr": D("0.05"),
        "max_entry_basis": D("0.002"),
    }
    options.update(overrides)
    return BasisConfig(**options)  # type: ignore[arg-type]


def test_funding_is_annualised_from_the_hourly_rate() -> None:
    assert annualised(D("0.0000125")) == D("0.1095")  # Hyperliquid's baseline interest: 10.95 %/yr
    assert annualised(D("-0.0001")) == D("-0.876")


def test_pairs_are_named_after_the_token() -> None:
    cfg = config()
    assert (cfg.spot_pair, cfg.perp_pair) == ("HYPE-USDC", "HYPE-USD")


@pytest.mark.parametrize(
    ("rate", "spot", "perp", "action", "needle"),
    [
        ("0.0001", "40", "40.04", "enter", "basis 0.1000%"),  # 87.6 %/yr, perp 10 bps over spot
        ("0.00002", "40", "40", "hold", "below entry 20.00%/yr"),  # 17.5 %/yr
        ("0.0001", "40", "40.1", "hold", "above max"),  # 25 bps premium: the carry is eaten by the entry
        ("0.0001", None, "40", "hold", "no spot or perp price"),
        (None, "40", "40", "hold", "no funding rate"),
        ("0.0001", "40", "39.9", "enter", "basis -0.2500%"),  # perp below spot: cheaper to enter
    ],
)
def test_flat_enters_only_when_funding_pays_and_the_basis_is_small(
    rate: str | None, spot: str | None, perp: str | None, action: str, needle: str
) -> None:
    decision = basis_decision(
        config(),
        hedged=False,
        funding_rate=None if rate is None else D(rate),
        spot_mid=None if spot is None else D(spot),
        perp_mid=None if perp is None else D(perp),
    )
    assert decision.action == action, decision
    assert needle in decision.reason, decision


def test_hedged_exits_below_the_exit_threshold_and_holds_between_the_two() -> None:
    cfg = config()
    between = basis_decision(cfg, hedged=True, funding_rate=D("0.00001"), spot_mid=D(40), perp_mid=D(41))
    assert between.action == "hold"  # 8.76 %/yr: below entry, above exit; a wide basis does not matter now
    below = basis_decision(cfg, hedged=True, funding_rate=D("-0.00001"), spot_mid=D(40), perp_mid=D(40))
    assert below.action == "exit" and "below exit 5.00%/yr" in below.reason
    unknown = basis_decision(cfg, hedged=True, funding_rate=None, spot_mid=D(40), perp_mid=D(40))
    assert unknown.action == "hold"  # no news is no reason to unwind


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"token": "HYPE-USDC"}, "token must be a token name"),
        ({"target_notional": D(0)}, "target_notional must be positive"),
        ({"exit_funding_apr": D("0.3")}, "exit_funding_apr must not be above"),
        ({"max_slippage": D(0)}, "max_slippage"),
        ({"hedge_tolerance": D(1)}, "hedge_tolerance"),
        ({"hedge_attempts": 0}, "hedge_attempts"),
        ({"order_timeout": 0.0}, "order_timeout"),
        ({"max_entry_basis": D("NaN")}, "max_entry_basis must be a finite Decimal"),
    ],
)
def test_bad_configuration_is_refused_with_its_reason(overrides: dict[str, object], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        config(**overrides)
