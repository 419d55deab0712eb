"""PositionBook: fills move positions at once, venue snapshots win, late or stale news changes nothing."""

from __future__ import annotations

from decimal import Decimal

from wingbeat.core.positions import Position, PositionBook, PositionFill, PositionSide

PAIR = "BTC-USD"


def _fill(
    tid: str, ms: int, *, buy: bool, px: str, sz: str, start: str | None = None, pnl: str | None = None
) -> PositionFill:
    return PositionFill(
        trade_id=tid,
        trading_pair=PAIR,
        is_buy=buy,
        price=Decimal(px),
        amount=Decimal(sz),
        timestamp_ms=ms,
        start_position=None if start is None else Decimal(start),
        realized_pnl=None if pnl is None else Decimal(pnl),
    )


def _venue(amount: str, entry: str) -> dict[str, Position]:
    return {
        PAIR: Position(
            trading_pair=PAIR,
            position_side=PositionSide.BOTH,
            amount=Decimal(amount),
            entry_price=Decimal(entry),
            unrealized_pnl=Decimal(0),
            leverage=5,
        )
    }


def test_fills_before_the_first_snapshot_or_older_than_it_are_not_applied() -> None:
    book = PositionBook(lambda pair: 10)
    assert book.apply_fill(_fill("1", 100, buy=True, px="100", sz="1")) is None
    assert book.positions == {}
    book.reconcile(_venue("1", "100"), 200)
    book.apply_fill(_fill("2", 150, buy=True, px="100", sz="1"))  # in the snapshot already
    assert book.positions[PAIR].amount == 1


def test_average_entry_reduction_and_flip() -> None:
    book = PositionBook(lambda pair: 10)
    book.reconcile({}, 0)
    book.apply_fill(_fill("1", 1, buy=True, px="100", sz="1"))
    book.apply_fill(_fill("2", 2, buy=True, px="130", sz="2"))
    p = book.positions[PAIR]
    assert (p.amount, p.entry_price, p.leverage) == (3, 120, 10)
    book.apply_fill(_fill("3", 3, buy=False, px="110", sz="1"))
    p = book.positions[PAIR]
    assert (p.amount, p.entry_price, p.realized_pnl) == (2, 120, -10)
    book.apply_fill(_fill("4", 4, buy=False, px="90", sz="3", pnl="-60"))  # the venue's figure is used
    p = book.positions[PAIR]
    assert (p.amount, p.entry_price, p.realized_pnl) == (-1, 90, -70)
    book.apply_fill(_fill("4", 4, buy=False, px="90", sz="3"))  # the same trade again: nothing
    assert book.positions[PAIR].amount == -1


def test_a_snapshot_replays_newer_fills_reports_divergences_and_ignores_older_snapshots() -> None:
    book = PositionBook(lambda pair: 10)
    book.reconcile(_venue("1", "100"), 10)
    book.apply_fill(_fill("1", 20, buy=True, px="100", sz="1"))
    # a snapshot from before our fill: it cannot know it, so the fill is replayed on top; ours agrees
    assert book.reconcile(_venue("1", "100"), 15) == []
    assert book.positions[PAIR].amount == 2
    # the venue says 3 as of after our fill: something we never saw; the venue wins
    [divergence] = book.reconcile(_venue("3", "101"), 30)
    assert "ours 2 @ 100, the venue's 3 @ 101" in divergence
    assert (book.positions[PAIR].amount, book.positions[PAIR].entry_price) == (3, 101)
    assert book.reconcile({}, 25) == [] and book.positions[PAIR].amount == 3  # older: ignored


def test_a_fill_whose_start_position_disagrees_follows_the_venue_and_says_so() -> None:
    book = PositionBook(lambda pair: 10)
    book.reconcile({}, 0)
    divergence = book.apply_fill(_fill("9", 5, buy=True, px="100", sz="1", start="2"))
    assert divergence is not None and "started from 2, ours was 0" in divergence
    assert book.positions[PAIR].amount == 3
    # an older fill arriving late is already inside the newer fill's start position
    assert book.apply_fill(_fill("8", 4, buy=True, px="100", sz="2", start="0")) is None
    assert book.positions[PAIR].amount == 3


def test_a_snapshot_joined_from_parts_taken_later_replays_no_fill_a_part_holds() -> None:
    # one dex's state at 100, the dex holding PAIR at 300 (with the fill at 200 in it: 2 @ 105)
    book = PositionBook(lambda pair: 10)
    book.reconcile(_venue("1", "100"), 100)
    book.apply_fill(_fill("1", 200, buy=True, px="110", sz="1", start="1"))
    assert book.reconcile(_venue("2", "105"), 100, pair_as_of_ms=lambda pair: 300) == []
    assert (book.positions[PAIR].amount, book.positions[PAIR].entry_price) == (2, 105)  # not 2 @ 107.5
    assert book.apply_fill(_fill("2", 250, buy=True, px="120", sz="1", start="1")) is None  # held: no change
    assert book.apply_fill(_fill("3", 400, buy=True, px="120", sz="1", start="2")) is None
    assert (book.positions[PAIR].amount, book.positions[PAIR].entry_price) == (3, 110)


def test_a_fill_of_the_snapshots_own_millisecond_counts_when_its_start_shows_the_snapshot_missed_it() -> None:
    book = PositionBook(lambda pair: 10)
    book.reconcile(_venue("1", "100"), 200)
    book.apply_fill(_fill("1", 200, buy=True, px="100", sz="1", start="0"))  # held: the snapshot has it
    assert book.positions[PAIR].amount == 1
    book.apply_fill(_fill("2", 200, buy=True, px="130", sz="1", start="1"))  # after it, same millisecond
    assert book.positions[PAIR].amount == 2
    assert book.reconcile(_venue("2", "115"), 200) == []  # the venue's next state of that millisecond
    book.apply_fill(_fill("3", 200, buy=True, px="100", sz="1"))  # no start position: taken as held
    assert book.positions[PAIR].amount == 2
