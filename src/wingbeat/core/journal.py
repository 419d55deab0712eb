"""``OrderJournal``: the durable half of track-before-submit, on SQLite in WAL mode.

Every new order, state change and fill is queued in memory by a cheap synchronous call and written by one
dedicated writer thread; everything queued while a write is in progress goes into the next transaction, so
concurrent orders share one commit (group commit). ``await commit()`` returns once everything queued so far
is durable; the connector awaits it before it sends an order, so an order that could have reached the
exchange is always in the journal.

Durability: ``"normal"`` (WAL, synchronous=NORMAL) survives a process crash; ``"full"``
(synchronous=FULL) also survives power loss. The file is created with mode 0600 and never holds secrets.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

from wingbeat.core.enums import OrderType, PositionAction, TimeInForce, TradeType
from wingbeat.core.errors import JournalError
from wingbeat.core.in_flight_order import InFlightOrder, OrderModification
from wingbeat.core.order_state import FINAL_STATES, OrderState
from wingbeat.core.order_updates import TradeUpdate

if sys.platform != "win32":
    import fcntl

__all__ = ["Durability", "OrderJournal"]

_logger = logging.getLogger("wingbeat.core.journal")

Durability = Literal["normal", "full"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT PRIMARY KEY,
    exchange_order_id TEXT,
    trading_pair TEXT NOT NULL,
    trade_type TEXT NOT NULL,
    order_type TEXT NOT NULL,
    time_in_force TEXT NOT NULL,
    amount TEXT NOT NULL,
    price TEXT NOT NULL,
    position_action TEXT NOT NULL,
    reduce_only INTEGER NOT NULL,
    leverage INTEGER,
    creation_timestamp REAL NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    last_update_timestamp REAL NOT NULL,
    venue_filled_amount TEXT,
    modify_price TEXT,
    modify_amount TEXT,
    modify_remainder TEXT,
    modify_requested_at REAL,
    retired_exchange_ids TEXT
);
CREATE INDEX IF NOT EXISTS orders_by_state ON orders (state);
CREATE TABLE IF NOT EXISTS fills (
    client_order_id TEXT NOT NULL,
    trade_id TEXT NOT NULL,
    exchange_order_id TEXT,
    trading_pair TEXT NOT NULL,
    fill_timestamp REAL NOT NULL,
    fill_price TEXT NOT NULL,
    fill_base_amount TEXT NOT NULL,
    fill_quote_amount TEXT NOT NULL,
    fee_asset TEXT NOT NULL,
    fee_amount TEXT NOT NULL,
    is_taker INTEGER NOT NULL,
    published INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (client_order_id, trade_id)
);
"""
_INSERT_ORDER = (
    "INSERT OR IGNORE INTO orders (client_order_id, exchange_order_id, trading_pair, trade_type, order_type,"
    " time_in_force, amount, price, position_action, reduce_only, leverage, creation_timestamp, state, reason,"
    " last_update_timestamp, venue_filled_amount) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_UPDATE_STATE = (
    "UPDATE orders SET state = ?, exchange_order_id = COALESCE(?, exchange_order_id),"
    " reason = COALESCE(?, reason), last_update_timestamp = ?,"
    " venue_filled_amount = COALESCE(?, venue_filled_amount) WHERE client_order_id = ?"
)
# a modify: the order's price / amount / exchange ids as they are now, and the unresolved request (NULLs: none)
_UPDATE_MODIFY = (
    "UPDATE orders SET price = ?, amount = ?, exchange_order_id = ?, modify_price = ?, modify_amount = ?,"
    " modify_remainder = ?, modify_requested_at = ?, retired_exchange_ids = ? WHERE client_order_id = ?"
)
_MODIFY_COLUMNS = ("modify_price", "modify_amount", "modify_remainder", "modify_requested_at",
                   "retired_exchange_ids")
_INSERT_FILL = (
    "INSERT OR IGNORE INTO fills (client_order_id, trade_id, exchange_order_id, trading_pair, fill_timestamp,"
    " fill_price, fill_base_amount, fill_quote_amount, fee_asset, fee_amount, is_taker, published)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,0)"
)
_INSERT_FILL_PUBLISHED = _INSERT_FILL.replace(",0)", ",1)")
_MARK_PUBLISHED = "UPDATE fills SET published = 1 WHERE client_order_id = ? AND trade_id = ?"
#: How long a published mark waits for the writer thread's transaction, seconds (it is short: one group commit).
_MARK_BUSY_TIMEOUT_S = 5.0
_ORDER_COLUMNS = (
    "client_order_id, exchange_order_id, trading_pair, trade_type, order_type, time_in_force, amount, price,"
    " position_action, reduce_only, leverage, creation_timestamp, state, reason, last_update_timestamp,"
    " venue_filled_amount, " + ", ".join(_MODIFY_COLUMNS)
)
_FILL_COLUMNS = (
    "trade_id, client_order_id, exchange_order_id, trading_pair, fill_timestamp, fill_price, fill_base_amount,"
    " fill_quote_amount, fee_asset, fee_amount, is_taker"
)
_FINAL_NAMES = tuple(s.value for s in FINAL_STATES)
_MARKS = ",".join("?" * len(_FINAL_NAMES))
# Orders to restore: the unfinished ones, and final ones whose journaled fills fall short of what the venue
# reported filled (FILLED: the whole amount). The REAL sums only pre-select (a shortfall is at least one lot,
# far above their rounding); the exact Decimal check is made on the loaded orders.
_RESTORE_WHERE = f"""
state NOT IN ({_MARKS}) OR COALESCE(CAST(CASE WHEN state = '{OrderState.FILLED.value}' THEN amount
    ELSE venue_filled_amount END AS REAL), 0) > (SELECT COALESCE(SUM(CAST(f.fill_base_amount AS REAL)), 0)
    FROM fills f WHERE f.client_order_id = orders.client_order_id)
"""

# Queued operations: (statement, parameters); consecutive ones with the same statement share an executemany.
_Op = tuple[str, tuple[Any, ...]]


def _connect(path: Path, durability: Durability) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if durability == 'full' else 'NORMAL'}")
    conn.executescript(_SCHEMA)
    if not _has_venue_filled(conn):  # a journal written before the column existed
        conn.execute("ALTER TABLE orders ADD COLUMN venue_filled_amount TEXT")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(orders)")}
    for column in _MODIFY_COLUMNS:  # a journal written before modifies existed
        if column not in columns:
            kind = "REAL" if column == "modify_requested_at" else "TEXT"
            conn.execute(f"ALTER TABLE orders ADD COLUMN {column} {kind}")
    if not any(row[1] == "published" for row in conn.execute("PRAGMA table_info(fills)")):
        # written before fill events were tracked: its fills were published when they were recorded
        conn.execute("ALTER TABLE fills ADD COLUMN published INTEGER NOT NULL DEFAULT 1")
    return conn


def _has_venue_filled(conn: sqlite3.Connection) -> bool:
    return any(row[1] == "venue_filled_amount" for row in conn.execute("PRAGMA table_info(orders)"))


def _stored_amount(amount: Decimal) -> str | None:
    return str(amount) if amount else None  # None: nothing reported (kept as is by COALESCE)


def _order_from_row(row: Sequence[Any]) -> InFlightOrder:
    order = InFlightOrder(
        client_order_id=row[0],
        exchange_order_id=row[1],
        trading_pair=row[2],
        trade_type=TradeType(row[3]),
        order_type=OrderType(row[4]),
        time_in_force=TimeInForce(row[5]),
        amount=Decimal(row[6]),
        price=Decimal(row[7]),
        position_action=PositionAction(row[8]),
        reduce_only=bool(row[9]),
        leverage=row[10],
        creation_timestamp=row[11],
        initial_state=OrderState(row[12]),
    )
    order.reason = row[13]
    order.last_update_timestamp = row[14]
    if len(row) > 15 and row[15] is not None and order.current_state is not OrderState.FILLED:
        order.venue_filled_amount = Decimal(row[15])
    if len(row) > 20:
        if row[16] is not None and not order.current_state.is_final:
            # restored as possibly sent: reconciliation decides whether the venue applied it
            order.modification = OrderModification(
                price=Decimal(row[16]), amount=Decimal(row[17]), remainder=Decimal(row[18]),
                requested_at=row[19], sent_at=row[19],
            )
        if row[20]:
            order.retired_exchange_order_ids = tuple(row[20].split(","))
    return order


def _fill_from_row(row: Sequence[Any]) -> TradeUpdate:
    return TradeUpdate(
        trade_id=row[0],
        client_order_id=row[1],
        exchange_order_id=row[2],
        trading_pair=row[3],
        fill_timestamp=row[4],
        fill_price=Decimal(row[5]),
        fill_base_amount=Decimal(row[6]),
        fill_quote_amount=Decimal(row[7]),
        fee_asset=row[8],
        fee_amount=Decimal(row[9]),
        is_taker=bool(row[10]),
    )


class OrderJournal:
    """Durable, append-mostly record of every order, state change and fill (see the module docstring).

    Use ``await open()`` / ``await close()`` (or ``async with``); the ``record_*`` calls are synchronous,
    never block and may be made before ``open()`` (they are written once it runs).
    """

    def __init__(self, path: str | os.PathLike[str], *, durability: Durability = "normal") -> None:
        if durability not in ("normal", "full"):
            raise ValueError(f"durability must be 'normal' or 'full', got {durability!r}")
        self._path = Path(path)
        self._durability: Durability = durability
        self._conn: sqlite3.Connection | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[_Op] = []
        self._queued_seq = 0  # number of operations queued so far
        self._durable_seq = 0  # number of operations known durable
        self._writing = False
        self._kick_scheduled = False
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._durable_callbacks: list[tuple[int, Callable[[], None]]] = []
        self._closed = False
        self._commit_count = 0
        self._lock_fd: int | None = None
        self._marker: sqlite3.Connection | None = None

    @property
    def path(self) -> Path:
        """The SQLite file."""
        return self._path

    @property
    def durability(self) -> Durability:
        """``"normal"`` (process-crash safe) or ``"full"`` (power-loss safe)."""
        return self._durability

    @property
    def commit_count(self) -> int:
        """Transactions committed since ``open()`` (several operations share one: group commit)."""
        return self._commit_count

    @property
    def is_open(self) -> bool:
        """True between ``open()`` and ``close()``."""
        return self._conn is not None

    async def __aenter__(self) -> OrderJournal:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        """Create (mode 0600) or open the file and start writing queued operations."""
        if self._conn is not None:
            return
        loop = asyncio.get_running_loop()
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="wingbeat-journal")
        try:
            self._conn = await loop.run_in_executor(executor, self._open_sync)
        except BlockingIOError as exc:
            executor.shutdown(wait=False)
            raise JournalError(
                f"order journal {self._path} is in use by another connector (two writers would reconcile, "
                "cancel and journal each other's orders)"
            ) from exc
        except (OSError, sqlite3.Error) as exc:
            executor.shutdown(wait=False)
            self._release_lock()
            raise JournalError(f"cannot open order journal {self._path}: {exc}") from exc
        try:  # the published marks are written from the event loop itself, synchronously (see mark_published)
            self._marker = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False,
                                           timeout=_MARK_BUSY_TIMEOUT_S)
            self._marker.execute(f"PRAGMA synchronous={'FULL' if self._durability == 'full' else 'NORMAL'}")
        except sqlite3.Error as exc:
            await loop.run_in_executor(executor, self._conn.close)
            executor.shutdown(wait=False)
            self._conn = None
            self._release_lock()
            raise JournalError(f"cannot open order journal {self._path}: {exc}") from exc
        self._executor = executor
        self._loop = loop
        self._closed = False
        if self._pending:
            self._schedule_kick()

    def _open_sync(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_writer()
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(self._path, 0o600)  # also tightens a file created by an older version or another umask
        return _connect(self._path, self._durability)

    def _lock_writer(self) -> None:
        """One writer per journal: an advisory lock on ``<journal>.lock``, held until ``close()`` (readers
        such as ``iter_orders`` do not take it). Raises BlockingIOError when another writer holds it."""
        if sys.platform == "win32":  # no flock there: a single writer is the user's to ensure
            return
        fd = os.open(f"{self._path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    async def close(self) -> None:
        """Write everything still queued, then close the file. Idempotent."""
        if self._conn is None or self._executor is None:
            return
        self._closed = True  # first: nothing can be queued behind the final commit
        try:
            await self.commit()
        except JournalError:
            _logger.error("order journal %s: final write failed", self._path)
        conn, executor = self._conn, self._executor
        if self._marker is not None:
            self._marker.close()
            self._marker = None
        await asyncio.get_running_loop().run_in_executor(executor, conn.close)
        executor.shutdown(wait=True)
        self._release_lock()
        self._conn = None
        self._executor = None
        self._loop = None

    # -------------------------------------------------------------------------------------- writing
    def record_order(self, order: InFlightOrder) -> None:
        """Queue a new order (all its fields, as they are now)."""
        self._queue(_INSERT_ORDER, (
            order.client_order_id, order.exchange_order_id, order.trading_pair, order.trade_type.value,
            order.order_type.value, order.time_in_force.value, str(order.amount), str(order.price),
            order.position_action.value, int(order.reduce_only), order.leverage, order.creation_timestamp,
            order.current_state.value, order.reason, order.last_update_timestamp,
            _stored_amount(order.venue_filled_amount),
        ))

    def record_state(self, order: InFlightOrder) -> None:
        """Queue the order's current state, exchange id, reason, update time and venue filled amount."""
        self._queue(_UPDATE_STATE, (
            order.current_state.value, order.exchange_order_id, order.reason, order.last_update_timestamp,
            _stored_amount(order.venue_filled_amount), order.client_order_id,
        ))

    def record_modify(self, order: InFlightOrder) -> None:
        """Queue the order's price, amount, exchange ids and unresolved modify (a modify asked for, applied,
        refused, or an amount a retired exchange id's late fill grew)."""
        mod = order.modification
        self._queue(_UPDATE_MODIFY, (
            str(order.price), str(order.amount), order.exchange_order_id,
            None if mod is None else str(mod.price), None if mod is None else str(mod.amount),
            None if mod is None else str(mod.remainder), None if mod is None else mod.requested_at,
            ",".join(order.retired_exchange_order_ids) or None, order.client_order_id,
        ))

    def record_fill(self, trade: TradeUpdate, *, published: bool = False) -> None:
        """Queue a fill (stored once per order and trade id); ``published``: its event needs no publishing
        (nobody listens), else it is marked when published (:meth:`mark_published`)."""
        self._queue(_INSERT_FILL_PUBLISHED if published else _INSERT_FILL, (
            trade.client_order_id, trade.trade_id, trade.exchange_order_id, trade.trading_pair,
            trade.fill_timestamp, str(trade.fill_price), str(trade.fill_base_amount),
            str(trade.fill_quote_amount), trade.fee_asset, str(trade.fee_amount), int(trade.is_taker),
        ))

    def mark_published(self, trade: TradeUpdate) -> None:
        """Record, synchronously and durably, that the event of this already durable fill is being published;
        the caller publishes it right after. A restart publishes the fills without the mark and never those
        with it. Written from the event loop on purpose (a short blocking write, waiting at most for the
        writer thread's transaction): nothing can run between the mark and the listeners, so a crash leaves
        an event either marked and delivered or unmarked and due. A failed write is logged (the event is
        published anyway: it may then be published again after a restart)."""
        marker = self._marker
        if marker is None:
            _logger.error("order journal %s is not open; fill %s published unmarked", self._path, trade.trade_id)
            return
        try:
            marker.execute(_MARK_PUBLISHED, (trade.client_order_id, trade.trade_id))
        except sqlite3.Error as exc:
            _logger.error("order journal %s: fill %s not marked published: %s", self._path, trade.trade_id, exc)

    def _queue(self, statement: str, params: tuple[Any, ...]) -> None:
        if self._closed:
            _logger.error("order journal %s is closed; change not recorded: %s", self._path, params[:1])
            return
        self._pending.append((statement, params))
        self._queued_seq += 1
        if not self._writing and not self._kick_scheduled and self._loop is not None:
            self._schedule_kick()

    def _schedule_kick(self) -> None:
        assert self._loop is not None
        self._kick_scheduled = True
        self._loop.call_soon(self._kick)

    @property
    def queued_ops(self) -> int:
        """How many operations were queued since the journal was created."""
        return self._queued_seq

    @property
    def durable_ops(self) -> int:
        """How many of them are durable (or were given up because their write failed, which is logged)."""
        return self._durable_seq

    def after_durable(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (on the event loop, synchronously) once every operation queued so far is durable or
        its write failed; at once when nothing is outstanding or the journal is not open."""
        target = self._queued_seq
        if self._durable_seq >= target or self._loop is None:
            callback()
            return
        self._durable_callbacks.append((target, callback))
        if not self._writing and not self._kick_scheduled:
            self._schedule_kick()

    async def commit(self) -> None:
        """Return once every operation queued before this call is durable; raise :class:`JournalError` if
        the write failed (and then the caller must not act as if it were recorded)."""
        target = self._queued_seq
        if self._durable_seq >= target:
            return
        if self._loop is None:
            raise JournalError(f"order journal {self._path} is not open")
        future: asyncio.Future[None] = self._loop.create_future()
        self._waiters.append((target, future))
        if not self._writing:
            self._kick()
        await future


    async def commit_before_send(
        self, orders: Sequence[InFlightOrder], drop: Callable[[InFlightOrder, str], None], stopped: str
    ) -> bool:
        """:meth:`commit` for a batch about to be sent: True once it is durable. On a write failure each order
        goes to ``drop`` with the reason it is not sent and the answer is False; cancelled (the connector is
        stopping), each goes to ``drop`` with ``stopped`` and the cancellation propagates."""
        try:
            await self.commit()
        except JournalError as exc:
            for order in orders:
                drop(order, f"not sent: {exc}")
            return False
        except asyncio.CancelledError:  # stopping: this batch will never be sent
            for order in orders:
                drop(order, stopped)
            raise
        return True
    def _kick(self) -> None:
        self._kick_scheduled = False
        if self._writing or not self._pending or self._executor is None or self._loop is None:
            return
        batch, self._pending = self._pending, []
        self._writing = True
        seq = self._queued_seq
        written = self._loop.run_in_executor(self._executor, self._write_sync, batch)
        written.add_done_callback(lambda fut: self._written(fut, seq))

    def _write_sync(self, batch: list[_Op]) -> None:
        conn = self._conn
        assert conn is not None
        conn.execute("BEGIN")
        try:
            for statement, ops in groupby(batch, key=lambda op: op[0]):
                conn.executemany(statement, [params for _statement, params in ops])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _written(self, fut: asyncio.Future[None], seq: int) -> None:
        self._writing = False
        error: BaseException | None = None
        if fut.cancelled():
            error = JournalError(f"order journal {self._path}: write cancelled")
        elif fut.exception() is not None:
            exc = fut.exception()
            _logger.error("order journal %s: write of up to op %d failed", self._path, seq, exc_info=exc)
            error = JournalError(f"order journal {self._path}: write failed: {exc}")
        else:
            self._durable_seq = seq
            self._commit_count += 1
        remaining: list[tuple[int, asyncio.Future[None]]] = []
        for target, waiter in self._waiters:
            if target <= seq:
                if not waiter.done():
                    if error is None:
                        waiter.set_result(None)
                    else:
                        waiter.set_exception(error)
            else:
                remaining.append((target, waiter))
        self._waiters = remaining
        if error is not None:
            self._durable_seq = max(self._durable_seq, seq)  # those operations are gone; later ones still count
        if self._durable_callbacks:
            due = [cb for target, cb in self._durable_callbacks if target <= seq]
            self._durable_callbacks = [(t, cb) for t, cb in self._durable_callbacks if t > seq]
            for callback in due:
                try:
                    callback()
                except Exception:
                    _logger.exception("order journal %s: after-durable callback failed", self._path)
        if self._pending:
            self._kick()

    # -------------------------------------------------------------------------------------- reading
    async def load_unfinished(self) -> list[InFlightOrder]:
        """Orders that were not final when last recorded, and final ones whose fills do not add up to what
        the venue reported filled (they await fills), with their fills, oldest first."""
        await self.commit()
        if self._executor is None:
            raise JournalError(f"order journal {self._path} is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._load_unfinished_sync)

    def _load_unfinished_sync(self) -> list[InFlightOrder]:
        conn = self._conn
        assert conn is not None
        rows = conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE {_RESTORE_WHERE} ORDER BY creation_timestamp",
            _FINAL_NAMES,
        ).fetchall()
        orders = [_order_from_row(row) for row in rows]
        by_id = {o.client_order_id: o for o in orders}
        fills = conn.execute(
            f"SELECT {_FILL_COLUMNS} FROM fills WHERE client_order_id IN "
            f"(SELECT client_order_id FROM orders WHERE {_RESTORE_WHERE}) ORDER BY fill_timestamp",
            _FINAL_NAMES,
        ).fetchall()
        for row in fills:
            fill = _fill_from_row(row)
            order = by_id.get(fill.client_order_id)
            if order is not None and not order.apply_trade_update(fill):
                _logger.error("journal fill %s of %s does not fit its order; skipped", fill.trade_id,
                              fill.client_order_id)
        return [o for o in orders if not o.current_state.is_final or o.awaits_fills]

    def iter_orders(self) -> Iterator[InFlightOrder]:
        """Every order in the file (final or not, without fills), oldest first. Synchronous, on its own
        connection: meant for tools such as ``wingbeat journal``."""
        def query(conn: sqlite3.Connection) -> str:
            # a journal written by an older version is read as it is (never migrated here)
            present = {row[1] for row in conn.execute("PRAGMA table_info(orders)")}
            columns = [c.strip() for c in _ORDER_COLUMNS.split(",")]
            while columns[-1] not in present:
                columns.pop()
            return f"SELECT {', '.join(columns)} FROM orders ORDER BY creation_timestamp"

        for row in self._read(query):
            yield _order_from_row(row)

    async def load_unpublished_fills(self) -> list[tuple[InFlightOrder, list[TradeUpdate]]]:
        """Fills recorded but whose event never reached the listeners (a crash came first), with their orders
        (every fill of the order applied), oldest first."""
        await self.commit()
        if self._executor is None:
            raise JournalError(f"order journal {self._path} is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._load_unpublished_sync)

    def _load_unpublished_sync(self) -> list[tuple[InFlightOrder, list[TradeUpdate]]]:
        conn = self._conn
        assert conn is not None
        owners = "SELECT DISTINCT client_order_id FROM fills WHERE published = 0"
        rows = conn.execute(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE client_order_id IN ({owners})"
                            " ORDER BY creation_timestamp").fetchall()
        orders = {row[0]: _order_from_row(row) for row in rows}
        unpublished: dict[str, list[TradeUpdate]] = {cid: [] for cid in orders}
        fill_rows = conn.execute(f"SELECT {_FILL_COLUMNS}, published FROM fills WHERE client_order_id IN ({owners})"
                                 " ORDER BY fill_timestamp").fetchall()
        for row in fill_rows:
            fill = _fill_from_row(row)
            order = orders.get(fill.client_order_id)
            if order is None:
                continue
            order.apply_trade_update(fill)
            if not row[-1]:
                unpublished[fill.client_order_id].append(fill)
        return [(order, unpublished[cid]) for cid, order in orders.items() if unpublished[cid]]

    def iter_fills(self, *, published: bool | None = None) -> Iterator[TradeUpdate]:
        """Every fill in the file, oldest first (synchronous, like :meth:`iter_orders`); ``published``: only
        those whose event was (True) or was not yet (False) published."""
        where = "" if published is None else f" WHERE published = {int(published)}"
        for row in self._read(lambda _conn: f"SELECT {_FILL_COLUMNS} FROM fills{where} ORDER BY fill_timestamp"):
            yield _fill_from_row(row)

    def _read(self, query: Callable[[sqlite3.Connection], str]) -> Iterator[Sequence[Any]]:
        if not self._path.exists():
            raise JournalError(f"order journal {self._path} does not exist")
        try:
            conn = sqlite3.connect(self._path)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read order journal {self._path}: {exc}") from exc
        try:
            yield from conn.execute(query(conn))
        except sqlite3.Error as exc:  # not a journal, or damaged
            raise JournalError(f"cannot read order journal {self._path}: {exc}") from exc
        finally:
            conn.close()
