"""Events buffered during one engine action and published, in order, at its end."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import localcontext
from typing import Any

from wingbeat.sim.venue.render import render_fill_rows, render_trade_rows, render_update_rows
from wingbeat.sim.venue.types import BookChanged, EngineEvent, FillsEvent, OrderUpdatesEvent, TradesEvent

__all__ = ["EventQueue"]

_log = logging.getLogger("wingbeat.sim.venue.engine")


class EventQueue:
    """Per-action buffers (book changes and trades per coin, order updates and fills per user,
    anything else in order); :meth:`publish` hands them to the subscribers and resets."""

    __slots__ = ("_book_changed", "fills", "other", "subscribers", "trades", "updates")

    def __init__(self) -> None:
        self.subscribers: list[Callable[[EngineEvent], None]] = []
        # rows, rendered only when a subscriber reads the event's payload (see render.py)
        self.updates: dict[str, list[tuple[Any, ...]]] = {}  # render.update_row rows
        self.fills: dict[str, list[tuple[Any, ...]]] = {}  # Fill-field tuples
        self.trades: dict[
            str, list[tuple[Any, ...]]
        ] = {}  # (taker fill, buyer, seller); a key alone = the book changed
        self.other: list[EngineEvent] = []
        self._book_changed: dict[str, BookChanged] = {}

    def publish(self) -> None:
        """Deliver the buffered events (a subscriber that raises is logged and skipped)."""
        subs = self.subscribers
        if not subs:
            # nothing is rendered without subscribers; only emitted events may be waiting
            if self.other:
                self.other = []
            return
        # fills first, then the public view, then order statuses: a client sees a fill before
        # the "filled" status of its order. Buffers are swapped before delivery (a subscriber may
        # act on the engine), and only when they hold something.
        events: list[EngineEvent] = []
        fills = self.fills
        if fills:
            self.fills = {}
            events = [FillsEvent(user, rows=fl, render=render_fill_rows) for user, fl in fills.items()]
        trades = self.trades
        if trades:
            self.trades = {}
            book_changed = self._book_changed
            for coin, tl in trades.items():
                changed = book_changed.get(coin)
                if changed is None:  # immutable: one per coin serves every action
                    changed = book_changed[coin] = BookChanged(coin)
                events.append(changed)
                if tl:
                    events.append(TradesEvent(coin, rows=tl, render=render_trade_rows))
        updates = self.updates
        if updates:
            self.updates = {}
            for user, ul in updates.items():
                events.append(OrderUpdatesEvent(user, rows=ul, render=render_update_rows))
        other = self.other
        if other:
            self.other = []
            events += other
        if not events:
            return
        # subscribers get a copy of the venue's Decimal context: whatever they do with it
        with localcontext():
            for event in events:
                for cb in subs:
                    try:
                        cb(event)
                    except Exception:
                        _log.exception("engine subscriber failed on %s", type(event).__name__)
