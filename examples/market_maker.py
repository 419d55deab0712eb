"""The built-in market maker, from code: quotes both sides around the mid and refreshes its quotes.

    python examples/market_maker.py --duration 6

The same strategy as ``wingbeat demo`` and ``wingbeat run`` with ``kind = "market_maker"``, without the
command line: a `MarketMakerConfig`, risk limits, a `Clock`, and a summary from its PnL at the end.
"""

import argparse
import asyncio
import secrets
from decimal import Decimal

from wingbeat.engine import Clock, MarketMakerConfig, MarketMakerStrategy, RiskLimits
from wingbeat.hyperliquid import HyperliquidPerpetualConnector, Signer
from wingbeat.sim import LocalExchange

PAIR = "BTC-USD"


async def main(duration: float) -> None:
    async with LocalExchange(port=0) as ex:  # its built-in makers and noise takers trade with our quotes
        signer = Signer(secrets.token_hex(32))
        await ex.fund(signer.account_address, 10_000)
        conn = HyperliquidPerpetualConnector(signer, [PAIR], network=ex.base_url)
        await conn.start()
        try:
            await conn.wait_ready(timeout=30)
            config = MarketMakerConfig(
                trading_pair=PAIR,
                order_amount=Decimal("0.002"),
                bid_spread=Decimal("0.0001"),  # 1 bp from the mid, inside the built-in makers' 2 bps
                ask_spread=Decimal("0.0001"),
                order_refresh_time=2.0,  # seconds before resting quotes are replaced
                order_levels=2,
                max_inventory=Decimal("0.01"),  # inventory skew stops growing the position here
            )
            risk = RiskLimits(max_position=Decimal("0.02"), max_notional=Decimal(5_000))
            strategy = MarketMakerStrategy(conn, config, risk=risk)
            clock = Clock(0.5)
            clock.add(strategy)
            await strategy.start()
            clock.start()
            try:
                await asyncio.sleep(duration)
            finally:
                await clock.stop()
                await strategy.stop()  # cancels its quotes
            pnl = strategy.pnl.pair(PAIR)
            mid = strategy.mid_price(PAIR)
            print(
                f"quotes placed {strategy.quotes_placed}, refreshes {strategy.refreshes}, fills {pnl.fills}"
            )
            print(
                f"position {pnl.position} BTC, realized {pnl.realized:.4f}, unrealized {pnl.unrealized(mid):.4f}, "
                f"fees {pnl.fees:.4f} USDC"
            )
            print("open orders left:", len(conn.open_orders))
        finally:
            await conn.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=6.0, help="seconds to quote (default 6)")
    asyncio.run(main(parser.parse_args().duration))
