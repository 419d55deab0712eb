"""Spot tokens and spot pairs of the local exchange, as ``spotMeta`` lists them.

A token's index is its position in the token list and a pair's spot index its position in the pair
list: Hyperliquid's lists are dense (``tokens[i]["index"] == i``), and clients rely on it (ccxt reads
a pair's tokens by list position and its asset context by spot index). The order asset id of a
pair is ``10000 + spot index``. The pair at spot index 0 is named ``"BASE/QUOTE"`` (``PURR/USDC``
on Hyperliquid); every other pair is named ``"@<spot index>"``.

The defaults are USDC (token 0, the quote of every pair), PURR and HYPE with their mainnet
``szDecimals``, ``weiDecimals``, ``tokenId``, ``isCanonical`` and ``fullName``. Mainnet's HYPE is
token 150 and HYPE/USDC is ``@107``; the local exchange cannot keep those numbers without 148 filler
tokens and 106 filler pairs (the lists are dense), so HYPE is token 2 and HYPE/USDC is ``@1``, which
is also how Hyperliquid's own docs example numbers the second pair (``@1``, tokens ``[2, 0]``).

Loaded from dicts or a TOML file (``wingbeat sim --markets``)::

    [[spot_token]]
    name = "PURR"
    sz_decimals = 0
    wei_decimals = 5

    [[spot_pair]]
    base = "PURR"
    quote = "USDC"
    start_price = "0.2"
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_SPOT",
    "NO_SPOT",
    "SPOT_ASSET_OFFSET",
    "USDC_TOKEN",
    "SpotConfig",
    "SpotPairConfig",
    "SpotToken",
    "load_spot",
    "spot_from_dicts",
]

SPOT_ASSET_OFFSET = 10_000
"""Order asset id of spot index 0 (``10000 + spot index``, as on Hyperliquid)."""
_TOKEN_ID = re.compile(r"^0x[0-9a-f]{32}$")
_NAME = re.compile(r"^[A-Za-z0-9]{1,16}$")
_MAX_PRICE = Decimal(10) ** 12


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotToken:
    """One spot token: ``sz_decimals`` is the lot of pairs it is the base of, ``wei_decimals`` the
    precision balances are kept in, ``token_id`` the 16-byte id transfers name it by
    (``"NAME:0x<id>"``). ``token_id`` defaults to a hash of the name (for tokens that do not
    exist on Hyperliquid)."""

    name: str
    sz_decimals: int
    wei_decimals: int
    token_id: str = ""
    is_canonical: bool = True
    full_name: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"invalid token name {self.name!r} (1-16 letters or digits)")
        if not 0 <= self.sz_decimals <= 8:
            raise ValueError(f"{self.name}: sz_decimals must be in 0..8, got {self.sz_decimals}")
        if not self.sz_decimals <= self.wei_decimals <= 18:
            raise ValueError(f"{self.name}: wei_decimals must be in sz_decimals..18, got {self.wei_decimals}")
        if not self.token_id:
            digest = hashlib.sha256(f"spot-token:{self.name}".encode()).hexdigest()[:32]
            object.__setattr__(self, "token_id", "0x" + digest)
        elif not _TOKEN_ID.match(self.token_id):
            raise ValueError(f"{self.name}: token_id must be 0x followed by 32 lowercase hex digits")

    @property
    def wire(self) -> str:
        """``"NAME:0x<tokenId>"``: how ``spotSend`` and ``sendAsset`` name the token."""
        return f"{self.name}:{self.token_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SpotPairConfig:
    """One spot pair: ``base`` traded against ``quote`` (token names), starting at ``start_price``
    quote tokens per base token."""

    base: str
    quote: str = "USDC"
    start_price: Decimal

    def __post_init__(self) -> None:
        if self.base == self.quote:
            raise ValueError(f"spot pair {self.base}/{self.quote}: base and quote must differ")
        if not self.start_price.is_finite() or not 0 < self.start_price <= _MAX_PRICE:
            raise ValueError(f"{self.base}/{self.quote}: start_price must be in (0, {_MAX_PRICE}]")


USDC_TOKEN = SpotToken(
    name="USDC", sz_decimals=8, wei_decimals=8, token_id="0x6d1e7cde53ba9467b783cb7c530ce054"
)
"""USDC, token 0: the perp collateral and the quote of the default pairs (mainnet's spotMeta entry)."""


@dataclass(frozen=True, slots=True)
class SpotConfig:
    """The spot tokens (index = position; token 0 is USDC) and pairs (spot index = position)."""

    tokens: tuple[SpotToken, ...]
    pairs: tuple[SpotPairConfig, ...]

    def __post_init__(self) -> None:
        if not self.tokens or self.tokens[0] != USDC_TOKEN:
            raise ValueError("spot token 0 must be USDC (the perp collateral token)")
        names = [t.name for t in self.tokens]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate spot token names in {names}")
        ids = [t.token_id for t in self.tokens]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate spot token ids")
        seen: set[tuple[str, str]] = set()
        for pair in self.pairs:
            for name in (pair.base, pair.quote):
                if name not in names:
                    raise ValueError(f"spot pair {pair.base}/{pair.quote}: unknown token {name}")
            if (pair.base, pair.quote) in seen:
                raise ValueError(f"duplicate spot pair {pair.base}/{pair.quote}")
            seen.add((pair.base, pair.quote))

    def token(self, name: str) -> SpotToken | None:
        """The token called ``name``, or None."""
        for t in self.tokens:
            if t.name == name:
                return t
        return None

    def token_index(self, name: str) -> int:
        """The index of the token called ``name`` (ValueError if there is none)."""
        for i, t in enumerate(self.tokens):
            if t.name == name:
                return i
        raise ValueError(f"unknown spot token {name}")

    def pair_name(self, spot_index: int) -> str:
        """The coin name of the pair at ``spot_index``: ``"BASE/QUOTE"`` at 0, else ``"@index"``."""
        if spot_index == 0:
            pair = self.pairs[0]
            return f"{pair.base}/{pair.quote}"
        return f"@{spot_index}"


DEFAULT_SPOT = SpotConfig(
    tokens=(
        USDC_TOKEN,
        SpotToken(name="PURR", sz_decimals=0, wei_decimals=5, token_id="0xc1fb593aeffbeb02f85e0308e9956a90"),
        SpotToken(
            name="HYPE",
            sz_decimals=2,
            wei_decimals=8,
            token_id="0x0d01dc56dcaaca66ad901c959b4011ec",
            is_canonical=False,
            full_name="Hyperliquid",
        ),
    ),
    pairs=(
        SpotPairConfig(base="PURR", start_price=Decimal("0.2")),
        SpotPairConfig(base="HYPE", start_price=Decimal("40")),
    ),
)
"""USDC, PURR, HYPE; ``PURR/USDC`` at spot index 0 (asset 10000) and HYPE/USDC as ``@1`` (asset 10001)."""

NO_SPOT = SpotConfig(tokens=(USDC_TOKEN,), pairs=())
"""No spot pairs: only USDC, the perp collateral, as a spot balance."""


def _int(item: Mapping[str, Any], *keys: str) -> int:
    for key in keys:
        value = item.get(key)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{keys[0]} must be an integer, got {value!r}")
            return value
    raise ValueError(f"missing {keys[0]}")


def spot_from_dicts(tokens: Sequence[Mapping[str, Any]], pairs: Sequence[Mapping[str, Any]]) -> SpotConfig:
    """Build a spot configuration from ``[[spot_token]]`` and ``[[spot_pair]]`` tables.

    Tokens take ``name``, ``sz_decimals`` (or ``szDecimals``), ``wei_decimals`` (or
    ``weiDecimals``) and optionally ``token_id``, ``is_canonical``, ``full_name``; USDC comes first
    by itself (listing it is allowed, with its real values). Pairs take ``base``, ``quote`` (USDC
    when left out) and ``start_price``.
    """
    out_tokens: list[SpotToken] = [USDC_TOKEN]
    for i, item in enumerate(tokens):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise ValueError(f"spot token #{i}: needs a name")
        if item["name"] == USDC_TOKEN.name:
            continue
        full_name = item.get("full_name", item.get("fullName"))
        out_tokens.append(
            SpotToken(
                name=item["name"],
                sz_decimals=_int(item, "sz_decimals", "szDecimals"),
                wei_decimals=_int(item, "wei_decimals", "weiDecimals"),
                token_id=str(item.get("token_id", item.get("tokenId", ""))),
                is_canonical=bool(item.get("is_canonical", item.get("isCanonical", True))),
                full_name=None if full_name is None else str(full_name),
            )
        )
    out_pairs: list[SpotPairConfig] = []
    for i, item in enumerate(pairs):
        if not isinstance(item, Mapping) or not isinstance(item.get("base"), str):
            raise ValueError(f"spot pair #{i}: needs a base token")
        raw = item.get("start_price", item.get("startPrice"))
        if isinstance(raw, float):
            raw = repr(raw)
        try:
            start = Decimal(str(raw))
        except InvalidOperation:
            raise ValueError(f"spot pair #{i}: start_price is not a decimal: {raw!r}") from None
        out_pairs.append(
            SpotPairConfig(base=item["base"], quote=str(item.get("quote", "USDC")), start_price=start)
        )
    return SpotConfig(tuple(out_tokens), tuple(out_pairs))


def load_spot(path: str | Path) -> SpotConfig | None:
    """The spot configuration of a markets TOML file (its ``[[spot_token]]`` and ``[[spot_pair]]``
    tables), or None when it has no ``[[spot_pair]]`` table."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    pairs = data.get("spot_pair")
    if pairs is None:
        return None
    tokens = data.get("spot_token", [])
    if not isinstance(pairs, list) or not isinstance(tokens, list):
        raise ValueError(f"{path}: expected [[spot_token]] and [[spot_pair]] arrays of tables")
    return spot_from_dicts(tokens, pairs)
