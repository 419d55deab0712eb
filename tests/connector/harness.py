"""The conformance harness for Hyperliquid: a LocalExchange on loopback plus a counterparty account.

The counterparty trades through the exchange engine in-process (its orders still reach our connector only
through the exchange's websocket), and the harness drives venue time for funding and liquidation.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

COIN = "BTC"
PAIR = "BTC-USD"
#: Our account's collateral: enough for 200 resting orders, small enough to liquidate on demand.
ACCOUNT_USDC = Decimal(20_000)


def new_signer() -> Signer:
    """A throwaway key (never a real one)."""
    return Signer("0x" + secrets.token_hex(32))


@dataclass
class LocalExchangeHarness:
    """:class:`~tests.conformance.harness.ExchangeHarness` over a running :class:`LocalExchange`."""

    exchange: LocalExchange
    signer: Signer
    counterparty: str
    trading_pair: str = PAIR
    reference_price: Decimal = Decimal(60_000)
    order_size: Decimal = Decimal("0.002")

    @classmethod
    async def create(cls, exchange: LocalExchange) -> LocalExchangeHarness:
        signer = new_signer()
        counterparty = new_signer().address
        await exchange.fund(signer.address, ACCOUNT_USDC)
        await exchange.fund(counterparty, Decimal(10_000_000))
        market = exchange.engine.market(COIN)
        assert market is not None
        return cls(exchange=exchange, signer=signer, counterparty=counterparty, reference_price=market.mark)

    @property
    def user(self) -> str:
        return self.signer.address

    @property
    def _asset(self) -> int:
        asset = self.exchange.engine.asset_index(COIN)
        assert asset is not None
        return asset

    def _counterparty_order(self, *, is_buy: bool, price: Decimal, size: Decimal, tif: str) -> object:
        request = OrderRequest(asset=self._asset, is_buy=is_buy, price=price, size=size, reduce_only=False,
                               tif=tif)  # type: ignore[arg-type]
        [status] = self.exchange.engine.place_orders(self.counterparty, [request])
        assert isinstance(status, dict), status
        return status

    async def provide_liquidity(self, *, is_buy: bool, price: Decimal, size: Decimal) -> None:
        status = self._counterparty_order(is_buy=is_buy, price=price, size=size, tif="Gtc")
        assert "resting" in status, status  # type: ignore[operator]

    async def take_liquidity(self, *, is_buy: bool, price: Decimal, size: Decimal) -> None:
        # an IOC that finds nothing to match is answered with an error status: a legal outcome here
        self._counterparty_order(is_buy=is_buy, price=price, size=size, tif="Ioc")

    async def pay_funding(self) -> None:
        engine = self.exchange.engine
        market = engine.market(COIN)
        assert market is not None
        market.next_funding = engine.now  # the period ends now
        engine.advance(engine.now)

    async def liquidate_account(self) -> None:
        engine = self.exchange.engine
        account = engine.accounts[self.user]
        account.balance = Decimal(5)  # as if we had withdrawn all but $5 of collateral
        engine.set_oracle_price(COIN, self.reference_price * Decimal("0.8"))
        engine.advance(engine.now)

    async def position_size(self) -> Decimal:
        return self.exchange.engine.accounts[self.user].szi(self._asset)

    async def leverage(self) -> int:
        engine = self.exchange.engine
        return engine.accounts[self.user].leverage_of(self._asset, engine.max_leverages[self._asset])

    async def open_order_count(self) -> int:
        return len(self.exchange.engine.accounts[self.user].open_orders)
