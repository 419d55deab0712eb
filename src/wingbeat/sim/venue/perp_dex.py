"""``PerpDex``: one perp dex of the running venue, its perp markets and its clearinghouse.

The main dex (index 0, name ``""``) holds the engine's own perp markets and accounts. A builder dex
(HIP-3, index >= 1) has its own markets (asset ids ``110000 + (index - 1) * 10000 + j``) and its own
clearinghouse: ``accounts`` maps a user to a separate margin :class:`Account` (collateral balance,
positions, leverage, open orders of that dex only). The matching loop never asks which dex it is
on: a market's ``accounts`` is its dex's clearinghouse, so a maker's account is looked up there.

A user's margin account on a builder dex shares the user's history with the main account (the
same fill log, funding list, ledger and cloid map), so ``userFills``, ``userFunding``,
``userNonFundingLedgerUpdates`` and cloid lookups see every dex, as Hyperliquid's do.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from wingbeat.sim.venue.accounts import Account
from wingbeat.sim.venue.perp_dexes import BUILDER_DEX_ASSET_OFFSET, DEX_ASSET_STRIDE, PerpDexConfig

if TYPE_CHECKING:
    from wingbeat.sim.venue.market_state import MarketState

__all__ = ["AT_OPEN_INTEREST_CAP", "PerpDex", "dex_asset_offset"]

ZERO = Decimal(0)
#: Hyperliquid's refusal of an order that would grow a position while its perp is at an open-interest
#: cap (the text traders report; the order status is ``positionIncreaseAtOpenInterestCapRejected``).
AT_OPEN_INTEREST_CAP = (
    "Cannot increase position when open interest is at cap.",
    "positionIncreaseAtOpenInterestCapRejected",
)


def dex_asset_offset(index: int) -> int:
    """Asset id of perp 0 of the dex at ``perpDexs`` position ``index`` (0 for the main dex)."""
    return 0 if index == 0 else BUILDER_DEX_ASSET_OFFSET + (index - 1) * DEX_ASSET_STRIDE


class PerpDex:
    """One perp dex: ``index`` its ``perpDexs`` position, ``name`` (``""`` for the main dex),
    ``cfg`` (None for the main dex), ``markets`` by position, ``accounts`` its clearinghouse."""

    __slots__ = ("accounts", "cfg", "index", "markets", "modes", "name", "offset", "oracle_updated_ms")

    def __init__(
        self,
        index: int,
        cfg: PerpDexConfig | None,
        markets: list[MarketState],
        accounts: dict[str, Account],
    ) -> None:
        self.index = index
        self.cfg = cfg
        self.name = "" if cfg is None else cfg.name
        self.offset = dex_asset_offset(index)
        self.markets = markets
        self.accounts = accounts
        self.oracle_updated_ms: int | None = None  # the last setOracle of its oracle updater
        # asset -> margin mode ("noCross" / "strictIsolated") of the perps that trade isolated only
        self.modes: dict[int, str] = {}
        if cfg is not None:
            for j, perp in enumerate(cfg.perps):
                if perp.margin_mode is not None:
                    self.modes[self.offset + j] = perp.margin_mode

    @property
    def is_builder(self) -> bool:
        """Whether this is a HIP-3 builder-deployed dex (not the main dex)."""
        return self.cfg is not None

    def market(self, asset: int) -> MarketState | None:
        """The perp of asset id ``asset`` on this dex, or None."""
        j = asset - self.offset
        return self.markets[j] if 0 <= j < len(self.markets) else None

    def isolated_only(self, asset: int) -> bool:
        """Whether ``asset`` trades isolated only (``noCross`` or ``strictIsolated``)."""
        return asset in self.modes

    def account(self, main: Account) -> Account:
        """The margin account of ``main``'s user on this dex (the main account itself on the main
        dex), created empty on first use: isolated at max leverage on isolated-only perps."""
        if self.cfg is None:
            return main
        acct = self.accounts.get(main.user)
        if acct is None:
            acct = Account(
                main.user, cloids=main.cloids, fills=main.fills, fundings=main.fundings, ledger=main.ledger
            )
            for asset in self.modes:
                m = self.market(asset)
                assert m is not None
                acct.leverage[asset] = (False, m.cfg.max_leverage)
            self.accounts[main.user] = acct
        return acct

    def open_interest_ntl(self, marks: dict[int, Decimal]) -> Decimal:
        """Open interest of all its perps as its caps count it: the sum of absolute position sizes
        times the mark (twice the long size, which ``openInterest`` shows), in USDC."""
        return sum((2 * m.open_interest * marks[m.index] for m in self.markets), ZERO)

    def at_open_interest_cap(self, m: MarketState, marks: dict[int, Decimal]) -> bool:
        """Whether perp ``m`` of this builder dex is at an open-interest cap: its own (USDC
        notional), the size cap per perp, or the dex's total notional cap (the main dex: never).
        As the HIP-3 docs count it: notional = sum of absolute position sizes x mark, size = sum
        of absolute position sizes."""
        cfg = self.cfg
        if cfg is None:
            return False
        oi = 2 * m.open_interest  # longs and shorts
        if not oi:
            return False
        cap = cfg.perps[m.index - self.offset].oi_cap
        if oi >= cfg.oi_sz_cap_per_perp or (cap is not None and oi * marks[m.index] >= cap):
            return True
        return self.open_interest_ntl(marks) >= cfg.total_oi_cap

    def open_interest_problem(
        self,
        acct: Account,
        m: MarketState,
        is_buy: bool,
        sz: Decimal,
        reduce_only: bool,
        marks: dict[int, Decimal],
    ) -> tuple[str, str] | None:
        """``AT_OPEN_INTEREST_CAP`` when an order would grow ``acct``'s position in ``m`` (not
        reduce-only, and not only closing: on the position's own side, or larger than it) while
        ``m`` is at a cap; else None. Checked when the order is placed (CHOSEN: resting orders
        that fill later are not checked again)."""
        if reduce_only or self.cfg is None:
            return None
        szi = acct.szi(m.index)
        if szi and (szi > 0) != is_buy and sz <= abs(szi):
            return None  # closes (part of) the position
        return AT_OPEN_INTEREST_CAP if self.at_open_interest_cap(m, marks) else None
