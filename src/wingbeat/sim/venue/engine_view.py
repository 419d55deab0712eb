"""What the engine's helper modules (:mod:`.risk`, :mod:`.account_actions`,
:mod:`.transfers`) may use of it.

A structural :class:`typing.Protocol` that :class:`~wingbeat.sim.venue.engine.ExchangeEngine` satisfies,
so those modules type their ``engine`` argument without importing the engine (which imports them).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Protocol

from wingbeat.sim.venue.accounts import Account, Fill
from wingbeat.sim.venue.market_state import MarketState, SpotMarketState
from wingbeat.sim.venue.perp_dex import PerpDex
from wingbeat.sim.venue.spot_markets import SpotConfig
from wingbeat.sim.venue.types import EngineEvent

__all__ = ["EngineView"]


class EngineView(Protocol):
    """The engine state and id/event services that risk, account actions and transfers use."""

    accounts: dict[str, Account]
    markets: list[MarketState]
    perp_markets: list[MarketState]  # every perp, main dex first, then the builder dexes
    dexes: list[PerpDex]  # the main dex, then the builder dexes (HIP-3)
    spot: SpotConfig
    spot_markets: list[SpotMarketState]
    marks: dict[int, Decimal]
    max_leverages: dict[int, int]
    funding_interval_ms: int
    liquidator: str

    @property
    def has_subscribers(self) -> bool:
        """Whether anyone listens (events are only rendered then)."""
        ...

    def emit(self, event: EngineEvent) -> None:
        """Queue ``event`` for publication at the end of the current action."""
        ...

    def queue_fill(self, user: str, fill: Fill) -> None:
        """Queue a fill of ``user`` for the end of the current action."""
        ...

    def new_tid(self) -> int:
        """A fresh trade id."""
        ...

    def new_oid(self) -> int:
        """A fresh order id."""
        ...

    def tx_hash(self) -> str:
        """The transaction hash of the current action."""
        ...

    def cancel_all_of(
        self, acct: Account, status: str, now: int, *, asset: int | None = None, perp_only: bool = False
    ) -> None:
        """Cancel every open order of ``acct`` (of ``asset`` only if given, of perps only with
        ``perp_only``) with ``status``."""
        ...

    def account_frame(self) -> AbstractContextManager[int]:
        """An action frame for account actions outside the order flow; yields its time."""
        ...

    def dex(self, name: str) -> PerpDex | None:
        """The perp dex named ``name`` (``""``: the main dex), or None."""
        ...

    def dex_of(self, asset: int) -> PerpDex | None:
        """The perp dex that lists perp asset ``asset``, or None."""
        ...

    def account_changed(self, user: str) -> None:
        """Within an action frame: ``user``'s balance or margin settings changed."""
        ...
