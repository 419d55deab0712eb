"""The exchange's truth about one account, recorded at the venue, and every way a connector disagrees with it.

:class:`VenueRecorder` hooks the local exchange's engine (the test double, never the connector): it sees
every order request and every fill of the watched accounts as the venue applies them, so a resent order
(the same cloid submitted twice) and a fill counted twice or never are caught even when the venue's own
history was pruned. :func:`divergences` compares a connector's orders, fills, position and balance with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.conformance.recorder import assert_legal_order_events
from wingbeat.core.events import Event, EventListener, OrderFilledEvent
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_state import OrderState
from wingbeat.hyperliquid.connector import HyperliquidPerpetualConnector
from wingbeat.hyperliquid.constants import coin_to_trading_pair
from wingbeat.hyperliquid.schemas import parse_clearinghouse_state
from wingbeat.hyperliquid.user_stream_data_source import order_state_from_status
from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.types import EngineEvent, FillsEvent, OrderRequest

_ZERO = Decimal(0)
_RESTING = frozenset({OrderState.OPEN, OrderState.PARTIALLY_FILLED})


@dataclass(slots=True)
class VenueFill:
    """One fill of a watched account as the venue booked it."""

    user: str
    trade_id: str
    cloid: str | None
    coin: str
    size: Decimal
    fee: Decimal


@dataclass
class VenueRecorder:
    """Everything the venue did for the watched ``users`` (lowercase addresses)."""

    users: set[str]
    submissions: Counter[str] = field(
        default_factory=Counter
    )  # cloid -> times it reached the matching engine
    # (user, trade id) -> fill: both sides of a trade share its trade id
    fills: dict[tuple[str, str], VenueFill] = field(default_factory=dict)
    duplicate_fill_ids: list[str] = field(default_factory=list)
    first_seen: dict[str, float] = field(
        default_factory=dict
    )  # cloid -> time.time() it first reached the engine

    @classmethod
    def attach(cls, exchange: LocalExchange, users: Iterable[str]) -> VenueRecorder:
        """Start recording on ``exchange`` (wraps its engine's ``place_orders``, subscribes to its events)."""
        recorder = cls({u.lower() for u in users})
        engine = exchange.engine
        place: Callable[..., list[Any]] = engine.place_orders

        def counting_place(
            user: str, orders: Any, grouping: str = "na", builder: tuple[str, int] | None = None
        ) -> list[Any]:
            if user.lower() in recorder.users:
                for request in orders:
                    if isinstance(request, OrderRequest) and request.cloid is not None:
                        cloid = request.cloid.lower()
                        recorder.submissions[cloid] += 1
                        recorder.first_seen.setdefault(cloid, time.time())
            return place(user, orders, grouping, builder)

        engine.place_orders = counting_place  # type: ignore[method-assign]
        engine.subscribe(recorder._on_event)
        return recorder

    def _on_event(self, event: EngineEvent) -> None:
        if not isinstance(event, FillsEvent) or event.user.lower() not in self.users:
            return
        user = event.user.lower()
        for raw in event.fills:
            trade_id = str(raw["tid"])
            if (user, trade_id) in self.fills:
                self.duplicate_fill_ids.append(trade_id)
            cloid = raw.get("cloid")
            self.fills[user, trade_id] = VenueFill(
                user,
                trade_id,
                cloid.lower() if isinstance(cloid, str) else None,
                str(raw["coin"]),
                Decimal(str(raw["sz"])),
                Decimal(str(raw["fee"])),
            )

    def fills_by_cloid(self, user: str) -> dict[str, list[VenueFill]]:
        """The recorded fills of ``user`` grouped by cloid (fills without a cloid are left out)."""
        grouped: dict[str, list[VenueFill]] = defaultdict(list)
        for fill in self.fills.values():
            if fill.cloid is not None and fill.user == user:
                grouped[fill.cloid].append(fill)
        return grouped


class EventLog(EventListener):
    """Every event a connector published, by order, and every fill in order (duplicates included: that is
    what is checked); ``changed`` is set on every event."""

    def __init__(self) -> None:
        self.fills: list[OrderFilledEvent] = []
        self.by_order: dict[str, list[Event]] = defaultdict(list)
        self.changed = asyncio.Event()

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        self.fills.append(event)
        self._any(event)

    def _any(self, event: Event) -> None:
        cid = getattr(event, "client_order_id", None)
        if isinstance(cid, str):
            self.by_order[cid].append(event)
        self.changed.set()

    on_order_created = _any
    on_order_partially_filled = _any
    on_order_completed = _any
    on_order_cancelled = _any
    on_order_failed = _any
    on_order_expired = _any


def venue_state(exchange: LocalExchange, user: str, cloid: str) -> OrderState | None:
    """The venue's state of the order ``cloid`` (None: the venue never saw it)."""
    answer = handle_info(exchange.engine, {"type": "orderStatus", "user": user, "oid": cloid})
    if answer.get("status") != "order":
        return None
    return order_state_from_status(str(answer["order"]["status"]))


def _same_state(ours: OrderState, venue: OrderState | None) -> bool:
    if venue is None:  # never reached the venue: only a definite failure or a local cancel is right
        return ours in (OrderState.FAILED, OrderState.CANCELED)
    if venue is OrderState.OPEN:
        return ours in _RESTING
    if venue is OrderState.CANCELED:  # an IOC remainder is EXPIRED for us, CANCELED for Hyperliquid
        return ours in (OrderState.CANCELED, OrderState.EXPIRED)
    return ours is venue


def divergences(
    connector: HyperliquidPerpetualConnector,
    exchange: LocalExchange,
    recorder: VenueRecorder,
    orders: Mapping[str, InFlightOrder],
    event_log: EventLog,
) -> list[str]:
    """Every way ``connector`` (whose placed orders are ``orders``, by cid) disagrees with the venue."""
    user = connector.account_address
    engine = exchange.engine
    account = engine.accounts[user]
    problems: list[str] = []
    unknown = [c for c in account.cloids if c not in orders]
    if unknown:
        problems.append(
            f"{len(unknown)} order(s) on the exchange unknown to the connector, e.g. {unknown[:3]}"
        )
    resent = [c for c, n in recorder.submissions.items() if n > 1 and c in orders]
    if resent:
        problems.append(f"{len(resent)} order(s) sent twice, e.g. {resent[:3]}")
    if recorder.duplicate_fill_ids:
        problems.append(f"venue booked trade ids twice: {recorder.duplicate_fill_ids[:3]}")
    venue_fills = recorder.fills_by_cloid(user)
    for cid, order in orders.items():
        state = venue_state(exchange, user, cid)
        if state is None and recorder.submissions.get(cid) and order.current_state.is_final:
            # it reached the engine and finished, then aged out of the venue's order history (HISTORY_LIMIT
            # finished orders, makers' included): its fills are still compared below
            pass
        elif not _same_state(order.current_state, state):
            problems.append(f"{cid}: connector {order.current_state.name}, exchange {state and state.name}")
        fills = venue_fills.get(cid, [])
        size = sum((f.size for f in fills), _ZERO)
        fee = sum((f.fee for f in fills), _ZERO)
        if order.executed_amount_base != size:
            problems.append(f"{cid}: executed {order.executed_amount_base}, exchange filled {size}")
        paid = sum(order.cumulative_fee_paid.values(), _ZERO)
        if paid != fee:
            problems.append(f"{cid}: fees {paid}, exchange charged {fee}")
    for cid, order in orders.items():
        if order.amount.is_finite():  # (a refused order may have no amount at all)
            try:
                assert_legal_order_events(event_log.by_order.get(cid, []), order.amount)
            except AssertionError as exc:
                problems.append(f"{cid}: illegal event sequence: {exc}")
    published = Counter(f.trade_id for f in event_log.fills)
    twice = [t for t, n in published.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} fill(s) published twice, e.g. {twice[:3]}")
    ours = {t for f in venue_fills.values() for t in (x.trade_id for x in f)}
    missing = ours - set(published)
    if missing:
        problems.append(f"{len(missing)} fill(s) never published, e.g. {sorted(missing)[:3]}")
    problems += account_divergences(connector, exchange)
    return problems


def account_divergences(connector: HyperliquidPerpetualConnector, exchange: LocalExchange) -> list[str]:
    """Positions and balance of ``connector`` against the venue's ``clearinghouseState`` now."""
    user = connector.account_address
    state = parse_clearinghouse_state(
        handle_info(exchange.engine, {"type": "clearinghouseState", "user": user})
    )
    problems: list[str] = []
    venue_positions = {coin_to_trading_pair(p.coin): p.szi for p in state.positions if p.szi}
    ours = {pair: p.amount for pair, p in connector.account_positions.items()}
    if ours != venue_positions:
        problems.append(f"positions {ours} != exchange {venue_positions}")
    if connector.get_balance("USDC") != state.margin_summary.account_value:
        problems.append(
            f"balance {connector.get_balance('USDC')} != exchange {state.margin_summary.account_value}"
        )
    return problems


class VenueRequests:
    """The ``/exchange`` requests the exchange is still working on (see :func:`count_venue_requests`)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.finished = 0
        self._changed = asyncio.Condition()

    async def wait_until(self, predicate: Callable[[VenueRequests], bool]) -> None:
        """Until ``predicate(self)`` holds (checked whenever a request starts or finishes)."""
        async with self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def wait_finished(self, count: int = 1) -> None:
        """Until ``count`` requests have finished (applied or refused) since the start."""
        await self.wait_until(lambda r: r.finished >= count)

    async def wait_idle(self) -> None:
        """Until no request is in flight."""
        await self.wait_until(lambda r: r.in_flight == 0)

    async def _count(self, started: int, finished: int) -> None:
        self.in_flight += started - finished
        self.finished += finished
        async with self._changed:
            self._changed.notify_all()


def count_venue_requests(exchange: LocalExchange) -> VenueRequests:
    """Count the (not yet started) exchange's ``/exchange`` requests in flight and finished. The
    exchange carries out a request whose client went away, as Hyperliquid does: a request held past
    the client's deadline is still applied - or refused, once past its ``expiresAfter``."""
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]] = exchange._exchange
    requests = VenueRequests()

    async def counted(request: web.Request) -> web.StreamResponse:
        await requests._count(1, 0)
        try:
            return await handler(request)
        finally:
            await requests._count(0, 1)

    exchange._exchange = counted  # type: ignore[assignment, method-assign]
    return requests


class LogWatch(logging.Handler):
    """Collects warnings and errors of the ``wingbeat`` loggers; ``unexpected`` are errors and tracebacks."""

    def __init__(self, expected: Callable[[logging.LogRecord], bool] = lambda r: False) -> None:
        super().__init__(logging.WARNING)
        self.warnings: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self._expected = expected

    def emit(self, record: logging.LogRecord) -> None:
        self.warnings[record.name] += 1
        if (record.levelno >= logging.ERROR or record.exc_info) and not self._expected(record):
            self.unexpected.append(f"{record.name}: {record.getMessage()[:300]}")

    def __enter__(self) -> LogWatch:
        logging.getLogger("wingbeat").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("wingbeat").removeHandler(self)
