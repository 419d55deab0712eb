"""Bracket orders: an entry with a take-profit and / or a stop-loss attached, Hyperliquid's ``normalTpsl``
grouping.

The entry and its legs go out in one order action, the entry first. The legs (reduce-only trigger orders of
the entry's size on the other side, executed as market when triggered) wait on the venue for the entry to
fill ("waitingForFill"), then for their trigger price; the venue cancels them with the entry, and cancels one
leg when the other fills. What the connector keeps here is only which queued orders belong together, so that
the send path gives each bracket an action of its own and never sends a leg whose entry was not sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from wingbeat.core.enums import TradeType
from wingbeat.core.errors import InvalidOrderError
from wingbeat.core.in_flight_order import InFlightOrder

__all__ = ["BracketOrder", "Brackets", "check_bracket_prices"]


@dataclass(frozen=True, slots=True)
class BracketOrder:
    """The client order ids of a bracket: its entry, and its take-profit and stop-loss legs (None for a leg
    not asked for, or when the entry was refused at once: then its :class:`OrderFailedEvent` says why)."""

    entry: str
    take_profit: str | None
    stop_loss: str | None


def check_bracket_prices(
    trade_type: TradeType, reference: Decimal | None, take_profit: Decimal | None, stop_loss: Decimal | None
) -> None:
    """Refuse (:class:`InvalidOrderError`) a bracket whose legs could not protect its entry: no leg, a trigger
    price that is not a positive Decimal, or one on the wrong side of ``reference`` (the entry's price, None
    when unknown) or of the other leg: a buy's take-profit above, its stop-loss below; a sell's the reverse."""
    if take_profit is None and stop_loss is None:
        raise InvalidOrderError("a bracket order needs a take_profit, a stop_loss or both")
    for name, px in (("take_profit", take_profit), ("stop_loss", stop_loss)):
        if px is not None and (not isinstance(px, Decimal) or not px.is_finite() or px <= 0):
            raise InvalidOrderError(f"{name} must be a positive Decimal, got {px!r}")
    is_buy = trade_type is TradeType.BUY
    for name, px, above in (("take_profit", take_profit, is_buy), ("stop_loss", stop_loss, not is_buy)):
        if px is not None and reference is not None and (px <= reference if above else px >= reference):
            side = "buy" if is_buy else "sell"
            where = "above" if above else "below"
            raise InvalidOrderError(
                f"the {name} of a {side} must be {where} its entry price {reference}, got {px}: it would trigger "
                "as soon as the entry fills"
            )
    if take_profit is not None and stop_loss is not None and (
        take_profit <= stop_loss if is_buy else take_profit >= stop_loss
    ):
        raise InvalidOrderError(
            f"the take_profit {take_profit} and stop_loss {stop_loss} of a {'buy' if is_buy else 'sell'} are "
            "the wrong way round"
        )


class Brackets:
    """Which orders of the connector form brackets, while their entry or a leg is still to be sent or open."""

    __slots__ = ("_entry_of", "_legs")

    def __init__(self) -> None:
        self._legs: dict[str, tuple[str, ...]] = {}  # entry -> its legs
        self._entry_of: dict[str, str] = {}  # leg -> its entry

    def __bool__(self) -> bool:
        return bool(self._entry_of)

    def add(self, entry: str, legs: Sequence[str]) -> None:
        """Record a bracket (before any of its orders can be sent)."""
        self._legs[entry] = tuple(legs)
        for leg in legs:
            self._entry_of[leg] = entry

    def is_entry(self, client_order_id: str) -> bool:
        """Whether the order is the entry of a bracket (its legs wait on it)."""
        return client_order_id in self._legs

    def forget(self, client_order_id: str) -> None:
        """The order ended: forget it (a leg, or an entry: its legs are then the venue's to end)."""
        if self._legs.pop(client_order_id, None) is None:
            self._entry_of.pop(client_order_id, None)

    def waits_for_entry(self, client_order_id: str) -> bool:
        """Whether the order is a leg whose entry is still to be sent or open: the venue gives such a leg no
        oid yet (its answer is a bare "waitingForFill"), so its news is its entry's."""
        return self._entry_of.get(client_order_id) in self._legs

    def lost_its_entry(self, client_order_id: str) -> bool:
        """Whether the order is a leg whose entry ended (when the leg is still to be sent: it must not go)."""
        entry = self._entry_of.get(client_order_id)
        return entry is not None and entry not in self._legs

    def split(self, orders: list[InFlightOrder]) -> list[list[InFlightOrder]]:
        """The actions ``orders`` go out in: the orders of no bracket first (a leg whose entry is not among
        them too: its entry ended before it was sent, and the leg is refused when wired), then each bracket,
        its entry followed by its legs."""
        entry_of, legs = self._entry_of, self._legs
        batch = {o.client_order_id: o for o in orders}
        plain: list[InFlightOrder] = []
        brackets: list[list[InFlightOrder]] = []
        for order in orders:
            cid = order.client_order_id
            if cid in legs:
                brackets.append([order, *(batch[leg] for leg in legs[cid] if leg in batch)])
            elif entry_of.get(cid) not in batch:
                plain.append(order)
        return [plain, *brackets] if plain else brackets
