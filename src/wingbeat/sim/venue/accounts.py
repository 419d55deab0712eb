"""Accounts of the local exchange: USDC balance, cross-margin positions, leverage, fee charging, spot
balances.

All money is exact Decimal; rounding happens only when answers are rendered. Value conservation
(what one side of a fill gains the other loses; fees leave the system) is checked by the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple, overload

from wingbeat.sim.venue.book import Order

__all__ = [
    "FILLS_KEPT",
    "TRIM_AT",
    "Account",
    "Fill",
    "FillLog",
    "FundingRecord",
    "LedgerUpdate",
    "Position",
    "fill_direction",
]

ZERO = Decimal(0)
FILLS_KEPT = 10_000  # per account, as Hyperliquid keeps only the 10000 most recent reachable
TRIM_AT = 2 * FILLS_KEPT  # trimmed in one go, not one per fill


class Position:
    """One perp position: signed size and the entry notional (``entry_px * |szi|``)."""

    __slots__ = ("cum_all", "cum_change", "cum_open", "entry_ntl", "szi")

    def __init__(self) -> None:
        self.szi = ZERO
        self.entry_ntl = ZERO
        self.cum_all = ZERO  # funding paid (positive = paid), all time
        self.cum_open = ZERO  # since the position was opened
        self.cum_change = ZERO  # since its size last changed

    @property
    def entry_px(self) -> Decimal:
        """Average entry price (0 when flat)."""
        return self.entry_ntl / abs(self.szi) if self.szi else ZERO

    def unrealized(self, mark: Decimal) -> Decimal:
        """Unrealised PnL at ``mark``."""
        if not self.szi:
            return ZERO
        return self.szi * mark - (self.entry_ntl if self.szi > 0 else -self.entry_ntl)


class Fill(NamedTuple):
    """One side of a trade as the user sees it (rendered to the ``userFills`` shape by ``info``).

    Accounts keep fills as plain tuples of the same fields (see :class:`FillLog`).
    """

    coin: str
    px: Decimal
    sz: Decimal
    is_buy: bool
    time: int
    start_position: Decimal
    dir: str
    closed_pnl: Decimal
    hash: str
    oid: int
    crossed: bool
    fee: Decimal
    tid: int
    cloid: str | None = None
    liquidation: dict[str, Any] | None = None
    twap_id: int | None = None  # set on the fills of a TWAP slice
    fee_token: str = "USDC"  # a spot buy pays its fee in the base token, a spot sell in the quote


_tuple_new = tuple.__new__


class FillLog:
    """The fills of one account, oldest first; reads give :class:`Fill` objects.

    Stored as plain tuples of atoms, which the garbage collector stops tracking (it never
    untracks tuple subclasses such as a NamedTuple): accounts keep tens of thousands, and each
    tracked one would be re-scanned by every full collection.
    """

    __slots__ = ("rows",)

    def __init__(self) -> None:
        # the plain tuples; the matching loop appends to it directly, then calls trim()
        self.rows: list[tuple[Any, ...]] = []

    def append(self, fill: Fill | tuple[Any, ...]) -> None:
        """Record a fill (a :class:`Fill` or a plain tuple of its fields)."""
        self.rows.append(fill if type(fill) is tuple else tuple(fill))
        self.trim()

    def trim(self) -> None:
        """Drop the oldest fills beyond twice :data:`FILLS_KEPT` (in one go, not one per fill)."""
        rows = self.rows
        if len(rows) > TRIM_AT:
            del rows[:-FILLS_KEPT]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Fill]:
        for row in self.rows:
            yield _tuple_new(Fill, row)

    @overload
    def __getitem__(self, index: int) -> Fill: ...
    @overload
    def __getitem__(self, index: slice) -> list[Fill]: ...
    def __getitem__(self, index: int | slice) -> Fill | list[Fill]:
        if isinstance(index, slice):
            return [_tuple_new(Fill, row) for row in self.rows[index]]
        fill: Fill = _tuple_new(Fill, self.rows[index])
        return fill


@dataclass(frozen=True, slots=True)
class LedgerUpdate:
    """One non-funding ledger update of a user: ``delta`` is already in Hyperliquid's JSON shape."""

    time: int
    hash: str
    delta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FundingRecord:
    """One funding payment of a user (``usdc`` positive = received)."""

    time: int
    coin: str
    usdc: Decimal
    szi: Decimal
    funding_rate: Decimal
    hash: str


def fill_direction(start: Decimal, is_buy: bool, sz: Decimal) -> str:
    """Hyperliquid's ``dir`` of a perp fill given the position before it."""
    if start == 0 or (start > 0) == is_buy:
        return "Open Long" if is_buy else "Open Short"
    if sz > abs(start):
        return "Short > Long" if is_buy else "Long > Short"
    return "Close Short" if is_buy else "Close Long"


@dataclass(slots=True)
class Account:
    """A funded address: balance, positions per asset, leverage settings, orders and history."""

    user: str
    balance: Decimal = ZERO
    positions: dict[int, Position] = field(default_factory=dict)
    # asset -> (is_cross, leverage); absent = cross at the market's max leverage
    leverage: dict[int, tuple[bool, int]] = field(default_factory=dict)
    isolated_margin: dict[int, Decimal] = field(default_factory=dict)
    open_orders: dict[int, Order] = field(default_factory=dict)  # resting and untriggered, by oid
    order_margin: Decimal = ZERO  # initial margin reserved by resting orders
    # live orders that exist to reduce a position (reduce-only, position TP/SL), checked when one
    # of its positions closes or flips (off the matching hot path), by oid
    reducing: dict[int, Order] = field(default_factory=dict)
    cloids: dict[str, int] = field(default_factory=dict)  # every cloid ever used -> oid
    fills: FillLog = field(default_factory=FillLog)  # oldest first
    fundings: list[FundingRecord] = field(default_factory=list)
    cum_volume: Decimal = ZERO
    agents: dict[str, str] = field(default_factory=dict)  # agent address -> name
    agents_valid_until: dict[str, int] = field(default_factory=dict)  # agent address -> expiry, ms
    scheduled_cancel: int | None = None
    scheduled_cancel_day: int = -1
    scheduled_cancel_count: int = 0
    # account-level transfers and settings (see transfers.py)
    ledger: list[LedgerUpdate] = field(default_factory=list)  # non-funding ledger updates, oldest first
    # spot balances by token name (see spot_flow.py): total, held by resting orders (a buy holds
    # quote, a sell base), and the entry notional in USDC (the cost basis spot sells realise PnL on)
    spot: dict[str, Decimal] = field(default_factory=dict)
    spot_hold: dict[str, Decimal] = field(default_factory=dict)
    spot_entry: dict[str, Decimal] = field(default_factory=dict)
    builder_fees: dict[str, int] = field(default_factory=dict)  # builder -> approved max fee, 0.1 bp
    referred_by: str | None = None  # the referral code given with setReferrer
    master: str | None = None  # for a sub-account: the account that created it
    name: str | None = None  # a sub-account's name
    sub_accounts: list[str] = field(default_factory=list)  # of a master, in creation order
    vault_leader: str | None = None  # set when the account is registered as a vault
    vault_shares: dict[str, Decimal] = field(default_factory=dict)  # of a vault: depositor -> shares
    vault_entries: dict[str, int] = field(default_factory=dict)  # of a depositor: vault -> first deposit ms

    def position(self, asset: int) -> Position:
        """The position in ``asset`` (created flat on first use)."""
        pos = self.positions.get(asset)
        if pos is None:
            pos = self.positions[asset] = Position()
        return pos

    def szi(self, asset: int) -> Decimal:
        """Signed position size in ``asset`` (0 when none)."""
        pos = self.positions.get(asset)
        return pos.szi if pos is not None else ZERO

    def leverage_of(self, asset: int, max_leverage: int) -> int:
        """Current leverage for ``asset``."""
        setting = self.leverage.get(asset)
        return setting[1] if setting is not None else max_leverage

    def is_cross(self, asset: int) -> bool:
        """Whether ``asset`` is traded with cross margin."""
        setting = self.leverage.get(asset)
        return setting[0] if setting is not None else True

    def isolated_leverage(self, asset: int) -> int:
        """Leverage of ``asset`` if it is traded isolated, else 0."""
        setting = self.leverage.get(asset)
        return setting[1] if setting is not None and not setting[0] else 0

    def apply_fill(
        self, asset: int, is_buy: bool, px: Decimal, sz: Decimal, fee: Decimal, ntl: Decimal | None = None
    ) -> tuple[Decimal, Decimal, str]:
        """Book a fill: move the position, realise PnL on the closed part, charge ``fee``; for an
        isolated asset also move initial margin between the balance and the position. ``ntl`` is
        ``px * sz`` when the caller has it already.

        Returns ``(start_position, closed_pnl, dir)`` (``dir`` as :func:`fill_direction`).
        """
        if ntl is None:
            ntl = px * sz
        pos = self.positions.get(asset)
        if pos is None:
            pos = self.positions[asset] = Position()
        start = pos.szi
        self.cum_volume += ntl
        pos.cum_change = ZERO
        if not start or (start > 0) == is_buy:
            # opens or grows the position: nothing realised (the most common fill, kept short)
            pos.entry_ntl += ntl
            if not start:
                pos.cum_open = ZERO
            pos.szi = start + sz if is_buy else start - sz
            self.balance -= fee
            if self.leverage:
                iso_lev = self.isolated_leverage(asset)
                if iso_lev or asset in self.isolated_margin:
                    self._move_isolated_margin(asset, start, ZERO, sz, px, iso_lev)
            return start, ZERO, "Open Long" if is_buy else "Open Short"
        size = start if start > 0 else -start
        if sz > size:
            closing = size
            direction = "Short > Long" if is_buy else "Long > Short"
        else:
            closing = sz
            direction = "Close Short" if is_buy else "Close Long"
        entry_px = pos.entry_ntl / size
        # a long closes by selling: pnl = (px - entry) * closing; a short the other way round
        closed_pnl = (px - entry_px) * closing if start > 0 else (entry_px - px) * closing
        if closing == size:
            pos.entry_ntl = px * (sz - closing)  # flat, or flipped at this fill's price
            pos.cum_open = ZERO
        else:
            pos.entry_ntl -= entry_px * closing
        after = pos.szi = start + sz if is_buy else start - sz
        if not after:
            pos.entry_ntl = ZERO
        self.balance += closed_pnl - fee
        if self.leverage:
            iso_lev = self.isolated_leverage(asset)
            if iso_lev or asset in self.isolated_margin:
                self._move_isolated_margin(asset, start, closing, sz - closing, px, iso_lev)
        return start, closed_pnl, direction

    def _move_isolated_margin(
        self, asset: int, start: Decimal, closing: Decimal, opened: Decimal, px: Decimal, lev: int
    ) -> None:
        margin = self.isolated_margin.get(asset, ZERO)
        if closing:
            release = margin if closing == abs(start) else margin * closing / abs(start)
            margin -= release
            self.balance += release
        if opened and lev:
            allocated = px * opened / lev
            margin += allocated
            self.balance -= allocated
        if margin or self.szi(asset):
            self.isolated_margin[asset] = margin
        else:
            self.isolated_margin.pop(asset, None)

    def add_fill(self, fill: Fill | tuple[Any, ...]) -> None:
        """Record a fill (see :meth:`FillLog.append`)."""
        self.fills.append(fill)

    def account_value(self, marks: dict[int, Decimal]) -> Decimal:
        """Total equity: balance + isolated margin + unrealised PnL of every position."""
        value = self.balance
        for asset, pos in self.positions.items():
            if pos.szi:
                value += pos.unrealized(marks[asset])
        for margin in self.isolated_margin.values():
            value += margin
        return value

    def cross_value(self, marks: dict[int, Decimal]) -> Decimal:
        """Cross equity: balance + unrealised PnL of the cross positions."""
        value = self.balance
        for asset, pos in self.positions.items():
            if pos.szi and self.is_cross(asset):
                value += pos.unrealized(marks[asset])
        return value

    def margin_used(self, marks: dict[int, Decimal], max_leverages: dict[int, int]) -> Decimal:
        """Initial margin of the cross positions at their current leverage."""
        used = ZERO
        for asset, pos in self.positions.items():
            if pos.szi and self.is_cross(asset):
                used += abs(pos.szi) * marks[asset] / self.leverage_of(asset, max_leverages[asset])
        return used

    def maintenance_margin(
        self, marks: dict[int, Decimal], max_leverages: dict[int, int], *, cross: bool | None = None
    ) -> Decimal:
        """Maintenance margin, half the initial margin at the market's max leverage, of all positions
        (or only the cross ones with ``cross=True``, only the isolated ones with ``cross=False``)."""
        mm = ZERO
        for asset, pos in self.positions.items():
            if pos.szi and (cross is None or self.is_cross(asset) == cross):
                mm += abs(pos.szi) * marks[asset] / (2 * max_leverages[asset])
        return mm

    def available(self, marks: dict[int, Decimal], max_leverages: dict[int, int]) -> Decimal:
        """What new orders (and isolated margin top-ups) may still use as initial margin:
        cross value - cross margin used - order margin (one pass: checked on every order)."""
        value = self.balance - self.order_margin
        leverage = self.leverage
        for asset, pos in self.positions.items():
            szi = pos.szi
            if not szi:
                continue
            setting = leverage.get(asset)
            if setting is not None and not setting[0]:
                continue  # isolated
            mark = marks[asset]
            lev = setting[1] if setting is not None else max_leverages[asset]
            if szi > 0:
                value += szi * mark - pos.entry_ntl - szi * mark / lev
            else:
                value += szi * mark + pos.entry_ntl + szi * mark / lev
        return value
