"""Builder codes on a connector's orders: the ``{"b", "f"}`` every order action carries, and the local check that
the account approved that fee.

Hyperliquid (its builder-code docs) adds ``f`` tenths of a basis point of each fill's notional to the fee of an
order whose action carries ``"builder": {"b": address, "f": f}``, for the builder; ``f`` is at most 100 (0.1 %)
on perps and 1000 (1 %) on spot, and the account must first approve at least that fee for that builder with
``approveBuilderFee``, signed by its own key (not an API wallet). An order above the approval, or for a builder
never approved (or revoked: ``maxBuilderFee`` 0; the venue refuses those even with ``f`` 0), is refused by the
venue for the whole batch ("Builder fee has not been approved."). :class:`BuilderFeeGate` reads ``maxBuilderFee``
at start and refuses such orders locally instead, with a message that says how to approve.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from wingbeat.core.errors import WingbeatError
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.wire import Builder

__all__ = ["BuilderFeeGate"]

_logger = logging.getLogger("wingbeat.hyperliquid.connector")

#: A refused batch asks ``maxBuilderFee`` again at most this often (the user may have approved meanwhile), s.
#: CHOSEN: no source; short enough that an approval made while the connector runs is seen at once.
_REREAD_AFTER_S = 5.0


class BuilderFeeGate:
    """Knows what ``user`` approved for ``builder`` (``maxBuilderFee``) and whether an order may carry it."""

    __slots__ = ("_approved", "_builder", "_clock", "_read_at", "_user")

    def __init__(self, builder: Builder, user: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._builder = builder
        self._user = user
        self._clock = clock
        self._approved: int | None = None
        self._read_at = float("-inf")

    @property
    def builder(self) -> Builder:
        """The builder and fee every order carries."""
        return self._builder

    @property
    def approved(self) -> int | None:
        """The approved maximum as last read, tenths of a basis point (None before the first read)."""
        return self._approved

    async def refresh(self, rest: HyperliquidRestClient) -> int:
        """Read ``maxBuilderFee`` for (user, builder); returns it (raises what the request raises)."""
        raw = await rest.info({"type": "maxBuilderFee", "user": self._user, "builder": self._builder.address})
        self._read_at = self._clock()
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise WingbeatError(f"maxBuilderFee: expected a non-negative integer, got {str(raw)[:80]}")
        self._approved = raw
        return raw

    @property
    def allows(self) -> bool:
        """Whether the last read approval covers the fee (an approval of 0 is none)."""
        return self._allows()

    def _allows(self) -> bool:
        approved = self._approved
        return approved is not None and approved > 0 and self._builder.fee_tenths_bp <= approved

    async def refusal(self, rest: HyperliquidRestClient) -> str | None:
        """None when orders may carry the builder; else why not (read again first if the last read is old)."""
        if self._allows():
            return None
        if self._clock() - self._read_at >= _REREAD_AFTER_S:
            try:
                await self.refresh(rest)
            except Exception as exc:  # keep the last answer: the refusal below still holds
                _logger.warning("maxBuilderFee not read again: %r", exc)
        if self._allows():
            return None
        address, fee = self._builder.address, self._builder.fee_tenths_bp
        approved = "no fee" if not self._approved else f"at most {self._approved}"
        return (
            f"not sent: the builder fee {fee} (tenths of a basis point) for builder {address} needs an approval "
            f"of at least {fee}, and account {self._user} approved {approved}: run approveBuilderFee with the "
            f"account's own key, `wingbeat approve-builder-fee {address} {fee}` or "
            f"`await AccountActions(signer, network).approve_builder_fee('{address}', {fee})`"
        )
