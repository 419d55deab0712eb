"""Subscribers that watch some users (``ExchangeEngine.subscribe(callback, users=...)``): the per-account
events of other users are neither built for them nor delivered; the engine's state is the same."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.venue import event_queue
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.types import (
    AssetCtxChanged,
    BookChanged,
    EngineEvent,
    FillsEvent,
    OrderRequest,
    OrderUpdatesEvent,
    TradesEvent,
)

A = "0x" + "a" * 40
B = "0x" + "b" * 40
C = "0x" + "c" * 40
T0 = 1_700_000_000_000
PUBLIC = (BookChanged, TradesEvent, AssetCtxChanged)


def engine() -> ExchangeEngine:
    e = ExchangeEngine(clock=lambda: T0)
    for user in (A, B, C):
        e.fund(user, D(1_000_000))
    return e


def order(is_buy: bool, px: str, sz: str, tif: str = "Gtc") -> OrderRequest:
    return OrderRequest(0, is_buy, D(px), D(sz), False, tif)  # type: ignore[arg-type]


def trade(e: ExchangeEngine) -> None:
    """A and B rest asks, C sweeps both, B changes its leverage (an account event without a fill)."""
    e.place_orders(A, [order(False, "60000", "0.1")])
    e.place_orders(B, [order(False, "60001", "0.1")])
    e.place_orders(C, [order(True, "60010", "0.3", "Ioc")])
    e.update_leverage(B, 0, True, 5)


def users_of(events: list[EngineEvent]) -> set[str]:
    return {e.user for e in events if not isinstance(e, PUBLIC)}


def test_a_subscriber_watching_one_user_gets_its_events_and_the_public_ones_only() -> None:
    e = engine()
    seen: list[EngineEvent] = []
    e.subscribe(seen.append, users={A})
    trade(e)
    assert users_of(seen) == {A}
    updates = [ev for ev in seen if isinstance(ev, OrderUpdatesEvent)]
    assert [u["status"] for ev in updates for u in ev.updates] == ["open", "filled"]
    fills = [f for ev in seen if isinstance(ev, FillsEvent) for f in ev.fills]
    assert [(f["px"], f["sz"], f["side"]) for f in fills] == [("60000.0", "0.1", "A")]
    trades = [t for ev in seen if isinstance(ev, TradesEvent) for t in ev.trades]
    assert [t["px"] for t in trades] == ["60000.0", "60001.0"], "trades of every user are public"
    assert any(isinstance(ev, BookChanged) for ev in seen)


def test_events_of_unwatched_users_are_not_built(monkeypatch: Any) -> None:
    built: list[str] = []
    real_fills, real_updates = event_queue.FillsEvent, event_queue.OrderUpdatesEvent

    def fills_event(user: str, *args: Any) -> FillsEvent:
        built.append(user)
        return real_fills(user, *args)

    def updates_event(user: str, *args: Any) -> OrderUpdatesEvent:
        built.append(user)
        return real_updates(user, *args)

    monkeypatch.setattr(event_queue, "FillsEvent", fills_event)
    monkeypatch.setattr(event_queue, "OrderUpdatesEvent", updates_event)
    e = engine()
    e.subscribe(lambda _: None, users={A})
    trade(e)
    assert set(built) == {A}


def test_the_watched_set_is_read_at_every_action() -> None:
    e = engine()
    watched: set[str] = set()
    seen: list[EngineEvent] = []
    e.subscribe(seen.append, users=watched)
    e.place_orders(A, [order(False, "60000", "0.1")])
    assert users_of(seen) == set()
    watched.add(A)
    e.place_orders(C, [order(True, "60010", "0.1", "Ioc")])
    assert users_of(seen) == {A}
    watched.clear()
    seen.clear()
    e.place_orders(A, [order(False, "60000", "0.1")])
    assert users_of(seen) == set() and seen, "public events still come"


def test_an_unfiltered_subscriber_still_gets_every_users_events_beside_filtered_ones() -> None:
    e = engine()
    everything: list[EngineEvent] = []
    only_a: list[EngineEvent] = []
    only_b: list[EngineEvent] = []
    e.subscribe(only_a.append, users={A})
    e.subscribe(everything.append)
    e.subscribe(only_b.append, users={B})
    trade(e)
    assert users_of(everything) == {A, B, C}
    assert users_of(only_a) == {A}
    assert users_of(only_b) == {B}
    public = [ev for ev in everything if isinstance(ev, PUBLIC)]
    assert [ev for ev in only_a if isinstance(ev, PUBLIC)] == public
    assert [ev for ev in only_b if isinstance(ev, PUBLIC)] == public
    # what a filtered subscriber gets is exactly the unfiltered stream without the other users
    assert only_a == [ev for ev in everything if isinstance(ev, PUBLIC) or ev.user == A]


def test_two_filtered_subscribers_each_get_their_own_users() -> None:
    e = engine()
    only_a: list[EngineEvent] = []
    only_b: list[EngineEvent] = []
    e.subscribe(only_a.append, users={A})
    e.subscribe(only_b.append, users={B})
    trade(e)
    assert users_of(only_a) == {A}
    assert users_of(only_b) == {B}


def test_the_engine_state_is_the_same_whatever_the_subscribers_watch() -> None:
    def state(users: set[str] | None) -> list[Any]:
        e = engine()
        e.subscribe(lambda _: None, users=users)
        for _ in range(3):
            trade(e)
        return [
            handle_info(e, {"type": kind, "user": user})
            for user in (A, B, C)
            for kind in ("clearinghouseState", "userFills", "openOrders", "historicalOrders")
        ]

    assert state({A}) == state(None) == state(set())
