"""The account's native TWAPs (Hyperliquid ``twapOrder``): their typed state and their lifecycle events.

Hyperliquid runs a TWAP itself: one slice every 30 seconds, each an IOC within 3% of the mark, for 5 to
1440 minutes. A TWAP carries no client id, so :class:`AccountTwaps` follows every TWAP of the account,
whoever placed it: from the placement answer, the ``userTwapHistory`` channel (starts and ends) and the
``userTwapSliceFills`` channel (each slice's fills, with ``twapId``), and at start from the ``twapHistory``
and ``userTwapSliceFills`` requests, so a TWAP still running after a restart is found again.

Events (``wingbeat.core.events``), each once per TWAP (a slice fill once per trade id):
``TwapStartedEvent`` (also for a running TWAP found at start), ``TwapSliceFilledEvent``,
``TwapFinishedEvent`` (``finished`` / ``terminated`` / ``error`` with the venue's text), and
``TwapFailedEvent`` for a placement the venue refused. What a snapshot (the history read at start, a
channel's first push after (re)subscribing) shows of the time before we looked is the past, without events:
TWAPs ended already, and the slice fills of a TWAP found running until one snapshot of its fills was read.
Fills missed while following a TWAP (a reconnect's snapshot brings them) are published, each once.

Slice fills are ordinary fills of the account too (``userFills`` carries them with ``twapId``): the user
stream moves positions and balances with them; no tracked order owns them, so the order tracker ignores
them and no order event is published for them. This module only reports them, never applies them again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from wingbeat.core.enums import TradeType
from wingbeat.core.errors import InvalidOrderError
from wingbeat.core.events import (
    EventPublisher,
    TwapFailedEvent,
    TwapFinishedEvent,
    TwapSliceFilledEvent,
    TwapStartedEvent,
)
from wingbeat.core.trading_rule import TradingRule
from wingbeat.hyperliquid.market_kind import MarketKind
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.schemas_twap import (
    TwapHistoryEntry,
    TwapHistoryMessage,
    TwapSliceFill,
    TwapSliceFillsMessage,
    TwapVenueState,
    parse_twap_history,
    parse_twap_slice_fills,
)
from wingbeat.hyperliquid.twap_wire import TWAP_MAX_MINUTES, TWAP_MIN_MINUTES
from wingbeat.hyperliquid.ws import HyperliquidWebSocket

__all__ = ["TWAP_MIN_VALUE", "AccountTwaps", "TwapOrder", "TwapStatus", "checked_twap_size"]

_logger = logging.getLogger("wingbeat.hyperliquid.twap")
_ZERO = Decimal(0)
TWAP_MIN_VALUE = Decimal(100)
"""The smallest TWAP Hyperliquid accepts, in USDC of value ("TWAP order value too small. Min is $100.")."""
#: Slice fills of a TWAP not known yet (its start not read yet) are kept this many per TWAP at most.
_ORPHANS_KEPT = 200


def checked_twap_size(
    rule: TradingRule,
    trade_type: TradeType,
    amount: Decimal,
    minutes: int,
    *,
    reference_price: Decimal | None,
    reduce_only: bool,
    position: Decimal | None,
) -> Decimal:
    """The TWAP's size quantized to the pair's lot, after the checks Hyperliquid would make; raises
    :class:`InvalidOrderError` (nothing is sent) for a bad side, size or duration, a value under $100 at
    ``reference_price`` (skipped when None), or a reduce-only TWAP that cannot reduce ``position`` (signed
    base size; None: the market has no positions)."""
    pair = rule.trading_pair
    if not isinstance(trade_type, TradeType):
        raise InvalidOrderError(f"side must be a TradeType (BUY or SELL), got {trade_type!r}")
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not TWAP_MIN_MINUTES <= minutes <= TWAP_MAX_MINUTES
    ):
        raise InvalidOrderError(
            f"a TWAP runs {TWAP_MIN_MINUTES} to {TWAP_MAX_MINUTES} minutes (24 hours), got {minutes!r}"
        )
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise InvalidOrderError(f"amount must be a positive Decimal, got {amount!r}")
    size = rule.quantize_size(amount)
    if size == amount:
        size = amount  # already on the lot: keep it as written (a spot lot of 1 quantizes 1000 to 1000.0)
    if size <= 0:
        raise InvalidOrderError(f"amount {amount} is below one lot of {pair} ({rule.size_increment})")
    if reference_price is not None and size * reference_price < TWAP_MIN_VALUE:
        raise InvalidOrderError(
            f"TWAP value {size * reference_price:.2f} USDC ({size} {pair} at {reference_price}) is below "
            f"Hyperliquid's minimum of ${TWAP_MIN_VALUE}"
        )
    if reduce_only:
        if position is None:
            raise InvalidOrderError(f"reduce-only is for perpetual positions; {pair} has none")
        reduces = position < 0 if trade_type is TradeType.BUY else position > 0
        if not reduces:
            raise InvalidOrderError(
                f"a reduce-only {trade_type.name.lower()} TWAP would increase the {pair} position ({position})"
            )
    return size


class TwapStatus(Enum):
    """Where a TWAP is in its life."""

    RUNNING = "running"
    FINISHED = "finished"
    """Ran its whole duration (possibly short of its size, when slices found too little to trade)."""
    TERMINATED = "terminated"
    """Cancelled."""
    ERROR = "error"
    """Stopped by the venue (e.g. a slice without margin): ``TwapOrder.reason`` has its text."""

    @property
    def is_done(self) -> bool:
        """True once the TWAP ended."""
        return self is not TwapStatus.RUNNING


_END_STATUSES = {s.value: s for s in (TwapStatus.FINISHED, TwapStatus.TERMINATED, TwapStatus.ERROR)}


@dataclass(slots=True, kw_only=True)
class TwapOrder:
    """One TWAP of the account as last reported (kept up to date by the connector; read, never change it).

    ``amount`` is the total base size asked for; ``executed_amount_base`` / ``executed_amount_quote`` what
    its slices filled so far; ``started_at`` seconds since the epoch; ``reason`` the venue's text of an
    ``ERROR`` end."""

    twap_id: int
    trading_pair: str
    trade_type: TradeType
    amount: Decimal
    minutes: int
    reduce_only: bool
    randomize: bool
    started_at: float
    status: TwapStatus = TwapStatus.RUNNING
    executed_amount_base: Decimal = _ZERO
    executed_amount_quote: Decimal = _ZERO
    reason: str | None = None
    ended_at: float | None = None
    _trade_ids: set[str] = field(default_factory=set, repr=False)
    # False while the TWAP was found in a snapshot and no snapshot of its slice fills was read since: those
    # fills are its past (counted, not published); after that, a fill not counted yet is news
    _baseline: bool = field(default=True, repr=False)
    _done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def is_done(self) -> bool:
        """True once the TWAP ended (finished, terminated or stopped by the venue)."""
        return self.status.is_done

    @property
    def average_price(self) -> Decimal | None:
        """Average fill price of the slices so far; None before the first fill."""
        if not self.executed_amount_base:
            return None
        return self.executed_amount_quote / self.executed_amount_base

    @property
    def ends_at(self) -> float:
        """When the venue sends its last slice at the latest (start + duration), seconds since the epoch."""
        return self.started_at + self.minutes * 60

    async def wait_done(self, timeout: float | None = None) -> TwapOrder:  # noqa: ASYNC109
        """Wait until the TWAP ended (TimeoutError after ``timeout`` seconds); return it."""
        async with asyncio.timeout(timeout):
            await self._done.wait()
        return self


class AccountTwaps:
    """Every TWAP of one account: state, channel handlers and events (see the module docstring).

    ``pair_of(coin)`` names a venue coin as a trading pair; ``publisher`` gets the events. With ``market``, only
    the TWAPs of that market kind's coins are followed (the channels are the account's, perp and spot alike).
    """

    def __init__(
        self,
        user: str,
        publisher: EventPublisher,
        pair_of: Callable[[str], str],
        *,
        clock: Callable[[], float],
        market: MarketKind | None = None,
    ) -> None:
        self._user = user.lower()
        self._market = market
        self._publisher = publisher
        self._pair_of = pair_of
        self._clock = clock
        self._twaps: dict[int, TwapOrder] = {}
        self._orphans: dict[int, list[TwapSliceFill]] = {}  # live fills of TWAPs whose start is on its way
        self._subscriptions: list[tuple[dict[str, str], Callable[[Any], None]]] = [
            ({"type": "userTwapHistory", "user": self._user}, self.on_history_message),
            ({"type": "userTwapSliceFills", "user": self._user}, self.on_slice_fills_message),
        ]

    @property
    def all(self) -> dict[int, TwapOrder]:
        """Every TWAP known, by venue id (running ones and those ended while this connector ran)."""
        return dict(self._twaps)

    @property
    def running(self) -> list[TwapOrder]:
        """The running TWAPs, oldest first."""
        return sorted((t for t in self._twaps.values() if not t.is_done), key=lambda t: t.started_at)

    def get(self, twap_id: int) -> TwapOrder | None:
        """The TWAP with venue id ``twap_id``, if known."""
        return self._twaps.get(twap_id)

    # -- start / stop -------------------------------------------------------------------------------

    async def start(self, ws: HyperliquidWebSocket, rest: HyperliquidRestClient) -> None:
        """Subscribe both channels, then read the history and slice fills (a running TWAP is found again)."""
        for subscription, handler in self._subscriptions:
            await ws.subscribe(subscription, handler)
        history = parse_twap_history(await rest.info({"type": "twapHistory", "user": self._user}))
        self._apply_history(history, snapshot=True)
        if any(not t.is_done for t in self._twaps.values()):
            raw = await rest.info({"type": "userTwapSliceFills", "user": self._user})
            self._apply_slice_fills(parse_twap_slice_fills(raw)[::-1], snapshot=True)  # oldest first

    async def stop(self, ws: HyperliquidWebSocket) -> None:
        """Unsubscribe both channels."""
        for subscription, _ in self._subscriptions:
            await ws.unsubscribe(subscription)

    # -- what our own placement learned -------------------------------------------------------------

    def placed(
        self,
        twap_id: int,
        trading_pair: str,
        trade_type: TradeType,
        amount: Decimal,
        minutes: int,
        *,
        reduce_only: bool,
        randomize: bool,
    ) -> TwapOrder:
        """The venue accepted our TWAP ``twap_id`` (the stream may have told us first): its state."""
        known = self._twaps.get(twap_id)
        if known is not None:
            if known.amount == amount:
                known.amount = amount  # as we wrote it, not as the venue renders it ("1000.0")
            return known
        twap = TwapOrder(
            twap_id=twap_id, trading_pair=trading_pair, trade_type=trade_type, amount=amount, minutes=minutes,
            reduce_only=reduce_only, randomize=randomize, started_at=self._clock(),
        )  # fmt: skip
        self._adopt(twap)
        return twap

    def refused(
        self, trading_pair: str, trade_type: TradeType, amount: Decimal, minutes: int, reason: str
    ) -> None:
        """The venue refused a TWAP we placed: publish :class:`TwapFailedEvent`."""
        self._publisher.publish(
            TwapFailedEvent(
                timestamp=self._clock(),
                trading_pair=trading_pair,
                trade_type=trade_type,
                amount=amount,
                minutes=minutes,
                reason=reason,
            )
        )

    # -- channel handlers (synchronous, from the websocket router) ----------------------------------

    def on_history_message(self, message: TwapHistoryMessage) -> None:
        """A ``userTwapHistory`` push: starts and ends."""
        if message.user == self._user:
            self._apply_history(message.history, snapshot=message.is_snapshot)

    def on_slice_fills_message(self, message: TwapSliceFillsMessage) -> None:
        """A ``userTwapSliceFills`` push (the snapshot repeats fills already counted: dropped by trade id)."""
        if message.user == self._user:
            if message.is_snapshot:  # newest first, and fills of the past: counted, not news
                self._apply_slice_fills(message.fills[::-1], snapshot=True)
            else:
                self._apply_slice_fills(message.fills, snapshot=False)

    # -- applying the venue's news ------------------------------------------------------------------

    def _from_state(self, twap_id: int, state: TwapVenueState) -> TwapOrder:
        return TwapOrder(
            twap_id=twap_id, trading_pair=self._pair_of(state.coin),
            trade_type=TradeType.BUY if state.is_buy else TradeType.SELL, amount=state.size,
            minutes=state.minutes, reduce_only=state.reduce_only, randomize=state.randomize,
            started_at=state.timestamp_ms / 1000,
        )  # fmt: skip

    def _adopt(self, twap: TwapOrder) -> None:
        self._twaps[twap.twap_id] = twap
        self._publisher.publish(
            TwapStartedEvent(
                timestamp=twap.started_at,
                twap_id=twap.twap_id,
                trading_pair=twap.trading_pair,
                trade_type=twap.trade_type,
                amount=twap.amount,
                minutes=twap.minutes,
                reduce_only=twap.reduce_only,
                randomize=twap.randomize,
            )
        )
        orphans = self._orphans.pop(twap.twap_id, None)
        if orphans:
            self._apply_slice_fills(orphans, snapshot=False)

    def _owns(self, coin: str) -> bool:
        return self._market is None or self._market.owns_coin(coin)

    def _apply_history(self, entries: Sequence[TwapHistoryEntry], *, snapshot: bool) -> None:
        # a snapshot lists old TWAPs too: an unknown one that ended there is history, not news
        old = snapshot
        ended = {e.twap_id for e in entries if e.twap_id is not None and e.status in _END_STATUSES}
        for entry in entries:
            twap_id = entry.twap_id
            if twap_id is None or not self._owns(entry.state.coin):
                continue
            twap = self._twaps.get(twap_id)
            end = _END_STATUSES.get(entry.status)
            if end is None:  # "activated"
                if twap is None and not (old and twap_id in ended):
                    found = self._from_state(twap_id, entry.state)
                    found._baseline = not snapshot  # found running in a snapshot: its fills so far are the past
                    self._adopt(found)
                continue
            if twap is None:
                if old:
                    continue  # ended before we looked: history, not news
                twap = self._from_state(twap_id, entry.state)
                self._adopt(twap)  # started and ended unseen (e.g. while the socket was down)
            self._finish(twap, end, entry)

    def _finish(self, twap: TwapOrder, status: TwapStatus, entry: TwapHistoryEntry) -> None:
        if twap.is_done:
            return
        # the venue's totals are authoritative; slice fills still on their way only add their fee news
        twap.executed_amount_base = max(twap.executed_amount_base, entry.state.executed_size)
        twap.executed_amount_quote = max(twap.executed_amount_quote, entry.state.executed_notional)
        twap.status = status
        twap.reason = entry.description
        twap.ended_at = float(entry.time_s)
        twap._done.set()
        self._publisher.publish(
            TwapFinishedEvent(
                timestamp=float(entry.time_s),
                twap_id=twap.twap_id,
                trading_pair=twap.trading_pair,
                trade_type=twap.trade_type,
                status=status.value,
                reason=entry.description,
                executed_amount_base=twap.executed_amount_base,
                executed_amount_quote=twap.executed_amount_quote,
            )
        )

    def _apply_slice_fills(self, fills: Sequence[TwapSliceFill], *, snapshot: bool) -> None:
        for item in fills:
            if not self._owns(item.fill.coin):
                continue
            twap = self._twaps.get(item.twap_id)
            if twap is None:
                if not snapshot:  # live news of a TWAP whose start is still on its way: kept until it comes
                    kept = self._orphans.setdefault(item.twap_id, [])
                    if len(kept) < _ORPHANS_KEPT:
                        kept.append(item)
                continue  # a snapshot's fills of a TWAP we do not follow (ended before we looked)
            fill = item.fill
            trade_id = fill.trade_id
            if trade_id in twap._trade_ids:
                continue
            twap._trade_ids.add(trade_id)
            quote = fill.px * fill.sz
            if not twap.is_done:  # a finished TWAP's totals are the venue's final ones already
                twap.executed_amount_base += fill.sz
                twap.executed_amount_quote += quote
            if snapshot and not twap._baseline:
                continue
            self._publisher.publish(
                TwapSliceFilledEvent(
                    timestamp=fill.time_ms / 1000,
                    twap_id=twap.twap_id,
                    trading_pair=twap.trading_pair,
                    trade_type=twap.trade_type,
                    trade_id=trade_id,
                    price=fill.px,
                    amount=fill.sz,
                    quote_amount=quote,
                    fee_asset=fill.fee_token,
                    fee_amount=fill.fee,
                    executed_amount_base=twap.executed_amount_base,
                    executed_amount_quote=twap.executed_amount_quote,
                )
            )
        if snapshot:
            for twap in self._twaps.values():
                twap._baseline = True
