"""Child process for test_journal_crash: places orders on a journaled connector until it is killed.

Usage: ``python -m tests.core.journal_crash_child DB_PATH SEED``. Prints ``READY`` once started, then
``SENT <client order id>`` for each order, written to stdout (unbuffered) only after the journal's commit
returned and right before the (fake) send, exactly where a real connector would hit the network.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal

from wingbeat.core import ConnectorBase, InFlightOrder, OrderState, OrderType, OrderUpdate, TradingRule

PAIR = "BTC-USD"
MAX_ORDERS = 3_000  # per process: keeps restarts (which reload every open order) quick


class CrashConnector(ConnectorBase):
    """Fake venue: every order rests; every status query says the order rests."""

    name = "crash"

    async def _update_trading_rules(self) -> Mapping[str, TradingRule]:
        return {PAIR: TradingRule(trading_pair=PAIR, min_order_size=Decimal("0.001"),
                                  size_increment=Decimal("0.001"), price_increment=Decimal(1))}

    async def _place_orders(self, orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate]:
        os.write(1, "".join(f"SENT {o.client_order_id}\n" for o in orders).encode())
        return [self._rests(o) for o in orders]

    async def _place_cancels(self, orders: Sequence[InFlightOrder]) -> Sequence[bool | str]:
        return [True] * len(orders)

    async def _request_order_status(self, order: InFlightOrder) -> OrderUpdate | None:
        return self._rests(order)

    @staticmethod
    def _rests(order: InFlightOrder) -> OrderUpdate:
        return OrderUpdate(client_order_id=order.client_order_id, trading_pair=order.trading_pair,
                           update_timestamp=order.creation_timestamp, new_state=OrderState.OPEN,
                           exchange_order_id=f"x{order.client_order_id}")


async def main(path: str, seed: int) -> None:
    rng = random.Random(seed)
    connector = CrashConnector(trading_pairs=[PAIR], journal_path=path, status_retry_delay=0)
    await connector.start()
    os.write(1, b"READY\n")
    placed: list[str] = []
    while len(placed) < MAX_ORDERS:  # then idle until SIGKILL
        for _ in range(rng.randint(1, 30)):
            price = Decimal(rng.randint(40_000, 60_000))
            place = connector.buy if rng.random() < 0.5 else connector.sell
            placed.append(place(PAIR, Decimal("0.01"), OrderType.LIMIT, price))
        if rng.random() < 0.3:
            connector.cancel(PAIR, rng.choice(placed[-100:]))
        await asyncio.sleep(0)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
