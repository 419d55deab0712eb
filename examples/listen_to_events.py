"""Listening to events: one `EventListener` method per event, called on the event loop as things happen.

    python examples/listen_to_events.py

Places a resting limit buy, a market buy that fills, and an order the connector refuses locally (too
small), then cancels the resting one; every event is printed as it arrives.
"""

import asyncio
import secrets
from decimal import Decimal

from wingbeat.core import (
    EventListener,
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderFailedEvent,
    OrderFilledEvent,
    OrderType,
)
from wingbeat.hyperliquid import HyperliquidPerpetualConnector, Signer
from wingbeat.sim import LocalExchange


class Printer(EventListener):
    """Prints each event; counts finished orders so that main() knows when to stop."""

    def __init__(self) -> None:
        self.finished = 0
        self.all_finished = asyncio.Event()

    def _done(self) -> None:
        self.finished += 1
        if self.finished == 3:  # filled, failed, cancelled
            self.all_finished.set()

    def on_order_created(self, event: OrderCreatedEvent) -> None:
        print("created  ", event.client_order_id, event.amount, "@", event.price)

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        role = "taker" if event.is_taker else "maker"
        print(
            "filled   ", event.client_order_id, event.amount, "@", event.price, role, "fee", event.fee_amount
        )

    def on_order_completed(self, event: OrderCompletedEvent) -> None:
        print("completed", event.client_order_id, "average price", event.average_price)
        self._done()

    def on_order_failed(self, event: OrderFailedEvent) -> None:
        print("failed   ", event.client_order_id, event.reason)
        self._done()

    def on_order_cancelled(self, event: OrderCancelledEvent) -> None:
        print("cancelled", event.client_order_id)
        self._done()


async def main() -> None:
    async with LocalExchange(port=0) as ex:
        signer = Signer(secrets.token_hex(32))
        await ex.fund(signer.account_address, 10_000)
        conn = HyperliquidPerpetualConnector(signer, ["ETH-USD"], network=ex.base_url)
        printer = Printer()
        conn.add_listener(printer)
        await conn.start()
        try:
            await conn.wait_ready(timeout=30)
            bid = conn.get_order_book("ETH-USD").best_bid
            assert bid is not None
            resting = conn.buy("ETH-USD", Decimal("0.01"), OrderType.LIMIT, bid * Decimal("0.98"))
            conn.buy("ETH-USD", Decimal("0.01"), OrderType.MARKET)
            conn.buy("ETH-USD", Decimal("0.0001"), OrderType.LIMIT, bid)  # under the $10 minimum: fails
            order = conn.get_order(resting)
            assert order is not None
            await asyncio.wait_for(order.wait_until_open(), 10)
            conn.cancel("ETH-USD", resting)
            await asyncio.wait_for(printer.all_finished.wait(), 10)
        finally:
            await conn.stop()


if __name__ == "__main__":
    asyncio.run(main())
