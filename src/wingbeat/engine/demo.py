"""``wingbeat demo``: the market maker against the local exchange, in one process, with no setup.

Starts the local exchange with its liquidity makers on a free loopback port, funds a throwaway key
(generated here, never written anywhere), connects the Hyperliquid connector to it over real sockets
and runs `MarketMakerStrategy` for a bounded time. This is the same code path as trading on testnet or
mainnet: only the URL differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from decimal import Decimal

from rich.console import Console

from wingbeat.engine.live_view import RunSummary
from wingbeat.engine.logging_setup import EventLogger
from wingbeat.engine.market_maker import MarketMakerConfig, MarketMakerStrategy
from wingbeat.engine.metrics import Metrics
from wingbeat.engine.risk import RiskLimits
from wingbeat.engine.runner import run_strategy

DEMO_FUNDS = Decimal(100_000)

DEMO_RISK = RiskLimits(
    max_order_size=Decimal("0.01"),
    max_position=Decimal("0.02"),
    max_open_orders=10,
    max_notional=Decimal(5_000),
    daily_loss_limit=Decimal(1_000),
)
"""Risk limits of the demo: small enough to show refusals when the inventory runs up."""


def demo_config(trading_pair: str) -> MarketMakerConfig:
    """Market maker parameters of the demo: one level a side, a couple of basis points from the mid,
    refreshed every few seconds, so the simulated flow trades with it within seconds."""
    return MarketMakerConfig(
        trading_pair=trading_pair,
        order_amount=Decimal("0.002"),
        bid_spread=Decimal("0.0001"),
        ask_spread=Decimal("0.0001"),
        order_refresh_time=3.0,
        inventory_skew=True,
        max_inventory=Decimal("0.02"),
    )


async def run_demo(*, duration: float = 30.0, seed: int | None = None, trading_pair: str = "BTC-USD",
                   tick_interval: float = 0.5, console: Console | None = None, live: bool = False,
                   metrics_port: int | None = None, stop: asyncio.Event | None = None) -> RunSummary:
    """Run the demo and return its summary (the caller prints it)."""
    from wingbeat.hyperliquid.connector import HyperliquidPerpetualConnector
    from wingbeat.hyperliquid.signer import Signer
    from wingbeat.sim.server import LocalExchange

    console = console or Console()
    signer = Signer(secrets.token_hex(32))  # throwaway: exists only in this process
    seed = secrets.randbelow(2**31) if seed is None else seed
    async with contextlib.AsyncExitStack() as stack:
        exchange = await stack.enter_async_context(LocalExchange(seed=seed, liquidity=True, port=0))
        await exchange.fund(signer.account_address, DEMO_FUNDS)
        console.print(f"local exchange on {exchange.base_url} · account {signer.account_address} funded with "
                      f"{DEMO_FUNDS:,} USDC", highlight=False)
        metrics = Metrics()
        stack.push_async_callback(metrics.stop)
        if metrics_port is not None:
            port = await metrics.start_http(metrics_port)
            console.print(f"metrics on http://127.0.0.1:{port}/metrics", highlight=False)
        connector = HyperliquidPerpetualConnector(signer, trading_pairs=[trading_pair], network=exchange.base_url,
                                                  journal_path=None)
        connector.add_listener(metrics)
        connector.add_listener(EventLogger())
        await connector.start()
        stack.push_async_callback(connector.stop)
        await asyncio.wait_for(connector.wait_ready(), 30)
        strategy = MarketMakerStrategy(connector, demo_config(trading_pair), risk=DEMO_RISK, metrics=metrics)
        summary = await run_strategy(strategy, trading_pair, duration=duration, tick_interval=tick_interval,
                                     console=console, live=live, title="wingbeat demo: market maker",
                                     network=f"local exchange, seed {seed}", stop=stop)
    return summary
