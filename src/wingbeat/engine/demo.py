"""``wingbeat demo``: the market maker against the local exchange, in one process, with no setup.

Starts the local exchange with its liquidity makers on a free loopback port, funds a throwaway key
(generated here, never written anywhere), connects the Hyperliquid connector to it over real sockets
(the spot connector for a spot pair such as ``PURR-USDC``, funded with USDC and some of the base token; a
builder dex's pair such as ``xyz:XYZ100-USD`` gets USDC on that dex too)
and runs `MarketMakerStrategy` for a bounded time. This is the same code path as trading on testnet or
mainnet: only the URL differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from decimal import Decimal

from rich.console import Console

from wingbeat.core.gc_tuning import tune_gc
from wingbeat.core.trading_rule import TradingRule
from wingbeat.engine.live_view import RunSummary
from wingbeat.engine.logging_setup import EventLogger, logs_above
from wingbeat.engine.market_maker import MarketMakerConfig, MarketMakerStrategy
from wingbeat.engine.metrics import Metrics
from wingbeat.engine.risk import RiskLimits
from wingbeat.engine.runner import run_strategy

DEMO_FUNDS = Decimal(100_000)

QUOTE_NOTIONAL = Decimal(120)
"""USDC per demo quote: above the $10 minimum on every market, small against the built-in liquidity."""


def demo_setup(trading_pair: str, mid: Decimal, rule: TradingRule) -> tuple[MarketMakerConfig, RiskLimits]:
    """Market maker parameters and risk limits of the demo, scaled to the market's price.

    One level a side, one basis point from the mid (inside the built-in makers' two), refreshed every
    few seconds, so the simulated flow trades with it within seconds; risk limits small enough to
    show refusals when the inventory runs up.
    """
    amount = rule.quantize_size(QUOTE_NOTIONAL / mid)
    config = MarketMakerConfig(
        trading_pair=trading_pair,
        order_amount=amount,
        bid_spread=Decimal("0.0001"),
        ask_spread=Decimal("0.0001"),
        order_refresh_time=3.0,
        inventory_skew=True,
        max_inventory=amount * 10,
    )
    risk = RiskLimits(
        max_order_size=amount * 5,
        max_position=amount * 10,
        max_open_orders=10,
        max_notional=QUOTE_NOTIONAL * 40,
        daily_loss_limit=Decimal(1_000),
    )
    return config, risk


async def run_demo(
    *,
    duration: float = 30.0,
    seed: int | None = None,
    trading_pair: str = "BTC-USD",
    tick_interval: float = 0.5,
    console: Console | None = None,
    live: bool = False,
    metrics_port: int | None = None,
    stop: asyncio.Event | None = None,
) -> RunSummary:
    """Run the demo and return its summary (the caller prints it)."""
    from wingbeat.hyperliquid.connector import HyperliquidPerpetualConnector
    from wingbeat.hyperliquid.signer import Signer
    from wingbeat.hyperliquid.spot_connector import HyperliquidSpotConnector
    from wingbeat.sim.protocol.server import LocalExchange

    console = console or Console()
    signer = Signer(secrets.token_hex(32))  # throwaway: exists only in this process
    seed = secrets.randbelow(2**31) if seed is None else seed
    async with contextlib.AsyncExitStack() as stack:
        # log lines print above the spinner, never through it
        with logs_above(console), console.status("starting the local exchange and connecting..."):
            exchange = await stack.enter_async_context(LocalExchange(seed=seed, liquidity=True, port=0))
            engine = exchange.engine
            spot = {f"{m.base.name}-{m.quote.name}": m for m in engine.spot_markets}
            pairs = [f"{m.coin}-USD" for m in engine.markets]
            on_dex = {f"{m.coin}-USD": d.name for d in engine.dexes if d.name for m in d.markets}  # HIP-3
            if trading_pair not in pairs and trading_pair not in spot and trading_pair not in on_dex:
                listed = ", ".join([*pairs, *on_dex, *spot])
                raise ValueError(f"unknown pair {trading_pair}: the local exchange lists {listed}")
            connector: HyperliquidPerpetualConnector | HyperliquidSpotConnector
            funds: dict[str, Decimal] = {}
            if trading_pair in spot:
                # spot quotes sell tokens held: a few quotes' worth of the base token beside the quote's funds
                market = spot[trading_pair]
                base = (QUOTE_NOTIONAL * 5 / market.mark).quantize(Decimal(1))
                funds = {market.quote.name: DEMO_FUNDS, market.base.name: max(base, Decimal(1))}
                await exchange.fund(signer.account_address, DEMO_FUNDS, spot=funds)
                connector = HyperliquidSpotConnector(
                    signer, trading_pairs=[trading_pair], network=exchange.base_url, journal_path=None
                )
            else:
                # a builder dex's pair is margined on that dex: the same again there
                dexes = {on_dex[trading_pair]: DEMO_FUNDS} if trading_pair in on_dex else {}
                await exchange.fund(signer.account_address, DEMO_FUNDS, dexes=dexes)
                funds = {f"USDC on {name}": amount for name, amount in dexes.items()}
                connector = HyperliquidPerpetualConnector(
                    signer, trading_pairs=[trading_pair], network=exchange.base_url, journal_path=None
                )
            metrics = Metrics()
            stack.push_async_callback(metrics.stop)
            connector.add_listener(metrics)
            connector.add_listener(EventLogger())
            await connector.start()
            stack.push_async_callback(connector.stop)
            await asyncio.wait_for(connector.wait_ready(), 30)
        tune_gc()  # the exchange serves and the connector trades from here on, in this process
        held = "".join(f" and {amount:,} {token}" for token, amount in funds.items() if token != "USDC")
        console.print(
            f"local exchange on {exchange.base_url} · account {signer.account_address} funded with "
            f"{DEMO_FUNDS:,} USDC{held}",
            highlight=False,
        )
        if metrics_port is not None:
            port = await metrics.start_http(metrics_port)
            console.print(f"metrics on http://127.0.0.1:{port}/metrics", highlight=False)
        mid = connector.get_order_book(trading_pair).mid_price
        while mid is None:  # the first snapshot may still be on its way
            mid = (await connector.order_book_tracker.wait_for_update(trading_pair, timeout=30)).mid_price
        config, risk = demo_setup(trading_pair, mid, connector.trading_rules[trading_pair])
        strategy = MarketMakerStrategy(connector, config, risk=risk, metrics=metrics)
        summary = await run_strategy(
            strategy,
            trading_pair,
            duration=duration,
            tick_interval=tick_interval,
            console=console,
            live=live,
            title="wingbeat demo: market maker",
            network=f"local exchange, seed {seed}",
            stop=stop,
        )
    return summary
