"""Every market a Hyperliquid venue lists, with its rules: the main perp dex, each builder-deployed (HIP-3)
perp dex and spot, read from the public ``/info`` answers (``meta``, ``perpDexs`` + ``meta`` of each dex,
``spotMeta``); no key needed.

Names: a perp is ``COIN-USD`` after its coin (``BTC-USD``; on a builder dex the coin carries the dex,
``xyz:XYZ100-USD``), a spot pair ``BASE-QUOTE`` after its tokens (``PURR-USDC``; its wire coin is
``PURR/USDC`` or ``@N``). Asset ids as the official SDK computes them: a main-dex perp its index in
``meta.universe``, a builder-dex perp ``100000 + position in perpDexs * 10000 + index`` (110000 for the
first builder dex), a spot pair ``10000 + its spot index``. Delisted perps are left out (they keep their
slot, so the others' ids are unchanged).

``wingbeat markets`` prints these; ``HyperliquidPerpetualConnector.all_trading_pairs()`` lists their names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wingbeat.core.trading_rule import TradingRule
from wingbeat.hyperliquid.constants import coin_to_trading_pair
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.schemas import AssetMeta, Meta, PerpDex, SpotMeta
from wingbeat.hyperliquid.wire import perp_trading_rule, spot_trading_rule

__all__ = [
    "MARGIN_CROSS",
    "MARGIN_ISOLATED_ONLY",
    "MARGIN_STRICT_ISOLATED",
    "VenueMarket",
    "dex_of_coin",
    "margin_mode_of",
    "perp_markets",
    "spot_markets",
    "spot_pair_name",
    "venue_markets",
]

MARGIN_CROSS = "cross"
"""Cross or isolated margin, the trader's choice (``updateLeverage`` with ``isCross`` either way)."""
MARGIN_ISOLATED_ONLY = "isolated-only"
"""Isolated margin only (``onlyIsolated`` or ``marginMode: "noCross"``)."""
MARGIN_STRICT_ISOLATED = "strict-isolated"
"""Isolated only, and margin cannot be taken out of an open position (``marginMode: "strictIsolated"``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueMarket:
    """One tradable market and its rules.

    ``kind`` is ``"perp"`` or ``"spot"``; ``dex`` the perp dex (``""`` the main one, None for spot);
    ``coin`` the name on the wire (books, orders, fills); ``asset`` the id order actions carry;
    ``rule`` sizes (steps of ``10**-sz_decimals``), prices (5 significant figures, at most
    ``6 - sz_decimals`` decimals on perps, ``8 - sz_decimals`` on spot; integers always valid) and the
    minimum order value; ``margin_mode`` one of the ``MARGIN_*`` names (None for spot); ``collateral`` the
    token a perp dex settles in (None when the venue does not say).
    """

    trading_pair: str
    kind: str
    dex: str | None
    coin: str
    asset: int
    sz_decimals: int
    rule: TradingRule
    base: str
    quote: str
    margin_mode: str | None = None
    collateral: str | None = None

    @property
    def max_leverage(self) -> int | None:
        """Highest leverage the venue allows (None for spot)."""
        return self.rule.max_leverage


def margin_mode_of(asset: AssetMeta) -> str:
    """The ``MARGIN_*`` name of a perp's margin rule."""
    if asset.margin_mode == "strictIsolated":
        return MARGIN_STRICT_ISOLATED
    return MARGIN_ISOLATED_ONLY if asset.isolated_only else MARGIN_CROSS


def dex_of_coin(coin: str) -> str:
    """The perp dex of a perp coin: ``"xyz:XYZ100"`` -> ``"xyz"``, ``"BTC"`` -> ``""`` (the main dex)."""
    dex, sep, _ = coin.partition(":")
    return dex if sep else ""


def spot_pair_name(base: str, quote: str) -> str:
    """Wingbeat name of a spot pair: ``("PURR", "USDC")`` -> ``"PURR-USDC"``."""
    return f"{base}-{quote}"


def perp_markets(meta: Meta, dex: PerpDex | None = None, collateral: str | None = None) -> list[VenueMarket]:
    """The listed (not delisted) perps of one dex's ``meta``; ``dex`` None is the main dex."""
    offset = dex.asset_offset if dex is not None else 0
    markets: list[VenueMarket] = []
    for asset in meta.universe:
        if asset.is_delisted:
            continue
        pair = coin_to_trading_pair(asset.name)
        markets.append(
            VenueMarket(
                trading_pair=pair,
                kind="perp",
                dex=dex.name if dex is not None else "",
                coin=asset.name,
                asset=offset + asset.asset,
                sz_decimals=asset.sz_decimals,
                rule=perp_trading_rule(pair, asset.sz_decimals, asset.max_leverage),
                base=asset.name.partition(":")[2] or asset.name,
                quote="USD",
                margin_mode=margin_mode_of(asset),
                collateral=collateral,
            )
        )
    return markets


def spot_markets(spot: SpotMeta) -> list[VenueMarket]:
    """The spot pairs of ``spotMeta`` (a pair naming a token the answer does not list is left out)."""
    markets: list[VenueMarket] = []
    for pair in spot.universe:
        base, quote = spot.token(pair.tokens[0]), spot.token(pair.tokens[1])
        if base is None or quote is None:
            continue
        name = spot_pair_name(base.name, quote.name)
        markets.append(
            VenueMarket(
                trading_pair=name,
                kind="spot",
                dex=None,
                coin=pair.name,
                asset=pair.asset,
                sz_decimals=base.sz_decimals,
                rule=spot_trading_rule(name, base.sz_decimals),
                base=base.name,
                quote=quote.name,
            )
        )
    return markets


async def venue_markets(
    rest: HyperliquidRestClient, *, dexes: Sequence[str] | None = None, spot: bool = True
) -> tuple[VenueMarket, ...]:
    """Every market the venue lists: the perps of ``dexes`` (None: the main dex and every builder dex;
    ``""`` names the main dex), then spot pairs when ``spot``. ``ValueError`` names a dex the venue does not
    list."""
    wanted = None if dexes is None else list(dict.fromkeys(dexes))
    builder: list[PerpDex] = []
    if wanted is None or any(d != "" for d in wanted):
        listed = await rest.perp_dexs()
        by_name = {d.name: d for d in listed}
        if wanted is None:
            builder = list(listed)
        else:
            unknown = [d for d in wanted if d != "" and d not in by_name]
            if unknown:
                names = ", ".join(repr(d.name) for d in listed) or "none"
                raise ValueError(
                    f"the venue lists no perp dex {', '.join(map(repr, unknown))} (builder dexes: {names}; "
                    f'"" is the main dex)'
                )
            builder = [by_name[d] for d in wanted if d != ""]
    spot_meta = await rest.spot_meta()  # spot pairs, and the names of the dexes' collateral tokens

    def collateral(meta: Meta) -> str | None:
        if meta.collateral_token is None:
            return None
        token = spot_meta.token(meta.collateral_token)
        return token.name if token is not None else None

    markets: list[VenueMarket] = []
    if wanted is None or "" in wanted:
        meta = await rest.meta()
        markets.extend(perp_markets(meta, None, collateral(meta)))
    for dex in builder:
        meta = await rest.meta(dex.name)
        markets.extend(perp_markets(meta, dex, collateral(meta)))
    if spot:
        markets.extend(spot_markets(spot_meta))
    return tuple(markets)
