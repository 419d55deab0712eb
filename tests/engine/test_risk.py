"""Each risk limit refuses the order that breaks it, and only that order."""

from decimal import Decimal

import pytest

from wingbeat.engine.risk import Exposure, OrderIntent, RiskLimits

D = Decimal


def _buy(amount: str, price: str = "100") -> OrderIntent:
    return OrderIntent(trading_pair="BTC-USD", is_buy=True, amount=D(amount), price=D(price))


def _sell(amount: str, price: str = "100") -> OrderIntent:
    return OrderIntent(trading_pair="BTC-USD", is_buy=False, amount=D(amount), price=D(price))


def test_no_limits_allow_everything() -> None:
    assert RiskLimits().check(_buy("1000000"), Exposure(open_orders=10_000)) is None


def test_max_order_size_refuses_larger_order_only() -> None:
    limits = RiskLimits(max_order_size=D("0.5"))
    assert limits.check(_buy("0.5"), Exposure()) is None
    reason = limits.check(_buy("0.51"), Exposure())
    assert reason is not None and "max_order_size" in reason


def test_max_open_orders_counts_the_new_order() -> None:
    limits = RiskLimits(max_open_orders=3)
    assert limits.check(_buy("1"), Exposure(open_orders=2)) is None
    reason = limits.check(_buy("1"), Exposure(open_orders=3))
    assert reason is not None and "max_open_orders" in reason


def test_max_position_includes_open_orders_on_the_same_side() -> None:
    limits = RiskLimits(max_position=D("1"))
    assert limits.check(_buy("0.5"), Exposure(position=D("0.5"))) is None
    reason = limits.check(_buy("0.5"), Exposure(position=D("0.5"), open_buy=D("0.1")))
    assert reason is not None and "max_position" in reason
    # a short side is limited the same way
    assert limits.check(_sell("1.2"), Exposure()) is not None


def test_max_position_allows_orders_that_reduce_the_position() -> None:
    limits = RiskLimits(max_position=D("1"))
    assert limits.check(_sell("0.5"), Exposure(position=D("2"))) is None


def test_max_notional_counts_existing_exposure() -> None:
    limits = RiskLimits(max_notional=D("1000"))
    assert limits.check(_buy("5", "100"), Exposure(gross_notional=D("500"))) is None
    reason = limits.check(_buy("5.01", "100"), Exposure(gross_notional=D("500")))
    assert reason is not None and "max_notional" in reason


def test_daily_loss_limit_refuses_everything_once_reached() -> None:
    limits = RiskLimits(daily_loss_limit=D("100"))
    assert limits.check(_buy("1"), Exposure(loss_today=D("99.99"))) is None
    reason = limits.check(_sell("1"), Exposure(loss_today=D("100")))
    assert reason is not None and "daily loss limit" in reason


@pytest.mark.parametrize("kwargs", [{"max_order_size": D(-1)}, {"max_notional": D("NaN")},
                                    {"max_open_orders": 0}])
def test_invalid_limits_are_rejected_at_construction(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RiskLimits(**kwargs)  # type: ignore[arg-type]


def test_an_order_that_can_only_shrink_the_position_passes_max_notional() -> None:
    limits = RiskLimits(max_notional=D(1000))
    long = Exposure(position=D(6), gross_notional=D(900))  # 6 at 100 (+ 300 elsewhere)
    assert limits.check(_sell("6"), long) is None  # back to flat: 900 + 600 does not matter
    assert limits.check(_sell("2"), Exposure(position=D(6), open_sell=D(4), gross_notional=D(900))) is None
    for refused, exposure in ((_sell("7"), long),  # would cross into a short
                              (_sell("3"), Exposure(position=D(6), open_sell=D(4), gross_notional=D(900))),
                              (_buy("2"), long)):  # adds
        reason = limits.check(refused, exposure)
        assert reason is not None and "max_notional" in reason
    short = Exposure(position=D(-6), gross_notional=D(900))
    assert limits.check(_buy("6"), short) is None
    assert limits.check(_sell("2"), short) is not None  # 900 + 200
    # the operational limits still hold for it
    assert RiskLimits(max_order_size=D(5)).check(_sell("6"), long) is not None
