"""The passive fill model: queue position, trades at and through the price, crosses, snapshot-only data."""

from __future__ import annotations

from decimal import Decimal as D

from wingbeat.backtest.fill_model import QueueModel
from wingbeat.backtest.market_data import TradePrint


def book(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]]
) -> tuple[list[tuple[D, D]], list[tuple[D, D]]]:
    return [(D(p), D(s)) for p, s in bids], [(D(p), D(s)) for p, s in asks]


def sell(px: str, sz: str, tid: int = 1) -> TradePrint:
    return TradePrint(D(px), D(sz), False, tid, 0)


def buy(px: str, sz: str, tid: int = 1) -> TradePrint:
    return TradePrint(D(px), D(sz), True, tid, 0)


def model(*, snapshot_only: bool = False) -> QueueModel:
    m = QueueModel(snapshot_only=snapshot_only)
    m.on_book(*book([("100", "5"), ("99", "3")], [("101", "4"), ("102", "6")]))
    return m


def test_joining_a_level_queues_behind_its_recorded_size() -> None:
    m = model()
    assert m.add(1, True, D("100"), D("2")).ahead == D("5")
    assert m.add(2, False, D("102"), D("1")).ahead == D("6")
    assert m.add(3, True, D("100.5"), D("1")).ahead == 0  # inside the spread: first in line
    assert m.add(4, True, D("98"), D("1")).ahead == 0  # no recorded level there


def test_trades_at_the_price_eat_the_queue_ahead_before_filling_us() -> None:
    m = model()
    m.add(1, True, D("100"), D("2"))
    assert m.on_trades([sell("100", "4")]) == []
    assert m.orders[1].ahead == D("1")
    assert m.on_trades([sell("100", "2", 2)]) == [(1, D("1"))]
    assert m.orders[1].remaining == D("1")
    assert m.on_trades([sell("100", "5", 3)]) == [(1, D("1"))]
    assert 1 not in m.orders  # filled: no longer tracked


def test_a_trade_through_the_price_fills_completely() -> None:
    m = model()
    m.add(1, True, D("100"), D("2"))
    m.add(2, False, D("101"), D("3"))
    assert m.on_trades([sell("99", "0.1")]) == [(1, D("2"))]
    assert m.on_trades([buy("101.5", "0.1", 2)]) == [(2, D("3"))]


def test_buys_do_not_fill_our_bid_above_it_and_sells_below_do_not_touch_asks() -> None:
    m = model()
    m.add(1, True, D("100"), D("2"))
    m.add(2, False, D("102"), D("1"))
    assert m.on_trades([buy("101", "10"), sell("101", "10", 2)]) == []
    assert m.orders[1].ahead == D("5") and m.orders[2].ahead == D("6")


def test_the_opposite_side_crossing_our_price_fills_completely() -> None:
    m = model()
    m.add(1, True, D("100"), D("2"))
    m.add(2, True, D("99"), D("1"))
    fills = m.on_book(*book([("99", "3")], [("100", "1"), ("101", "4")]))
    assert fills == [(1, D("2"))]  # best first; 99 is still below the best ask
    assert 2 in m.orders


def test_with_a_trade_feed_a_shrinking_level_is_cancellations_ahead_at_most() -> None:
    m = model()
    m.add(1, True, D("100"), D("2"))
    assert m.on_book(*book([("100", "3"), ("99", "3")], [("101", "4")])) == []
    assert m.orders[1].ahead == D("3")
    assert m.on_book(*book([("100", "8"), ("99", "3")], [("101", "4")])) == []
    assert m.orders[1].ahead == D("3")  # orders joining behind us do not move us back


def test_snapshot_only_a_level_decrease_counts_as_traded_volume() -> None:
    m = model(snapshot_only=True)
    m.add(1, True, D("100"), D("2"))
    assert m.on_book(*book([("100", "2"), ("99", "3")], [("101", "4")])) == []  # 3 traded: ahead 5 -> 2
    assert m.orders[1].ahead == D("2")
    assert m.on_book(*book([("100", "1"), ("99", "3")], [("101", "4")])) == []  # 1 more: ahead 1
    assert m.on_book(*book([("100", "6"), ("99", "3")], [("101", "4")])) == []  # others join behind us
    assert m.orders[1].ahead == D("1")
    # 5 trade away: 1 ahead of us, then 2 of ours (the rest is behind us)
    assert m.on_book(*book([("100", "1"), ("99", "3")], [("101", "4")])) == [(1, D("2"))]


def test_snapshot_only_a_level_that_vanished_past_our_price_fills_completely() -> None:
    m = model(snapshot_only=True)
    m.add(1, True, D("100"), D("2"))
    assert m.on_book(*book([("99", "3")], [("100.5", "4")])) == [(1, D("2"))]


def test_with_a_trade_feed_a_vanished_level_is_not_a_fill() -> None:
    m = model()
    m.add(1, True, D("100"), D("2"))
    assert m.on_book(*book([("99", "3")], [("100.5", "4")])) == []
    assert m.orders[1].ahead == 0


def test_a_bbo_between_snapshots_crosses_or_shrinks_the_queue() -> None:
    m = model()
    m.add(1, True, D("100"), D("2"))
    m.add(2, False, D("101"), D("1"))
    assert m.on_top((D("100"), D("1")), (D("101"), D("4"))) == []
    assert m.orders[1].ahead == D("1")  # the best bid at our price is down to 1
    assert m.on_top((D("100"), D("1")), (D("100"), D("0.5"))) == [(1, D("2"))]  # the ask came down to our bid
    assert m.on_top((D("101"), D("3")), None) == [(2, D("1"))]
