"""BasisStrategy end to end: a spot connector and a perp connector on one account of the local exchange over
loopback, the exchange's built-in makers quoting HYPE/USDC (spot) and HYPE (perp), funding set on the venue.

What the venue holds is read back from it (``spotClearinghouseState``, ``clearinghouseState``), as a user
would, never from the strategy's own counters alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import limit_order_action, new_trader, signed_body
from tests.engine.venue import post
from wingbeat.core.events import EventListener, OrderFailedEvent, OrderFilledEvent
from wingbeat.engine.basis import BasisConfig, BasisPhase, BasisStrategy
from wingbeat.engine.clock import Clock
from wingbeat.engine.risk import RiskLimits
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.spot_connector import HyperliquidSpotConnector
from wingbeat.sim.venue.types import OrderRequest

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange

D = Decimal
SPOT, PERP = "HYPE-USDC", "HYPE-USD"
LOT = D("0.01")  # both HYPE markets: szDecimals 2
PERP_ASSET, SPOT_ASSET = 3, 10_001  # HYPE perp, HYPE/USDC ("@1")
CONFIG = HyperliquidConfig(dead_man_switch=None)
DAY_MS = 86_400_000  # the venue's own funding schedule stays out of the way: funding is set by the test

StartExchange = Callable[..., AbstractAsyncContextManager["LocalExchange"]]


@pytest.fixture
async def exchange(start_local_exchange: StartExchange) -> AsyncIterator[LocalExchange]:
    async with start_local_exchange(funding_interval_ms=DAY_MS) as ex:
        yield ex


def basis_config(**overrides: Any) -> BasisConfig:
    options: dict[str, Any] = {
        "token": "HYPE",
        "target_notional": D(1000),
        "min_entry_funding_apr": D("0.5"),
        "exit_funding_apr": D(0),
        "max_entry_basis": D("0.01"),
        "order_timeout": 10.0,
        "naked_timeout": 20.0,
    }
    options.update(overrides)
    return BasisConfig(**options)


@asynccontextmanager
async def connectors(ex: LocalExchange, trader: Trader) -> AsyncIterator[
        tuple[HyperliquidSpotConnector, HyperliquidPerpetualConnector]]:
    signer = Signer(trader.key)
    spot = HyperliquidSpotConnector(signer, [SPOT], network=ex.base_url, config=CONFIG)
    perp = HyperliquidPerpetualConnector(signer, [PERP], network=ex.base_url, config=CONFIG)
    await spot.start()
    try:
        await perp.start()
        try:
            await asyncio.gather(spot.wait_ready(15), perp.wait_ready(15))
            yield spot, perp
        finally:
            await perp.stop()
    finally:
        await spot.stop()


async def until(predicate: Callable[[], bool], conn: HyperliquidPerpetualConnector, limit: float = 30.0) -> None:
    """Wait until ``predicate()`` holds, re-checking at every HYPE-USD book update (the makers re-quote
    twice a second); fail after ``limit`` seconds."""
    async with asyncio.timeout(limit):
        while not predicate():
            await conn.order_book_tracker.wait_for_update(PERP)


async def set_funding(ex: LocalExchange, perp: HyperliquidPerpetualConnector, rate: str) -> None:
    """One funding period paid at ``rate`` (hourly) on the venue, and its rate seen by the connector."""
    ex.engine.pay_funding("HYPE", D(rate))
    await until(lambda: (info := perp.get_funding_info(PERP)) is not None and info.rate == D(rate), perp)


async def venue_holdings(ex: LocalExchange, address: str) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(spot token totals, perp position sizes by coin) as the venue reports them."""
    spot = await post(ex, "/info", {"type": "spotClearinghouseState", "user": address})
    perp = await post(ex, "/info", {"type": "clearinghouseState", "user": address})
    tokens = {b["coin"]: D(b["total"]) for b in spot["balances"]}
    positions = {p["position"]["coin"]: D(p["position"]["szi"]) for p in perp["assetPositions"]}
    return tokens, positions


@asynccontextmanager
async def running(strategy: BasisStrategy) -> AsyncIterator[BasisStrategy]:
    clock = Clock(0.1)
    clock.add(strategy)
    await strategy.start()
    clock.start()
    try:
        yield strategy
    finally:
        await clock.stop()
        await strategy.stop()


async def test_enters_while_funding_pays_and_exits_flat_when_it_turns(exchange: LocalExchange) -> None:
    ex = exchange
    trader = new_trader()
    # the account already holds HYPE of its own, a BTC position and a resting BTC order: none is touched
    await ex.fund(trader.address, 10_000, spot={"USDC": 3000, "HYPE": 3})
    btc = ex.engine.market("BTC")
    assert btc is not None
    other = [limit_order_action(0, is_buy=True, price=str(int(btc.mark * D("1.01"))), size="0.002", tif="Ioc"),
             limit_order_action(0, is_buy=True, price=str(int(btc.mark * D("0.9"))), size="0.001")]
    for action in other:
        reply = await post(ex, "/exchange", signed_body(trader.key, action))
        assert reply["status"] == "ok" and "error" not in reply["response"]["data"]["statuses"][0], reply
    async with connectors(ex, trader) as (spot, perp):
        await set_funding(ex, perp, "0.0001")  # 87.6 %/yr: above the 50 % entry threshold
        strategy = BasisStrategy({"spot": spot, "perp": perp}, basis_config(),
                                 risk=RiskLimits(max_notional=D(2600), max_position=D(30)))
        async with running(strategy):
            await until(lambda: strategy.phase is BasisPhase.HEDGED, perp)
            assert strategy.entries == 1 and strategy.kill_reason is None
            tokens, positions = await venue_holdings(ex, trader.address)
            received = tokens["HYPE"] - 3  # the spot buy's fee was taken in HYPE: hedge what arrived
            assert received == strategy.spot_held and received % LOT != 0
            assert -positions["HYPE"] == strategy.perp_short == (received // LOT) * LOT
            assert D(24) <= strategy.perp_short <= D(26)  # ~1000 USDC at ~40
            assert positions["BTC"] == D("0.002")

            await set_funding(ex, perp, "-0.0001")  # now the short pays: exit
            await until(lambda: strategy.phase is BasisPhase.FLAT and strategy.exits == 1, perp)
            tokens, positions = await venue_holdings(ex, trader.address)
            assert "HYPE" not in positions  # the perp leg is closed
            assert D(3) <= tokens["HYPE"] < 3 + LOT  # the own HYPE kept; less than a lot of dust left
            assert strategy.perp_short == 0 and strategy.spot_held == tokens["HYPE"] - 3
            ledger = await post(ex, "/info", {"type": "userFunding", "user": trader.address, "startTime": 0})
            paid = [D(e["delta"]["usdc"]) for e in ledger if e["delta"]["coin"] == "HYPE"]
            assert len(paid) == 1 and paid[0] < 0  # the short paid the negative period, once
            assert strategy.funding_received == paid[0]  # counted once: only the perp connector publishes it
            assert strategy.orders_placed == 4  # spot buy, perp short, spot sell, perp buy-back: no churn
        assert strategy.phase is BasisPhase.STOPPED and strategy.kill_reason is None
        tokens, positions = await venue_holdings(ex, trader.address)
        assert positions == {"BTC": D("0.002")}
        orders = await post(ex, "/info", {"type": "openOrders", "user": trader.address})
        assert [(o["coin"], o["sz"]) for o in orders] == [("BTC", "0.001")]  # the other program's order rests


async def test_a_refused_hedge_unwinds_the_spot_leg(exchange: LocalExchange) -> None:
    ex = exchange
    trader = new_trader()
    # 20 USDC of perp margin: a 1000 USDC short needs 100 at HYPE's 10x, so every hedge is refused
    await ex.fund(trader.address, 20, spot={"USDC": 3000})
    async with connectors(ex, trader) as (spot, perp):
        await set_funding(ex, perp, "0.0001")
        refusals: list[OrderFailedEvent] = []

        class Watching(BasisStrategy):
            def on_order_failed(self, event: OrderFailedEvent) -> None:
                if event.trading_pair == PERP:
                    refusals.append(event)

        strategy = Watching({"spot": spot, "perp": perp}, basis_config(hedge_attempts=2, retry_interval=600.0))
        async with running(strategy):
            await until(lambda: strategy.entries == 0 and len(refusals) == 2
                        and strategy.phase is BasisPhase.FLAT, perp)
            tokens, positions = await venue_holdings(ex, trader.address)
            assert "HYPE" not in positions  # no perp leg ever opened
            assert tokens.get("HYPE", D(0)) < LOT  # the spot bought was sold back
            assert strategy.spot_held == tokens.get("HYPE", D(0)) and strategy.perp_short == 0
            assert all("margin" in (e.reason or "").lower() for e in refusals), refusals
            assert strategy.kill_reason is None  # unwound within tolerance: nothing naked left
            assert strategy.orders_placed == 4  # spot buy, two hedges, one unwind; no second entry yet


class _OnSpotFill(EventListener):
    """Calls ``action`` once, at the account's first spot fill (when the spot leg is on, the hedge not yet)."""

    def __init__(self, action: Callable[[], None]) -> None:
        self._action: Callable[[], None] | None = action

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        if event.trading_pair == SPOT and self._action is not None:
            action, self._action = self._action, None
            action()


async def test_stop_during_an_entry_returns_with_the_legs_balanced(exchange: LocalExchange) -> None:
    ex = exchange
    trader = new_trader()
    await ex.fund(trader.address, 10_000, spot={"USDC": 3000})
    async with connectors(ex, trader) as (spot, perp):
        await set_funding(ex, perp, "0.0001")
        strategy = BasisStrategy({"spot": spot, "perp": perp}, basis_config())
        stopping: list[asyncio.Task[None]] = []
        spot.add_listener(_OnSpotFill(lambda: stopping.append(asyncio.ensure_future(strategy.stop()))))
        clock = Clock(0.1)
        clock.add(strategy)
        await strategy.start()
        clock.start()
        try:
            await until(lambda: bool(stopping), perp)
            async with asyncio.timeout(60):  # stop() is bounded by the strategy's own deadlines
                await stopping[0]
        finally:
            await clock.stop()
        assert strategy.phase is BasisPhase.STOPPED and strategy.kill_reason is None
        tokens, positions = await venue_holdings(ex, trader.address)
        # the stop came with the spot bought and no hedge yet: it finished the hedge before returning
        assert tokens["HYPE"] == strategy.spot_held > D(24)
        assert -positions["HYPE"] == strategy.perp_short and abs(strategy.naked) < LOT
        assert await post(ex, "/info", {"type": "openOrders", "user": trader.address}) == []


async def test_a_leg_that_can_be_neither_hedged_nor_unwound_fires_the_kill_switch(
    start_local_exchange: StartExchange,
) -> None:
    async with start_local_exchange(liquidity=False, funding_interval_ms=DAY_MS) as ex:
        maker, trader = new_trader(), new_trader()
        await ex.fund(maker.address, 1_000_000, spot={"USDC": 100_000, "HYPE": 1000})
        await ex.fund(trader.address, 20, spot={"USDC": 3000})  # no margin for the hedge
        quotes = [OrderRequest(asset, is_buy, D(px), D(100), False, "Gtc")  # type: ignore[arg-type]
                  for asset in (PERP_ASSET, SPOT_ASSET) for is_buy, px in ((True, "39.9"), (False, "40.1"))]
        statuses = ex.engine.place_orders(maker.address, quotes)
        spot_bid = statuses[2]["resting"]["oid"]
        await ex.pay_funding("HYPE", "0.0001")  # the connector reads it when it subscribes
        async with connectors(ex, trader) as (spot, perp):
            # the spot bid goes as soon as the strategy's buy fills: the spot cannot be sold back
            spot.add_listener(_OnSpotFill(lambda: ex.engine.cancel(maker.address, [(SPOT_ASSET, spot_bid)]) and None))
            strategy = BasisStrategy({"spot": spot, "perp": perp}, basis_config(hedge_attempts=2))
            async with running(strategy):
                async with asyncio.timeout(60):
                    await strategy.done.wait()
                assert strategy.kill_reason is not None and "naked spot leg" in strategy.kill_reason
            tokens, positions = await venue_holdings(ex, trader.address)
            assert tokens["HYPE"] == strategy.spot_held > D(24) and "HYPE" not in positions
            assert dict(strategy.summary_rows())["basis unhedged"] == f"{strategy.spot_held} HYPE"  # reported
            assert await post(ex, "/info", {"type": "openOrders", "user": trader.address}) == []
