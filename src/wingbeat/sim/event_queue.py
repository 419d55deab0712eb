"""Events buffered during one engine action and published, in order, at its end."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import localcontext
from typing import Any

from .render import render_fill_rows, render_trade_rows, render_update_rows
from .types import BookChanged, EngineEvent, FillsEvent, OrderUpdatesEvent, TradesEvent

__all__ = ["EventQueue"]

_log = logging.getLogger("wingbeat.sim.engine")


class EventQueue:
    """Per-action buffers (book changes and trades per coin, order updates and fills per user,
    anything else in order); :meth:`publish` hands them to the subscribers and resets."""

    __slots__ = ("fills", "other", "subscribers", "trades", "updates")

    def __init__(self) -> None:
        self.subscribers: list[Callable[[EngineEvent], None]] = []
        # rows, rendered only when a subscriber reads the event's payload (see render.py)
        self.updates: dict[str, list[tuple[Any, ...]]] = {}  # render.update_row rows
        self.fills: dict[str, list[tuple[Any, ...]]] = {}  # Fill-field tuples
        self.trades: dict[
            str, list[tuple[Any, ...]]
        ] = {}  # (taker fill, buyer, seller); a key alone = the book changed
        self.other: list[EngineEvent] = []

    def publish(self) -> None:
        """Deliver the buffered events (a subscriber that raises is logged and skipped)."""
        subs = self.subscribers
        if not subs:
            # nothing is rendered without subscribers; only emitted events may be waiting
            if self.other:
                self.other = []
            return
        updates, fills, trades, other = self.updates, self.fills, self.trades, self.other
        self.updates, self.fills, self.trades, self.other = {}, {}, {}, []
        # fills first, then the public view, then order statuses: a client sees a fill before
        # the "filled" status of its order
        events: list[EngineEvent] = [
            FillsEvent(user, rows=fl, render=render_fill_rows) for user, fl in fills.items()
        ]
        for coin, tl in trades.items():
            events.append(BookChanged(coin))
            if tl:
                events.append(TradesEvent(coin, rows=tl, render=render_trade_rows))
        for user, ul in updates.items():
            events.append(OrderUpdatesEvent(user, rows=ul, render=render_update_rows))
        events.extend(other)
        # subscribers get a copy of the venue's Decimal context: whatever they do with it
        with localcontext():
            for event in events:
                for cb in subs:
                    try:
                        cb(event)
                    except Exception:
                        _log.exception("engine subscriber failed on %s", type(event).__name__)
