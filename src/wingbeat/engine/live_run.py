"""``wingbeat run``: a configured strategy on testnet, mainnet or any Hyperliquid-compatible URL, on perpetuals
or spot (the pair names say which: ``BTC-USD`` or ``PURR-USDC``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from rich.console import Console

from wingbeat.core.gc_tuning import tune_gc
from wingbeat.engine.basis import BasisStrategy
from wingbeat.engine.config import RunConfig
from wingbeat.engine.live_view import RunSummary
from wingbeat.engine.logging_setup import EventLogger, logs_above
from wingbeat.engine.market_maker import MarketMakerStrategy
from wingbeat.engine.metrics import Metrics
from wingbeat.engine.runner import run_strategy
from wingbeat.engine.strategy import Strategy, TradingConnector
from wingbeat.engine.twap import TwapExecutor
from wingbeat.hyperliquid.connector import HyperliquidPerpetualConnector
from wingbeat.hyperliquid.constants import is_spot_trading_pair
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.spot_connector import HyperliquidSpotConnector

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

    Spot pairs (``HYPE-USDC``) are traded by a `HyperliquidSpotConnector` (its journal is ``journal_path``, or
    ``NAME-spot.db`` beside it when perps are traded too), perps by a `HyperliquidPerpetualConnector`; the
    strategy gets both when both are needed; every connector gets ``cfg.connector`` (the ``[connector]`` table).
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
        spot_pairs = [p for p in ex.trading_pairs if is_spot_trading_pair(p)]
        perp_pairs = [p for p in ex.trading_pairs if not is_spot_trading_pair(p)]
        journal = ex.journal_path
        connectors: dict[str, TradingConnector] = {}
        starting: list[HyperliquidPerpetualConnector | HyperliquidSpotConnector] = []
        if perp_pairs:
            perp = HyperliquidPerpetualConnector(
                signer,
                trading_pairs=perp_pairs,
                network=ex.network,
                journal_path=str(journal) if journal is not None else None,
                config=cfg.connector,
            )
            connectors["perp"] = perp
            starting.append(perp)
        if spot_pairs:
            spot = HyperliquidSpotConnector(
                signer,
                trading_pairs=spot_pairs,
                network=ex.network,
                # alone it keeps journal_path as given (wingbeat journal orders.db shows its orders)
                journal_path=str(_spot_journal(journal) if perp_pairs else journal) if journal is not None else None,
                config=cfg.connector,
            )
            connectors["spot"] = spot
            starting.append(spot)
        account = starting[0].account_address  # the signer's, or the vault / subaccount it trades for
        # log lines print above the spinner, never through it
        with (
            logs_above(console),
            console.status(f"connecting to {ex.network} as {account}..."),
        ):
            for conn in starting:
                conn.add_listener(metrics)
                conn.add_listener(EventLogger())
                await conn.start()
                stack.push_async_callback(conn.stop)
            for conn in starting:
                await asyncio.wait_for(conn.wait_ready(), ready_timeout)
        tune_gc()  # this process trades from here on: its start-up heap is out of every later collection
        if spot_pairs:
            _warn_empty_spot_balances(connectors["spot"], spot_pairs, account)
        if perp_pairs:
            _warn_empty_dex_margin(perp, perp_pairs, account)
        connector = connectors if len(connectors) > 1 else next(iter(connectors.values()))
        strategy: Strategy
        if cfg.basis is not None:
            pair = cfg.basis.perp_pair
            strategy = BasisStrategy(connectors, cfg.basis, risk=cfg.risk, metrics=metrics)
        elif cfg.market_maker is not None:
            pair = cfg.market_maker.trading_pair
            strategy = MarketMakerStrategy(connector, cfg.market_maker, risk=cfg.risk, metrics=metrics)
        elif cfg.twap is not None:
            pair = cfg.twap.trading_pair
            strategy = TwapExecutor(connector, cfg.twap, risk=cfg.risk, metrics=metrics)
        else:  # parse_config always sets one of the three
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


def _warn_empty_spot_balances(spot: TradingConnector, pairs: list[str], account: str) -> None:
    """Warn once for each spot pair of which the account holds neither token: every order on it would be
    refused, and perp USDC (what a deposit gives) is a separate balance the user must move first."""
    for pair in pairs:
        base, _, quote = pair.partition("-")
        if not spot.get_balance(base) and not spot.get_balance(quote):
            _logger.warning(
                "the spot balance of %s holds no %s or %s, so every %s order will be refused; perp USDC is "
                "a separate balance: move some to spot with `wingbeat transfer AMOUNT --to spot`",
                account,
                quote,
                base,
                pair,
            )


def _warn_empty_dex_margin(perp: HyperliquidPerpetualConnector, pairs: list[str], account: str) -> None:
    """Warn once for each builder (HIP-3) dex traded on which the account has no margin: every order there
    would be refused, and the main dex's USDC does not margin it (each dex keeps its own)."""
    warned: set[str] = set()
    for pair in pairs:
        asset = perp.margin_asset(pair)
        dex, colon, token = asset.partition(":")
        if colon and dex not in warned and not perp.get_balance(asset):
            warned.add(dex)
            _logger.warning(
                "the account %s has no %s margin on the builder dex %s, so every %s order will be refused; "
                'each dex keeps its own margin: move some there with `wingbeat transfer AMOUNT --from-dex "" '
                "--to-dex %s`",
                account,
                token,
                dex,
                pair,
                dex,
            )


def _spot_journal(path: Path) -> Path:
    """The spot connector's journal beside the perp one's: ``orders.db`` -> ``orders-spot.db``."""
    return path.with_name(f"{path.stem}-spot{path.suffix}")
