"""Which Hyperliquid connector a piece of the account's news belongs to: the one ownership rule.

Hyperliquid's user stream is the account's, whatever market it trades: ``userFills`` and ``userFillsByTime``,
``userEvents`` (fills, funding, liquidations, cancels by the exchange), ``userTwapHistory`` and
``userTwapSliceFills`` carry perp and spot news alike. An account may run a
:class:`~wingbeat.hyperliquid.connector.HyperliquidPerpetualConnector` and a
:class:`~wingbeat.hyperliquid.spot_connector.HyperliquidSpotConnector` at the same time, and each publishes only
the news of its own market kind (:class:`MarketKind`), decided here and nowhere else:

- what names a coin (a fill, a funding payment, a TWAP and its slice fills, an order the exchange cancelled)
  belongs to the kind of that coin: spot for ``"PURR/USDC"`` and ``"@1"``, perp for ``"BTC"`` and builder-dex
  coins such as ``"xyz:XYZ100"`` (:func:`market_kind_of_coin`);
- a liquidation belongs to the perps (:data:`LIQUIDATION_MARKET`): only perp margin is liquidated, spot
  balances are not margin.

Orders need no rule: each connector's order tracker knows its own by client order id. The account states have
their own channels already (``clearinghouseState`` for perps, ``spotState`` for spot).
"""

from __future__ import annotations

from enum import Enum

from wingbeat.hyperliquid.spot_markets import is_spot_coin

__all__ = ["LIQUIDATION_MARKET", "MarketKind", "market_kind_of_coin"]


class MarketKind(Enum):
    """The kind of market a Hyperliquid connector trades, and so the account news it publishes."""

    PERP = "perp"
    SPOT = "spot"

    def owns_coin(self, coin: str) -> bool:
        """Whether news about venue coin ``coin`` belongs to a connector of this kind."""
        return market_kind_of_coin(coin) is self

    @property
    def owns_liquidations(self) -> bool:
        """Whether the account's liquidations belong to a connector of this kind."""
        return self is LIQUIDATION_MARKET


def market_kind_of_coin(coin: str) -> MarketKind:
    """The market kind of a venue coin: SPOT for ``"PURR/USDC"`` / ``"@1"``, PERP for anything else."""
    return MarketKind.SPOT if is_spot_coin(coin) else MarketKind.PERP


LIQUIDATION_MARKET = MarketKind.PERP
"""Liquidations are of perp margin (the main dex's or a builder dex's): the perp connector's news."""
