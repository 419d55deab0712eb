"""``wingbeat run``: a configured strategy on testnet, mainnet or any Hyperliquid-compatible URL."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from rich.console import Console

from wingbeat.engine.config import RunConfig
from wingbeat.engine.live_view import RunSummary
from wingbeat.engine.logging_setup import EventLogger, logs_above
from wingbeat.engine.market_maker import MarketMakerStrategy
from wingbeat.engine.metrics import Metrics
from wingbeat.engine.runner import run_strategy
from wingbeat.engine.strategy import Strategy
from wingbeat.engine.twap import TwapExecutor
from wingbeat.hyperliquid.connector import HyperliquidPerpetualConnector
from wingbeat.hyperliquid.signer import Signer

_logger = logging.getLogger("wingbeat.engine.run")


async def run_configured(
    cfg: RunConfig,
    signer: Signer,
    *,
    console: Console,
    live: bool,
    duration: float | None = None,
    stop: asyncio.Event | None = None,
    ready_timeout: float = 60.0,
    metrics_port: int | None = None,
) -> RunSummary:
    """Connect, run the configured strategy until its end / the duration / ``stop``, disconnect.

    ``metrics_port`` (``--metrics-port``) overrides ``engine.metrics_port``; 0 picks a free port.
    """
    ex = cfg.exchange
    port = metrics_port if metrics_port is not None else cfg.engine.metrics_port
    async with contextlib.AsyncExitStack() as stack:
        metrics = Metrics()
        stack.push_async_callback(metrics.stop)
        if port is not None:
            bound = await metrics.start_http(port)
            console.print(f"metrics on http://127.0.0.1:{bound}/metrics", highlight=False)
        connector = HyperliquidPerpetualConnector(
            signer,
            trading_pairs=list(ex.trading_pairs),
            network=ex.network,
            journal_path=str(ex.journal_path) if ex.journal_path is not None else None,
        )
        connector.add_listener(metrics)
        connector.add_listener(EventLogger())
        # log lines print above the spinner, never through it
        with (
            logs_above(console),
            console.status(f"connecting to {ex.network} as {signer.account_address}..."),
        ):
            await connector.start()
            stack.push_async_callback(connector.stop)
            await asyncio.wait_for(connector.wait_ready(), ready_timeout)
        strategy: Strategy
        if cfg.market_maker is not None:
            pair = cfg.market_maker.trading_pair
            strategy = MarketMakerStrategy(connector, cfg.market_maker, risk=cfg.risk, metrics=metrics)
        elif cfg.twap is not None:
            pair = cfg.twap.trading_pair
            strategy = TwapExecutor(connector, cfg.twap, risk=cfg.risk, metrics=metrics)
        else:  # parse_config always sets one of the two
            raise ValueError("the configuration has no strategy")
        _logger.info("running %s on %s (%s)", type(strategy).__name__, pair, ex.network)
        summary = await run_strategy(
            strategy,
            pair,
            duration=duration or cfg.engine.duration,
            tick_interval=cfg.engine.tick_interval,
            console=console,
            live=live,
            title=f"wingbeat run: {type(strategy).__name__}",
            network=ex.network,
            stop=stop,
        )
    return summary
