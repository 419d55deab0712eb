"""`run_backtest`: one configured strategy over recorded data, in virtual time, to a `BacktestResult`.

The run happens inside a `VirtualTimeEventLoop` that starts at the first event's receive time. A feeder
coroutine walks the merged event stream: it sleeps (in virtual time) until each event is due, hands it to
the `SimulatedVenue` (queue model, passive fills, oracle), which forwards it to the `BacktestConnector`
after the market-data latency. At every whole hour the venue pays funding. The strategy is the one
``wingbeat run`` builds, ticked by the same `Clock` on the virtual clock. When the data ends (or the
strategy finishes) the strategy is stopped as in a live run: its orders are cancelled, through the venue.
Nothing reads the wall clock except to report ``wall_seconds``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import orjson

from wingbeat.backtest.connector import BacktestConnector
from wingbeat.backtest.market_data import BookUpdate, MarketEvent, data_files, file_hour_ns, read_events
from wingbeat.backtest.settings import BacktestConfig
from wingbeat.backtest.venue import LatencyModel, SimulatedVenue
from wingbeat.core.events import (
    EventListener,
    FundingPaymentEvent,
    OrderCreatedEvent,
    OrderFilledEvent,
)
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.engine.clock import Clock
from wingbeat.engine.market_maker import MarketMakerStrategy
from wingbeat.engine.strategy import Strategy
from wingbeat.engine.twap import TwapExecutor
from wingbeat.engine.virtual_time import VirtualTimeEventLoop, now
from wingbeat.hyperliquid.constants import trading_pair_to_coin
from wingbeat.sim.venue.markets import DEFAULT_MARKETS, MarketConfig

__all__ = ["BacktestResult", "EquityPoint", "build_strategy", "market_configs", "run_backtest"]

_logger = logging.getLogger("wingbeat.backtest.replay")
_HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """One sample of the account: virtual time (s since epoch), equity, position, recorded mid."""

    t: float
    equity: Decimal
    position: Decimal
    price: Decimal


@dataclass(slots=True)
class BacktestResult:
    """Everything a report needs; all but ``wall_seconds`` is the same on every run of the same input."""

    strategy: str
    trading_pair: str
    start: float
    end: float
    initial_balance: Decimal
    final_equity: Decimal = Decimal(0)
    events: int = 0
    gaps: int = 0
    refused: int = 0
    stop_reason: str = "data ended"
    fills: list[OrderFilledEvent] = field(default_factory=list)
    orders: list[InFlightOrder] = field(default_factory=list)
    funding: list[FundingPaymentEvent] = field(default_factory=list)
    equity: list[EquityPoint] = field(default_factory=list)
    wall_seconds: float = 0.0


class _Collector(EventListener):
    """Keeps the connector's fills, orders and funding payments for the report."""

    def __init__(self, connector: BacktestConnector, result: BacktestResult) -> None:
        self._connector = connector
        self._result = result

    def on_order_created(self, event: OrderCreatedEvent) -> None:
        order = self._connector.get_order(event.client_order_id)
        if order is not None:
            self._result.orders.append(order)

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        self._result.fills.append(event)

    def on_funding_payment(self, event: FundingPaymentEvent) -> None:
        self._result.funding.append(event)


def _infer_sz_decimals(event: BookUpdate) -> int:
    places = 0
    for _, sz in itertools.chain(event.bids, event.asks):
        exponent = sz.normalize().as_tuple().exponent
        if isinstance(exponent, int):
            places = max(places, -exponent)
    return min(places, 6)


def market_configs(
    root: Path, coins: Sequence[str], first_books: dict[str, BookUpdate]
) -> list[MarketConfig]:
    """The markets of ``coins``: a recording's ``meta.json``, else the built-in markets, else inferred from
    the first book (size decimals from its sizes, max leverage 20); start price the first recorded mid."""
    meta: dict[str, tuple[int, int]] = {}  # coin -> (szDecimals, maxLeverage)
    path = root / "meta.json"
    if path.is_file():
        for asset in orjson.loads(path.read_bytes()).get("universe", []):
            if not isinstance(asset, dict):
                continue
            name, sz, lev = asset.get("name"), asset.get("szDecimals"), asset.get("maxLeverage")
            if isinstance(name, str) and isinstance(sz, int) and isinstance(lev, int):
                meta[name] = (sz, lev)
    known = {m.name: m for m in DEFAULT_MARKETS}
    out = []
    for coin in coins:
        book = first_books.get(coin)
        if book is None:
            raise ValueError(f"no l2Book data for {coin} in {root}")
        start = Decimal(f"{(book.bids[0][0] + book.asks[0][0]) / 2:.5g}")
        if coin in meta:
            sz, lev = meta[coin]
        elif coin in known:
            sz, lev = known[coin].sz_decimals, known[coin].max_leverage
        else:
            sz, lev = _infer_sz_decimals(book), 20
        out.append(MarketConfig(name=coin, sz_decimals=sz, max_leverage=lev, start_price=start))
    return out


def build_strategy(cfg: BacktestConfig, connector: BacktestConnector) -> Strategy:
    """The strategy ``wingbeat run`` would build from the same configuration."""
    run = cfg.run
    if run.market_maker is not None:
        return MarketMakerStrategy(connector, run.market_maker, risk=run.risk)
    if run.twap is not None:
        return TwapExecutor(connector, run.twap, risk=run.risk)
    raise ValueError("the configuration has no strategy")


def _first_books(
    events: Iterator[MarketEvent], coins: Sequence[str]
) -> tuple[list[MarketEvent], dict[str, BookUpdate]]:
    """Read ahead until every coin has a two-sided book (or the data ends); returns what was read."""
    seen: list[MarketEvent] = []
    books: dict[str, BookUpdate] = {}
    for event in events:
        seen.append(event)
        if isinstance(event, BookUpdate) and event.bids and event.asks and event.coin not in books:
            books[event.coin] = event
            if len(books) == len(coins):
                break
    return seen, books


def run_backtest(
    cfg: BacktestConfig,
    data: Path,
    *,
    start_ns: int | None = None,
    end_ns: int | None = None,
    progress: Callable[[float, int], None] | None = None,
) -> BacktestResult:
    """Replay ``data`` (a recording or an archive root) through the configured strategy.

    ``progress(fraction_done, events)`` is called every few thousand events. Raises ValueError when the
    data holds nothing for the strategy's pair."""
    wall = time.perf_counter()
    pairs = cfg.trading_pairs
    coins = [trading_pair_to_coin(p) for p in pairs]
    events = read_events(data, coins, start_ns, end_ns)
    head, books = _first_books(events, coins)
    if not head:
        raise ValueError(f"no data for {', '.join(coins)} in {data}")
    markets = market_configs(data, coins, books)
    first_ns = head[0].t_ns
    loop = VirtualTimeEventLoop(epoch=first_ns / 1e9)
    result = BacktestResult(
        strategy="",
        trading_pair=cfg.strategy_pair,
        start=first_ns / 1e9,
        end=first_ns / 1e9,
        initial_balance=cfg.settings.initial_balance,
    )
    snapshot_only = frozenset(coins) if (data / "market_data").is_dir() else frozenset()
    if end_ns is None:
        hours = [
            h
            for paths in data_files(data, coins, start_ns).values()
            for p in paths
            if (h := file_hour_ns(p)) is not None
        ]
        span = (max(hours) + 3_600_000_000_000 - first_ns) / 1e9 if hours else None
    else:
        span = (end_ns - first_ns) / 1e9
    try:
        loop.run_until_complete(
            _replay(cfg, markets, itertools.chain(head, events), result, snapshot_only, progress, span)
        )
    finally:
        loop.close()
    result.wall_seconds = time.perf_counter() - wall
    return result


async def _replay(
    cfg: BacktestConfig,
    markets: Sequence[MarketConfig],
    events: Iterator[MarketEvent],
    result: BacktestResult,
    snapshot_only: frozenset[str],
    progress: Callable[[float, int], None] | None,
    span: float | None,
) -> None:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualTimeEventLoop)
    s = cfg.settings
    venue = SimulatedVenue(
        markets,
        clock_ms=lambda: int(now() * 1000),
        seed=s.seed,
        initial_balance=s.initial_balance,
        maker_fee=s.maker_fee,
        taker_fee=s.taker_fee,
        funding_rate=s.funding_rate,
        latency=LatencyModel(
            order_entry=s.order_latency_ms / 1000, market_data=s.market_data_latency_ms / 1000
        ),
        snapshot_only=snapshot_only,
    )
    connector = BacktestConnector(venue, cfg.trading_pairs)
    connector.add_listener(_Collector(connector, result))
    await connector.start()
    strategy = build_strategy(cfg, connector)
    result.strategy = type(strategy).__name__
    coin = trading_pair_to_coin(cfg.strategy_pair)
    clock = Clock(cfg.run.engine.tick_interval, time_fn=now)
    clock.add(strategy)
    sample_every = s.sample_interval
    next_sample = 0.0
    next_funding_ms = (int(loop.epoch * 1000) // _HOUR_MS + 1) * _HOUR_MS
    epoch = loop.epoch

    def sample() -> None:
        mid = venue.mid(coin)
        if mid is not None:
            result.equity.append(EquityPoint(now(), venue.equity(), venue.position(coin), mid))

    await strategy.start()
    clock.start()
    count = 0
    try:
        for event in events:
            due = event.t_ns / 1e9 - epoch
            while next_funding_ms / 1000 - epoch <= due:
                await asyncio.sleep(next_funding_ms / 1000 - epoch - loop.time())
                venue.pay_funding(next_funding_ms)
                next_funding_ms += _HOUR_MS
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            venue.apply(event)
            count += 1
            if loop.time() >= next_sample:
                sample()
                next_sample = loop.time() + sample_every
            if progress is not None and count % 2000 == 0:
                progress(min(1.0, loop.time() / span) if span else 0.0, count)
            if strategy.done.is_set():
                result.stop_reason = (
                    f"kill switch: {strategy.kill_reason}" if strategy.kill_reason else "strategy finished"
                )
                break
        # let answers and fills in flight arrive before stopping
        await asyncio.sleep(2 * venue.latency.order_entry + venue.latency.market_data)
    finally:
        await clock.stop()
        await strategy.stop()
        await asyncio.sleep(venue.latency.market_data)
        sample()
        await connector.stop()
    result.events = count
    result.end = now()
    result.final_equity = venue.equity()
    result.gaps = venue.gaps
    result.refused = strategy.refused_count
    if progress is not None:
        progress(1.0, count)
