"""What a venue lists (``wingbeat.hyperliquid.markets``): perps of the main dex and of builder (HIP-3) dexes
with their asset ids and margin modes, spot pairs with their tokens; decoded from the documented shapes
(Hyperliquid's info docs and the official SDK's ``Info.__init__``: ``perpDexs`` is ``[null, {"name"...}]``, the
first builder dex's perps start at asset 110000) and read over sockets from the local exchange."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Trader
from wingbeat.hyperliquid.connector import HyperliquidPerpetualConnector
from wingbeat.hyperliquid.markets import (
    MARGIN_CROSS,
    MARGIN_ISOLATED_ONLY,
    MARGIN_STRICT_ISOLATED,
    dex_of_coin,
    perp_markets,
    spot_markets,
    venue_markets,
)
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.schemas import (
    MalformedMessageError,
    parse_meta,
    parse_perp_dexs,
    parse_spot_meta,
)
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim import LocalExchange

# shapes as Hyperliquid documents them (info endpoint, perpetuals: meta with marginMode / collateralToken)
BUILDER_META: dict[str, Any] = {
    "universe": [
        {"name": "xyz:XYZ100", "szDecimals": 4, "maxLeverage": 20, "marginMode": "noCross"},
        {"name": "xyz:OLD", "szDecimals": 2, "maxLeverage": 3, "isDelisted": True},
        {"name": "xyz:GOLD", "szDecimals": 3, "maxLeverage": 10, "marginMode": "strictIsolated"},
        {"name": "xyz:ISO", "szDecimals": 1, "maxLeverage": 5, "onlyIsolated": True},
    ],
    "marginTables": [],
    "collateralToken": 0,
}
SPOT_META: dict[str, Any] = {
    "tokens": [
        {"name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0, "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054",
         "isCanonical": True},
        {"name": "PURR", "szDecimals": 0, "weiDecimals": 5, "index": 1, "tokenId": "0xc1fb593aeffbeb02f85e0308e9956a90",
         "isCanonical": True},
    ],
    "universe": [{"name": "PURR/USDC", "tokens": [1, 0], "index": 0, "isCanonical": True},
                 {"name": "@7", "tokens": [0, 1], "index": 7, "isCanonical": False}],
}  # fmt: skip


def test_builder_dex_perps_take_the_sdk_asset_ids_and_their_margin_modes() -> None:
    [xyz, flx] = parse_perp_dexs(
        [None, {"name": "xyz", "fullName": "XYZ"}, {"name": "flx", "fullName": None}]
    )
    assert (xyz.name, xyz.position, xyz.asset_offset, flx.asset_offset) == ("xyz", 1, 110000, 120000)
    markets = perp_markets(parse_meta(BUILDER_META), xyz, "USDC")
    assert [(m.trading_pair, m.asset, m.margin_mode) for m in markets] == [
        ("xyz:XYZ100-USD", 110000, MARGIN_ISOLATED_ONLY),
        ("xyz:GOLD-USD", 110002, MARGIN_STRICT_ISOLATED),  # the delisted perp keeps its slot
        ("xyz:ISO-USD", 110003, MARGIN_ISOLATED_ONLY),
    ]
    gold = markets[1]
    assert (gold.dex, gold.coin, gold.base, gold.quote, gold.collateral) == (
        "xyz",
        "xyz:GOLD",
        "GOLD",
        "USD",
        "USDC",
    )
    assert (gold.rule.size_increment, gold.rule.max_price_decimals, gold.max_leverage) == (
        Decimal("0.001"),
        3,
        10,
    )
    assert dex_of_coin("xyz:GOLD") == "xyz" and dex_of_coin("BTC") == ""
    main = perp_markets(parse_meta({"universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 40}]}))
    assert [(m.trading_pair, m.asset, m.dex, m.margin_mode) for m in main] == [
        ("BTC-USD", 0, "", MARGIN_CROSS)
    ]


def test_spot_pairs_are_named_after_their_tokens() -> None:
    markets = spot_markets(parse_spot_meta(SPOT_META))
    assert [(m.trading_pair, m.coin, m.asset, m.base, m.quote) for m in markets] == [
        ("PURR-USDC", "PURR/USDC", 10000, "PURR", "USDC"),
        ("USDC-PURR", "@7", 10007, "USDC", "PURR"),
    ]
    assert markets[0].rule.max_price_decimals == 8 and markets[0].margin_mode is None
    with pytest.raises(MalformedMessageError, match=r"spotMeta.universe\[0\].tokens"):
        parse_spot_meta({"tokens": [], "universe": [{"name": "X", "tokens": [1], "index": 0}]})
    with pytest.raises(MalformedMessageError, match=r"perpDexs\[1\]"):
        parse_perp_dexs([None, {"fullName": "no name"}])


async def test_the_venue_listing_matches_its_meta_and_spot_meta(local_exchange: LocalExchange) -> None:
    async with HyperliquidRestClient(local_exchange.base_url) as rest:
        listed = await venue_markets(rest)
        meta, spot = await rest.meta(), await rest.spot_meta()
        with pytest.raises(ValueError, match="the venue lists no perp dex 'nope'"):
            await venue_markets(rest, dexes=["", "nope"])
        only_spot = await venue_markets(rest, dexes=[], spot=True)
    perps = [m for m in listed if m.kind == "perp" and m.dex == ""]
    assert [(m.coin, m.asset, m.sz_decimals) for m in perps] == [
        (a.name, a.asset, a.sz_decimals) for a in meta.universe
    ]
    assert [m.coin for m in listed if m.kind == "spot"] == [p.name for p in spot.universe]
    assert [m.kind for m in only_spot] == ["spot"] * len(spot.universe)


async def test_all_trading_pairs_lists_every_perp_before_and_after_start(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    async with HyperliquidRestClient(local_exchange.base_url) as rest:
        perps = [f"{a.name}-USD" for a in (await rest.meta()).universe]
        for dex in await rest.perp_dexs():  # then every builder dex's, in perpDexs order
            perps += [f"{a.name}-USD" for a in (await rest.meta(dex.name)).universe if not a.is_delisted]
    assert perps[:3] == ["BTC-USD", "ETH-USD", "SOL-USD"]
    conn = HyperliquidPerpetualConnector(Signer(trader.key), ["ETH-USD"], local_exchange.base_url)
    assert await conn.all_trading_pairs() == perps  # not started: its own short-lived client
    await conn.start()
    try:
        assert await conn.all_trading_pairs() == perps
    finally:
        await conn.stop()
