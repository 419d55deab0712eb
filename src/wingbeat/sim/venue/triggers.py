"""Untriggered TP/SL orders of one market, in two heaps keyed by trigger price.

An order "above" fires once the mark price is at or above its trigger price (a sell take-profit,
a buy stop-loss); an order "below" once the mark is at or below it. Firing pops only the orders
that are due; cancels are lazy (the heap entry is skipped when its order is gone).
"""

from __future__ import annotations

import heapq
from decimal import Decimal

from wingbeat.sim.venue.book import Order

__all__ = ["TriggerBook", "fires_above"]


def fires_above(order: Order) -> bool:
    """Whether ``order`` (a trigger order) fires on the mark rising to its trigger price."""
    assert order.trigger is not None
    return (order.trigger.tpsl == "tp") != order.is_buy


class TriggerBook:
    """Waiting trigger orders of one market."""

    __slots__ = ("_above", "_below", "orders")

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self._above: list[tuple[Decimal, int]] = []  # (trigger px, oid): lowest fires first
        self._below: list[tuple[Decimal, int]] = []  # (-trigger px, oid): highest fires first

    def add(self, order: Order) -> None:
        """Start watching ``order``."""
        assert order.trigger is not None
        self.orders[order.oid] = order
        px = order.trigger.trigger_px
        if fires_above(order):
            heapq.heappush(self._above, (px, order.oid))
        else:
            heapq.heappush(self._below, (-px, order.oid))

    def remove(self, order: Order) -> None:
        """Stop watching ``order`` (its heap entry is dropped lazily)."""
        self.orders.pop(order.oid, None)

    def due(self, mark: Decimal) -> list[Order]:
        """Pop and return the orders whose trigger condition holds at ``mark``, oldest oid first
        within equal trigger prices."""
        fired: list[Order] = []
        orders = self.orders
        above, below = self._above, self._below
        while above and above[0][0] <= mark:
            _, oid = heapq.heappop(above)
            order = orders.pop(oid, None)
            if order is not None:
                fired.append(order)
        while below and -below[0][0] >= mark:
            _, oid = heapq.heappop(below)
            order = orders.pop(oid, None)
            if order is not None:
                fired.append(order)
        fired.sort(key=lambda o: o.oid)
        return fired
