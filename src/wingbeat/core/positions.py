"""Perpetual account state: positions (following fills at once, reconciled with the venue) and funding."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum

__all__ = ["FundingInfo", "Position", "PositionBook", "PositionFill", "PositionSide"]

_ZERO = Decimal(0)


class PositionSide(Enum):
    """Direction of a position; BOTH is a one-way (netted) account's single slot."""

    LONG = "LONG"
    SHORT = "SHORT"
    BOTH = "BOTH"


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """An open perpetual position. ``amount`` is signed: positive long, negative short."""

    trading_pair: str
    position_side: PositionSide
    amount: Decimal
    entry_price: Decimal
    unrealized_pnl: Decimal
    leverage: int
    liquidation_price: Decimal | None = None
    margin_used: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    """PnL realised on this pair by the fills seen since the connector started (fees excluded)."""

    @property
    def notional(self) -> Decimal:
        """Absolute size times entry price."""
        return abs(self.amount) * self.entry_price


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingInfo:
    """Funding state of one perpetual market. ``index_price`` is the venue's oracle / index price;
    ``rate`` is the current (hourly on Hyperliquid) funding rate as a fraction."""

    trading_pair: str
    index_price: Decimal
    mark_price: Decimal
    next_funding_utc_timestamp: float
    rate: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionFill:
    """One fill of the account as it moves a position: ours or another program's on the same account.

    ``start_position`` is the venue's signed position just before the fill and ``realized_pnl`` the PnL
    the venue booked for it (its closing part, fees excluded), when the venue says so (Hyperliquid does:
    ``startPosition``, ``closedPnl``)."""

    trade_id: str
    trading_pair: str
    is_buy: bool
    price: Decimal
    amount: Decimal
    timestamp_ms: int
    start_position: Decimal | None = None
    realized_pnl: Decimal | None = None


_ENTRY_TOLERANCE = Decimal("1e-6")  # relative: the venue rounds the entry prices it reports
_SEEN_LIMIT = 10_000


class PositionBook:
    """Positions that follow every fill at once and defer to the venue's snapshots.

    `apply_fill` moves the position of a fill newer than the last venue snapshot the instant it arrives
    (one of the snapshot's own millisecond too when its venue start position shows the snapshot missed it):
    size (from the venue's ``start_position`` when given), entry at average cost (unchanged by a reduction,
    the fill price after a flip), realised PnL (the venue's figure when given), unrealised PnL at the fill
    price. `reconcile` adopts a venue snapshot taken at ``as_of_ms``: the fills it cannot contain yet
    (newer) are replayed on top of it, the result replaces ours, and every pair where ours differed is
    returned as a divergence (the venue wins). A snapshot older than the one applied is ignored; before the
    first one fills are not applied (there is nothing to apply them to). A snapshot joined from parts taken at
    different times (one per perp dex) names each pair's part time (``pair_as_of_ms``): a fill of the pair up
    to that time is in the snapshot already, so it is neither replayed on it nor applied when it arrives later.
    ``default_leverage(pair)`` is the leverage of a position a fill opens before the venue has reported one
    for the pair.
    """

    def __init__(self, default_leverage: Callable[[str], int]) -> None:
        self._default_leverage = default_leverage
        self._positions: dict[str, Position] = {}
        self._realized: dict[str, Decimal] = {}
        self._leverage: dict[str, int] = {}
        self._newest_ms: dict[str, int] = {}
        self._pending: list[PositionFill] = []  # applied and newer than the basis snapshot
        self._seen: dict[str, None] = {}
        self._basis_ms: int | None = None
        self._pair_basis_ms: Callable[[str], int] | None = None

    @property
    def positions(self) -> dict[str, Position]:
        """Open positions by trading pair (a copy)."""
        return dict(self._positions)

    def realized_pnl(self, trading_pair: str) -> Decimal:
        """PnL realised on ``trading_pair`` by the fills applied so far (0 if none)."""
        return self._realized.get(trading_pair, _ZERO)

    def apply_fill(self, fill: PositionFill) -> str | None:
        """Apply ``fill`` if it is new and newer than the last snapshot; returns a divergence description
        when the venue's ``start_position`` shows that ours was wrong (the venue's is then used)."""
        if self._basis_ms is None or fill.trade_id in self._seen:
            return None
        included = self._included_until(fill.trading_pair, self._basis_ms)
        if fill.timestamp_ms < included or (fill.timestamp_ms == included and not self._missed_by_basis(fill)):
            return None
        self._seen[fill.trade_id] = None
        if len(self._seen) > _SEEN_LIMIT:
            del self._seen[next(iter(self._seen))]
        self._pending.append(fill)
        pair = fill.trading_pair
        moved, realized, divergence = self._moved(self._positions.get(pair), fill)
        total = self._realized[pair] = self._realized.get(pair, _ZERO) + realized
        if moved is None:
            self._positions.pop(pair, None)
        else:
            self._positions[pair] = replace(moved, realized_pnl=total)
        return divergence

    def _missed_by_basis(self, fill: PositionFill) -> bool:
        """Whether a fill of the basis snapshot's own millisecond came after it (the snapshot cannot hold
        it): the venue's start position is where ours stands (held, ours would already be moved by it).
        Without a start position the snapshot is taken to hold it."""
        held = self._positions.get(fill.trading_pair)
        return fill.start_position is not None and fill.start_position == (held.amount if held else _ZERO)

    def reconcile(
        self,
        venue: Mapping[str, Position],
        as_of_ms: int,
        *,
        pair_as_of_ms: Callable[[str], int] | None = None,
    ) -> list[str]:
        """Adopt the venue's positions as of ``as_of_ms`` (plus our newer fills); returns the divergences.

        ``pair_as_of_ms(pair)``: where parts of the snapshot were taken later than ``as_of_ms`` (the oldest
        part's time), the time of the part holding ``pair``; its fills up to then are in the snapshot."""
        if self._basis_ms is not None and as_of_ms < self._basis_ms:
            return []  # an older answer that arrived late: a newer one is applied already
        first = self._basis_ms is None
        self._basis_ms = as_of_ms
        self._pair_basis_ms = pair_as_of_ms
        self._pending = [
            f for f in self._pending if f.timestamp_ms > self._included_until(f.trading_pair, as_of_ms)
        ]
        for pair, position in venue.items():
            self._leverage[pair] = position.leverage
        expected = {
            pair: replace(p, realized_pnl=self._realized.get(pair, _ZERO))
            for pair, p in venue.items()
            if p.amount
        }
        newest, self._newest_ms = self._newest_ms, {}
        for fill in self._pending:  # realised PnL of these is counted already
            pair = fill.trading_pair
            moved, _realized, _divergence = self._moved(expected.get(pair), fill)
            if moved is None:
                expected.pop(pair, None)
            else:
                expected[pair] = replace(moved, realized_pnl=self._realized.get(pair, _ZERO))
        self._newest_ms = newest
        divergences = (
            []
            if first
            else [
                text
                for pair in sorted(expected.keys() | self._positions.keys())
                if (text := _difference(pair, self._positions.get(pair), expected.get(pair))) is not None
            ]
        )
        self._positions = expected
        return divergences

    def _included_until(self, trading_pair: str, basis_ms: int) -> int:
        """The time up to which the applied snapshot holds the fills of ``trading_pair``."""
        if self._pair_basis_ms is None:
            return basis_ms
        return max(basis_ms, self._pair_basis_ms(trading_pair))

    def _moved(
        self, before: Position | None, fill: PositionFill
    ) -> tuple[Position | None, Decimal, str | None]:
        """``before`` moved by ``fill``: the new position (None when flat), the PnL it realised, a divergence."""
        pair = fill.trading_pair
        size = before.amount if before is not None else _ZERO
        entry = before.entry_price if before is not None else _ZERO
        divergence = None
        start = fill.start_position
        if start is not None and start != size:
            if self._newest_ms.get(pair, -1) > fill.timestamp_ms:
                return before, fill.realized_pnl or _ZERO, None  # arrived late: a newer fill's start has it
            divergence = f"{pair}: the venue's fill {fill.trade_id} started from {start}, ours was {size}"
            size = start
            if not start:
                entry = _ZERO
        self._newest_ms[pair] = max(self._newest_ms.get(pair, fill.timestamp_ms), fill.timestamp_ms)
        signed = fill.amount if fill.is_buy else -fill.amount
        after = size + signed
        realized = _ZERO
        if not size or (size > 0) == (signed > 0):  # opening or adding: average cost
            entry = (entry * abs(size) + fill.price * fill.amount) / abs(after)
        else:
            closed = min(abs(signed), abs(size))
            realized = (fill.price - entry) * closed * (1 if size > 0 else -1)
            if not after:
                entry = _ZERO
            elif (after > 0) != (size > 0):
                entry = fill.price  # flipped: the rest opened at this fill
        if fill.realized_pnl is not None:
            realized = fill.realized_pnl
        if not after:
            return None, realized, divergence
        return (
            Position(
                trading_pair=pair,
                position_side=PositionSide.BOTH,
                amount=after,
                entry_price=entry,
                unrealized_pnl=(fill.price - entry) * after,
                leverage=before.leverage
                if before is not None
                else self._leverage.get(pair) or self._default_leverage(pair),
                liquidation_price=before.liquidation_price if before is not None else None,
                margin_used=before.margin_used if before is not None else _ZERO,
            ),
            realized,
            divergence,
        )


def _difference(pair: str, ours: Position | None, venue: Position | None) -> str | None:
    size, venue_size = (ours.amount if ours else _ZERO), (venue.amount if venue else _ZERO)
    entry, venue_entry = (ours.entry_price if ours else _ZERO), (venue.entry_price if venue else _ZERO)
    if size == venue_size and abs(entry - venue_entry) <= abs(venue_entry) * _ENTRY_TOLERANCE:
        return None
    return f"{pair}: ours {size} @ {entry}, the venue's {venue_size} @ {venue_entry}"
