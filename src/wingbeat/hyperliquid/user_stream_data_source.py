"""A Hyperliquid user's private stream: orderUpdates, userFills and userEvents, as core objects.

Each decoded websocket message is turned into core :class:`OrderUpdate` / :class:`TradeUpdate` /
:class:`FundingPaymentEvent` / :class:`PositionLiquidatedEvent` values and pushed to the listener
(the connector). Conventions the connector relies on:

- ``client_order_id`` of a Hyperliquid order is its lowercase cloid string; an order placed without
  cloid is delivered with ``client_order_id=""`` and its ``exchange_order_id`` (the oid as a string),
  so the tracker looks it up by exchange id.
- ``trade_id`` is ``str(tid)``; see :attr:`~wingbeat.hyperliquid.schemas.Fill.trade_id` for the
  fallback when a fill has none. Fills arrive on both ``userFills`` and ``userEvents`` and the
  ``userFills`` snapshot repeats old ones: the tracker counts each trade id once.
- After a reconnect ``listener.on_reconnected()`` is called (the connector then catches up with
  ``userFillsByTime``) and the ``userFills`` snapshot is delivered again.
- Every fill of the account (ours or another program's) also goes to ``on_account_fills`` first, as
  :class:`PositionFill` values for the positions, so a position has moved by the time the fill's
  events are published. With ``on_account_state``, the account-state channel is subscribed too
  (``clearinghouseState`` for a perp account, ``spotState`` for spot balances: ``account_state_channel``)
  and each pushed state is handed to it (a venue that refuses the subscription simply pushes nothing:
  the connector polls while no push arrives); with ``on_dex_account_state`` also one ``clearinghouseState``
  channel per builder dex of ``dexes`` (``{"type": "clearinghouseState", "user", "dex"}``), delivered with
  its dex.
- With ``market``, only that market kind's news is delivered (the account's stream carries perp and spot news
  alike: see :mod:`~wingbeat.hyperliquid.market_kind`): fills, funding payments and cancels by the exchange of
  the other kind's coins, and liquidations on a spot connector, are dropped here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from wingbeat.core.data_sources import UserStreamListener, UserStreamTrackerDataSource
from wingbeat.core.events import FundingPaymentEvent, PositionLiquidatedEvent
from wingbeat.core.order_state import OrderState
from wingbeat.core.order_updates import OrderOpened, OrderUpdate, TradeUpdate
from wingbeat.core.positions import PositionFill
from wingbeat.hyperliquid.constants import coin_to_trading_pair
from wingbeat.hyperliquid.market_kind import MarketKind
from wingbeat.hyperliquid.order_status_text import status_reason
from wingbeat.hyperliquid.schemas_account import (
    ClearinghouseState,
    Fill,
    FundingPayment,
    OrderWithStatus,
    parse_order_with_status,
)
from wingbeat.hyperliquid.schemas_fields import arr
from wingbeat.hyperliquid.schemas_spot import SpotStateMessage
from wingbeat.hyperliquid.schemas_ws import (
    ClearinghouseStateMessage,
    Liquidation,
    NonUserCancel,
    UserEvents,
    UserFillsMessage,
)
from wingbeat.hyperliquid.ws import HyperliquidWebSocket

__all__ = [
    "HyperliquidUserStreamDataSource",
    "fill_to_position_fill",
    "fill_to_trade_update",
    "funding_to_event",
    "order_state_from_status",
    "order_update_from_status",
    "order_updates_from_payload",
    "status_reason",
]

_logger = logging.getLogger("wingbeat.hyperliquid.user_stream")

_EXACT_STATES = {
    "open": OrderState.OPEN,
    "triggered": OrderState.OPEN,
    "filled": OrderState.FILLED,
    "canceled": OrderState.CANCELED,
    "scheduledCancel": OrderState.CANCELED,
    "rejected": OrderState.FAILED,
}


def order_state_from_status(status: str) -> OrderState | None:
    """Core state of a Hyperliquid order status string; ``None`` for a status wingbeat does not know.

    ``open`` / ``triggered`` -> OPEN, ``filled`` -> FILLED, ``canceled``, ``scheduledCancel`` and every
    ``*Canceled`` -> CANCELED, ``rejected`` and every ``*Rejected`` -> FAILED.
    """
    state = _EXACT_STATES.get(status)
    if state is not None:
        return state
    if status.endswith("Canceled"):
        return OrderState.CANCELED
    if status.endswith("Rejected"):
        return OrderState.FAILED
    return None


def order_update_from_status(entry: OrderWithStatus) -> OrderUpdate | None:
    """Core order update of one orderUpdates / orderStatus entry; ``None`` for an unknown status."""
    state = order_state_from_status(entry.status)
    if state is None:
        return None
    order = entry.order
    return OrderUpdate(
        client_order_id=order.cloid or "",
        trading_pair=coin_to_trading_pair(order.coin),
        update_timestamp=entry.status_timestamp_ms / 1000,
        new_state=state,
        exchange_order_id=str(order.oid),
        reason=None if state is OrderState.OPEN or state is OrderState.FILLED else status_reason(entry.status),
        filled_amount=None if order.orig_sz is None else order.orig_sz - order.sz,
    )


def _basic_order_update(entry: Any) -> OrderUpdate | OrderOpened | None:
    """``order_update_from_status(parse_order_with_status(entry))`` for a well-formed entry whose order has
    only the basic keys and whose status is known; ``None`` for anything else (the full decoder then
    decides, and refuses a malformed entry with its usual message). The basic keys are those of Hyperliquid's
    basic order object (WsBasicOrder: coin side limitPx sz oid timestamp origSz cloid); an order with other keys
    (children, trigger fields, ...) takes the full decoder. Every field the full decoder checks
    is checked here by the same rule, without building the intermediate objects: a burst's echo costs a
    fraction of the full decode. An order resting with nothing filled under a cloid (status ``open``, ``sz``
    the very text of ``origSz``) comes as the same news in its cheaper form, :class:`OrderOpened`."""
    if type(entry) is not dict:
        return None
    try:  # subscripts, cheaper than get(): a missing key is the full decoder's case
        order, status, timestamp = entry["order"], entry["status"], entry["statusTimestamp"]
        if type(order) is not dict or type(status) is not str or type(timestamp) is not int:
            return None
        coin, side, oid, limit_px, sz = order["coin"], order["side"], order["oid"], order["limitPx"], order["sz"]
        order_timestamp = order["timestamp"]
    except KeyError:
        return None
    cloid, orig_sz = order.get("cloid"), order.get("origSz")
    state = _EXACT_STATES.get(status)
    if state is None:
        state = order_state_from_status(status)
    if (
        state is None
        or type(coin) is not str
        or (side != "B" and side != "A")
        or type(oid) is not int
        or type(order_timestamp) is not int
        or type(limit_px) is not str
        or type(sz) is not str
        or (orig_sz is not None and type(orig_sz) is not str)
        or (cloid is not None and type(cloid) is not str)
        # only the basic keys: the six checked above are there, so the order has no other key exactly when
        # its size counts those and the optional two it has (cheaper than comparing the key set)
        or len(order) != 6 + ("origSz" in order) + ("cloid" in order)
    ):
        return None
    remaining = _finite_decimal(sz)
    original = remaining if orig_sz == sz else None if orig_sz is None else _finite_decimal(orig_sz)
    if remaining is None or (orig_sz is not None and original is None) or _finite_decimal(limit_px) is None:
        return None
    pair = _PAIRS.get(coin)
    if pair is None:
        pair = coin_to_trading_pair(coin)
        if len(_PAIRS) < _CACHE_LIMIT:
            _PAIRS[coin] = pair
    if status == "open" and orig_sz == sz and cloid:
        return OrderOpened(cloid.lower(), pair, str(oid), timestamp / 1000)
    return OrderUpdate(
        client_order_id=cloid.lower() if cloid else "",
        trading_pair=pair,
        update_timestamp=timestamp / 1000,
        new_state=state,
        exchange_order_id=str(oid),
        reason=None if state is _OPEN or state is _FILLED else status_reason(status),
        filled_amount=None if original is None else original - remaining,
    )


# Decoded once per distinct string: a burst's echo repeats the same sizes and a few hundred prices. Both caches
# stop growing at the limit (what is in them stays right: a string always decodes to the same value).
_CACHE_LIMIT = 4096
_DECIMALS: dict[str, Decimal] = {}
_PAIRS: dict[str, str] = {}
_OPEN, _FILLED = OrderState.OPEN, OrderState.FILLED


def _finite_decimal(text: str) -> Decimal | None:
    """``Decimal(text)`` when it is a finite number, else None (what the full decoder refuses)."""
    value = _DECIMALS.get(text)
    if value is None:
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None
        if not value.is_finite():
            return None
        if len(_DECIMALS) < _CACHE_LIMIT:
            _DECIMALS[text] = value
    return value


def order_updates_from_payload(raw: Any) -> list[OrderUpdate | OrderOpened]:
    """Core order updates of an ``orderUpdates`` payload, in order (an order resting with nothing filled as an
    :class:`~wingbeat.core.order_updates.OrderOpened`); entries with an unknown status are logged and left out.
    Raises :class:`MalformedMessageError` (nothing decoded) for a malformed payload, exactly as
    :func:`~wingbeat.hyperliquid.schemas_ws.parse_order_updates` does."""
    updates: list[OrderUpdate | OrderOpened] = []
    for i, entry in enumerate(arr(raw, "orderUpdates")):
        update = _basic_order_update(entry)
        if update is None:
            parsed = parse_order_with_status(entry, f"orderUpdates[{i}]")
            update = order_update_from_status(parsed)
            if update is None:
                _logger.warning("skipping order %s with unknown status %r", parsed.order.oid, parsed.status)
                continue
        updates.append(update)
    return updates


def fill_to_trade_update(fill: Fill) -> TradeUpdate:
    """Core trade update of one fill (``fee_amount`` negative for a rebate)."""
    return TradeUpdate(
        trade_id=fill.trade_id,
        client_order_id=fill.cloid or "",
        exchange_order_id=str(fill.oid),
        trading_pair=coin_to_trading_pair(fill.coin),
        fill_timestamp=fill.time_ms / 1000,
        fill_price=fill.px,
        fill_base_amount=fill.sz,
        fill_quote_amount=fill.px * fill.sz,
        fee_asset=fill.fee_token,
        fee_amount=fill.fee,
        is_taker=fill.crossed,
    )


def fill_to_position_fill(fill: Fill) -> PositionFill:
    """How one fill moves the account's position (the venue's start position and closed PnL included)."""
    return PositionFill(
        trade_id=fill.trade_id,
        trading_pair=coin_to_trading_pair(fill.coin),
        is_buy=fill.is_buy,
        price=fill.px,
        amount=fill.sz,
        timestamp_ms=fill.time_ms,
        start_position=fill.start_position,
        realized_pnl=fill.closed_pnl,
    )


def funding_to_event(funding: FundingPayment) -> FundingPaymentEvent:
    """Core funding event of one payment; ``amount`` is signed from the user's side (negative = paid)."""
    return FundingPaymentEvent(
        timestamp=funding.time_ms / 1000,
        trading_pair=coin_to_trading_pair(funding.coin),
        amount=funding.usdc,
        funding_rate=funding.funding_rate,
        position_size=funding.szi,
    )


def _non_user_cancel_update(cancel: NonUserCancel, now: float) -> OrderUpdate:
    return OrderUpdate(
        client_order_id="",
        trading_pair=coin_to_trading_pair(cancel.coin),
        update_timestamp=now,
        new_state=OrderState.CANCELED,
        exchange_order_id=str(cancel.oid),
        reason="canceled by the exchange",
    )


def _liquidation_event(liquidation: Liquidation, now: float) -> PositionLiquidatedEvent:
    return PositionLiquidatedEvent(
        timestamp=now,
        notional=liquidation.liquidated_ntl_pos,
        account_value=liquidation.liquidated_account_value,
    )


class HyperliquidUserStreamDataSource(UserStreamTrackerDataSource):
    """Private stream of one Hyperliquid ``user`` (the account address, not an agent's).

    Subscribes ``orderUpdates``, ``userFills`` and ``userEvents`` on ``ws`` (and ``account_state_channel``,
    ``clearinghouseState`` or ``spotState``, when ``on_account_state`` is given: it then receives a
    ``ClearinghouseState`` or a ``SpotClearinghouseState``), which it starts and stops itself only when
    ``owns_ws`` is True (a websocket shared with market data is left to its owner). ``on_account_fills``
    receives every fill of the account before the listener does. ``clock`` gives seconds since the epoch for events
    that carry no time. ``market`` (None: everything) keeps only the news of that market kind.
    """

    def __init__(
        self,
        ws: HyperliquidWebSocket,
        user: str,
        *,
        owns_ws: bool = False,
        clock: Callable[[], float] = time.time,
        on_account_fills: Callable[[Sequence[PositionFill]], None] | None = None,
        on_account_state: Callable[[Any], None] | None = None,
        account_state_channel: Literal["clearinghouseState", "spotState"] = "clearinghouseState",
        dexes: Sequence[str] = (),
        on_dex_account_state: Callable[[str, ClearinghouseState], None] | None = None,
        market: MarketKind | None = None,
    ) -> None:
        self._ws = ws
        self._market = market
        self._user = user.lower()
        self._owns_ws = owns_ws
        self._clock = clock
        self._listener: UserStreamListener | None = None
        self._subscriptions: list[dict[str, Any]] = [
            {"type": "orderUpdates", "user": self._user},
            {"type": "userFills", "user": self._user},
            {"type": "userEvents", "user": self._user},
        ]
        self._on_account_fills = on_account_fills
        self._on_account_state = on_account_state
        self._on_dex_account_state = on_dex_account_state
        self._state_handlers: list[Callable[[Any], None]] = []
        if on_account_state is not None:
            self._subscriptions.append({"type": account_state_channel, "user": self._user})
            spot = account_state_channel == "spotState"
            self._state_handlers.append(self._on_spot_state if spot else self._on_clearinghouse_state)
            if on_dex_account_state is not None:  # a builder dex's margin is its own: one channel each
                for dex in dexes:
                    self._subscriptions.append({"type": "clearinghouseState", "user": self._user, "dex": dex})
                    self._state_handlers.append(self._on_clearinghouse_state)

    @property
    def user(self) -> str:
        """The lowercase address whose stream this is."""
        return self._user

    async def start(self, listener: UserStreamListener) -> None:
        """Subscribe and deliver decoded updates to ``listener`` until :meth:`stop`."""
        self._listener = listener
        if self._owns_ws:
            await self._ws.start()
        self._ws.add_reconnect_listener(self._on_reconnected)
        handlers: list[Callable[[Any], None]] = [
            self._on_order_updates,
            self._on_user_fills,
            self._on_user_events,
        ]
        handlers += self._state_handlers
        for subscription, handler in zip(self._subscriptions, handlers, strict=True):
            # orderUpdates decoded here, straight to order updates (a burst's echo is its biggest message)
            await self._ws.subscribe(subscription, handler, raw=handler == self._on_order_updates)

    async def stop(self) -> None:
        """Unsubscribe (and stop the websocket when this source owns it)."""
        self._ws.remove_reconnect_listener(self._on_reconnected)
        if self._owns_ws:
            await self._ws.stop()
        else:
            for subscription in self._subscriptions:
                await self._ws.unsubscribe(subscription)
        self._listener = None

    # -- handlers (synchronous, called by the websocket router) -----------------------------------

    def _on_reconnected(self) -> None:
        if self._listener is not None:
            self._listener.on_reconnected()

    def _on_order_updates(self, raw: Any) -> None:
        listener = self._listener
        if listener is None:
            return
        updates = order_updates_from_payload(raw)  # MalformedMessageError: the ws counts and skips the frame
        if updates:
            listener.on_order_updates(updates)

    def _owns(self, coin: str) -> bool:
        return self._market is None or self._market.owns_coin(coin)

    def _deliver_fills(self, fills: Sequence[Fill]) -> None:
        if self._market is not None:
            fills = [f for f in fills if self._market.owns_coin(f.coin)]
        if self._listener is not None and fills:
            if self._on_account_fills is not None:
                self._on_account_fills([fill_to_position_fill(f) for f in fills])
            self._listener.on_trade_updates([fill_to_trade_update(f) for f in fills])

    def _on_clearinghouse_state(self, message: ClearinghouseStateMessage) -> None:
        if self._listener is None or self._on_account_state is None:
            return
        if not message.dex:
            self._on_account_state(message.state)
        elif self._on_dex_account_state is not None:
            self._on_dex_account_state(message.dex, message.state)

    def _on_spot_state(self, message: SpotStateMessage) -> None:
        if self._listener is not None and self._on_account_state is not None:
            self._on_account_state(message.state)

    def _on_user_fills(self, message: UserFillsMessage) -> None:
        if message.user != self._user:
            return
        self._deliver_fills(message.fills)

    def _on_user_events(self, event: UserEvents) -> None:
        listener = self._listener
        if listener is None:
            return
        if event.fills:
            self._deliver_fills(event.fills)
        elif event.funding is not None:
            if self._owns(event.funding.coin):
                listener.on_funding_payments([funding_to_event(event.funding)])
        elif event.liquidation is not None:
            if self._market is None or self._market.owns_liquidations:
                listener.on_liquidation(_liquidation_event(event.liquidation, self._clock()))
        elif event.non_user_cancels:
            now = self._clock()
            cancels = [_non_user_cancel_update(c, now) for c in event.non_user_cancels if self._owns(c.coin)]
            if cancels:
                listener.on_order_updates(cancels)
