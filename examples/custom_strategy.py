"""A custom strategy: buy at market when flat, then rest a take-profit sell a few basis points higher.

    python examples/custom_strategy.py --duration 5

A `Strategy` is ticked by a `Clock` and hears its connector's events. Its `buy` / `sell` pass the
`RiskLimits` first: a refused order is never created or sent, and `on_order_refused` is told why.
"""

import argparse
import asyncio
import secrets
from decimal import Decimal

from wingbeat.core import OrderFilledEvent, OrderType, PositionAction, TradeType
from wingbeat.engine import Clock, OrderRefusedEvent, RiskLimits, Strategy
from wingbeat.hyperliquid import HyperliquidPerpetualConnector, Signer
from wingbeat.sim import LocalExchange

PAIR = "BTC-USD"
AMOUNT = Decimal("0.001")
TAKE_PROFIT = Decimal("0.0002")  # 2 bps


class TakeProfit(Strategy):
    async def on_start(self) -> None:
        # the risk gate runs before the connector sees anything: this order is refused, nothing is sent
        assert self.buy(PAIR, Decimal(1), order_type=OrderType.MARKET) is None

    async def on_tick(self, timestamp: float) -> None:
        if self.position(PAIR) == 0 and not self.active_orders(PAIR):
            self.buy(PAIR, AMOUNT, order_type=OrderType.MARKET)

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        side = "bought" if event.trade_type is TradeType.BUY else "sold"
        print(side, event.amount, PAIR, "at", event.price)
        if event.trade_type is TradeType.BUY:
            target = event.price * (1 + TAKE_PROFIT)
            self.sell(PAIR, event.amount, target, position_action=PositionAction.CLOSE)  # reduce-only

    def on_order_refused(self, event: OrderRefusedEvent) -> None:
        print("refused:", event.reason)

    async def on_stop(self) -> None:  # after its open orders were cancelled
        pnl = self.pnl.pair(PAIR)
        print(f"stopped: {pnl.fills} fills, position {pnl.position}, realized {pnl.realized:.4f} USDC")


async def main(duration: float) -> None:
    async with LocalExchange(port=0) as ex:
        signer = Signer(secrets.token_hex(32))
        await ex.fund(signer.account_address, 10_000)
        conn = HyperliquidPerpetualConnector(signer, [PAIR], network=ex.base_url)
        await conn.start()
        try:
            await conn.wait_ready(timeout=30)
            strategy = TakeProfit(conn, risk=RiskLimits(max_order_size=Decimal("0.01"), max_position=AMOUNT))
            clock = Clock(0.5)
            clock.add(strategy)
            await strategy.start()
            clock.start()
            try:
                await asyncio.sleep(duration)  # the strategy runs on the clock meanwhile
            finally:
                await clock.stop()
                await strategy.stop()  # cancels its resting orders, then on_stop
        finally:
            await conn.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds to run (default 5)")
    asyncio.run(main(parser.parse_args().duration))
