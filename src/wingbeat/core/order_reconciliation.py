"""``OrderReconciliation``: asking the exchange what became of orders whose news is missing.

The part of :class:`~wingbeat.core.connector_base.ConnectorBase` that never sits on the order entry path:
a periodic pass checks orders whose placement answer was lost (PENDING_SUBMIT_UNKNOWN), cancels without an
answer and resting orders with no news for a while; "not found" answers count towards giving an order up
as lost (the tracker decides, after ``lost_order_limit`` of them in a row); orders restored from the journal
are checked in the background once ``start()`` returned; concurrent status checks are coalesced into one
round in flight at a time; final orders whose fills do not add up to what the venue reported filled get them
fetched, with backoff. The connector base inherits this mixin and owns the loop's task.

Hooks a connector fills here: ``_request_order_status`` (required), and optionally ``_request_order_statuses``
(a batched query) and ``_fetch_missing_fills``. ``_check_orders`` is the one entry point a subclass calls
itself, when it learns that its view may be stale (e.g. after a user-stream reconnect).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_tracker import ClientOrderTracker
from wingbeat.core.order_updates import OrderUpdate

__all__ = ["OrderReconciliation"]

_RESTING = frozenset({OrderState.OPEN, OrderState.PARTIALLY_FILLED})


class OrderReconciliation(ABC):
    """Reconciliation of one connector's orders with the exchange's view of them (a mixin of ConnectorBase,
    whose constructor takes these parameters).

    ``reconcile_interval``: seconds between reconciliation passes (and how long a cancel may stay unanswered
    before its order is checked); ``stale_order_after``: a resting order with no news for this long is
    checked; ``lost_order_limit``: consecutive "not found" answers before an order is given up as lost;
    ``status_retry_delay``: pause between the checks of a restored order the venue does not know yet.
    ``missing_fills_after``: a final order whose fills do not add up to what the venue reported filled gets
    them fetched once it waited this long, then again with doubling delays, ``missing_fills_attempts`` times
    at most (then a warning; the journal keeps it for the next start).
    """

    # Provided by the connector that inherits this mixin.
    _order_tracker: ClientOrderTracker
    _clock: Callable[[], float]
    _logger: logging.Logger

    def _init_reconciliation(
        self,
        *,
        reconcile_interval: float,
        stale_order_after: float,
        lost_order_limit: int,
        status_retry_delay: float,
        missing_fills_after: float,
        missing_fills_attempts: int,
    ) -> None:
        if not missing_fills_after > 0 or missing_fills_attempts < 1:
            raise ValueError("missing_fills_after must be > 0 and missing_fills_attempts >= 1")
        self._reconcile_interval = reconcile_interval
        self._stale_order_after = stale_order_after
        self._lost_order_limit = lost_order_limit
        self._status_retry_delay = status_retry_delay
        self._missing_fills_after = missing_fills_after
        self._missing_fills_attempts = missing_fills_attempts
        self._fill_fetches: dict[str, tuple[int, float]] = {}  # cid -> (fetches made, when the next is due)
        # status checks are coalesced: one round in flight, the orders asked about meanwhile join the next one
        self._check_pending: dict[str, InFlightOrder] = {}
        self._check_round: asyncio.Future[None] | None = None
        self._check_lock = asyncio.Lock()

    # ------------------------------------------------------------------------------------ passes
    async def reconcile_now(self) -> None:
        """Run one reconciliation pass now: orders whose submission is unconfirmed, cancels without an
        answer, modifies undecided past their deadline and resting orders with no news for
        ``stale_order_after`` seconds are checked, and the
        missing fills of final orders are fetched when due (see ``missing_fills_after``)."""
        now = self._clock()
        due = []
        for order in self._order_tracker.active_orders.values():
            state, age = order.current_state, now - order.last_update_timestamp
            mod = order.modification
            if (state is OrderState.PENDING_SUBMIT_UNKNOWN
                    or (state is OrderState.PENDING_CANCEL and age >= self._reconcile_interval)
                    or (state in _RESTING and age >= self._stale_order_after)
                    or (mod is not None and mod.deadline is not None and now >= mod.deadline)):
                due.append(order)
        if due:
            await self._check_orders(due)
        if self._order_tracker.orders_awaiting_fills or self._fill_fetches:
            await self._fetch_overdue_fills()

    async def _reconcile_loop(self) -> None:
        while True:
            await asyncio.sleep(self._reconcile_interval)
            try:
                await self.reconcile_now()
            except Exception:
                self._logger.exception("reconciliation pass failed")

    async def _reconcile_restored(self, orders: Sequence[InFlightOrder]) -> None:
        """Check orders just restored from the journal: the unconfirmed ones up to ``lost_order_limit`` times
        (``status_retry_delay`` apart), then fetch the fills of every order awaiting them at once."""
        pending = [o for o in orders if not o.is_done]
        for attempt in range(self._lost_order_limit):
            if not pending:
                break
            await self._check_orders(pending)
            pending = [o for o in pending if o.current_state is OrderState.PENDING_SUBMIT_UNKNOWN]
            if not pending or attempt + 1 == self._lost_order_limit:
                break
            await asyncio.sleep(self._status_retry_delay)  # the venue may still be processing the request
        if self._order_tracker.orders_awaiting_fills:  # e.g. final before their fills arrived, then a crash
            await self._fetch_overdue_fills(now=True)

    async def _check_orders(self, orders: Sequence[InFlightOrder]) -> None:
        """Ask the exchange about ``orders`` and apply its answers; never raises (failures are logged and the
        orders are asked about again on a later pass). Returns once a check that included them has ended.

        Not a hook: subclasses call it when their view may be stale (e.g. after a user-stream reconnect).
        An answer that changes nothing makes the order fresh again; "not found" counts towards giving the
        order up as lost; the rest goes through the tracker like any update.

        Checks are coalesced: while one round is in flight, the orders every other caller asks about are
        gathered into the next round, asked about together (one batched query, whatever the number of
        callers): after an outage, reconnects, refused cancels and passes do not each spend the weight budget."""
        if not orders:
            return
        pending = self._check_pending
        for order in orders:
            pending[order.client_order_id] = order
        this_round = self._check_round
        if this_round is None:
            this_round = self._check_round = asyncio.get_running_loop().create_future()
        async with self._check_lock:
            if this_round.done():  # another caller ran the round our orders were in
                return
            batch = [o for o in pending.values() if not o.is_done]  # one that ended meanwhile needs no check
            pending.clear()
            self._check_round = None
            try:
                await self._check_now(batch)
            finally:
                this_round.set_result(None)

    async def _check_now(self, orders: Sequence[InFlightOrder]) -> None:
        if not orders:
            return
        try:
            answers = await self._request_order_statuses(orders)
        except Exception as exc:
            self._logger.warning("status check of %d order(s) failed: %r", len(orders), exc)
            return
        if len(answers) != len(orders):
            self._logger.error("status check returned %d answers for %d orders", len(answers), len(orders))
        tracker = self._order_tracker
        for order, answer in zip(orders, answers, strict=False):
            if isinstance(answer, BaseException):
                self._logger.warning("status check of %s failed: %r", order.client_order_id, answer)
            elif answer is None:
                tracker.process_order_not_found(order.client_order_id)
            elif not tracker.process_order_update(answer) and not order.is_done:
                order.last_update_timestamp = self._clock()  # confirmed unchanged: fresh again
                order.not_found_count = 0

    async def _fetch_overdue_fills(self, *, now: bool = False) -> None:
        """Fetch the fills of final orders that awaited them long enough (``now``: all of them at once),
        with doubling delays between the attempts of one order, and give up loudly after the last one."""
        awaiting = self._order_tracker.orders_awaiting_fills
        fetches = self._fill_fetches
        for cid in [c for c in fetches if c not in awaiting]:
            del fetches[cid]  # its fills added up (or it was given up)
        clock = self._clock()
        due: list[InFlightOrder] = []
        for cid, order in awaiting.items():
            made, next_at = fetches.get(cid, (0, order.last_update_timestamp + self._missing_fills_after))
            if now or clock >= next_at:
                due.append(order)
                # scheduled before the request: a concurrent pass does not fetch it again meanwhile
                fetches[cid] = (made + 1, clock + self._missing_fills_after * 2 ** (made + 1))
        if not due:
            return
        try:
            await self._fetch_missing_fills(due)
        except Exception as exc:
            self._logger.warning("fetching the missing fills of %d order(s) failed: %r", len(due), exc)
        for order in due:
            cid = order.client_order_id
            if cid in awaiting and fetches.get(cid, (0, 0.0))[0] >= self._missing_fills_attempts:
                self._logger.warning(
                    "order %s: %s of %s filled on the venue but fills of only %s found after %d attempts; "
                    "giving up until the next start (kept in the journal)", cid, order.venue_filled_amount,
                    order.amount, order.executed_amount_base, self._missing_fills_attempts)
                self._order_tracker.stop_awaiting_fills(cid)
                del fetches[cid]

    # ------------------------------------------------------------------------------------ hooks
    @abstractmethod
    async def _request_order_status(self, order: InFlightOrder) -> OrderUpdate | None:
        """Hook (required): the exchange's view of one order.

        Called by the default :meth:`_request_order_statuses` for every order a status check asks about.
        Return the update the venue's answer implies (its state, exchange order id and, when the venue says
        it, the cumulative ``filled_amount``), or None when the venue does not know the order ("not found",
        which counts towards giving it up as lost). Raise on any failure to get an answer: the check of that
        order fails, is logged, and is retried on a later pass."""

    async def _request_order_statuses(
        self, orders: Sequence[InFlightOrder]
    ) -> Sequence[OrderUpdate | BaseException | None]:
        """Hook (optional): the exchange's view of several orders; override with a batched query where the
        venue has one (default: :meth:`_request_order_status` for each, concurrently).

        Called by :meth:`_check_orders` (reconciliation passes, refused or failed cancels, orders restored
        from the journal, and whatever a subclass checks itself). Return one entry per order, in the same
        order: an :class:`OrderUpdate`, None for "not found", or the exception that failed that order's
        check. Raising fails the whole check (logged; retried on a later pass)."""
        return await asyncio.gather(*(self._request_order_status(o) for o in orders), return_exceptions=True)

    async def _fetch_missing_fills(self, orders: Sequence[InFlightOrder]) -> None:  # noqa: B027 - optional hook
        """Hook (optional; default: does nothing): fetch the fills of these final orders and feed them to the
        tracker (``process_trade_update``).

        Called by reconciliation passes for orders whose fills do not add up to what the venue reported
        filled, once ``missing_fills_after`` has passed and then with doubling delays, and at start for every
        restored order awaiting fills. Fills are counted once by trade id, so fetching twice is harmless.
        Returns nothing; raising is logged and counts as one of the ``missing_fills_attempts``."""
