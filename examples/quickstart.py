"""Quick start: a local exchange in this process, a funded throwaway key, one resting and one filled order.

    python examples/quickstart.py

The connector talks to the local exchange over real sockets, exactly as to Hyperliquid: point
``network`` at "testnet" (and a funded key) and the same code trades there.
"""

import asyncio
import secrets
from decimal import Decimal

from wingbeat.core import OrderType
from wingbeat.hyperliquid import HyperliquidPerpetualConnector, Signer
from wingbeat.sim import LocalExchange


async def main() -> None:
    async with LocalExchange(port=0) as ex:  # built-in liquidity on: the books are quoted
        signer = Signer(secrets.token_hex(32))  # a throwaway key, never written anywhere
        await ex.fund(signer.account_address, 10_000)  # USDC
        conn = HyperliquidPerpetualConnector(signer, ["BTC-USD"], network=ex.base_url)
        await conn.start()
        try:
            await conn.wait_ready(timeout=30)
            bid = conn.get_order_book("BTC-USD").best_bid
            assert bid is not None
            # returns the client order id at once: the order is tracked before its request leaves
            resting = conn.buy("BTC-USD", Decimal("0.001"), OrderType.LIMIT, bid * Decimal("0.99"))
            order = conn.get_order(resting)
            assert order is not None
            print("limit buy", resting, (await asyncio.wait_for(order.wait_until_open(), 10)).name)
            taker = conn.buy("BTC-USD", Decimal("0.001"), OrderType.MARKET)
            filled = conn.get_order(taker)
            assert filled is not None
            state = await asyncio.wait_for(filled.wait_until_done(), 10)
            print("market buy", taker, state.name, filled.executed_amount_base, "BTC")
            for result in await conn.cancel_all(timeout=5):
                print("cancelled", result.client_order_id, result.success)
        finally:
            await conn.stop()


if __name__ == "__main__":
    asyncio.run(main())
