"""``HyperliquidSpotConnector``: Hyperliquid spot pairs on wingbeat's core, beside (or instead of) the perps.

The Hyperliquid account layer (network, signing, user stream, placement, cancels, status checks, dead man's
switch: :class:`~wingbeat.hyperliquid.base_connector.HyperliquidConnectorBase`) is the perp connector's; this
class adds only what spot has:

- pairs named after their tokens, ``BASE-QUOTE`` (``"PURR-USDC"``, ``"HYPE-USDC"``), mapped to the venue's
  coins (``"PURR/USDC"``, ``"@1"``) and asset ids (``10000 + index``) from ``spotMeta``
  (:class:`~wingbeat.hyperliquid.spot_markets.SpotMarkets`);
- the spot price rule: 5 significant figures and at most ``8 - szDecimals`` decimals; sizes in the base
  token's ``szDecimals``; at least 10 quote tokens of value, refused before anything is sent;
- balances per token from ``spotClearinghouseState`` (pushed on ``spotState``, or polled): ``get_balance``
  is the total, ``get_available_balance`` the total minus what resting orders hold;
- fills report their fee in the token the venue charges it in, the one received: the base token on a buy,
  the quote token on a sell (``OrderFilledEvent.fee_asset``).

No positions, funding or leverage: spot has none. An account may run this connector and the perp one at
the same time; each sees only its own orders and publishes only its market's share of the account-wide news
(spot fills and TWAPs here; perp fills, funding, liquidations and TWAPs there: see ``market_kind``).

Example::

    conn = HyperliquidSpotConnector(Signer.from_env("HL_PRIVATE_KEY"), trading_pairs=["PURR-USDC"])
    await conn.start(); await conn.wait_ready()
    cid = conn.buy("PURR-USDC", Decimal("100"), OrderType.LIMIT, Decimal("0.2"))
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from wingbeat.core.errors import InvalidOrderError, NotReadyError
from wingbeat.core.in_flight_order import InFlightOrder
from wingbeat.core.trading_rule import TradingRule
from wingbeat.hyperliquid.account_actions import MAX_BUILDER_FEE_SPOT
from wingbeat.hyperliquid.base_connector import HyperliquidConfig, HyperliquidConnectorBase
from wingbeat.hyperliquid.constants import is_spot_trading_pair
from wingbeat.hyperliquid.market_kind import MarketKind
from wingbeat.hyperliquid.order_book_data_source import HyperliquidOrderBookDataSource
from wingbeat.hyperliquid.order_placement import order_to_wire
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.schemas_spot import SpotClearinghouseState
from wingbeat.hyperliquid.signer import Signer
from wingbeat.hyperliquid.spot_markets import SpotMarkets
from wingbeat.hyperliquid.ws import HyperliquidWebSocket

__all__ = ["HyperliquidSpotConnector"]

_ZERO = Decimal(0)


def _check_pair(trading_pair: object) -> str:
    if not isinstance(trading_pair, str) or not is_spot_trading_pair(trading_pair):
        raise ValueError(
            f"spot pairs are named BASE-QUOTE after their tokens, e.g. 'PURR-USDC', got {trading_pair!r}"
            + (" (a perp pair: use HyperliquidPerpetualConnector)" if str(trading_pair).endswith("-USD") else "")
        )
    return trading_pair


class HyperliquidSpotConnector(HyperliquidConnectorBase):
    """Trades Hyperliquid spot pairs (``BASE-QUOTE``) for ``signer``'s account on ``network``.

    ``network`` is ``"testnet"`` (the default: never real money by accident), ``"mainnet"`` or a base URL
    (e.g. a local exchange's ``http://127.0.0.1:PORT``). ``start()`` checks the account like the perp
    connector, then reads ``spotMeta``: a pair the venue does not list raises :class:`InvalidOrderError`.
    Balances are per token (``get_balance("PURR")``). Further keyword arguments go to the core base.
    """

    name = "hyperliquid_spot"
    max_builder_fee = MAX_BUILDER_FEE_SPOT
    market_kind = MarketKind.SPOT
    _account_state_channel = "spotState"

    def __init__(
        self,
        signer: Signer,
        trading_pairs: Sequence[str],
        network: str = "testnet",
        journal_path: str | os.PathLike[str] | None = None,
        *,
        config: HyperliquidConfig | None = None,
        **base_options: Any,
    ) -> None:
        if isinstance(trading_pairs, str):
            raise ValueError(f"trading_pairs must be a list of pairs, e.g. [{trading_pairs!r}]")
        pairs = [_check_pair(pair) for pair in trading_pairs]
        super().__init__(signer, pairs, network, journal_path, config=config, **base_options)
        self._markets: SpotMarkets | None = None

    # ------------------------------------------------------------------------------- public face
    @property
    def spot_markets(self) -> SpotMarkets:
        """Every spot pair the venue lists, with coins, asset ids and tokens (after ``start()``)."""
        if self._markets is None:
            raise NotReadyError("connector is not started")
        return self._markets

    async def all_trading_pairs(self) -> list[str]:
        """Every spot pair the venue lists (``PURR-USDC``, ...), in ``spotMeta`` order. Works before ``start()``."""
        return [m.trading_pair for m in await self._venue_markets(dexes=(), spot=True)]

    async def refresh_balances(self) -> None:
        """Read the token balances now (``spotClearinghouseState``). They follow the venue's ``spotState``
        pushes by themselves; this is for a moment that needs them current, e.g. right after an order rested."""
        await self._update_balances_and_positions()

    # ------------------------------------------------------------------------------- market hooks
    async def _prepare_markets(self) -> None:
        markets = SpotMarkets(await self._rest_client().spot_meta())
        for pair in self.trading_pairs:
            markets.market(pair)  # InvalidOrderError naming the listed pairs: start() fails
        self._markets = markets

    def _market_data_source(
        self, rest: HyperliquidRestClient, ws: HyperliquidWebSocket
    ) -> HyperliquidOrderBookDataSource:
        coins = {pair: self.spot_markets.market(pair).coin for pair in self.trading_pairs}
        return HyperliquidOrderBookDataSource(rest, ws, clock=self._clock, coins=coins, asset_contexts=False)

    async def _update_trading_rules(self) -> Mapping[str, TradingRule]:
        rules: dict[str, TradingRule] = {}
        for pair in self.trading_pairs:
            market = self.spot_markets.market(pair)
            self._assets[pair] = market.asset
            rules[pair] = market.rule
        return rules

    def _trading_pair_of_coin(self, coin: str) -> str:
        market = self._markets.by_coin(coin) if self._markets is not None else None
        return market.trading_pair if market is not None else super()._trading_pair_of_coin(coin)

    async def _fetch_account_state(self) -> SpotClearinghouseState:
        return await self._rest_client().spot_clearinghouse_state(self._user)

    def _on_account_state(self, state: SpotClearinghouseState) -> None:
        seen: set[str] = set()
        for balance in state.balances:
            self._set_balance(balance.coin, balance.total, balance.available)
            seen.add(balance.coin)
        for token in list(self._balances):
            if token not in seen:  # the venue leaves out tokens the account no longer holds
                self._set_balance(token, _ZERO, _ZERO)

    def _order_wire(self, order: InFlightOrder) -> dict[str, Any]:
        if order.reduce_only:
            raise InvalidOrderError(f"{order.trading_pair} is a spot pair: orders cannot be reduce-only")
        return order_to_wire(order, self._assets[order.trading_pair])
