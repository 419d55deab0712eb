"""run_strategy: plain status lines, metrics from real fills, a summary, and a clean stop."""

from __future__ import annotations

import asyncio
import io
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.console import Console

from tests.engine.venue import Pulse, connector_for, exchange_open_orders, make_book, place, wait_until
from wingbeat.engine.market_maker import MarketMakerConfig, MarketMakerStrategy
from wingbeat.engine.metrics import Metrics
from wingbeat.engine.runner import run_strategy, update_metrics

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange

D = Decimal
PAIR = "BTC-USD"


async def test_run_reports_fills_latency_and_stops_on_request(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    maker = await make_book(local_exchange)
    async with connector_for(local_exchange, trader) as conn:
        metrics = Metrics()
        pulse = Pulse()
        conn.add_listener(metrics)
        conn.add_listener(pulse)
        mm = MarketMakerStrategy(
            conn,
            MarketMakerConfig(
                trading_pair=PAIR,
                order_amount=D("0.001"),
                bid_spread=D("0.0001"),
                ask_spread=D("0.0001"),
                order_refresh_time=30,
            ),
            metrics=metrics,
        )
        out = io.StringIO()
        stop = asyncio.Event()

        async def hit_our_bid_then_stop() -> None:
            await wait_until(
                lambda: any(o.exchange_order_id and o.trade_type.name == "BUY" for o in mm.active_orders()),
                pulse,
            )
            await place(local_exchange, maker, is_buy=False, price="59900", size="0.001", tif="Ioc")
            await wait_until(lambda: mm.pnl.pair(PAIR).fills == 1, pulse)
            stop.set()

        hitter = asyncio.create_task(hit_our_bid_then_stop())
        summary = await run_strategy(
            mm,
            PAIR,
            duration=30,
            tick_interval=0.05,
            console=Console(file=out, width=200),
            live=False,
            title="test",
            network="local",
            stop=stop,
            status_interval=0.05,
        )
        await hitter
        assert summary.stop_reason == "stopped by user"
        assert summary.fills == 1 and summary.buy_volume == D("0.001") and summary.position == D("0.001")
        assert summary.orders_placed == 2
        assert summary.open_p50_ms is not None and summary.fill_p50_ms is not None
        assert summary.fees > 0 or summary.fees < 0  # maker fee or rebate, never silently zero
        lines = out.getvalue().splitlines()
        assert re.match(
            r"\[0/30s\] BTC-USD bid 59990(\.0)? ask 60010(\.0)? \| orders 0 \| fills 0", lines[0]
        ), lines
        # the last status line is the summary's snapshot, taken once the strategy (and its orders) stopped
        assert "fills 1 | pos 0.001" in lines[-1] and lines[-1].endswith("stopped: stopped by user")
        assert f"pnl {summary.net_pnl:.4f}" in lines[-1]
        r = metrics.registry
        assert (
            r.get_sample_value("wingbeat_fills_total", {"pair": PAIR, "side": "buy", "liquidity": "maker"})
            == 1
        )
        assert r.get_sample_value("wingbeat_place_to_open_seconds_count") == 2
        assert r.get_sample_value("wingbeat_position", {"pair": PAIR}) == 0.001
        assert await exchange_open_orders(local_exchange, trader.address) == []  # the stop cancelled our ask


async def test_connector_counters_are_charted_when_the_connector_exposes_them(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    from wingbeat.hyperliquid.connector import HyperliquidPerpetualConnector
    from wingbeat.hyperliquid.signer import Signer

    class Counted(HyperliquidPerpetualConnector):
        ws_reconnects = 3
        rate_limit_remaining = 1100.0

    conn = Counted(Signer(trader.key), ["BTC-USD"], network=local_exchange.base_url)
    await conn.start()
    try:
        metrics = Metrics()
        strategy = MarketMakerStrategy(
            conn, MarketMakerConfig(trading_pair=PAIR, order_amount=D("0.001")), metrics=metrics
        )
        update_metrics(strategy, metrics)
        assert metrics.registry.get_sample_value("wingbeat_ws_reconnects") == 3
        assert metrics.registry.get_sample_value("wingbeat_rate_limit_remaining") == 1100
        assert metrics.registry.get_sample_value("wingbeat_position", {"pair": PAIR}) == 0
    finally:
        await conn.stop()
