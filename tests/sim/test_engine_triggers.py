"""Trigger orders (TP/SL, market and limit) firing on the mark price, TP/SL groups, dead man's switch."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any, Literal

import pytest

from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.types import (
    EngineError,
    EngineEvent,
    NonUserCancelEvent,
    OrderRequest,
    OrderUpdatesEvent,
    TriggerSpec,
)

A = "0x" + "a" * 40
C = "0x" + "c" * 40
T0 = 1_700_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def setup() -> tuple[ExchangeEngine, Clock, list[EngineEvent]]:
    clock = Clock()
    e = ExchangeEngine(clock=clock)
    events: list[EngineEvent] = []
    e.subscribe(events.append)
    e.fund(A, D(1_000_000))
    e.fund(C, D(10_000_000))
    return e, clock, events


def limit(is_buy: bool, px: str, sz: str, tif: Any = "Gtc", ro: bool = False) -> OrderRequest:
    return OrderRequest(0, is_buy, D(px), D(sz), ro, tif)


def trigger(
    is_buy: bool, px: str, sz: str, trig: str, tpsl: Literal["tp", "sl"], market: bool = True
) -> OrderRequest:
    return OrderRequest(0, is_buy, D(px), D(sz), True, None, TriggerSpec(market, D(trig), tpsl))


def go_long(e: ExchangeEngine, sz: str = "0.1") -> None:
    e.place_orders(C, [limit(False, "60000", sz)])
    e.place_orders(A, [limit(True, "60000", sz, "Ioc")])


def statuses(events: list[EngineEvent], oid: int) -> list[str]:
    return [
        u["status"]
        for ev in events
        if isinstance(ev, OrderUpdatesEvent)
        for u in ev.updates
        if u["order"]["oid"] == oid
    ]


def test_stop_market_fires_when_mark_falls_to_trigger_and_closes_position() -> None:
    e, _, events = setup()
    go_long(e)
    st = e.place_orders(A, [trigger(False, "58000", "0.1", "59000", "sl")])
    oid = st[0]["resting"]["oid"]
    e.place_orders(C, [limit(True, "58500", "0.1")])
    e.set_oracle_price("BTC", D("59500"))
    assert oid in e.live  # mark 59500 > 59000: waiting
    e.set_oracle_price("BTC", D("58900"))
    assert e.accounts[A].szi(0) == 0
    assert e.accounts[A].fills[-1].px == D("58500")
    assert statuses(events, oid) == ["open", "triggered", "filled"]


def test_take_profit_limit_rests_at_its_price_after_firing() -> None:
    e, _, events = setup()
    go_long(e)
    st = e.place_orders(A, [trigger(False, "61000", "0.1", "60900", "tp", market=False)])
    oid = st[0]["resting"]["oid"]
    e.set_oracle_price("BTC", D("60950"))
    assert e.markets[0].book.best_ask() == D("61000")
    assert e.live[oid].triggered and statuses(events, oid) == ["open", "triggered", "open"]


def test_buy_stop_fires_on_rising_mark() -> None:
    e, _, _ = setup()
    e.place_orders(C, [limit(True, "60000", "0.1")])
    e.place_orders(A, [limit(False, "60000", "0.1", "Ioc")])  # A short 0.1
    e.place_orders(A, [trigger(True, "62000", "0.1", "61000", "sl")])
    e.place_orders(C, [limit(False, "61500", "0.1")])
    e.set_oracle_price("BTC", D("61000"))
    assert e.accounts[A].szi(0) == 0


def test_reduce_only_trigger_without_position_is_canceled_when_fired() -> None:
    e, _, events = setup()
    st = e.place_orders(A, [trigger(False, "58000", "0.1", "59000", "sl")])
    oid = st[0]["resting"]["oid"]
    e.set_oracle_price("BTC", D("58000"))
    assert statuses(events, oid)[-1] == "reduceOnlyCanceled"


def test_trigger_can_be_canceled_before_firing() -> None:
    e, _, _ = setup()
    go_long(e)
    oid = e.place_orders(A, [trigger(False, "58000", "0.1", "59000", "sl")])[0]["resting"]["oid"]
    assert e.cancel(A, [(0, oid)]) == ["success"]
    e.set_oracle_price("BTC", D("58000"))
    assert e.accounts[A].szi(0) == D("0.1")


def test_normal_tpsl_children_wait_for_parent_fill() -> None:
    e, _, _ = setup()
    st = e.place_orders(
        A,
        [
            limit(True, "59000", "0.1"),
            trigger(False, "61000", "0.1", "60500", "tp"),
            trigger(False, "57000", "0.1", "58000", "sl"),
        ],
        grouping="normalTpsl",
    )
    assert "resting" in st[0] and st[1:] == ["waitingForFill", "waitingForFill"]
    assert not e.markets[0].triggers.orders
    e.place_orders(C, [limit(False, "59000", "0.1", "Ioc")])
    assert len(e.markets[0].triggers.orders) == 2


def test_normal_tpsl_children_after_immediate_fill_wait_for_trigger() -> None:
    e, _, _ = setup()
    e.place_orders(C, [limit(False, "60000", "0.1")])
    st = e.place_orders(
        A,
        [limit(True, "60000", "0.1", "Ioc"), trigger(False, "57000", "0.1", "58000", "sl")],
        grouping="normalTpsl",
    )
    assert "filled" in st[0] and st[1] == "waitingForTrigger"


def test_canceled_parent_cancels_its_children() -> None:
    e, _, _ = setup()
    st = e.place_orders(
        A, [limit(True, "59000", "0.1"), trigger(False, "57000", "0.1", "58000", "sl")], grouping="normalTpsl"
    )
    e.cancel(A, [(0, st[0]["resting"]["oid"])])
    assert not e.live


def test_scheduled_cancel_fires_at_its_time() -> None:
    e, _, events = setup()
    oid = e.place_orders(A, [limit(True, "59000", "0.1")])[0]["resting"]["oid"]
    e.schedule_cancel(A, T0 + 10_000)
    e.advance(T0 + 9_999)
    assert oid in e.live
    e.advance(T0 + 10_000)
    assert oid not in e.live and e.history[oid].status == "scheduledCancel"
    cancels = [ev for ev in events if isinstance(ev, NonUserCancelEvent)]
    assert cancels and cancels[0].cancels == [{"coin": "BTC", "oid": oid}]


def test_scheduled_cancel_can_be_cleared_and_rejects_too_soon() -> None:
    e, _, _ = setup()
    oid = e.place_orders(A, [limit(True, "59000", "0.1")])[0]["resting"]["oid"]
    with pytest.raises(EngineError):
        e.schedule_cancel(A, T0 + 1_000)
    e.schedule_cancel(A, T0 + 10_000)
    e.schedule_cancel(A, None)
    e.advance(T0 + 20_000)
    assert oid in e.live


def test_scheduled_cancel_reports_each_order_once_in_one_event() -> None:
    e, _, events = setup()
    st = e.place_orders(
        A, [limit(True, "59000", "0.1"), trigger(False, "57000", "0.1", "58000", "sl")], grouping="normalTpsl"
    )
    e.place_orders(A, [limit(True, "58000", "0.1")])
    e.schedule_cancel(A, T0 + 10_000)
    events.clear()
    e.advance(T0 + 10_000)
    cancels = [ev for ev in events if isinstance(ev, NonUserCancelEvent)]
    assert len(cancels) == 1 and len({c["oid"] for c in cancels[0].cancels}) == 3
    parent = st[0]["resting"]["oid"]
    updates = [u for ev in events if isinstance(ev, OrderUpdatesEvent) for u in ev.updates]
    # the child goes with its parent ("canceled"), never twice
    assert sorted(u["status"] for u in updates) == ["canceled", "scheduledCancel", "scheduledCancel"]
    assert len({u["order"]["oid"] for u in updates}) == 3
    assert e.history[parent].status == "scheduledCancel" and not e.live


def test_position_tpsl_triggers_wait_for_trigger_and_are_flagged() -> None:
    e, _, _ = setup()
    go_long(e)
    st = e.place_orders(
        A,
        [trigger(False, "61000", "0.1", "60500", "tp"), trigger(False, "57000", "0.1", "58000", "sl")],
        grouping="positionTpsl",
    )
    assert st == ["waitingForTrigger", "waitingForTrigger"]
    orders = handle_info(e, {"type": "frontendOpenOrders", "user": A})
    assert [o["isPositionTpsl"] for o in orders] == [True, True]
    e.place_orders(C, [limit(True, "57500", "0.1")])
    e.set_oracle_price("BTC", D("57900"))
    assert e.accounts[A].szi(0) == 0
