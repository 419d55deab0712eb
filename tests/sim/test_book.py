"""The price-time priority book: best prices, level order, lazy heap cleanup, aggregation."""

from __future__ import annotations

from decimal import Decimal as D

from wingbeat.sim.venue.book import Book, Order, OrderHistory, OrderRecord


def order(oid: int, is_buy: bool, px: str, sz: str = "1") -> Order:
    return Order(
        oid=oid,
        user="0x" + "a" * 40,
        asset=0,
        coin="BTC",
        is_buy=is_buy,
        limit_px=D(px),
        sz=D(sz),
        timestamp=0,
        reduce_only=False,
        tif="Gtc",
        trigger=None,
        cloid=None,
    )


def test_empty_book_has_no_best_prices_or_mid() -> None:
    book = Book("BTC")
    assert book.best_bid() is None and book.best_ask() is None and book.mid() is None
    assert book.best_level(True) is None


def test_best_bid_is_highest_and_best_ask_lowest() -> None:
    book = Book("BTC")
    for i, (is_buy, px) in enumerate([(True, "100"), (True, "101"), (False, "103"), (False, "102.5")]):
        book.add(order(i, is_buy, px))
    assert book.best_bid() == D("101") and book.best_ask() == D("102.5")
    assert book.mid() == D("101.75")


def test_level_keeps_time_priority() -> None:
    book = Book("BTC")
    for oid in (5, 3, 9):
        book.add(order(oid, True, "100"))
    best = book.best_level(True)
    assert best is not None and list(best[1]) == [5, 3, 9]


def test_removing_last_order_of_best_level_reveals_next_level() -> None:
    book = Book("BTC")
    a, b = order(1, False, "10"), order(2, False, "11")
    book.add(a)
    book.add(b)
    book.remove(a)
    assert book.best_ask() == D("11")
    book.remove(b)
    assert book.best_ask() is None


def test_level_emptied_and_recreated_is_found_again() -> None:
    book = Book("BTC")
    book.add(order(1, True, "10"))
    book.remove(order(1, True, "10"))
    book.add(order(2, True, "10"))
    book.add(order(3, True, "9"))
    assert book.best_bid() == D("10")
    book.remove(order(2, True, "10"))
    assert book.best_bid() == D("9")


def test_remove_of_unknown_order_is_a_no_op() -> None:
    book = Book("BTC")
    book.add(order(1, True, "10"))
    book.remove(order(7, True, "10"))
    book.remove(order(8, True, "12"))
    assert book.best_bid() == D("10")


def test_levels_aggregate_sizes_and_counts_and_limit_depth() -> None:
    book = Book("BTC")
    oid = 0
    for px in range(100, 130):
        for _ in range(2):
            oid += 1
            book.add(order(oid, True, str(px), "0.5"))
    bids, asks = book.levels(20)
    assert len(bids) == 20 and asks == []
    assert bids[0] == (D("129"), D("1.0"), 2)
    assert [b[0] for b in bids] == sorted((b[0] for b in bids), reverse=True)


def test_sig_fig_buckets_round_bids_down_and_asks_up() -> None:
    book = Book("BTC")
    book.add(order(1, True, "12345"))
    book.add(order(2, True, "12301"))
    book.add(order(3, False, "12401"))
    bids, asks = book.levels(20, n_sig_figs=3)
    assert bids == [(D("12300"), D("2"), 2)]
    assert asks == [(D("12500"), D("1"), 1)]
    bids, _ = book.levels(20, n_sig_figs=5)
    assert bids[0][0] == D("12345")


def test_deep_level_is_consumed_in_time_priority_while_orders_keep_joining() -> None:
    # a level is a FIFO queue: filled from the front while new orders join at the back
    book = Book("BTC")
    for oid in range(1_000):
        book.add(order(oid, False, "100"))
    taken: list[int] = []
    next_oid = 1_000
    for _ in range(3_000):
        best = book.best_level(False)
        assert best is not None
        first = next(iter(best[1].values()))
        taken.append(first.oid)
        book.remove(first)
        book.add(order(next_oid, False, "100"))
        next_oid += 1
    assert taken == list(range(3_000))
    assert [o.oid for o in book.orders()] == list(range(3_000, 4_000))


def test_order_history_reads_records_oldest_first_and_evicts_the_oldest() -> None:
    history = OrderHistory()
    first, second = order(1, True, "100"), order(2, False, "101", "0.5")
    assert history.add(first, "canceled", 10) == 1
    assert history.add(second, "filled", 11) == 2
    assert history.add(first, "rejected", 12) == 2  # re-recorded: replaced, keeps its age
    record = history[1]
    assert isinstance(record, OrderRecord) and record.status == "rejected" and record.status_ts == 12
    assert record.limit_px == D("100") and record.trigger is None
    assert list(history) == [1, 2] and 2 in history and 3 not in history and history.get(3) is None
    assert history.pop_oldest().oid == 1
    assert list(history) == [2] and len(history) == 1 and history.get(2) == history[2]
