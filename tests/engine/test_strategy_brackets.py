"""A strategy's bracket orders go through its risk gate (the legs counted in ``max_open_orders``), are its own
orders (the kill switch cancels all three), and a connector that places no brackets refuses them. Against
the local exchange over loopback; "nothing was sent" is checked on the exchange itself."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tests.engine.test_spot_strategies import _spot
from tests.engine.test_strategy_risk import Recording
from tests.engine.venue import Pulse, connector_for, exchange_open_orders, make_book, wait_until
from wingbeat.core.enums import TradeType
from wingbeat.engine.risk import RiskLimits

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange

D = Decimal
PAIR = "BTC-USD"


async def test_the_legs_count_as_open_orders_and_the_kill_switch_cancels_all_three(
        local_exchange: LocalExchange, trader: Trader) -> None:
    ex = local_exchange
    await make_book(ex)  # 59990 / 60010
    async with connector_for(ex, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        strategy = Recording(conn, risk=RiskLimits(max_open_orders=3))
        await strategy.start()
        ids = strategy.place_bracket_order(PAIR, TradeType.BUY, D("0.001"), D(59000), take_profit=D(62000),
                                           stop_loss=D(57000))
        assert ids is not None and ids.take_profit is not None and ids.stop_loss is not None
        assert all(strategy.is_own_order(cid) for cid in (ids.entry, ids.take_profit, ids.stop_loss))
        await wait_until(lambda: len(conn.open_orders) == 3 and all(o.is_open for o in conn.open_orders), pulse)
        before = await exchange_open_orders(ex, trader.address)

        # one more entry and two legs would make 6 open orders: refused whole, nothing sent
        assert strategy.place_bracket_order(PAIR, TradeType.BUY, D("0.001"), D(58000), take_profit=D(62000),
                                            stop_loss=D(56000)) is None
        assert len(strategy.refusals) == 1 and "max_open_orders" in strategy.refusals[0].reason
        assert len(conn.open_orders) == 3 and await exchange_open_orders(ex, trader.address) == before

        await strategy.kill("test")
        assert conn.open_orders == [] and await exchange_open_orders(ex, trader.address) == []
        assert {o.current_state.name for o in (conn.get_order(ids.entry), conn.get_order(ids.stop_loss)) if o} == {
            "CANCELED"}


async def test_a_bracket_over_max_open_orders_counting_its_legs_is_refused(
        local_exchange: LocalExchange, trader: Trader) -> None:
    await make_book(local_exchange)
    async with connector_for(local_exchange, trader) as conn:
        strategy = Recording(conn, risk=RiskLimits(max_open_orders=2))
        await strategy.start()
        # the entry alone would pass (0 open + 1 <= 2); with its two legs it would be 3
        assert strategy.place_bracket_order(PAIR, TradeType.SELL, D("0.001"), D(61000), take_profit=D(58000),
                                            stop_loss=D(63000)) is None
        assert "max_open_orders" in strategy.refusals[0].reason and conn.open_orders == []
        ids = strategy.place_bracket_order(PAIR, TradeType.SELL, D("0.001"), D(61000), stop_loss=D(63000))
        assert ids is not None and ids.take_profit is None  # one leg: 2 orders, allowed
        await strategy.stop()


async def test_a_connector_that_places_no_brackets_refuses_them(local_exchange: LocalExchange) -> None:
    async with _spot(local_exchange) as (conn, _maker, _signer):
        strategy = Recording(conn)
        await strategy.start()
        mid = strategy.mid_price("PURR-USDC")
        assert mid is not None
        assert strategy.place_bracket_order("PURR-USDC", TradeType.BUY, D(100), mid * D("0.99"),
                                            stop_loss=mid * D("0.9")) is None
        assert "places no bracket orders" in strategy.refusals[0].reason and conn.open_orders == []
        await strategy.stop()
