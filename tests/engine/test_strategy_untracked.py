"""A strategy on an account that other programs trade too: their positions count at the venue's mark and are
shown, nothing crashes, and neither stop nor the kill switch touches their orders."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tests.conftest import limit_order_action, signed_body
from tests.engine.venue import (
    Pulse,
    connector_for,
    exchange_open_orders,
    make_book,
    other_program,
    place,
    post,
    wait_until,
)
from wingbeat.engine.metrics import Metrics
from wingbeat.engine.risk import RiskLimits
from wingbeat.engine.runner import update_metrics, view_state
from wingbeat.engine.strategy import Strategy

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange

D = Decimal
PAIR = "BTC-USD"
ETH = 1  # asset index of ETH on the local exchange


async def _eth_position_made_elsewhere(ex: LocalExchange, trader: Trader, size: str) -> None:
    """Another program (same key, its own requests) buys ETH against a maker's ask."""
    maker = (await make_book(ex)).key
    mark = ex.engine.market("ETH")
    assert mark is not None
    ask = str(int(mark.mark) + 5)
    for key, is_buy, tif in ((maker, False, "Gtc"), (trader.key, True, "Ioc")):
        reply = await post(
            ex,
            "/exchange",
            signed_body(key, limit_order_action(ETH, is_buy=is_buy, price=ask, size=size, tif=tif)),
        )
        assert reply["status"] == "ok", reply


async def test_untracked_positions_count_at_the_venue_mark_and_show_without_crashing(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    await _eth_position_made_elsewhere(local_exchange, trader, "2")
    async with connector_for(local_exchange, trader) as conn:
        strategy = Strategy(conn, risk=RiskLimits(max_notional=D(5000)), metrics=Metrics())
        await strategy.start()
        [(pair, eth)] = strategy.untracked_positions().items()
        mark = conn.get_mark_price("ETH-USD")
        assert pair == "ETH-USD" and eth.amount == 2 and mark is not None and mark > 0
        assert strategy.position("ETH-USD") == 2
        assert strategy.exposure(PAIR).gross_notional == 2 * mark  # at the mark, not at entry or zero
        update_metrics(strategy, strategy.metrics)  # the metrics loop: no KeyError for the untracked pair
        assert b'wingbeat_position{pair="ETH-USD"} 2.0' in strategy.metrics.render()
        state = view_state(strategy, PAIR, title="t", started=0.0, duration=None)
        assert [(p.trading_pair, p.amount, p.mark) for p in state.other_positions] == [("ETH-USD", 2, mark)]
        # one BTC order of ~60 USD fits 5000 alone; with 2 ETH at ~3000 it does not
        assert strategy.buy(PAIR, D("0.001"), D("59000")) is None
        assert "above max_notional 5000" in strategy.refused[-1].reason
        await strategy.stop()
        assert conn.account_positions["ETH-USD"].amount == 2  # never closed


async def test_stop_and_kill_cancel_only_the_strategys_orders_and_pairs(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    await make_book(local_exchange)
    async with connector_for(local_exchange, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        # another program's orders on the same account: one on the strategy's pair, one on ETH
        other = other_program(local_exchange, trader)
        await place(local_exchange, other, is_buy=True, price="50000", size="0.001")
        reply = await post(
            local_exchange,
            "/exchange",
            signed_body(other.key, limit_order_action(ETH, is_buy=True, price="1500", size="0.01")),
        )
        assert reply["status"] == "ok", reply
        foreign = {o["oid"] for o in await exchange_open_orders(local_exchange, trader.address)}
        assert len(foreign) == 2
        strategy = Strategy(conn, cancel_timeout=15.0)  # a loaded machine answers cancels late
        await strategy.start()
        assert strategy.buy(PAIR, D("0.001"), D("59000")) is not None
        await wait_until(lambda: all(o.exchange_order_id for o in conn.open_orders), pulse)
        assert len(await exchange_open_orders(local_exchange, trader.address)) == 3
        await strategy.kill("test")
        assert conn.open_orders == []
        assert {o["oid"] for o in await exchange_open_orders(local_exchange, trader.address)} == foreign
