"""An event listener that records everything a connector publishes and lets a test await a condition."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from wingbeat.core.events import (
    Event,
    EventListener,
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderExpiredEvent,
    OrderFailedEvent,
    OrderFilledEvent,
    OrderPartiallyFilledEvent,
)

_E = TypeVar("_E", bound=Event)

#: Events that end an order's life; exactly one of them per order.
TERMINAL_EVENTS: tuple[type[Event], ...] = (
    OrderCompletedEvent,
    OrderCancelledEvent,
    OrderFailedEvent,
    OrderExpiredEvent,
)


class EventRecorder(EventListener):
    """Keeps every event in arrival order; ``wait_for`` wakes on each new event (no polling, no sleeps)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def _record(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    on_order_created = _record  # type: ignore[assignment]
    on_order_filled = _record  # type: ignore[assignment]
    on_order_partially_filled = _record  # type: ignore[assignment]
    on_order_completed = _record  # type: ignore[assignment]
    on_order_cancelled = _record  # type: ignore[assignment]
    on_order_failed = _record  # type: ignore[assignment]
    on_order_expired = _record  # type: ignore[assignment]
    on_order_modified = _record  # type: ignore[assignment]
    on_order_modify_failed = _record  # type: ignore[assignment]
    on_funding_payment = _record  # type: ignore[assignment]
    on_position_liquidated = _record  # type: ignore[assignment]

    def of(self, kind: type[_E], client_order_id: str | None = None) -> list[_E]:
        """Recorded events of ``kind`` (optionally only those of one order), in arrival order."""
        found = [e for e in self.events if isinstance(e, kind)]
        if client_order_id is not None:
            found = [e for e in found if getattr(e, "client_order_id", None) == client_order_id]
        return found

    def for_order(self, client_order_id: str) -> list[Event]:
        """Every event about one order, in arrival order."""
        return [e for e in self.events if getattr(e, "client_order_id", None) == client_order_id]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0,  # noqa: ASYNC109
                       what: str = "") -> None:
        """Return as soon as ``predicate()`` holds; fail the test after ``timeout`` seconds."""
        async def _wait() -> None:
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(_wait(), timeout)
        except TimeoutError:
            names = [type(e).__name__ for e in self.events[-20:]]
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}; last events {names}") from None

    async def wait_event(self, kind: type[_E], client_order_id: str | None = None, *, count: int = 1,
                         timeout: float = 5.0) -> list[_E]:  # noqa: ASYNC109
        """Wait until ``count`` events of ``kind`` (for ``client_order_id`` if given) were recorded; return them."""
        await self.wait_for(lambda: len(self.of(kind, client_order_id)) >= count, timeout,
                            f"{count} x {kind.__name__} for {client_order_id}")
        return self.of(kind, client_order_id)


def assert_legal_order_events(events: list[Event], amount: Decimal) -> None:
    """Check the life of ONE order: created at most once and first, fills counted once and never above the
    amount, partial-fill events only while a remainder is left, exactly one terminal event, nothing after it
    except late fills of a cancelled/expired order."""
    created = [e for e in events if isinstance(e, OrderCreatedEvent)]
    assert len(created) <= 1, f"order created {len(created)} times"
    if created:
        assert events[0] is created[0] or isinstance(events[0], OrderFailedEvent), \
            f"first event is {type(events[0]).__name__}, not the creation"
    fills = [e for e in events if isinstance(e, OrderFilledEvent)]
    trade_ids = [f.trade_id for f in fills]
    assert len(trade_ids) == len(set(trade_ids)), f"a fill was counted twice: {trade_ids}"
    executed = Decimal(0)
    for event in events:
        if isinstance(event, OrderFilledEvent):
            executed += event.amount
            assert executed <= amount, f"fills add up to {executed} > order amount {amount}"
        elif isinstance(event, OrderPartiallyFilledEvent):
            assert event.remaining_amount > 0
            assert event.executed_amount_base == executed, (event.executed_amount_base, executed)
            assert event.executed_amount_base + event.remaining_amount == amount
    terminal = [i for i, e in enumerate(events) if isinstance(e, TERMINAL_EVENTS)]
    assert len(terminal) <= 1, f"{len(terminal)} terminal events: {[type(events[i]).__name__ for i in terminal]}"
    if terminal:
        end = events[terminal[0]]
        after = events[terminal[0] + 1:]
        if isinstance(end, OrderCompletedEvent):
            assert executed == amount == end.executed_amount_base, (executed, amount, end.executed_amount_base)
            assert not after, f"events after completion: {[type(e).__name__ for e in after]}"
        elif isinstance(end, OrderFailedEvent):
            assert not fills, "a failed order has fills"
            assert not after
        else:  # a venue may report a fill that happened before its cancel took effect
            assert all(isinstance(e, OrderFilledEvent | OrderPartiallyFilledEvent) for e in after), \
                f"non-fill events after {type(end).__name__}: {[type(e).__name__ for e in after]}"


__all__ = ["TERMINAL_EVENTS", "EventRecorder", "assert_legal_order_events"]
