"""Hyperliquid's spot pairs looked up both ways: wingbeat's ``BASE-QUOTE`` name <-> the venue's coin.

Hyperliquid names a spot pair's books, trades, orders and fills by a *coin*: ``"PURR/USDC"`` for the canonical
PURR pair, ``"@{index}"`` for every other pair (``"@107"`` is HYPE/USDC on mainnet); orders carry the asset id
``10000 + index``. Wingbeat names each pair after its tokens, ``"PURR-USDC"``, ``"HYPE-USDC"``, so a user never
types an index. :class:`SpotMarkets` indexes the spot :class:`~wingbeat.hyperliquid.markets.VenueMarket` s of
one ``spotMeta`` answer (``markets.spot_markets`` builds them) by name and by coin, with their tokens.
"""

from __future__ import annotations

from collections.abc import Iterator

from wingbeat.core.errors import InvalidOrderError
from wingbeat.hyperliquid.markets import VenueMarket, spot_markets
from wingbeat.hyperliquid.schemas import SpotMeta, SpotTokenMeta

__all__ = ["SpotMarkets", "is_spot_coin"]


def is_spot_coin(coin: str) -> bool:
    """Whether a Hyperliquid coin names a spot pair (``"PURR/USDC"``, ``"@1"``) rather than a perp."""
    return coin.startswith("@") or "/" in coin


class SpotMarkets:
    """Every spot pair ``spotMeta`` lists, by wingbeat name (``"PURR-USDC"``) and by coin (``"PURR/USDC"``,
    ``"@1"``), and its tokens by name."""

    def __init__(self, meta: SpotMeta) -> None:
        self._by_pair: dict[str, VenueMarket] = {}
        self._by_coin: dict[str, VenueMarket] = {}
        for market in spot_markets(meta):
            self._by_pair.setdefault(market.trading_pair, market)
            self._by_coin[market.coin] = market
        self._tokens: dict[str, SpotTokenMeta] = {t.name: t for t in meta.tokens}

    def __iter__(self) -> Iterator[VenueMarket]:
        return iter(self._by_pair.values())

    def __len__(self) -> int:
        return len(self._by_pair)

    def market(self, trading_pair: str) -> VenueMarket:
        """The market named ``trading_pair``; :class:`InvalidOrderError` naming what is listed otherwise."""
        market = self._by_pair.get(trading_pair)
        if market is None:
            listed = ", ".join(sorted(self._by_pair)[:10]) or "none"
            raise InvalidOrderError(
                f"the exchange lists no spot pair {trading_pair!r} (pairs are BASE-QUOTE: {listed})"
            )
        return market

    def by_coin(self, coin: str) -> VenueMarket | None:
        """The market whose venue coin is ``coin`` (``"PURR/USDC"``, ``"@1"``), None for any other coin."""
        return self._by_coin.get(coin)

    def token(self, name: str) -> SpotTokenMeta | None:
        """The token called ``name`` (``"USDC"``), None when unlisted."""
        return self._tokens.get(name)
