"""Spot names and shapes on recorded mainnet data: pairs BASE-QUOTE <-> the venue's coins and asset ids, the
spot price rule per base token, contexts by coin, balances with holds, the spotState push."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from wingbeat.core.enums import TradeType
from wingbeat.core.errors import InvalidOrderError
from wingbeat.hyperliquid.constants import is_spot_trading_pair
from wingbeat.hyperliquid.schemas_fields import MalformedMessageError
from wingbeat.hyperliquid.schemas_spot import (
    parse_spot_clearinghouse_state,
    parse_spot_meta_and_asset_ctxs,
    parse_spot_state_message,
)
from wingbeat.hyperliquid.spot_markets import SpotMarkets, is_spot_coin

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "hyperliquid" / "payloads"


def recorded() -> Any:
    return json.loads((PAYLOADS / "info_spotMetaAndAssetCtxs.json").read_text())["response"]


def test_mainnet_pairs_are_named_after_their_tokens_with_the_venues_coins_and_assets() -> None:
    answer = parse_spot_meta_and_asset_ctxs(recorded())
    markets = SpotMarkets(answer.meta)
    assert [(m.trading_pair, m.coin, m.asset) for m in markets] == [
        ("PURR-USDC", "PURR/USDC", 10_000),
        ("HFUN-USDC", "@1", 10_001),
        ("HYPE-USDC", "@107", 10_107),
        ("HYPE-USDT0", "@207", 10_207),  # a quote other than USDC: token 268
    ]
    hype = markets.market("HYPE-USDC")
    assert markets.by_coin("@107") is hype and markets.by_coin("BTC") is None
    assert (hype.base, hype.quote) == ("HYPE", "USDC")
    # HYPE has szDecimals 2: lots of 0.01, prices of 5 significant figures and at most 8 - 2 decimals
    assert (hype.rule.size_increment, hype.rule.max_price_decimals) == (Decimal("0.01"), 6)
    assert hype.rule.quantize_price(Decimal("41.33157"), TradeType.SELL) == Decimal("41.332")
    purr = markets.market("PURR-USDC").rule
    assert purr.max_price_decimals == 8 and purr.quantize_price(Decimal("0.1131179"), TradeType.BUY) == Decimal(
        "0.11311"
    )
    token = markets.token("HYPE")
    assert token is not None and (token.index, token.wei_decimals) == (150, 8)
    assert token.token_id == "0x0d01dc56dcaaca66ad901c959b4011ec"
    with pytest.raises(InvalidOrderError, match=r"lists no spot pair 'HYPE-USD'.*HYPE-USDC"):
        markets.market("HYPE-USD")


def test_contexts_are_found_by_coin_not_by_position() -> None:
    answer = parse_spot_meta_and_asset_ctxs(recorded())
    ctx = answer.ctx_of("@107")
    assert ctx is not None and (ctx.mark_px, ctx.mid_px) == (Decimal("41.328"), Decimal("41.3315"))
    assert answer.ctx_of("@144") is not None  # the venue lists contexts of pairs its universe leaves out


def test_spot_coins_and_pairs_are_told_from_perps() -> None:
    assert all(is_spot_coin(c) for c in ("PURR/USDC", "@1", "@107"))
    assert not any(is_spot_coin(c) for c in ("BTC", "kPEPE", "xyz:XYZ100"))
    assert all(is_spot_trading_pair(p) for p in ("PURR-USDC", "HYPE-USDT0"))
    assert not any(is_spot_trading_pair(p) for p in ("BTC-USD", "xyz:XYZ100-USD", "USDC", "-USDC", "PURR-"))


def test_balances_with_holds_and_the_spot_state_push() -> None:
    # the shape of Hyperliquid's docs example (Info endpoint / Spot: a user's token balances)
    raw = {"balances": [
        {"coin": "USDC", "token": 0, "hold": "0.0", "total": "14.625485", "entryNtl": "0.0"},
        {"coin": "PURR", "token": 1, "hold": "500", "total": "2000", "entryNtl": "1234.56"},
    ]}
    state = parse_spot_clearinghouse_state(raw)
    purr = state.balances[1]
    assert (purr.coin, purr.total, purr.hold, purr.available) == ("PURR", Decimal(2000), Decimal(500), Decimal(1500))
    pushed = parse_spot_state_message({"user": "0xABC", "spotState": raw})
    assert pushed.user == "0xabc" and pushed.state == state
    with pytest.raises(MalformedMessageError, match=r"balances\[0\]: missing field 'hold'"):
        parse_spot_clearinghouse_state({"balances": [{"coin": "USDC", "token": 0, "total": "1"}]})
