"""`BacktestConnector`: the connector API strategies use, on a `SimulatedVenue` in virtual time.

A `PerpetualConnectorBase` like the Hyperliquid connector, so a strategy cannot tell the two apart: the
same order entry (track before submit, batching per loop tick), the same events, an `OrderBookTracker`
view of the books, positions and balances from ``clearinghouseState``, funding info from
``activeAssetCtx``. What the Hyperliquid connector sends over the network goes to the venue's actions
(which take the order-entry latency each way); what it receives from the user stream comes from the
venue's engine events in Hyperliquid's websocket shapes, decoded by the same schema functions. Client
order ids are cloids numbered from 1, so runs are repeatable. No journal, no sockets, no wall clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from wingbeat.backtest.market_data import AssetCtxUpdate, BookUpdate, MarketEvent, TradesUpdate
from wingbeat.backtest.venue import USER, SimulatedVenue
from wingbeat.core.connector_base import PerpetualConnectorBase
from wingbeat.core.data_sources import (
    OrderBookEventSink,
    OrderBookSnapshot,
    OrderBookTrackerDataSource,
    PublicTrade,
)
from wingbeat.core.enums import TradeType
from wingbeat.core.errors import InvalidOrderError, NotReadyError
from wingbeat.core.events import PositionLiquidatedEvent
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.order_book import OrderBook
from wingbeat.core.order_book_tracker import OrderBookTracker
from wingbeat.core.order_updates import OrderUpdate
from wingbeat.core.positions import FundingInfo
from wingbeat.core.trading_rule import TradingRule
from wingbeat.engine.virtual_time import now
from wingbeat.hyperliquid.constants import coin_to_trading_pair, trading_pair_to_coin
from wingbeat.hyperliquid.order_book_data_source import next_funding_time
from wingbeat.hyperliquid.order_placement import (
    cancel_results,
    modify_results,
    modify_spec,
    order_spec,
    order_updates,
)
from wingbeat.hyperliquid.reconciliation import apply_venue_update, balance_from_state, positions_from_state
from wingbeat.hyperliquid.schemas_account import (
    parse_clearinghouse_state,
    parse_fill,
    parse_funding_payment,
    parse_order_status,
)
from wingbeat.hyperliquid.schemas_exchange import ExchangeReply, parse_action_status
from wingbeat.hyperliquid.schemas_ws import parse_order_updates
from wingbeat.hyperliquid.user_stream_data_source import (
    fill_to_position_fill,
    fill_to_trade_update,
    funding_to_event,
    order_update_from_status,
)
from wingbeat.hyperliquid.wire import LimitType, perp_trading_rule
from wingbeat.sim.protocol.info import handle_info
from wingbeat.sim.venue.types import (
    EngineEvent,
    FillsEvent,
    FundingEvent,
    LiquidationEvent,
    OrderRequest,
    OrderUpdatesEvent,
)

__all__ = ["BacktestConnector"]


class _ReplaySource(OrderBookTrackerDataSource):
    """The tracker's data source: the venue pushes recorded snapshots; there is no REST to ask."""

    snapshot_after_reconnect = False

    def __init__(self) -> None:
        self.sink: OrderBookEventSink | None = None

    async def get_snapshot(self, trading_pair: str) -> OrderBookSnapshot:
        raise NotReadyError("a backtest's books come from the recording only")

    async def get_funding_info(self, trading_pair: str) -> FundingInfo:
        raise NotReadyError("a backtest's funding info comes from the recording only")

    async def start(self, trading_pairs: Sequence[str], sink: OrderBookEventSink) -> None:
        self.sink = sink

    async def stop(self) -> None:
        self.sink = None


class BacktestConnector(PerpetualConnectorBase):
    """The connector of a backtest (see the module docstring); ``market_slippage`` prices MARKET orders."""

    name = "backtest"

    def __init__(
        self,
        venue: SimulatedVenue,
        trading_pairs: Sequence[str],
        *,
        market_slippage: Decimal = Decimal("0.05"),
    ) -> None:
        super().__init__(trading_pairs=trading_pairs, journal_path=None, clock=now, reconcile_interval=30.0)
        self._venue = venue
        self._source = _ReplaySource()
        self._books = OrderBookTracker(self._source, trading_pairs, name="backtest.books")
        self._cloids = itertools.count(1)
        self._market_slippage = market_slippage
        self._assets: dict[str, int] = {}
        engine = venue.engine
        for pair in trading_pairs:
            asset = engine.asset_index(trading_pair_to_coin(pair))
            if asset is None:
                raise ValueError(f"the backtest venue has no market for {pair}")
            self._assets[pair] = asset
        venue.on_market_data = self._on_market_data
        venue.on_user_event = self._on_user_event
        venue.on_account_state = self._on_account_state

    @property
    def account_address(self) -> str:
        """The backtested account's address on the simulated venue."""
        return USER

    @property
    def order_book_tracker(self) -> OrderBookTracker:
        """The books as the strategy sees them (``market_data`` latency behind the venue)."""
        return self._books

    def get_order_book(self, trading_pair: str) -> OrderBook:
        """The order book of ``trading_pair``."""
        return self._books.order_book(trading_pair)

    def get_funding_info(self, trading_pair: str) -> FundingInfo | None:
        """Funding info from the recorded ``activeAssetCtx`` (None without it)."""
        return self._books.funding_info(trading_pair)

    async def set_leverage(self, trading_pair: str, leverage: int) -> None:
        """Set cross leverage on the simulated venue."""
        await self._venue.update_leverage(self._assets[trading_pair], True, leverage)

    # -- hooks ----------------------------------------------------------------------------------------

    async def _start_network(self) -> None:
        await self._books.start()

    async def _stop_network(self) -> None:
        await self._books.stop()

    async def _update_trading_rules(self) -> Mapping[str, TradingRule]:
        engine = self._venue.engine
        rules = {}
        for pair, asset in self._assets.items():
            cfg = engine.markets[asset].cfg
            rules[pair] = perp_trading_rule(pair, cfg.sz_decimals, cfg.max_leverage)
        return rules

    async def _update_balances_and_positions(self) -> None:
        self._refresh_account()

    def _refresh_account(self) -> None:
        # at start only: nothing of ours is on its way yet, so the venue's state now is the one to adopt
        self._on_account_state(handle_info(self._venue.engine, {"type": "clearinghouseState", "user": USER}))

    def _on_account_state(self, raw: dict[str, Any]) -> None:
        """The venue's account state as of its ``time`` (venue time), as the live connector adopts pushes."""
        state = parse_clearinghouse_state(raw)
        self._set_positions(positions_from_state(state), state.time_ms)
        asset, total, available = balance_from_state(state)
        self._set_balance(asset, total, available)

    def _new_client_order_id(self, trade_type: TradeType, trading_pair: str) -> str:
        return f"0x{next(self._cloids):032x}"

    def _market_order_price(self, trading_pair: str, trade_type: TradeType, amount: Decimal) -> Decimal:
        book = self._books.order_book(trading_pair)
        is_buy = trade_type is TradeType.BUY
        reference = book.get_price_for_volume(is_buy, amount) or (book.best_ask if is_buy else book.best_bid)
        if reference is None:
            raise InvalidOrderError(f"no book for {trading_pair} yet")
        return reference * (1 + self._market_slippage if is_buy else 1 - self._market_slippage)

    async def _place_orders(self, orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate | None]:
        requests = []
        for order in orders:
            spec = order_spec(order, self._assets[order.trading_pair])
            tif = spec.order_type.tif if isinstance(spec.order_type, LimitType) else "Gtc"
            requests.append(
                OrderRequest(
                    spec.asset,
                    spec.is_buy,
                    spec.price,
                    spec.size,
                    spec.reduce_only,
                    tif,
                    cloid=order.client_order_id,
                )
            )
        statuses = await self._venue.place(requests)
        reply = ExchangeReply(
            ok=True, response_type="order", statuses=tuple(parse_action_status(s) for s in statuses)
        )
        return order_updates(orders, reply, self._clock())

    async def _place_modifies(self, orders: Sequence[InFlightOrder]) -> Sequence[OrderUpdate | str]:
        modifies = []
        for order in orders:
            spec = modify_spec(order, self._assets[order.trading_pair]).order
            tif = spec.order_type.tif if isinstance(spec.order_type, LimitType) else "Gtc"
            request = OrderRequest(spec.asset, spec.is_buy, spec.price, spec.size, spec.reduce_only, tif,
                                   cloid=order.client_order_id)
            modifies.append((order.client_order_id, request))
        statuses = await self._venue.modify(modifies)
        reply = ExchangeReply(
            ok=True, response_type="order", statuses=tuple(parse_action_status(s) for s in statuses)
        )
        return modify_results(orders, reply, self._clock())

    async def _place_cancels(self, orders: Sequence[InFlightOrder]) -> Sequence[bool | str]:
        statuses = await self._venue.cancel(
            [(self._assets[o.trading_pair], o.client_order_id) for o in orders]
        )
        reply = ExchangeReply(
            ok=True, response_type="cancel", statuses=tuple(parse_action_status(s) for s in statuses)
        )
        return cancel_results(len(orders), reply)

    async def _request_order_status(self, order: InFlightOrder) -> OrderUpdate | None:
        raw = handle_info(
            self._venue.engine, {"type": "orderStatus", "user": USER, "oid": order.client_order_id}
        )
        entry = parse_order_status(raw)
        return None if entry is None else order_update_from_status(entry)

    # -- what the venue sends (market_data latency late) ----------------------------------------------

    def _on_market_data(self, event: MarketEvent) -> None:
        source = self._books
        pair = coin_to_trading_pair(event.coin)
        if isinstance(event, BookUpdate):
            source.on_snapshot(
                OrderBookSnapshot(
                    trading_pair=pair, bids=event.bids, asks=event.asks, timestamp=event.t_ns / 1e9
                )
            )
        elif isinstance(event, TradesUpdate):
            source.on_trades(
                [
                    PublicTrade(
                        trading_pair=pair,
                        trade_id=str(t.tid),
                        price=t.px,
                        size=t.sz,
                        is_buy=t.is_buy,
                        timestamp=t.time_ms / 1000,
                    )
                    for t in event.trades
                ]
            )
        elif isinstance(event, AssetCtxUpdate):
            t = event.t_ns / 1e9
            source.on_funding_info(
                FundingInfo(
                    trading_pair=pair,
                    index_price=event.oracle_px,
                    mark_price=event.mark_px,
                    next_funding_utc_timestamp=next_funding_time(t),
                    rate=event.funding,
                )
            )

    def _on_user_event(self, event: EngineEvent) -> None:
        tracker = self._order_tracker
        if isinstance(event, FillsEvent):
            fills = [parse_fill(raw) for raw in event.fills]
            for fill in fills:  # positions first, as live: moved by the time the fill's events go out
                self._apply_position_fill(fill_to_position_fill(fill))
            for fill in fills:
                tracker.process_trade_update(fill_to_trade_update(fill))
        elif isinstance(event, OrderUpdatesEvent):
            for entry in parse_order_updates(event.updates):
                update = order_update_from_status(entry)
                if update is None:
                    continue
                apply_venue_update(tracker, update)
        elif isinstance(event, FundingEvent):
            self._publisher.publish(funding_to_event(parse_funding_payment(event.funding)))
        elif isinstance(event, LiquidationEvent):
            info = event.liquidation
            self._publisher.publish(
                PositionLiquidatedEvent(
                    timestamp=self._clock(),
                    notional=Decimal(str(info.get("liquidated_ntl_pos", "0"))),
                    account_value=Decimal(str(info.get("liquidated_account_value", "0"))),
                )
            )
