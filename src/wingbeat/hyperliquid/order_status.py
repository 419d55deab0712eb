"""Asking Hyperliquid what became of many orders at once, within its weight budget.

:class:`OrderStatusChecker` answers the core's batched status check (``_request_order_statuses``). A handful
of orders cost one ``orderStatus`` (weight 2) each. Above that, whatever their number, the check costs ONE
``frontendOpenOrders`` (weight 20: every order still resting, and how much of it filled) and, for the orders
not resting (when more than 30: fewer cost less one by one), ONE ``historicalOrders`` (weight 20 plus 1 per 20 entries, at most 2000 entries, newest first:
how the others ended); only orders older than a full history fall back to ``orderStatus``. The open orders
are asked first: an order that leaves the book in between is in the history asked after it, never in
neither. Orders the venue filled further than we counted get their fills first, in one ``userFillsByTime``
for all of them, so that a FILLED state never arrives without its fills.

An order whose placement got no answer and that the venue does not know may still arrive: its answer waits
until the action's ``expiresAfter`` has passed (the venue refuses it after that), then the venue is asked
again, and an order still unknown is FAILED at once (it can never appear any more).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import OrderUpdate
from wingbeat.hyperliquid.constants import MAX_FILLS_PER_REPLY
from wingbeat.hyperliquid.reconciliation import adapt_venue_update
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.schemas import MalformedMessageError
from wingbeat.hyperliquid.schemas_account import OpenOrder, OrderWithStatus
from wingbeat.hyperliquid.user_stream_data_source import order_update_from_status

__all__ = ["OrderStatusChecker"]

_logger = logging.getLogger("wingbeat.hyperliquid.order_status")

_UNCONFIRMED = frozenset({OrderState.PENDING_CREATE, OrderState.PENDING_SUBMIT_UNKNOWN})
#: Above this many orders a check asks frontendOpenOrders + historicalOrders instead of one orderStatus each.
SINGLE_STATUS_LIMIT = 5
#: Orders gone from the book above which one historicalOrders (20 + 1 per 20 entries) beats orderStatus each (2).
HISTORY_ABOVE = 30

# one order's answer: (the update it implies or None for "unknown", how much the venue filled), or the error
_Result = tuple[OrderUpdate | None, Decimal] | BaseException
_Answer = OrderUpdate | BaseException | None


class OrderStatusChecker:
    """The venue's view of orders of ``user`` (see the module docstring).

    ``undecided_for``: seconds after an unanswered order's last update during which its request may still be
    applied (its validity plus clock slack). ``catch_up(orders)`` fetches the fills of orders the venue
    filled further than we counted. ``clock``: seconds since the epoch. ``on_venue_order(order, venue)`` is
    told the venue's record of each order it found (its kind: trigger or not, its fields). ``dexes()``: the builder
    (HIP-3) dexes whose resting orders are listed beside the main dex's.
    """

    def __init__(
        self,
        rest: Callable[[], HyperliquidRestClient],
        user: str,
        *,
        undecided_for: Callable[[], float],
        catch_up: Callable[[Sequence[InFlightOrder]], Awaitable[object]] | None,
        clock: Callable[[], float],
        on_venue_order: Callable[[InFlightOrder, OpenOrder], None] | None = None,
        dexes: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        self._rest = rest
        self._dexes = dexes
        self._on_venue_order = on_venue_order
        self._user = user
        self._undecided_for = undecided_for
        self._catch_up = catch_up
        self._clock = clock
        self.batched_checks = 0
        """Checks answered with frontendOpenOrders (+ historicalOrders) rather than orderStatus each."""

    async def check(self, orders: Sequence[InFlightOrder]) -> list[_Answer]:
        """One answer per order, same order: an update, None ("unknown"), or the exception of its check."""
        results = await self._statuses(orders, range(len(orders)))
        # "unknown" proves nothing about an unanswered order whose request may still arrive: wait until its
        # expiresAfter has passed, ask once more, and what is still unknown then never reached the venue
        undecided = [
            i
            for i, r in results.items()
            if isinstance(r, tuple) and r[0] is None and orders[i].current_state in _UNCONFIRMED
        ]
        if undecided:
            wait = (
                max(orders[i].last_update_timestamp for i in undecided)
                + self._undecided_for()
                - self._clock()
            )
            if wait > 0:
                _logger.info(
                    "%d unanswered order(s) unknown to the exchange; deciding in %.1fs", len(undecided), wait
                )
                await asyncio.sleep(wait)
            results.update(await self._statuses(orders, undecided))
            for i in undecided:
                result = results[i]
                if (
                    isinstance(result, tuple)
                    and result[0] is None
                    and orders[i].current_state in _UNCONFIRMED
                ):
                    results[i] = (self._never_arrived(orders[i]), Decimal(0))
        answers: list[_Answer] = [None] * len(orders)
        behind: list[int] = []
        for i, result in results.items():
            if isinstance(result, BaseException):
                answers[i] = result
                continue
            answers[i], venue_filled = result
            if venue_filled > orders[i].executed_amount_base:
                behind.append(i)
        if behind and self._catch_up is not None:
            try:
                await self._catch_up([orders[i] for i in behind])
            except Exception as exc:
                for i in behind:
                    answers[i] = exc
        return answers

    def _never_arrived(self, order: InFlightOrder) -> OrderUpdate:
        return OrderUpdate(
            client_order_id=order.client_order_id,
            trading_pair=order.trading_pair,
            update_timestamp=self._clock(),
            new_state=OrderState.FAILED,
            reason="lost: the exchange does not know this order and its request expired unapplied",
        )

    async def _statuses(self, orders: Sequence[InFlightOrder], indices: Sequence[int]) -> dict[int, _Result]:
        if len(indices) <= SINGLE_STATUS_LIMIT:
            return dict(zip(indices, await self._singles(orders, indices), strict=True))
        self.batched_checks += 1
        rest = self._rest()
        results: dict[int, _Result] = {}
        listed = list(await rest.frontend_open_orders(self._user))
        for dex in self._dexes():  # each builder dex lists only its own resting orders
            listed += await rest.frontend_open_orders(self._user, dex)
        resting = {o.cloid: o for o in listed if o.cloid}
        now = self._clock()
        gone: list[int] = []
        for i in indices:
            order = orders[i]
            venue = resting.get(order.client_order_id)
            if venue is None:
                gone.append(i)
            else:
                results[i] = self._resting(order, venue, now)
        if len(gone) <= HISTORY_ABOVE:  # cheaper one by one than a history of up to 2000 entries (weight 120)
            results.update(zip(gone, await self._singles(orders, gone), strict=True))
            return results
        history = await rest.historical_orders(self._user)
        ended: dict[str, OrderWithStatus] = {}
        for h in history:  # newest first: a modified order's cloid is also on the oids it replaced (canceled)
            if h.order.cloid:
                ended.setdefault(h.order.cloid, h)
        # a full history reaches back only so far: older orders are asked about one by one
        horizon = (
            min((h.order.timestamp_ms for h in history), default=0)
            if len(history) >= MAX_FILLS_PER_REPLY
            else None
        )
        older: list[int] = []
        for i in gone:
            order = orders[i]
            entry = ended.get(order.client_order_id)
            if entry is not None:
                try:
                    results[i] = self._from_status(order, entry)
                except MalformedMessageError as exc:
                    results[i] = exc
            elif horizon is not None and order.creation_timestamp * 1000 < horizon:
                older.append(i)
            else:
                results[i] = (None, Decimal(0))
        if older:
            results.update(zip(older, await self._singles(orders, older), strict=True))
        return results

    def _resting(self, order: InFlightOrder, venue: OpenOrder, now: float) -> tuple[OrderUpdate, Decimal]:
        if self._on_venue_order is not None:
            self._on_venue_order(order, venue)
        filled = (venue.orig_sz or order.amount) - venue.sz
        executed = max(filled + _other_ids_filled(order, venue.oid), order.executed_amount_base)
        return OrderUpdate(
            client_order_id=order.client_order_id,
            trading_pair=order.trading_pair,
            update_timestamp=now,
            new_state=OrderState.PARTIALLY_FILLED if executed else OrderState.OPEN,
            exchange_order_id=str(venue.oid),
            filled_amount=filled if filled else None,
        ), filled + _other_ids_filled(order, venue.oid)

    async def _singles(self, orders: Sequence[InFlightOrder], indices: Sequence[int]) -> list[_Result]:
        return await asyncio.gather(*(self._single(orders[i]) for i in indices), return_exceptions=True)

    async def _single(self, order: InFlightOrder) -> tuple[OrderUpdate | None, Decimal]:
        """``orderStatus`` by cloid: the update it implies (None: unknown order) and how much the venue filled."""
        entry = await self._rest().order_status(self._user, order.client_order_id)
        if entry is None:
            return None, Decimal(0)
        return self._from_status(order, entry)

    def _from_status(self, order: InFlightOrder, entry: OrderWithStatus) -> tuple[OrderUpdate, Decimal]:
        if self._on_venue_order is not None:
            self._on_venue_order(order, entry.order)
        update = order_update_from_status(entry)
        if update is None:
            raise MalformedMessageError(f"status of {order.client_order_id}: unknown status {entry.status!r}")
        filled = (entry.order.orig_sz or order.amount) - entry.order.sz
        return adapt_venue_update(
            order,
            OrderUpdate(
                client_order_id=order.client_order_id,
                trading_pair=order.trading_pair,
                update_timestamp=max(update.update_timestamp, self._clock()),
                new_state=update.new_state,
                exchange_order_id=update.exchange_order_id,
                reason=update.reason,
                filled_amount=filled,
            ),
        ), filled + _other_ids_filled(order, entry.order.oid)


def _other_ids_filled(order: InFlightOrder, oid: int) -> Decimal:
    """What our fills of the order's other exchange ids add up to: the venue's entry for ``oid`` (a modify's
    replacement) counts only its own fills, on top of those of the orders it replaced."""
    if not order.retired_exchange_order_ids and order.modification is None:
        return Decimal(0)
    venue_id = str(oid)
    return sum((t.fill_base_amount for t in order.trade_updates if t.exchange_order_id != venue_id), Decimal(0))
