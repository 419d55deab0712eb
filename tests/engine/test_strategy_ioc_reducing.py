"""Strategy orders with a time in force, and orders that only shrink the position passing the limits that
would refuse an opening one; against the local exchange over loopback."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tests.engine.test_strategy_risk import Recording
from tests.engine.venue import Pulse, connector_for, exchange_open_orders, make_book, wait_until
from wingbeat.core.enums import OrderType, PositionAction, TimeInForce
from wingbeat.core.order_state import OrderState
from wingbeat.engine.risk import RiskLimits

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange

D = Decimal
PAIR = "BTC-USD"


async def test_an_ioc_order_takes_what_the_book_has_and_never_rests(local_exchange: LocalExchange,
                                                                   trader: Trader) -> None:
    await make_book(local_exchange, bid="59990", ask="60010", size="0.005")
    async with connector_for(local_exchange, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        strategy = Recording(conn)
        await strategy.start()
        below = strategy.buy(PAIR, D("0.001"), D("59000"), time_in_force=TimeInForce.IOC)
        through = strategy.buy(PAIR, D("0.01"), D("60010"), time_in_force=TimeInForce.IOC)
        assert below is not None and through is not None
        orders = [conn.get_order(below), conn.get_order(through)]
        await wait_until(lambda: all(o is not None and o.is_done for o in orders), pulse)
        # as Hyperliquid answers: an IOC that meets nothing is an error, one that meets part expires the rest
        assert [o.current_state for o in orders if o is not None] == [OrderState.FAILED, OrderState.EXPIRED]
        assert orders[0] is not None and "could not immediately match" in (orders[0].reason or "")
        await wait_until(lambda: strategy.position(PAIR) == D("0.005"), pulse)  # half the IOC: all there was
        assert await exchange_open_orders(local_exchange, trader.address) == []  # nothing rests
        await strategy.stop()


async def test_an_order_that_only_reduces_passes_limits_an_opening_one_breaks(local_exchange: LocalExchange,
                                                                              trader: Trader) -> None:
    await make_book(local_exchange, bid="59990", ask="60010", size="1")
    async with connector_for(local_exchange, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        strategy = Recording(conn, risk=RiskLimits(max_notional=D(1000)))
        await strategy.start()
        assert strategy.buy(PAIR, D("0.01"), D("60010"), OrderType.LIMIT, time_in_force=TimeInForce.IOC)
        await wait_until(lambda: strategy.position(PAIR) == D("0.01"), pulse)  # 600 USDC of exposure

        # selling more than held would flip to a short: it opens, and 600 + 1200 is over the limit
        assert strategy.sell(PAIR, D("0.02"), D("59990"), time_in_force=TimeInForce.IOC) is None
        assert "max_notional" in strategy.refusals[-1].reason
        # another buy opens more: refused too
        assert strategy.buy(PAIR, D("0.01"), D("60010"), time_in_force=TimeInForce.IOC) is None
        # selling what is held only reduces: it goes, though 600 + 600 is over the limit as well
        cid = strategy.sell(PAIR, D("0.01"), D("59990"), OrderType.LIMIT, PositionAction.OPEN,
                            time_in_force=TimeInForce.IOC)
        assert cid is not None and len(strategy.refusals) == 2
        await wait_until(lambda: strategy.position(PAIR) == 0, pulse)
        await wait_until(lambda: conn.account_positions.get(PAIR) is None, pulse)
        await strategy.stop()
