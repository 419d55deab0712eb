"""Events buffered during one engine action and published, in order, at its end."""

from __future__ import annotations

import logging
from collections.abc import Callable, Container
from decimal import localcontext
from typing import Any

from wingbeat.sim.venue.render import render_fill_rows, render_trade_rows, render_update_rows
from wingbeat.sim.venue.types import (
    AssetCtxChanged,
    BookChanged,
    EngineEvent,
    FillsEvent,
    OrderUpdatesEvent,
    TradesEvent,
)

__all__ = ["EventQueue"]

_log = logging.getLogger("wingbeat.sim.venue.engine")

_Subscriber = Callable[[EngineEvent], None]
_PUBLIC = (BookChanged, TradesEvent, AssetCtxChanged)  # every other event kind is of one account (``user``)


class EventQueue:
    """Per-action buffers (book changes and trades per coin, order updates and fills per user,
    anything else in order); :meth:`publish` hands them to the subscribers and resets.

    A subscriber may name the users it watches (:meth:`add`): the events of one account (every
    event kind but the public ``_PUBLIC`` ones carries a ``user``) are then queued only when some
    subscriber watches that account (the engine asks ``watches(user)`` where it queues rows;
    :meth:`publish` drops the other events), and delivered only to the subscribers that watch it."""

    __slots__ = (
        "_book_changed",
        "_deliver",
        "_filters",
        "fills",
        "other",
        "subscribers",
        "trades",
        "updates",
        "watched",
        "watches",
    )

    def __init__(self) -> None:
        self.subscribers: list[_Subscriber] = []  # as added; the engine queues nothing while empty
        self._filters: list[Container[str] | None] = []  # each subscriber's watched users (None: all)
        self._deliver: list[_Subscriber] = []  # what publish calls (filters applied where needed)
        # the users anyone watches (None: every user, some subscriber has no filter)
        self.watched: Container[str] | None = None
        # whether some subscriber watches an account: the watched container's own (C) membership
        # test where there is one, as a Python method call per finished order costs more
        self.watches: Callable[[str], bool] = _everyone
        # rows, rendered only when a subscriber reads the event's payload (see render.py)
        self.updates: dict[str, list[tuple[Any, ...]]] = {}  # render.update_row rows
        self.fills: dict[str, list[tuple[Any, ...]]] = {}  # Fill-field tuples
        # per coin, one (coin, is_buy, tx, time, taker, trade rows) group per taker order; a key
        # alone = the book changed
        self.trades: dict[str, list[tuple[Any, ...]]] = {}
        self.other: list[EngineEvent] = []
        self._book_changed: dict[str, BookChanged] = {}

    def add(self, callback: _Subscriber, users: Container[str] | None = None) -> None:
        """Subscribe ``callback``; with ``users`` (lowercase addresses, a container its owner may keep
        changing: it is read at every action) only the per-account events of those users reach it."""
        self.subscribers.append(callback)
        self._filters.append(users)
        filters = [f for f in self._filters if f is not None]
        if len(filters) < len(self._filters):
            self.watched = None
        else:
            self.watched = filters[0] if len(filters) == 1 else _AnyOf(filters)
        self.watches = _everyone if self.watched is None else self.watched.__contains__
        if len(self.subscribers) == 1:
            # alone, a subscriber is only handed what it watches: nothing to check per delivery
            self._deliver = [callback]
        else:
            self._deliver = [
                cb if f is None else _only(cb, f)
                for cb, f in zip(self.subscribers, self._filters, strict=True)
            ]

    def publish(self) -> None:
        """Deliver the buffered events (a subscriber that raises is logged and skipped)."""
        subs = self._deliver
        if not subs:
            # nothing is rendered without subscribers; only emitted events may be waiting
            if self.other:
                self.other = []
            return
        watched = self.watched
        # fills first, then the public view, then order statuses: a client sees a fill before
        # the "filled" status of its order. Buffers are swapped before delivery (a subscriber may
        # act on the engine), and only when they hold something.
        events: list[EngineEvent] = []
        fills = self.fills
        if fills:
            self.fills = {}
            # rows were queued only for watched users (see the class docstring)
            events = [FillsEvent(user, None, fl, render_fill_rows) for user, fl in fills.items()]
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
                    events.append(TradesEvent(coin, None, tl, render_trade_rows))
        updates = self.updates
        if updates:
            self.updates = {}
            for user, ul in updates.items():
                events.append(OrderUpdatesEvent(user, None, ul, render_update_rows))
        other = self.other
        if other:
            self.other = []
            if watched is None:
                events += other
            else:
                events += [e for e in other if isinstance(e, _PUBLIC) or e.user in watched]
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


def _everyone(user: str) -> bool:
    """``watches`` while some subscriber has no filter."""
    return True


def _only(callback: _Subscriber, users: Container[str]) -> _Subscriber:
    """``callback`` for the public events and the per-account events of ``users`` only."""

    def deliver(event: EngineEvent) -> None:
        if isinstance(event, _PUBLIC) or event.user in users:
            callback(event)

    return deliver


class _AnyOf:
    """The users any of several subscribers watch (each container read at every lookup)."""

    __slots__ = ("_parts",)

    def __init__(self, parts: list[Container[str]]) -> None:
        self._parts = parts

    def __contains__(self, user: object) -> bool:
        return any(user in part for part in self._parts)
