"""The market maker quotes both sides, gets filled, skews with inventory and refreshes stale quotes."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.engine.venue import Pulse, connector_for, exchange_open_orders, make_book, place, wait_until
from wingbeat.core.events import EventListener, OrderFailedEvent
from wingbeat.engine.clock import Clock
from wingbeat.engine.market_maker import MarketMakerConfig, MarketMakerStrategy
from wingbeat.engine.risk import RiskLimits

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange

D = Decimal
PAIR = "BTC-USD"


def _config(**overrides: object) -> MarketMakerConfig:
    options: dict[str, object] = {"trading_pair": PAIR, "order_amount": D("0.001"), "bid_spread": D("0.0001"),
                                  "ask_spread": D("0.0001"), "order_refresh_time": 60.0,
                                  "max_inventory": D("0.002")}
    options.update(overrides)
    return MarketMakerConfig(**options)  # type: ignore[arg-type]


async def test_quotes_both_sides_around_the_mid(local_exchange: LocalExchange, trader: Trader) -> None:
    await make_book(local_exchange)  # 59990 / 60010: mid 60000
    async with connector_for(local_exchange, trader) as conn:
        mm = MarketMakerStrategy(conn, _config(order_levels=2, level_spread=D("0.0002")))
        assert [(q.is_buy, q.price, q.amount) for q in mm.proposal()] == [
            (True, D(59994), D("0.001")), (False, D(60006), D("0.001")),
            (True, D(59982), D("0.001")), (False, D(60018), D("0.001"))]
        await mm.start()
        await mm.tick(0)
        pulse = Pulse()
        conn.add_listener(pulse)
        await wait_until(lambda: all(o.exchange_order_id for o in mm.active_orders()), pulse)
        on_exchange = await exchange_open_orders(local_exchange, trader.address)
        assert sorted(D(o["limitPx"]) for o in on_exchange) == [59982, 59994, 60006, 60018]
        await mm.tick(1)  # fresh quotes are left alone
        assert len(mm.active_orders()) == 4 and mm.quotes_placed == 4
        await mm.stop()
        assert await exchange_open_orders(local_exchange, trader.address) == []


async def test_fill_skews_the_next_quotes_and_stale_quotes_are_replaced(local_exchange: LocalExchange,
                                                                       trader: Trader) -> None:
    maker = await make_book(local_exchange)
    async with connector_for(local_exchange, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        mm = MarketMakerStrategy(conn, _config(order_refresh_time=0.2), risk=RiskLimits(max_open_orders=4))
        clock = Clock(0.05)
        clock.add(mm)
        await mm.start()
        clock.start()
        try:
            await wait_until(lambda: len(mm.active_orders()) == 2
                             and all(o.exchange_order_id for o in mm.active_orders()), pulse)
            # someone sells into our bid (59994): we buy 0.001
            await place(local_exchange, maker, is_buy=False, price="59900", size="0.001", tif="Ioc")
            await wait_until(lambda: mm.pnl.pair(PAIR).fills == 1, pulse)
            assert mm.position(PAIR) == D("0.001")
            # long half the max inventory: the bid shrinks to half, the ask grows by half
            sizes = {q.is_buy: q.amount for q in mm.proposal()}
            assert sizes == {True: D("0.0005"), False: D("0.0015")}
            first = {o.client_order_id for o in mm.active_orders()}
            await wait_until(lambda: len(mm.active_orders()) == 2
                             and not first & {o.client_order_id for o in mm.active_orders()}
                             and all(o.exchange_order_id for o in mm.active_orders()), pulse)
            assert mm.refreshes >= 1
            on_exchange = {(o["side"], D(o["sz"])) for o in await exchange_open_orders(local_exchange, trader.address)}
            assert on_exchange == {("B", D("0.0005")), ("A", D("0.0015"))}
        finally:
            await clock.stop()
            await mm.stop()
        assert await exchange_open_orders(local_exchange, trader.address) == []


class _Counting(MarketMakerStrategy):
    """Counts ticks so a test can wait for N refresh periods without sleeping."""

    def __init__(self, *args: object, ticks: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.ticks, self._want = 0, ticks
        self.enough = asyncio.Event()

    async def on_tick(self, timestamp: float) -> None:
        await super().on_tick(timestamp)
        self.ticks += 1
        if self.ticks >= self._want:
            self.enough.set()


async def test_quotes_within_the_refresh_tolerance_are_kept(local_exchange: LocalExchange, trader: Trader) -> None:
    await make_book(local_exchange)
    async with connector_for(local_exchange, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        mm = _Counting(conn, _config(order_refresh_time=0.1, order_refresh_tolerance=D("0.001")), ticks=3)
        await mm.start()
        await mm.tick(0)
        await wait_until(lambda: all(o.exchange_order_id for o in mm.active_orders()), pulse)
        first = {o.client_order_id for o in mm.active_orders()}
        mm.ticks, mm._want = 0, 12  # twelve ticks of 50 ms: several refresh periods
        clock = Clock(0.05)
        clock.add(mm)
        clock.start()
        try:
            await asyncio.wait_for(mm.enough.wait(), 10)
        finally:
            await clock.stop()
        assert {o.client_order_id for o in mm.active_orders()} == first
        assert mm.quotes_placed == 2 and mm.refreshes == 0
        await mm.stop()


async def test_requote_with_modify_moves_the_same_quotes_to_the_skewed_proposal(local_exchange: LocalExchange,
                                                                              trader: Trader) -> None:
    maker = await make_book(local_exchange)
    async with connector_for(local_exchange, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        mm = MarketMakerStrategy(conn, _config(order_refresh_time=0.2, requote_with_modify=True),
                                 risk=RiskLimits(max_open_orders=2))
        clock = Clock(0.05)
        clock.add(mm)
        await mm.start()
        clock.start()
        try:
            await wait_until(lambda: len(mm.active_orders()) == 2
                             and all(o.exchange_order_id for o in mm.active_orders()), pulse)
            first = {o.client_order_id: o.exchange_order_id for o in mm.active_orders()}
            # half our bid is taken: long 0.0005, a quarter of max_inventory, so the bid shrinks and the ask grows
            await place(local_exchange, maker, is_buy=False, price="59900", size="0.0005", tif="Ioc")
            await wait_until(lambda: mm.position(PAIR) == D("0.0005"), pulse)
            sizes = {q.is_buy: q.amount for q in mm.proposal()}
            assert sizes == {True: D("0.00075"), False: D("0.00125")}

            async def venue_sizes() -> set[tuple[str, Decimal]]:
                return {(o["side"], D(o["sz"])) for o in await exchange_open_orders(local_exchange, trader.address)}

            await wait_until(lambda: all(o.exchange_order_id not in first.values() for o in mm.active_orders()),
                             pulse)
            assert await venue_sizes() == {("B", D("0.00075")), ("A", D("0.00125"))}
            assert {o.client_order_id for o in mm.active_orders()} == set(first)  # the same quotes, modified
            assert mm.quotes_placed == 2 and mm.refreshes >= 1
            [bid] = [o for o in mm.active_orders() if o.trade_type.name == "BUY"]
            assert (bid.amount, bid.executed_amount_base) == (D("0.00125"), D("0.0005"))
        finally:
            await clock.stop()
            await mm.stop()
        assert await exchange_open_orders(local_exchange, trader.address) == []


class _Failures(EventListener):
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def on_order_failed(self, event: OrderFailedEvent) -> None:
        self.reasons.append(event.reason)


async def test_quotes_the_venue_refuses_are_not_sent_again_every_tick(local_exchange: LocalExchange,
                                                                        trader: Trader) -> None:
    """Quotes far beyond the account's margin fail; the next ticks send nothing until a refresh period passed."""
    await make_book(local_exchange)
    refresh = 0.5
    async with connector_for(local_exchange, trader) as conn:
        mm = MarketMakerStrategy(conn, _config(order_amount=D(1_000), max_inventory=D(5_000),
                                               order_refresh_time=refresh))
        failures = _Failures()
        failed = failures.reasons
        pulse = Pulse()
        conn.add_listener(failures)
        conn.add_listener(pulse)
        await mm.start()
        await mm.tick(0)
        await wait_until(lambda: len(failed) == 2, pulse)
        placed_at = asyncio.get_running_loop().time()
        for second in range(1, 4):
            await mm.tick(second)
        assert mm.quotes_placed == 2, failed
        await asyncio.sleep(refresh - (asyncio.get_running_loop().time() - placed_at))  # the back-off itself
        await mm.tick(5)
        assert mm.quotes_placed == 4
        await wait_until(lambda: len(failed) == 4, pulse)
        await mm.stop()
    assert all("margin" in reason.lower() for reason in failed), failed
