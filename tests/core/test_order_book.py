"""OrderBook: snapshots, diffs, taker-walk queries, and hypothesis properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wingbeat.core.order_book import Level, OrderBook

D = Decimal


def lv(price: str, size: str) -> Level:
    return (D(price), D(size))


@pytest.fixture
def book() -> OrderBook:
    ob = OrderBook("BTC")
    ob.apply_snapshot(
        [lv("100", "1"), lv("99", "2"), lv("98", "3")],
        [lv("101", "1"), lv("102", "2"), lv("103", "3")],
        1_700_000_000.5,
    )
    return ob


def test_empty_book_has_no_prices() -> None:
    ob = OrderBook("ETH")
    assert ob.best_bid is None and ob.best_ask is None
    assert ob.mid_price is None and ob.spread is None
    assert ob.is_empty
    assert ob.get_price_for_volume(True, D(1)) is None
    assert ob.get_vwap_for_volume(False, D(1)) is None


def test_snapshot_sets_top_of_book_mid_spread_and_timestamp(book: OrderBook) -> None:
    assert book.best_bid == D("100")
    assert book.best_ask == D("101")
    assert book.mid_price == D("100.5")
    assert book.spread == D("1")
    assert book.timestamp == 1_700_000_000.5
    assert book.version == 1
    assert list(book.bids()) == [lv("100", "1"), lv("99", "2"), lv("98", "3")]
    assert list(book.asks()) == [lv("101", "1"), lv("102", "2"), lv("103", "3")]


def test_snapshot_replaces_both_sides_entirely(book: OrderBook) -> None:
    book.apply_snapshot([lv("90", "5")], [], 2.0)
    assert list(book.bids()) == [lv("90", "5")]
    assert list(book.asks()) == []
    assert book.best_ask is None and book.mid_price is None
    assert book.version == 2


def test_snapshot_is_copied_so_caller_mutation_does_not_leak() -> None:
    bids = [lv("10", "1")]
    ob = OrderBook()
    ob.apply_snapshot(bids, [], 0.0)
    bids.append(lv("9", "1"))
    assert list(ob.bids()) == [lv("10", "1")]


@pytest.mark.parametrize(
    ("bids", "asks"),
    [
        ([lv("100", "1"), lv("101", "1")], []),  # bids ascending
        ([], [lv("102", "1"), lv("101", "1")]),  # asks descending
        ([lv("100", "1"), lv("100", "1")], []),  # duplicate price
        ([lv("100", "0")], []),  # zero size
        ([], [lv("101", "-1")]),  # negative size
        ([lv("0", "1")], []),  # zero price
        ([lv("1", "1"), lv("-1", "1")], []),  # negative price deeper in the bids
        ([], [lv("-2", "1"), lv("1", "1")]),  # negative best ask
        ([lv("2", "1"), lv("1", "0")], []),  # zero size deeper in the side
        ([lv("101", "1")], [lv("101", "1")]),  # crossed (locked)
        ([lv("102", "1")], [lv("101", "1")]),  # crossed
    ],
)
def test_invalid_snapshot_raises_and_leaves_book_unchanged(
    book: OrderBook, bids: list[Level], asks: list[Level]
) -> None:
    before = (list(book.bids()), list(book.asks()), book.timestamp, book.version)
    with pytest.raises(ValueError):
        book.apply_snapshot(bids, asks, 99.0)
    assert (list(book.bids()), list(book.asks()), book.timestamp, book.version) == before


def test_diff_inserts_replaces_and_removes_levels(book: OrderBook) -> None:
    book.apply_diff(
        [lv("99.5", "4"), lv("100", "0"), lv("98", "7"), lv("50", "0")],
        [lv("101", "0"), lv("102.5", "1"), lv("103", "9")],
        5.0,
    )
    assert list(book.bids()) == [lv("99.5", "4"), lv("99", "2"), lv("98", "7")]
    assert list(book.asks()) == [lv("102", "2"), lv("102.5", "1"), lv("103", "9")]
    assert book.timestamp == 5.0
    assert book.version == 2


def test_invalid_diff_raises_before_changing_anything(book: OrderBook) -> None:
    with pytest.raises(ValueError):
        book.apply_diff([lv("100", "0")], [lv("101", "-1")], 5.0)
    assert book.best_bid == D("100")
    assert book.version == 1


def test_depth_returns_best_n_copies(book: OrderBook) -> None:
    bids, asks = book.depth(2)
    assert bids == [lv("100", "1"), lv("99", "2")]
    assert asks == [lv("101", "1"), lv("102", "2")]
    bids.clear()
    assert book.best_bid == D("100")
    with pytest.raises(ValueError):
        book.depth(-1)


def test_price_for_volume_walks_the_side_a_taker_hits(book: OrderBook) -> None:
    assert book.get_price_for_volume(True, D("1")) == D("101")
    assert book.get_price_for_volume(True, D("1.5")) == D("102")
    assert book.get_price_for_volume(True, D("6")) == D("103")
    assert book.get_price_for_volume(False, D("3")) == D("99")
    assert book.get_price_for_volume(False, D("6")) == D("98")


def test_price_and_vwap_beyond_depth_are_none(book: OrderBook) -> None:
    assert book.get_price_for_volume(True, D("6.0001")) is None
    assert book.get_vwap_for_volume(False, D("7")) is None


def test_vwap_weights_each_level_by_the_size_taken(book: OrderBook) -> None:
    # buy 2: 1 @ 101 + 1 @ 102
    assert book.get_vwap_for_volume(True, D("2")) == D("101.5")
    # sell 4: 1 @ 100 + 2 @ 99 + 1 @ 98 = 396 / 4
    assert book.get_vwap_for_volume(False, D("4")) == D("99")


@pytest.mark.parametrize("volume", [D(0), D(-1)])
def test_non_positive_volume_is_rejected(book: OrderBook, volume: Decimal) -> None:
    with pytest.raises(ValueError):
        book.get_price_for_volume(True, volume)
    with pytest.raises(ValueError):
        book.get_vwap_for_volume(True, volume)


def test_record_trade_keeps_last_price_and_rejects_nonsense(book: OrderBook) -> None:
    assert book.last_trade_price is None
    book.record_trade(D("100.5"))
    assert book.last_trade_price == D("100.5")
    with pytest.raises(ValueError):
        book.record_trade(D(0))
    assert book.last_trade_price == D("100.5")


def test_clear_empties_and_bumps_version(book: OrderBook) -> None:
    book.clear()
    assert book.is_empty and book.version == 2


def test_repr_names_pair_and_top_of_book(book: OrderBook) -> None:
    assert "BTC" in repr(book) and "100" in repr(book) and "101" in repr(book)


# ---------------------------------------------------------------- properties

_prices = st.integers(min_value=1, max_value=10**7).map(lambda i: Decimal(i).scaleb(-2))
_sizes = st.integers(min_value=1, max_value=10**6).map(lambda i: Decimal(i).scaleb(-3))


@st.composite
def valid_books(draw: st.DrawFn) -> tuple[list[Level], list[Level]]:
    """Sorted, uncrossed sides with 0..20 levels each."""
    prices = draw(st.lists(_prices, min_size=0, max_size=40, unique=True))
    prices.sort()
    split = draw(st.integers(min_value=0, max_value=len(prices)))
    bid_prices, ask_prices = prices[:split][::-1], prices[split:]
    bids = [(p, draw(_sizes)) for p in bid_prices]
    asks = [(p, draw(_sizes)) for p in ask_prices]
    return bids, asks


@given(valid_books())
def test_property_valid_snapshot_has_best_bid_below_best_ask(sides: tuple[list[Level], list[Level]]) -> None:
    ob = OrderBook()
    ob.apply_snapshot(*sides, timestamp=1.0)
    if ob.best_bid is not None and ob.best_ask is not None:
        assert ob.best_bid < ob.best_ask
        assert ob.spread is not None and ob.spread > 0
    assert list(ob.bids()) == sides[0] and list(ob.asks()) == sides[1]


@given(valid_books(), st.booleans(), _sizes)
def test_property_vwap_lies_between_best_and_worst_price_walked(
    sides: tuple[list[Level], list[Level]], is_buy: bool, volume: Decimal
) -> None:
    ob = OrderBook()
    ob.apply_snapshot(*sides, timestamp=1.0)
    levels = sides[1] if is_buy else sides[0]
    total = sum((s for _, s in levels), Decimal(0))
    vwap = ob.get_vwap_for_volume(is_buy, volume)
    worst = ob.get_price_for_volume(is_buy, volume)
    if volume > total:
        assert vwap is None and worst is None
        return
    assert vwap is not None and worst is not None
    best = levels[0][0]
    low, high = min(best, worst), max(best, worst)
    assert low <= vwap <= high


@given(valid_books(), st.booleans(), _sizes)
def test_property_price_for_volume_beyond_depth_is_none(
    sides: tuple[list[Level], list[Level]], is_buy: bool, extra: Decimal
) -> None:
    ob = OrderBook()
    ob.apply_snapshot(*sides, timestamp=1.0)
    levels = sides[1] if is_buy else sides[0]
    total = sum((s for _, s in levels), Decimal(0))
    assert ob.get_price_for_volume(is_buy, total + extra) is None
    if levels:
        assert ob.get_price_for_volume(is_buy, total) == levels[-1][0]


@given(valid_books(), st.lists(st.tuples(_prices, st.sampled_from([D(0), D("0.5"), D(2)])), max_size=20))
def test_property_diffs_keep_sides_sorted_and_match_a_dict_model(
    sides: tuple[list[Level], list[Level]], updates: list[Level]
) -> None:
    ob = OrderBook()
    ob.apply_snapshot(*sides, timestamp=1.0)
    model = dict(sides[0])
    ob.apply_diff(updates, [], timestamp=2.0)
    for price, size in updates:
        if size == 0:
            model.pop(price, None)
        else:
            model[price] = size
    assert list(ob.bids()) == sorted(model.items(), reverse=True)
