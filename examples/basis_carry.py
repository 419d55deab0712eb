"""Spot-perp basis (funding carry) from code: hold HYPE on spot, short the HYPE perp while funding pays.

    python examples/basis_carry.py

Two connectors on one account, a spot one and a perp one, given to `BasisStrategy` by name. The local
exchange's built-in makers quote both HYPE markets; `ex.pay_funding` sets the perp's funding, first paying
shorts (the strategy enters: buys ~1000 USDC of HYPE, shorts the perp for what it received), then charging
them (it exits: sells the HYPE, buys the perp back reduce-only). The same strategy as ``wingbeat run`` with
``kind = "basis"``.
"""

import asyncio
import secrets
from collections.abc import Callable
from decimal import Decimal

from wingbeat.engine import BasisConfig, BasisStrategy, Clock, RiskLimits
from wingbeat.engine.basis import BasisPhase
from wingbeat.hyperliquid import HyperliquidPerpetualConnector, HyperliquidSpotConnector, Signer
from wingbeat.sim import LocalExchange


async def until(condition: Callable[[], bool], perp: HyperliquidPerpetualConnector, limit: float = 30) -> None:
    """Wait until ``condition()`` holds, looking again at every HYPE-USD book update."""
    async with asyncio.timeout(limit):
        while not condition():
            await perp.order_book_tracker.wait_for_update("HYPE-USD")


async def main() -> None:
    async with LocalExchange(port=0) as ex:
        signer = Signer(secrets.token_hex(32))
        # perp margin for the short, spot USDC for the buy (Hyperliquid keeps them apart)
        await ex.fund(signer.account_address, 1_000, spot={"USDC": 1_500})
        spot = HyperliquidSpotConnector(signer, ["HYPE-USDC"], network=ex.base_url)
        perp = HyperliquidPerpetualConnector(signer, ["HYPE-USD"], network=ex.base_url)
        await spot.start()
        await perp.start()
        try:
            await spot.wait_ready(timeout=30)
            await perp.wait_ready(timeout=30)
            config = BasisConfig(
                token="HYPE",
                target_notional=Decimal(1000),  # USDC per leg
                min_entry_funding_apr=Decimal("0.20"),  # enter at 20 %/yr or more
                exit_funding_apr=Decimal("0.05"),  # leave below 5 %/yr
                max_entry_basis=Decimal("0.005"),  # the perp at most 0.5 % above spot
            )
            strategy = BasisStrategy(
                {"spot": spot, "perp": perp}, config, risk=RiskLimits(max_notional=Decimal(2500))
            )
            clock = Clock(0.2)
            clock.add(strategy)
            await strategy.start()
            clock.start()
            try:
                await ex.pay_funding("HYPE", "0.0001")  # hourly: 87.6 %/yr paid to shorts
                await until(lambda: strategy.phase is BasisPhase.HEDGED, perp)
                print(f"entered: spot {strategy.spot_held} HYPE, perp short {strategy.perp_short} HYPE")
                await ex.pay_funding("HYPE", "-0.00005")  # -43.8 %/yr: shorts pay now
                await until(lambda: strategy.phase is BasisPhase.FLAT and strategy.exits == 1, perp)
                print(f"exited: spot {strategy.spot_held} HYPE left, perp short {strategy.perp_short} HYPE")
                print(f"funding received {strategy.funding_received:.4f} USDC")
            finally:
                await clock.stop()
                await strategy.stop()
        finally:
            await perp.stop()
            await spot.stop()


if __name__ == "__main__":
    asyncio.run(main())
