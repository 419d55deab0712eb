"""Rate limits counted as Hyperliquid counts them (pure, time injected)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from wingbeat.sim.protocol.rate_limits import (
    AddressLimitExceeded,
    RateLimitConfig,
    RateLimiter,
    action_weight,
    info_weight,
)


def test_info_weights_follow_the_published_table() -> None:
    assert info_weight("l2Book") == 2
    assert info_weight("clearinghouseState") == 2
    assert info_weight("userRole") == 60
    assert info_weight("meta") == 20
    assert info_weight("userFills", items_returned=45) == 22
    assert info_weight("candleSnapshot", items_returned=130) == 22


def test_action_weight_grows_by_one_per_40_orders() -> None:
    assert action_weight(1) == 1
    assert action_weight(39) == 1
    assert action_weight(40) == 2
    assert action_weight(100) == 3


def test_ip_budget_of_1200_per_minute_refuses_the_request_that_exceeds_it() -> None:
    limiter = RateLimiter(RateLimitConfig())
    assert all(limiter.charge_ip("1.2.3.4", 20, now_ms=0) for _ in range(60))
    assert not limiter.charge_ip("1.2.3.4", 20, now_ms=0)
    assert limiter.charge_ip("5.6.7.8", 20, now_ms=0), "another IP has its own budget"
    assert limiter.rejected_ip == 1


def test_ip_budget_refills_continuously() -> None:
    limiter = RateLimiter(RateLimitConfig(ip_weight_per_minute=60))
    assert limiter.charge_ip("ip", 60, now_ms=0)
    assert not limiter.charge_ip("ip", 1, now_ms=500)
    assert limiter.charge_ip("ip", 1, now_ms=1000), "one weight per second comes back"


def test_address_budget_is_initial_buffer_plus_one_per_traded_usdc() -> None:
    volumes = {"0xa": Decimal(0)}
    limiter = RateLimiter(RateLimitConfig(address_initial_buffer=3), volumes.__getitem__)
    limiter.charge_address("0xa", 3, now_ms=0)
    limiter.charge_address("0xa", 1, now_ms=0)  # exhausted: one request per 10 s still passes
    with pytest.raises(AddressLimitExceeded, match=r"Too many cumulative requests sent \(5 > 3\)"):
        limiter.charge_address("0xa", 1, now_ms=1)
    volumes["0xa"] = Decimal("2.5")
    assert limiter.cap("0xa") == 5
    limiter.charge_address("0xa", 1, now_ms=2)
    limiter.charge_address("0xa", 1, now_ms=10_001)


def test_cancels_get_the_larger_cap() -> None:
    limiter = RateLimiter(RateLimitConfig(address_initial_buffer=2))
    limiter.charge_address("0xa", 2, now_ms=0)
    limiter.charge_address("0xa", 1, now_ms=0)  # the once-per-10s allowance
    limiter.charge_address("0xa", 1, now_ms=1, is_cancel=True)  # cap min(2 + 100000, 4) = 4
    with pytest.raises(AddressLimitExceeded):
        limiter.charge_address("0xa", 1, now_ms=2, is_cancel=True)


def test_disabled_limits_count_nothing() -> None:
    limiter = RateLimiter(RateLimitConfig(enabled=False, address_initial_buffer=0))
    assert limiter.charge_ip("ip", 10_000, now_ms=0)
    for _ in range(5):
        limiter.charge_address("0xa", 1, now_ms=0)
    assert limiter.used("0xa") == 0


def test_config_refuses_non_positive_budgets() -> None:
    with pytest.raises(ValueError):
        RateLimitConfig(ip_weight_per_minute=0)


def test_per_item_surcharge_can_overdraw_the_ip_budget_which_then_refills() -> None:
    limiter = RateLimiter(RateLimitConfig(ip_weight_per_minute=60))
    assert limiter.charge_ip("ip", 20, now_ms=0)
    limiter.add_ip_weight("ip", 100, now_ms=0)  # 40 - 100 = -60
    assert not limiter.charge_ip("ip", 1, now_ms=60_000)  # refilled by 60 to 0
    assert limiter.charge_ip("ip", 1, now_ms=61_000)


def test_config_refuses_negative_volume_rate_or_cancel_buffer() -> None:
    # every cap is then at least the initial buffer, which the limiter relies on
    with pytest.raises(ValueError):
        RateLimitConfig(requests_per_usdc=Decimal(-1))
    with pytest.raises(ValueError):
        RateLimitConfig(cancel_extra_buffer=-1)
