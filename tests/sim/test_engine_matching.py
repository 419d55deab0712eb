"""Matching: price-time priority, partial fills, IOC/ALO/GTC, reduce-only, self-trade, modify."""

from __future__ import annotations

from decimal import ROUND_UP, localcontext
from decimal import Decimal as D
from typing import Any

import pytest

from wingbeat.sim.venue import accounts as accounts_module
from wingbeat.sim.venue import markets as markets_module
from wingbeat.sim.venue import matching as matching_module
from wingbeat.sim.venue.accounts import Fill
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.types import EngineEvent, FillsEvent, OrderRequest, OrderUpdatesEvent, TradesEvent

A = "0x" + "a" * 40
B = "0x" + "b" * 40
C = "0x" + "c" * 40
T0 = 1_700_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def make_engine(**kw: Any) -> tuple[ExchangeEngine, list[EngineEvent]]:
    engine = ExchangeEngine(clock=Clock(), **kw)
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    for user in (A, B, C):
        engine.fund(user, D(1_000_000))
    return engine, events


def gtc(is_buy: bool, px: str, sz: str, asset: int = 0, **kw: Any) -> OrderRequest:
    return OrderRequest(asset, is_buy, D(px), D(sz), kw.pop("reduce_only", False), kw.pop("tif", "Gtc"), **kw)


def oid_of(status: Any) -> int:
    inner = status.get("resting") or status.get("filled")
    assert inner is not None, status
    return int(inner["oid"])


def test_resting_order_answers_resting_with_oid_and_cloid() -> None:
    e, _ = make_engine()
    cloid = "0x" + "1" * 32
    st = e.place_orders(A, [gtc(True, "59000", "0.1", cloid=cloid)])
    assert st == [{"resting": {"oid": st[0]["resting"]["oid"], "cloid": cloid}}]
    assert e.markets[0].book.best_bid() == D("59000")


def test_price_time_priority_fills_best_price_then_oldest_first() -> None:
    e, _ = make_engine()
    first = oid_of(e.place_orders(A, [gtc(True, "59000", "0.1")])[0])
    second = oid_of(e.place_orders(C, [gtc(True, "59000", "0.1")])[0])
    better = oid_of(e.place_orders(C, [gtc(True, "59100", "0.1")])[0])
    st = e.place_orders(B, [gtc(False, "59000", "0.15", tif="Ioc")])
    assert st[0]["filled"]["totalSz"] == "0.15"
    # 0.1 at 59100 then 0.05 at 59000 from the older order: avg (5910 + 2950) / 0.15
    assert st[0]["filled"]["avgPx"] == "59066.66666667"
    assert better not in e.live
    assert e.live[first].sz == D("0.05")
    assert e.live[second].sz == D("0.1")


def test_partial_fill_rests_remainder_for_gtc() -> None:
    e, _ = make_engine()
    e.place_orders(A, [gtc(False, "60000", "0.1")])
    st = e.place_orders(B, [gtc(True, "60000", "0.3")])
    assert "resting" in st[0]
    assert e.live[oid_of(st[0])].sz == D("0.2")
    assert e.markets[0].book.best_bid() == D("60000")
    assert e.markets[0].book.best_ask() is None


def test_ioc_remainder_is_canceled_and_reported_filled() -> None:
    e, events = make_engine()
    e.place_orders(A, [gtc(False, "60000", "0.1")])
    events.clear()
    st = e.place_orders(B, [gtc(True, "60100", "0.3", tif="Ioc")])
    assert st[0]["filled"]["totalSz"] == "0.1"
    assert oid_of(st[0]) not in e.live
    updates = [u for ev in events if isinstance(ev, OrderUpdatesEvent) and ev.user == B for u in ev.updates]
    assert [u["status"] for u in updates] == ["canceled"]
    assert updates[0]["order"]["sz"] == "0.2"


def test_ioc_without_match_is_rejected_with_exchange_message() -> None:
    e, _ = make_engine()
    st = e.place_orders(B, [gtc(True, "60000", "0.3", tif="Ioc")])
    assert st == [{"error": "Order could not immediately match against any resting orders. asset=0"}]


def test_alo_that_would_cross_is_rejected_with_bbo() -> None:
    e, _ = make_engine()
    e.place_orders(A, [gtc(False, "60000", "0.1"), gtc(True, "59990", "0.1")])
    st = e.place_orders(B, [gtc(True, "60000", "0.1", tif="Alo")])
    assert st == [
        {"error": "Post only order would have immediately matched, bbo was 59990.0@60000.0. asset=0"}
    ]
    assert "resting" in e.place_orders(B, [gtc(True, "59995", "0.1", tif="Alo")])[0]


def test_fills_carry_fees_tids_hash_and_directions() -> None:
    e, events = make_engine()
    e.place_orders(A, [gtc(False, "60000", "0.1")])
    events.clear()
    e.place_orders(B, [gtc(True, "60000", "0.1")])
    fills = {ev.user: ev.fills[0] for ev in events if isinstance(ev, FillsEvent)}
    taker, maker = fills[B], fills[A]
    assert taker["tid"] == maker["tid"] and taker["hash"] == maker["hash"]
    assert taker["crossed"] is True and maker["crossed"] is False
    assert taker["fee"] == "2.7" and maker["fee"] == "0.9"  # 6000 * 0.00045 / 0.00015
    assert taker["dir"] == "Open Long" and maker["dir"] == "Open Short"
    assert taker["side"] == "B" and maker["side"] == "A"
    trades = [t for ev in events if isinstance(ev, TradesEvent) for t in ev.trades]
    assert trades[0]["users"] == [B, A] and trades[0]["side"] == "B"


def test_tids_are_unique_across_trades() -> None:
    e, _ = make_engine()
    for _ in range(5):
        e.place_orders(A, [gtc(False, "60000", "0.1")])
        e.place_orders(B, [gtc(True, "60000", "0.1")])
    tids = [f.tid for f in e.accounts[B].fills]
    assert len(set(tids)) == 5


def test_book_is_never_left_crossed_by_a_gtc() -> None:
    e, _ = make_engine()
    e.place_orders(A, [gtc(False, "60000", "0.1"), gtc(False, "60010", "0.1")])
    e.place_orders(B, [gtc(True, "60020", "0.15")])
    bid, ask = e.markets[0].book.best_bid(), e.markets[0].book.best_ask()
    assert ask == D("60010") and bid is None


def test_self_trade_cancels_the_resting_order() -> None:
    e, events = make_engine()
    own = oid_of(e.place_orders(A, [gtc(False, "60000", "0.1")])[0])
    e.place_orders(C, [gtc(False, "60010", "0.1")])
    events.clear()
    st = e.place_orders(A, [gtc(True, "60010", "0.1")])
    assert st[0]["filled"]["avgPx"] == "60010.0"
    assert e.history[own].status == "selfTradeCanceled"


def test_reduce_only_that_would_increase_is_rejected() -> None:
    e, _ = make_engine()
    st = e.place_orders(A, [gtc(False, "60000", "0.1", reduce_only=True)])
    assert st == [{"error": "Reduce only order would increase position. asset=0"}]


def test_reduce_only_taker_is_clipped_to_the_position() -> None:
    e, _ = make_engine()
    e.place_orders(C, [gtc(False, "60000", "0.1")])
    e.place_orders(A, [gtc(True, "60000", "0.1")])  # A long 0.1
    e.place_orders(C, [gtc(True, "59000", "1")])
    st = e.place_orders(A, [gtc(False, "59000", "0.5", reduce_only=True, tif="Ioc")])
    assert st[0]["filled"]["totalSz"] == "0.1"
    assert e.accounts[A].szi(0) == 0


def test_resting_reduce_only_is_canceled_once_position_is_gone() -> None:
    e, _ = make_engine()
    e.place_orders(C, [gtc(False, "60000", "0.1")])
    e.place_orders(A, [gtc(True, "60000", "0.1")])
    ro = oid_of(e.place_orders(A, [gtc(False, "61000", "0.1", reduce_only=True)])[0])
    e.place_orders(C, [gtc(True, "59000", "0.2")])
    e.place_orders(A, [gtc(False, "59000", "0.1", tif="Ioc")])  # closes the long elsewhere
    e.place_orders(B, [gtc(True, "61000", "0.1", tif="Ioc")])
    assert e.history[ro].status == "reduceOnlyCanceled"


def test_cancel_by_oid_and_cloid_and_missing() -> None:
    e, _ = make_engine()
    cloid = "0x" + "2" * 32
    oid = oid_of(e.place_orders(A, [gtc(True, "59000", "0.1")])[0])
    e.place_orders(A, [gtc(True, "59000", "0.1", cloid=cloid)])
    assert e.cancel(A, [(0, oid)]) == ["success"]
    assert e.cancel(A, [(0, oid)]) == [
        {"error": "Order was never placed, already canceled, or filled. asset=0"}
    ]
    assert e.cancel_by_cloid(A, [(0, cloid)]) == ["success"]
    assert e.markets[0].book.best_bid() is None
    assert e.cancel(B, [(0, 12345)])[0]["error"].startswith("Order was never placed")


def test_duplicate_cloid_is_an_error_status() -> None:
    e, _ = make_engine()
    cloid = "0x" + "3" * 32
    e.place_orders(A, [gtc(True, "59000", "0.1", cloid=cloid)])
    st = e.place_orders(A, [gtc(True, "59000", "0.1", cloid=cloid)])
    assert "error" in st[0]
    assert len(e.accounts[A].open_orders) == 1


def test_modify_gives_new_oid_and_loses_time_priority() -> None:
    e, _ = make_engine()
    first = oid_of(e.place_orders(A, [gtc(True, "59000", "0.1")])[0])
    e.place_orders(C, [gtc(True, "59000", "0.1")])
    st = e.batch_modify(A, [(first, gtc(True, "59000", "0.2"))])
    new = oid_of(st[0])
    assert new != first and e.history[first].status == "canceled"
    e.place_orders(B, [gtc(False, "59000", "0.1", tif="Ioc")])
    assert e.live[new].sz == D("0.2")  # C's older order filled first


def test_modify_by_cloid_keeps_the_cloid() -> None:
    e, _ = make_engine()
    cloid = "0x" + "4" * 32
    e.place_orders(A, [gtc(True, "59000", "0.1", cloid=cloid)])
    st = e.batch_modify(A, [(cloid, gtc(True, "58000", "0.1", cloid=cloid))])
    assert st[0]["resting"]["cloid"] == cloid
    assert e.cancel_by_cloid(A, [(0, cloid)]) == ["success"]


def test_modify_of_unknown_order_is_an_error() -> None:
    e, _ = make_engine()
    st = e.batch_modify(A, [(424242, gtc(True, "58000", "0.1"))])
    assert st[0] == {"error": "Cannot modify canceled or filled order."}


def test_open_order_limit_rejects_beyond_max() -> None:
    e, _ = make_engine(max_open_orders=2)
    st = e.place_orders(A, [gtc(True, "59000", "0.1"), gtc(True, "58000", "0.1"), gtc(True, "57000", "0.1")])
    assert "resting" in st[1] and st[2] == {"error": "Too many open orders. asset=0"}


def test_modify_to_an_invalid_price_is_refused_and_keeps_the_original() -> None:
    e, _ = make_engine()
    oid = oid_of(e.place_orders(A, [gtc(True, "59000", "0.1")])[0])
    st = e.batch_modify(A, [(oid, gtc(True, "59000.5", "0.1"))])
    assert st == [{"error": "Price must be divisible by tick size. asset=0"}]
    assert oid in e.live and e.markets[0].book.best_bid() == D("59000")


def test_order_history_is_bounded_and_evicted_cloids_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching_module, "HISTORY_LIMIT", 3)
    e, _ = make_engine()
    cloids = [f"0x{i:032x}" for i in range(1, 6)]
    oids = [oid_of(e.place_orders(A, [gtc(True, "59000", "0.1", cloid=c)])[0]) for c in cloids]
    e.cancel(A, [(0, oid) for oid in oids])
    assert list(e.history) == oids[2:]
    assert set(e.accounts[A].cloids) == set(cloids[2:])
    assert "resting" in e.place_orders(A, [gtc(True, "59000", "0.1", cloid=cloids[0])])[0]


def test_account_fills_read_as_fill_objects_and_keep_the_most_recent(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (accounts_module, matching_module):  # the matching loop trims inline
        monkeypatch.setattr(module, "FILLS_KEPT", 2)
        monkeypatch.setattr(module, "TRIM_AT", 4)
    e, _ = make_engine()
    for i in range(6):
        e.place_orders(A, [gtc(False, str(60000 + i), "0.01")])
        e.place_orders(B, [gtc(True, str(60000 + i), "0.01", tif="Ioc")])
    fills = e.accounts[B].fills
    assert 2 <= len(fills) <= 4  # trimmed to the most recent FILLS_KEPT when twice over
    assert all(isinstance(f, Fill) for f in fills)
    assert fills[-1].px == D("60005") and fills[-1].dir == "Open Long" and fills[-1].crossed is True
    assert [f.px for f in fills[-2:]] == [D("60004"), D("60005")]
    assert [f.tid for f in fills] == sorted(f.tid for f in fills)


def test_cloids_are_matched_case_insensitively() -> None:
    e, _ = make_engine()
    upper = "0x" + "AB" * 16
    st = e.place_orders(A, [gtc(True, "59000", "0.1", cloid=upper)])
    assert st[0]["resting"]["cloid"] == upper.lower()
    assert "error" in e.place_orders(A, [gtc(True, "59000", "0.1", cloid=upper.lower())])[0]
    assert e.cancel_by_cloid(A, [(0, upper)]) == ["success"]


def test_event_payloads_read_late_under_another_context_equal_those_read_at_once() -> None:
    # payloads are rendered on first read: reading them after later actions changed the orders
    # (partial fills, a closed position with PnL), under a careless context, must change nothing
    def flow(engine: ExchangeEngine) -> None:
        engine.place_orders(
            A, [gtc(False, "60000", "0.3"), gtc(False, "60001", "0.2", cloid="0x" + "2" * 32)]
        )
        engine.place_orders(B, [gtc(True, "60001", "0.35")])
        engine.place_orders(C, [gtc(True, "60001", "0.1", tif="Ioc")])
        engine.place_orders(A, [gtc(True, "59000", "0.4"), gtc(True, "58999", "0.4")])
        engine.place_orders(B, [gtc(False, "58000", "0.77777", tif="Ioc")])

    def payload(event: EngineEvent) -> Any:
        if isinstance(event, FillsEvent):
            return ("fills", event.user, event.fills)
        if isinstance(event, OrderUpdatesEvent):
            return ("updates", event.user, event.updates)
        if isinstance(event, TradesEvent):
            return ("trades", event.coin, event.trades)
        return event

    at_once: list[Any] = []
    eager = ExchangeEngine(clock=Clock())
    eager.subscribe(lambda event: at_once.append(payload(event)))
    late, events = make_engine()
    for user in (A, B, C):
        eager.fund(user, D(1_000_000))
    flow(eager)
    flow(late)
    markets_module.FMT_CACHE.clear()  # rendered texts are cached by value: make the late reads render
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 3, ROUND_UP
        read_late = [payload(event) for event in events]
    assert read_late == at_once
    closing = [f for item in at_once if isinstance(item, tuple) and item[0] == "fills" for f in item[2]]
    assert any(f["closedPnl"] != "0.0" for f in closing)  # the flow closed a position with PnL
