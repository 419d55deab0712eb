"""`SimulatedVenue`: the local exchange's venue engine fed with recorded market data, in virtual time.

The `ExchangeEngine` holds our account and our orders and does everything the exchange does with them
(tick and lot rules, margin, matching, fees, positions, funding, liquidation). The recorded market is not
in the engine's book; it enters in two ways, both through the engine's public actions:

- **taking**: an order of ours that crosses the recorded book is matched against it: the recorded levels
  it reaches are placed as resting orders of a liquidity account just before ours and cancelled right
  after, so the engine fills us level by level at recorded prices, as a taker;
- **passive fills**: `QueueModel` decides when a resting order of ours fills (see `fill_model`); the fill
  is then executed by an immediate-or-cancel order of a liquidity account at our price, so we fill as a
  maker at our price.

The two liquidity accounts are primed at the first book of each coin with opposite positions of a huge
size; they trade reduce-only (which the engine exempts from the $10 minimum, so partial fills of any lot
size go through) and never run out. Their fills and funding are not ours and are not reported.

Latency: an action travels ``order_entry`` seconds to the venue and its answer as long back; market data,
fills and order updates reach the connector ``market_data`` seconds after the venue saw them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wingbeat.backtest.fill_model import QueueModel
from wingbeat.backtest.market_data import (
    AssetCtxUpdate,
    BboUpdate,
    BookUpdate,
    DataGap,
    Level,
    MarketEvent,
    TradesUpdate,
)
from wingbeat.sim.venue.engine import ExchangeEngine
from wingbeat.sim.venue.markets import MarketConfig
from wingbeat.sim.venue.state_views import clearinghouse_state
from wingbeat.sim.venue.types import (
    EngineError,
    EngineEvent,
    FillsEvent,
    FundingEvent,
    LiquidationEvent,
    OrderRequest,
)

__all__ = ["DEFAULT_FUNDING_RATE", "USER", "LatencyModel", "SimulatedVenue"]

_logger = logging.getLogger("wingbeat.backtest.venue")

USER = "0x" + "ba" * 20
"""The backtested account."""
_LONG = "0x" + "11" * 20  # long inventory: sells to our bids, offers the recorded asks
_SHORT = "0x" + "22" * 20  # short inventory: buys from our asks, bids the recorded bids
_BIG_FUNDS = Decimal(10) ** 15
_INVENTORY_NOTIONAL = Decimal(10) ** 12
_TWO = Decimal(2)
_ACCOUNT_EVENTS = (FillsEvent, FundingEvent, LiquidationEvent)  # events that move our positions or margin
DEFAULT_FUNDING_RATE = Decimal("0.0000125")
"""Hyperliquid's hourly funding rate with no premium (0.01% per 8 hours): used without recorded rates."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LatencyModel:
    """Delays in seconds: ``order_entry`` each way for orders and cancels, ``market_data`` from the venue
    to the strategy for books, trades, fills and order updates."""

    order_entry: float = 0.05
    market_data: float = 0.02

    def __post_init__(self) -> None:
        if not (0 <= self.order_entry < 60 and 0 <= self.market_data < 60):
            raise ValueError("latencies must be at least 0 and below 60 seconds")


class SimulatedVenue:
    """The venue side of a backtest: engine, recorded books, queue model, latency (see the module doc)."""

    def __init__(
        self,
        markets: Sequence[MarketConfig],
        *,
        clock_ms: Callable[[], int],
        seed: int = 0,
        initial_balance: Decimal = Decimal(100_000),
        maker_fee: Decimal = Decimal("0.00015"),
        taker_fee: Decimal = Decimal("0.00045"),
        latency: LatencyModel | None = None,
        funding_rate: Decimal | None = None,
        snapshot_only: frozenset[str] = frozenset(),
    ) -> None:
        self.engine = ExchangeEngine(
            markets,
            seed=seed,
            clock=clock_ms,
            maker_fee=maker_fee,
            taker_fee=taker_fee,
            funding_interval_ms=10**15,
        )  # funding: pay_funding
        self.latency = latency or LatencyModel()
        self.funding_override = funding_rate
        self.initial_balance = initial_balance
        self.engine.fund(USER, initial_balance)
        for user in (_LONG, _SHORT):
            self.engine.fund(user, _BIG_FUNDS)
        self._account = self.engine.accounts[USER]
        self._assets = {m.name: i for i, m in enumerate(markets)}
        self._queues = {m.name: QueueModel(snapshot_only=m.name in snapshot_only) for m in markets}
        self._books: dict[str, tuple[list[Level], list[Level]]] = {}
        self._funding: dict[str, Decimal] = {}
        self._has_ctx: set[str] = set()
        self._primed: set[str] = set()
        self.on_market_data: Callable[[MarketEvent], None] | None = None
        """Set by the connector: receives every market event, ``market_data`` seconds late."""
        self.on_user_event: Callable[[EngineEvent], None] | None = None
        """Set by the connector: receives our engine events, ``market_data`` seconds late."""
        self.on_account_state: Callable[[dict[str, Any]], None] | None = None
        """Set by the connector: our ``clearinghouseState`` as the venue had it right after each of our
        fills, funding payments and liquidations, delivered with (just after) that event, as Hyperliquid's
        clearinghouseState channel pushes it: a state read at delivery would already hold the fills still
        on their way to the connector."""
        self.gaps = 0
        self.passive_fills = 0
        self.engine.subscribe(self._on_engine_event)

    # -- state ----------------------------------------------------------------------------------------

    def equity(self) -> Decimal:
        """Our account value at the engine's marks (balance + unrealised PnL)."""
        return self._account.account_value(self.engine.marks)

    def position(self, coin: str) -> Decimal:
        """Our signed position in ``coin``."""
        return self._account.szi(self._assets[coin])

    def mid(self, coin: str) -> Decimal | None:
        """The recorded book's mid price."""
        book = self._books.get(coin)
        if not book or not book[0] or not book[1]:
            return None
        return (book[0][0][0] + book[1][0][0]) / _TWO

    def funding_rate(self, coin: str) -> Decimal:
        """The rate paid at the next hour: configured, else the last recorded, else the default."""
        if self.funding_override is not None:
            return self.funding_override
        return self._funding.get(coin, DEFAULT_FUNDING_RATE)

    # -- market data ----------------------------------------------------------------------------------

    def apply(self, event: MarketEvent) -> None:
        """Apply one recorded event at the current virtual time, then pass it on to the connector."""
        coin = event.coin
        if coin not in self._assets:
            return
        if isinstance(event, BookUpdate):
            self._on_book(event)
        elif isinstance(event, TradesUpdate):
            self._drop_gone(coin)
            self._execute(coin, self._queues[coin].on_trades(event.trades))
        elif isinstance(event, BboUpdate):
            self._drop_gone(coin)
            self._execute(coin, self._queues[coin].on_top(event.bid, event.ask))
        elif isinstance(event, AssetCtxUpdate):
            self._has_ctx.add(coin)
            self._funding[coin] = event.funding
            self._set_oracle(coin, event.oracle_px)
        elif isinstance(event, DataGap):
            self.gaps += 1
            _logger.info("data gap on %s: %.1f s without data", coin, (event.t_ns - event.since_ns) / 1e9)
        sink = self.on_market_data
        if sink is not None:
            asyncio.get_running_loop().call_later(self.latency.market_data, sink, event)

    def _on_book(self, event: BookUpdate) -> None:
        coin = event.coin
        if not event.bids or not event.asks or event.bids[0][0] >= event.asks[0][0]:
            return  # a one-sided or crossed snapshot tells nothing we can trade on
        self._books[coin] = (event.bids, event.asks)
        mid = (event.bids[0][0] + event.asks[0][0]) / _TWO
        if coin not in self._primed:
            self._prime(coin, mid)
        if coin not in self._has_ctx:
            self._set_oracle(coin, mid)
        self._drop_gone(coin)
        self._execute(coin, self._queues[coin].on_book(event.bids, event.asks))
        self.engine.advance()

    def _set_oracle(self, coin: str, px: Decimal) -> None:
        try:
            self.engine.set_oracle_price(coin, px)
        except EngineError as exc:
            _logger.warning("oracle price %s of %s refused: %s", px, coin, exc)

    def _prime(self, coin: str, mid: Decimal) -> None:
        """Give the liquidity accounts their opposite inventories at the first recorded mid."""
        self._primed.add(coin)
        m = self.engine.market(coin)
        assert m is not None
        px = Decimal(f"{mid:.5g}")
        self._set_oracle(coin, px)
        size = (_INVENTORY_NOTIONAL / px).quantize(Decimal(1))
        asset = self._assets[coin]
        rest = self.engine.place_orders(_SHORT, [OrderRequest(asset, False, px, size, False, "Gtc")])
        take = self.engine.place_orders(_LONG, [OrderRequest(asset, True, px, size, False, "Ioc")])
        if "resting" not in rest[0] or "filled" not in take[0]:
            raise RuntimeError(f"could not prime the liquidity of {coin}: {rest} {take}")

    def _drop_gone(self, coin: str) -> None:
        queue = self._queues[coin]
        open_orders = self._account.open_orders
        for oid in [oid for oid in queue.orders if oid not in open_orders]:
            queue.remove(oid)

    def _execute(self, coin: str, fills: list[tuple[int, Decimal]]) -> None:
        """Carry out the queue model's passive fills in the engine."""
        asset = self._assets[coin]
        queue = self._queues[coin]
        for oid, size in fills:
            order = self._account.open_orders.get(oid)
            if order is None:
                queue.remove(oid)
                continue
            size = min(size, order.sz)
            taker = _LONG if order.is_buy else _SHORT
            status = self.engine.place_orders(
                taker, [OrderRequest(asset, not order.is_buy, order.limit_px, size, True, "Ioc")]
            )[0]
            if "filled" in status:
                self.passive_fills += 1
            else:
                _logger.warning("passive fill of %s %s refused by the engine: %s", oid, size, status)
            left = self._account.open_orders.get(oid)
            tracked = queue.orders.get(oid)
            if left is None:
                queue.remove(oid)
            elif tracked is not None:
                tracked.remaining = left.sz

    # -- actions (awaited by the connector; each way takes the order-entry latency) --------------------

    async def place(self, requests: Sequence[OrderRequest]) -> list[Any]:
        """Place our orders; the engine's statuses, as Hyperliquid answers them."""
        await asyncio.sleep(self.latency.order_entry)
        statuses = [self._place_one(req) for req in requests]
        await asyncio.sleep(self.latency.order_entry)
        return statuses

    def _place_one(self, req: OrderRequest) -> Any:
        coin = self.engine.markets[req.asset].coin if 0 <= req.asset < len(self.engine.markets) else None
        liquidity = self._add_liquidity(coin, req) if coin is not None else []
        try:
            status = self.engine.place_orders(USER, [req])[0]
        finally:
            if liquidity:
                self._remove_liquidity(liquidity)
        if coin is not None and isinstance(status, dict) and "resting" in status:
            oid = status["resting"]["oid"]
            order = self._account.open_orders.get(oid)
            if order is not None:
                self._queues[coin].add(oid, order.is_buy, order.limit_px, order.sz)
        return status

    def _add_liquidity(self, coin: str, req: OrderRequest) -> list[tuple[str, int]]:
        """Rest the recorded levels ``req`` would reach, as the liquidity accounts' orders."""
        book = self._books.get(coin)
        if book is None or req.trigger is not None:
            return []
        levels = book[1] if req.is_buy else book[0]
        maker = _LONG if req.is_buy else _SHORT
        wanted = req.size
        orders: list[OrderRequest] = []
        for px, sz in levels:
            if (px > req.price) if req.is_buy else (px < req.price):
                break
            orders.append(OrderRequest(req.asset, not req.is_buy, px, sz, True, "Gtc"))
            wanted -= sz
            if wanted <= 0:
                break
        if not orders:
            return []
        placed = []
        for status in self.engine.place_orders(maker, orders):
            if isinstance(status, dict) and "resting" in status:
                placed.append((maker, int(status["resting"]["oid"])))
        return placed

    def _remove_liquidity(self, placed: list[tuple[str, int]]) -> None:
        by_maker: dict[str, list[tuple[int, int]]] = {}
        for maker, oid in placed:
            order = self.engine.accounts[maker].open_orders.get(oid)
            if order is not None:
                by_maker.setdefault(maker, []).append((order.asset, oid))
        for maker, cancels in by_maker.items():
            self.engine.cancel(maker, cancels)

    async def modify(self, modifies: Sequence[tuple[str, OrderRequest]]) -> list[Any]:
        """Replace our orders by cloid as Hyperliquid's batchModify does (the old one cancelled, the new one,
        same cloid, at the back of its level); the engine's statuses."""
        await asyncio.sleep(self.latency.order_entry)
        statuses = [self._modify_one(cloid, req) for cloid, req in modifies]
        await asyncio.sleep(self.latency.order_entry)
        return statuses

    def _modify_one(self, cloid: str, req: OrderRequest) -> Any:
        coin = self.engine.markets[req.asset].coin if 0 <= req.asset < len(self.engine.markets) else None
        liquidity = self._add_liquidity(coin, req) if coin is not None else []
        try:
            status = self.engine.batch_modify(USER, [(cloid, req)])[0]
        finally:
            if liquidity:
                self._remove_liquidity(liquidity)
        if coin is not None:
            self._drop_gone(coin)  # the replaced order left its queue
            if isinstance(status, dict) and "resting" in status:
                order = self._account.open_orders.get(status["resting"]["oid"])
                if order is not None:
                    self._queues[coin].add(order.oid, order.is_buy, order.limit_px, order.sz)
        return status

    async def cancel(self, cancels: Sequence[tuple[int, str]]) -> list[Any]:
        """Cancel our orders by ``(asset, cloid)``; the engine's statuses."""
        await asyncio.sleep(self.latency.order_entry)
        statuses = self.engine.cancel_by_cloid(USER, cancels)
        for asset in {a for a, _ in cancels if 0 <= a < len(self.engine.markets)}:
            self._drop_gone(self.engine.markets[asset].coin)
        await asyncio.sleep(self.latency.order_entry)
        return statuses

    async def update_leverage(self, asset: int, is_cross: bool, leverage: int) -> None:
        """Set our leverage on ``asset`` (EngineError with the exchange's text)."""
        await asyncio.sleep(self.latency.order_entry)
        self.engine.update_leverage(USER, asset, is_cross, leverage)
        await asyncio.sleep(self.latency.order_entry)

    # -- funding --------------------------------------------------------------------------------------

    def pay_funding(self, time_ms: int) -> None:
        """The hourly funding of every coin at ``time_ms``."""
        for coin in self._assets:
            if coin in self._primed:
                self.engine.pay_funding(coin, self.funding_rate(coin), time_ms)

    # -- our events, to the connector --------------------------------------------------------------------

    def _on_engine_event(self, event: EngineEvent) -> None:
        if getattr(event, "user", None) != USER:
            return
        state = None
        if self.on_account_state is not None and isinstance(event, _ACCOUNT_EVENTS):
            state = clearinghouse_state(self.engine, USER)  # now, at venue time: what the event left
        asyncio.get_running_loop().call_later(self.latency.market_data, self._deliver, event, state)

    def _deliver(self, event: EngineEvent, state: dict[str, Any] | None) -> None:
        """One callback for an event and its account state, so the state never overtakes the event."""
        sink = self.on_user_event
        if sink is not None:
            sink(event)
        state_sink = self.on_account_state
        if state is not None and state_sink is not None:
            state_sink(state)
