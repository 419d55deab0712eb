"""OrderJournal on a real SQLite file: permissions, round trip, group commit, restore, failures."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from decimal import Decimal
from pathlib import Path

import pytest

from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.errors import JournalError
from wingbeat.core.events import EventListener, EventPublisher, OrderFilledEvent
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.journal import OrderJournal
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_tracker import ClientOrderTracker
from wingbeat.core.order_updates import OrderUpdate, TradeUpdate

D = Decimal


def make_order(cid: str, amount: str = "1") -> InFlightOrder:
    return InFlightOrder(
        client_order_id=cid,
        trading_pair="ETH-USD",
        trade_type=TradeType.SELL,
        order_type=OrderType.LIMIT_MAKER,
        amount=D(amount),
        price=D("3000.5"),
        creation_timestamp=10.0,
        time_in_force=TimeInForce.ALO,
        position_action=PositionAction.CLOSE,
        reduce_only=True,
        leverage=5,
    )


def trade(cid: str, trade_id: str, base: str) -> TradeUpdate:
    return TradeUpdate(
        trade_id=trade_id,
        client_order_id=cid,
        exchange_order_id="42",
        trading_pair="ETH-USD",
        fill_timestamp=11.0,
        fill_price=D("3000.5"),
        fill_base_amount=D(base),
        fill_quote_amount=D(base) * D("3000.5"),
        fee_asset="USDC",
        fee_amount=D("-0.0003"),
        is_taker=False,
    )


def upd(cid: str, state: OrderState, **kwargs: str) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=cid, trading_pair="ETH-USD", update_timestamp=12.0, new_state=state, **kwargs
    )


async def test_file_is_created_private_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "orders.db"
    async with OrderJournal(path) as journal:
        journal.record_order(make_order("a"))
        await journal.commit()
        for file in (path, Path(f"{path}-wal")):
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_existing_file_with_loose_permissions_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    async with OrderJournal(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_orders_states_and_fills_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    async with OrderJournal(path) as journal:
        tracker = ClientOrderTracker(journal=journal)
        tracker.start_tracking(make_order("a", amount="2"))
        tracker.process_order_update(upd("a", OrderState.OPEN, exchange_order_id="42"))
        tracker.process_trade_update(trade("a", "t1", "0.5"))
        tracker.process_trade_update(trade("a", "t1", "0.5"))  # duplicate: journaled once
        tracker.start_tracking(make_order("b"))
        tracker.process_order_update(upd("b", OrderState.FAILED, reason="Order has invalid size."))
    journal = OrderJournal(path)
    orders = {o.client_order_id: o for o in journal.iter_orders()}
    a, b = orders["a"], orders["b"]
    assert (a.trading_pair, a.trade_type, a.order_type, a.time_in_force) == (
        "ETH-USD",
        TradeType.SELL,
        OrderType.LIMIT_MAKER,
        TimeInForce.ALO,
    )
    assert (a.amount, a.price, a.position_action, a.reduce_only, a.leverage) == (
        D(2),
        D("3000.5"),
        PositionAction.CLOSE,
        True,
        5,
    )
    assert a.current_state is OrderState.PARTIALLY_FILLED and a.exchange_order_id == "42"
    assert b.current_state is OrderState.FAILED and b.reason == "Order has invalid size."
    fills = list(journal.iter_fills())
    assert fills == [trade("a", "t1", "0.5")]


async def test_load_unfinished_returns_only_open_orders_with_their_fills(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    async with OrderJournal(path) as journal:
        tracker = ClientOrderTracker(journal=journal)
        for cid in ("open", "done", "pending"):
            tracker.start_tracking(make_order(cid, amount="1"))
        tracker.process_order_update(upd("open", OrderState.OPEN))
        tracker.process_trade_update(trade("open", "t1", "0.25"))
        tracker.process_trade_update(trade("open", "t2", "0.25"))
        tracker.process_order_update(upd("done", OrderState.CANCELED))
    async with OrderJournal(path) as journal:
        restored = {o.client_order_id: o for o in await journal.load_unfinished()}
    assert set(restored) == {"open", "pending"}
    assert restored["open"].executed_amount_base == D("0.5")
    assert restored["open"].cumulative_fee_paid == {"USDC": D("-0.0006")}
    assert restored["open"].has_trade("t2")
    assert restored["pending"].current_state is OrderState.PENDING_CREATE


async def test_concurrent_orders_share_one_commit(tmp_path: Path) -> None:
    async with OrderJournal(tmp_path / "orders.db") as journal:
        before = journal.commit_count
        for i in range(200):
            journal.record_order(make_order(f"o{i}"))
        await asyncio.gather(*(journal.commit() for _ in range(200)))
        assert journal.commit_count - before == 1
        await journal.commit()  # nothing new: returns without writing
        assert journal.commit_count - before == 1
        assert len(list(journal.iter_orders())) == 200


async def test_changes_recorded_before_open_are_written_once_opened(tmp_path: Path) -> None:
    journal = OrderJournal(tmp_path / "orders.db")
    journal.record_order(make_order("early"))
    async with journal:
        await journal.commit()
        assert [o.client_order_id for o in journal.iter_orders()] == ["early"]


@pytest.mark.parametrize(("durability", "synchronous"), [("normal", 1), ("full", 2)])
async def test_durability_sets_sqlite_synchronous(tmp_path: Path, durability: str, synchronous: int) -> None:
    async with OrderJournal(tmp_path / "orders.db", durability=durability) as journal:  # type: ignore[arg-type]
        assert journal._conn is not None
        assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == synchronous


def test_unknown_durability_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="durability"):
        OrderJournal(tmp_path / "x.db", durability="maybe")  # type: ignore[arg-type]


def test_reading_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="does not exist"):
        list(OrderJournal(tmp_path / "missing.db").iter_orders())


async def test_failed_write_raises_journal_error_on_commit(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    async with OrderJournal(path) as journal:
        with sqlite3.connect(path) as other:
            other.execute("DROP TABLE orders")
        journal.record_order(make_order("x"))
        with pytest.raises(JournalError, match="write failed"):
            await journal.commit()
        await journal.commit()  # nothing pending any more: does not hang


async def test_opening_an_unusable_path_is_a_journal_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(JournalError, match="cannot open"):
        await OrderJournal(blocker / "orders.db").open()


def test_reading_a_file_that_is_not_a_journal_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE unrelated (x)")
    with pytest.raises(JournalError, match="cannot read"):
        list(OrderJournal(path).iter_fills())


async def test_one_writer_per_journal_file_while_readers_still_read(tmp_path: Path) -> None:
    path = tmp_path / "orders.db"
    first, second = OrderJournal(path), OrderJournal(path)
    await first.open()
    try:
        with pytest.raises(JournalError, match="in use by another connector"):
            await second.open()
        assert not second.is_open
        assert list(first.iter_orders()) == []  # a reader (wingbeat journal) is not locked out
    finally:
        await first.close()
    await second.open()  # the lock went with the first writer
    await second.close()


# --- fill events wait for the journal (issue 12) ---------------------------------------------------------


class _Fills(EventListener):
    def __init__(self, journal: OrderJournal) -> None:
        self.journal = journal
        self.seen: list[tuple[str, set[str]]] = []  # trade id, and the journal's published fills when it came

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        self.seen.append((event.trade_id, {f.trade_id for f in self.journal.iter_fills(published=True)}))


async def test_a_fill_event_goes_out_only_once_its_fill_is_durable_and_marked(tmp_path: Path) -> None:
    publisher = EventPublisher()
    async with OrderJournal(tmp_path / "j.db") as journal:
        listener = _Fills(journal)
        publisher.add_listener(listener)
        tracker = ClientOrderTracker(publisher=publisher, journal=journal)
        tracker.start_tracking(make_order("a", "2"))
        tracker.process_order_update(upd("a", OrderState.OPEN, exchange_order_id="42"))
        assert tracker.process_trade_update(trade("a", "t1", "1"))
        assert listener.seen == [] and tracker.held_events == 2  # the fill and its partial-fill event
        await journal.commit()
        assert listener.seen == [("t1", {"t1"})]  # on disk and marked before the listener heard of it
        assert tracker.held_events == 0


async def test_a_restart_publishes_the_journaled_fills_whose_event_never_went_out(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    async with OrderJournal(path) as journal:  # a crash after the fill was written, before its event
        journal.record_order(make_order("a", "1"))
        journal.record_fill(trade("a", "t1", "1"))
        await journal.commit()
    async with OrderJournal(path) as journal:
        [(order, trades)] = await journal.load_unpublished_fills()
        assert order.client_order_id == "a" and [t.trade_id for t in trades] == ["t1"]
        publisher = EventPublisher()
        listener = _Fills(journal)
        publisher.add_listener(listener)
        ClientOrderTracker(publisher=publisher, journal=journal).republish_fills([(order, trades)])
        assert listener.seen == [("t1", {"t1"})]
        assert await journal.load_unpublished_fills() == []  # never again


async def test_fills_of_a_journal_from_before_the_published_mark_count_as_published(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE fills (client_order_id TEXT NOT NULL, trade_id TEXT NOT NULL, exchange_order_id TEXT,"
        " trading_pair TEXT NOT NULL, fill_timestamp REAL NOT NULL, fill_price TEXT NOT NULL,"
        " fill_base_amount TEXT NOT NULL, fill_quote_amount TEXT NOT NULL, fee_asset TEXT NOT NULL,"
        " fee_amount TEXT NOT NULL, is_taker INTEGER NOT NULL, PRIMARY KEY (client_order_id, trade_id));"
        "INSERT INTO fills VALUES ('a', 't1', '42', 'ETH-USD', 11.0, '1', '1', '1', 'USDC', '0', 0);"
    )
    conn.close()
    async with OrderJournal(path) as journal:
        assert await journal.load_unpublished_fills() == []
        assert [f.trade_id for f in journal.iter_fills(published=True)] == ["t1"]
