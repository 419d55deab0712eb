"""The TWAP executor, from code: buy a total amount in equal slices over a duration, under a price cap.

    python examples/twap.py --duration 3

The same strategy as ``wingbeat run`` with ``kind = "twap"``. It ends by itself: `strategy.done` is set
when the total is filled or the time (plus one slice period for the remainder) is up.
"""

import argparse
import asyncio
import secrets
from decimal import Decimal

from wingbeat.engine import Clock, TwapConfig, TwapExecutor
from wingbeat.hyperliquid import HyperliquidPerpetualConnector, Signer
from wingbeat.sim import LocalExchange

PAIR = "ETH-USD"


async def main(duration: float) -> None:
    async with LocalExchange(port=0) as ex:
        signer = Signer(secrets.token_hex(32))
        await ex.fund(signer.account_address, 10_000)
        conn = HyperliquidPerpetualConnector(signer, [PAIR], network=ex.base_url)
        await conn.start()
        try:
            await conn.wait_ready(timeout=30)
            mid = conn.get_order_book(PAIR).mid_price
            assert mid is not None
            config = TwapConfig(
                trading_pair=PAIR,
                is_buy=True,
                total_amount=Decimal("0.3"),
                duration=duration,  # seconds
                slices=3,
                price_limit=mid * Decimal("1.01"),  # never pay more than 1% above the mid at the start
            )
            twap = TwapExecutor(conn, config)
            clock = Clock(0.25)
            clock.add(twap)
            await twap.start()
            clock.start()
            try:
                await asyncio.wait_for(twap.done.wait(), duration * 2 + 10)
            finally:
                await clock.stop()
                await twap.stop()
            average = twap.average_price
            print(f"executed {twap.executed} of {config.total_amount} {PAIR} in {twap.slices_sent} slices")
            print(
                f"average price {average:.2f}, limit {config.price_limit:.2f}"
                if average
                else "nothing filled"
            )
        finally:
            await conn.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=3.0, help="seconds to spread the buy over (default 3)"
    )
    asyncio.run(main(parser.parse_args().duration))
