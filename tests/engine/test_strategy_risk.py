"""The risk gate refuses each breaking order before it exists; the kill switch leaves no open order.

Everything runs against the local exchange over loopback: the book is made by a second account, and
"nothing was sent" is checked on the exchange itself.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tests.engine.venue import Pulse, connector_for, exchange_open_orders, make_book, wait_until
from wingbeat.core.enums import OrderType
from wingbeat.core.errors import InvalidOrderError
from wingbeat.engine.risk import OrderRefusedEvent, RiskLimits
from wingbeat.engine.strategy import Strategy

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange

D = Decimal
PAIR = "BTC-USD"


class Recording(Strategy):
    """A strategy that only records refusals (orders are placed by the test)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.refusals: list[OrderRefusedEvent] = []

    def on_order_refused(self, event: OrderRefusedEvent) -> None:
        self.refusals.append(event)


async def _refused_and_nothing_sent(ex: LocalExchange, trader: Trader, limits: RiskLimits,
                                    allowed: list[tuple[bool, str, str]], refused: tuple[bool, str, str],
                                    needle: str) -> None:
    await make_book(ex)
    async with connector_for(ex, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        strategy = Recording(conn, risk=limits)
        await strategy.start()
        for is_buy, amount, price in allowed:
            place = strategy.buy if is_buy else strategy.sell
            assert place(PAIR, D(amount), D(price)) is not None
        await wait_until(lambda: all(o.exchange_order_id for o in conn.open_orders), pulse)
        before = {o["oid"] for o in await exchange_open_orders(ex, trader.address)}
        assert len(before) == len(allowed)

        is_buy, amount, price = refused
        place = strategy.buy if is_buy else strategy.sell
        assert place(PAIR, D(amount), D(price)) is None
        assert len(strategy.refusals) == 1 and needle in strategy.refusals[0].reason
        assert len(conn.open_orders) == len(allowed)  # never tracked
        assert {o["oid"] for o in await exchange_open_orders(ex, trader.address)} == before  # never sent
        await strategy.stop()
        assert await exchange_open_orders(ex, trader.address) == []


async def test_max_order_size_refuses(local_exchange: LocalExchange, trader: Trader) -> None:
    await _refused_and_nothing_sent(local_exchange, trader, RiskLimits(max_order_size=D("0.01")),
                                    [(True, "0.01", "59000")], (True, "0.011", "59000"), "max_order_size")


async def test_max_position_refuses(local_exchange: LocalExchange, trader: Trader) -> None:
    await _refused_and_nothing_sent(local_exchange, trader, RiskLimits(max_position=D("0.02")),
                                    [(False, "0.015", "61000")], (False, "0.01", "61000"), "max_position")


async def test_max_open_orders_refuses(local_exchange: LocalExchange, trader: Trader) -> None:
    await _refused_and_nothing_sent(local_exchange, trader, RiskLimits(max_open_orders=2),
                                    [(True, "0.001", "59000"), (False, "0.001", "61000")],
                                    (True, "0.001", "58000"), "max_open_orders")


async def test_max_notional_refuses(local_exchange: LocalExchange, trader: Trader) -> None:
    await _refused_and_nothing_sent(local_exchange, trader, RiskLimits(max_notional=D(1000)),
                                    [(True, "0.01", "59000")], (True, "0.01", "59000"), "max_notional")


async def test_daily_loss_limit_refuses_then_kills(local_exchange: LocalExchange, trader: Trader) -> None:
    await make_book(local_exchange)
    async with connector_for(local_exchange, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        strategy = Recording(conn, risk=RiskLimits(daily_loss_limit=D("0.05")))
        await strategy.start()
        resting = strategy.buy(PAIR, D("0.001"), D("59000"))
        assert resting is not None
        # buy at the ask (60010) with the mid at 60000: 0.01 lost on the price plus the taker fee
        taker = strategy.buy(PAIR, D("0.01"), D("60010"))
        assert taker is not None
        await asyncio.wait_for(strategy.done.wait(), 10)
        assert strategy.kill_reason is not None and "daily loss limit" in strategy.kill_reason
        assert strategy.loss_today() >= D("0.05")
        assert strategy.buy(PAIR, D("0.001"), D("59000")) is None
        assert "kill switch" in strategy.refusals[-1].reason
        assert await exchange_open_orders(local_exchange, trader.address) == []


async def test_kill_switch_cancels_every_order_and_refuses_new_ones(local_exchange: LocalExchange,
                                                                   trader: Trader) -> None:
    await make_book(local_exchange)
    async with connector_for(local_exchange, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        strategy = Recording(conn)
        await strategy.start()
        for i in range(5):
            assert strategy.buy(PAIR, D("0.001"), D(59000 - i * 10)) is not None
            assert strategy.sell(PAIR, D("0.001"), D(61000 + i * 10)) is not None
        # one order placed around the strategy, straight on the connector: the kill switch cancels it too
        conn.buy(PAIR, D("0.001"), OrderType.LIMIT, D("58000"))
        await wait_until(lambda: len(conn.open_orders) == 11 and all(o.exchange_order_id for o in conn.open_orders),
                         pulse)
        assert len(await exchange_open_orders(local_exchange, trader.address)) == 11
        await strategy.kill("test")
        assert strategy.done.is_set() and not strategy.running
        assert conn.open_orders == []
        assert await exchange_open_orders(local_exchange, trader.address) == []
        assert strategy.sell(PAIR, D("0.001"), D("61000")) is None
        assert strategy.refusals[-1].reason == "kill switch engaged: test"


async def test_bad_input_is_refused_with_a_reason_and_nothing_is_sent(local_exchange: LocalExchange,
                                                                     trader: Trader) -> None:
    await make_book(local_exchange)
    async with connector_for(local_exchange, trader) as conn:
        strategy = Recording(conn, risk=RiskLimits(max_notional=D(10_000)))
        assert strategy.buy(PAIR, D("0.001"), D(59000)) is None  # not started yet
        await strategy.start()
        bad: list[tuple[object, object]] = [(0.001, D(59000)), (D(-1), D(59000)), (D("0.001"), D("NaN")),
                                            (D("0.001"), "59000")]
        for amount, price in bad:
            assert strategy.buy(PAIR, amount, price) is None  # type: ignore[arg-type]
        reasons = [r.reason for r in strategy.refusals]
        assert reasons[0] == "strategy is not running"
        assert sum("amount must be a positive Decimal" in r for r in reasons) == 2
        assert sum("price must be a positive Decimal" in r for r in reasons) == 2
        assert conn.open_orders == []
        assert await exchange_open_orders(local_exchange, trader.address) == []
        await strategy.stop()


async def test_liquidation_fires_the_kill_switch(local_exchange: LocalExchange, trader: Trader) -> None:
    await make_book(local_exchange)
    async with connector_for(local_exchange, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        strategy = Recording(conn)
        await strategy.start()
        assert strategy.buy(PAIR, D("0.01"), D("60010")) is not None  # takes the ask: long 0.01
        assert strategy.sell(PAIR, D("0.001"), D("61000")) is not None  # rests
        await wait_until(lambda: strategy.position(PAIR) == D("0.01") and len(conn.open_orders) == 1
                         and all(o.exchange_order_id for o in conn.open_orders), pulse)
        engine = local_exchange.engine
        engine.accounts[trader.address].balance = D(5)  # as if all but $5 of collateral were withdrawn
        engine.set_oracle_price("BTC", D(48000))
        engine.advance(engine.now)
        await asyncio.wait_for(strategy.done.wait(), 10)
        assert strategy.kill_reason is not None and "liquidated" in strategy.kill_reason
        assert await exchange_open_orders(local_exchange, trader.address) == []


async def test_cancelling_whoever_waits_on_the_kill_switch_does_not_stop_it(local_exchange: LocalExchange,
                                                                            trader: Trader) -> None:
    await make_book(local_exchange)
    async with connector_for(local_exchange, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        strategy = Recording(conn)
        await strategy.start()
        for i in range(3):
            assert strategy.buy(PAIR, D("0.001"), D(59000 - i)) is not None
        await wait_until(lambda: len(conn.open_orders) == 3 and all(o.exchange_order_id for o in conn.open_orders),
                         pulse)
        pulse.changed.clear()
        waiter = asyncio.create_task(strategy.kill("operator"))
        await asyncio.wait_for(pulse.changed.wait(), 10)  # the first cancel is confirmed: the kill is under way
        waiter.cancel()  # e.g. the clock tick that fired it is cancelled by a shutdown
        await asyncio.wait_for(strategy.done.wait(), 10)
        assert await exchange_open_orders(local_exchange, trader.address) == []
        await strategy.stop()  # a second stop waits for the same shutdown and returns


async def test_modify_passes_the_risk_gate_as_the_order_it_would_become(
        local_exchange: LocalExchange, trader: Trader) -> None:
    ex = local_exchange
    await make_book(ex)
    async with connector_for(ex, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        strategy = Recording(conn, risk=RiskLimits(max_position=D("0.02"), max_open_orders=1))
        await strategy.start()
        cid = strategy.buy(PAIR, D("0.01"), D(59000))
        assert cid is not None
        order = conn.get_order(cid)
        assert order is not None
        await wait_until(lambda: order.exchange_order_id is not None, pulse)

        # in place of the order it replaces: one open order stays within max_open_orders=1, 0.02 within max_position
        assert strategy.modify(cid, price=D(58900), amount=D("0.02"))
        await wait_until(lambda: order.price == D(58900) and order.modification is None, pulse)
        [venue] = await exchange_open_orders(ex, trader.address)
        assert (venue["limitPx"], venue["sz"], venue["cloid"]) == ("58900.0", "0.02", cid)

        assert not strategy.modify(cid, amount=D("0.03"))  # could reach 0.03 > 0.02: refused, nothing sent
        assert "max_position" in strategy.refusals[-1].reason and cid in strategy.refusals[-1].reason
        assert order.modification is None
        assert await exchange_open_orders(ex, trader.address) == [venue]

        with pytest.raises(InvalidOrderError, match="not an order of this strategy"):
            strategy.modify("0x" + "ab" * 16, price=D(58000))
        await strategy.kill("test")
        assert not strategy.modify(cid, price=D(58800))
        assert "kill switch" in strategy.refusals[-1].reason
