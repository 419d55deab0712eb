"""Builder-deployed perp dexes (HIP-3) of the local exchange: their configuration, as ``perpDexs``
and ``meta(dex)`` list them.

A HIP-3 dex is a set of perps with its own collateral token, its own oracle (set by the dex's
oracle updater) and its own clearinghouse: each user has a separate margin account on it, funded by
``sendAsset`` from the main dex or spot. Its coins are named ``"dex:COIN"`` (``"xyz:XYZ100"``), and
the order asset id of its perp ``j`` is ``110000 + i * 10000 + j`` where ``i`` is the dex's position
among the builder dexes (``perpDexs`` lists the main dex as ``null`` first: the builder dex at list
position ``k`` has ``i = k - 1``), as the official SDK computes it.

Per perp: ``margin_mode`` ``"noCross"`` (isolated only; ``onlyIsolated`` in ``meta``) or
``"strictIsolated"`` (isolated only, and margin cannot be removed from an open position), or None
(cross allowed); ``oi_cap`` the open-interest cap in USDC notional (``perpDexLimits.coinToOiCap``).
Per dex: ``total_oi_cap`` (USDC notional over all its perps), ``oi_sz_cap_per_perp`` (size),
``max_transfer_ntl``, and ``deployer_fee_scale``: Hyperliquid's fee formula for developers scales a
HIP-3 perp's fees by ``1 + scale`` when the scale is below 1, else by ``2 * scale`` (the deployer
keeping ``scale / (1 + scale)``, at most half); see :meth:`PerpDexConfig.fee_multiplier`.

The default is one dex, ``xyz`` (``"XYZ"``), with ``xyz:XYZ100`` (an index perp, ``noCross``) and
``xyz:GOLD`` (``strictIsolated``), USDC collateral. Loaded from dicts or a TOML file
(``wingbeat sim --markets``)::

    [[perp_dex]]
    name = "xyz"
    full_name = "XYZ"
    deployer_fee_scale = "1.0"

    [[perp_dex.perp]]
    name = "XYZ100"
    sz_decimals = 4
    max_leverage = 20
    start_price = "25000"
    margin_mode = "noCross"
    oi_cap = "100000000"
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from wingbeat.sim.venue.markets import MarketConfig

__all__ = [
    "BUILDER_DEX_ASSET_OFFSET",
    "DEFAULT_PERP_DEXES",
    "DEX_ASSET_STRIDE",
    "MARGIN_MODES",
    "DexPerpConfig",
    "PerpDexConfig",
    "load_perp_dexes",
    "perp_dexes_from_dicts",
]

BUILDER_DEX_ASSET_OFFSET = 110_000
"""Order asset id of perp 0 of the first builder dex (the SDK's ``110000 + i * 10000``)."""
DEX_ASSET_STRIDE = 10_000
"""Asset ids per builder dex."""
MARGIN_MODES = ("noCross", "strictIsolated")
_DEX_NAME = re.compile(r"^[a-z0-9]{1,6}$")  # the docs: a perp dex name has at most 6 characters
_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
_MAX_CAP = Decimal(10) ** 15


def _address(seed: str) -> str:
    return "0x" + hashlib.sha256(seed.encode()).hexdigest()[:40]


@dataclass(frozen=True, slots=True, kw_only=True)
class DexPerpConfig:
    """One perp of a builder dex: ``name`` without the dex prefix, the lot and leverage as a main-dex
    perp, ``start_price`` the first oracle price, ``margin_mode`` (``"noCross"``,
    ``"strictIsolated"`` or None), ``oi_cap`` the open-interest cap in USDC notional (None: only the
    dex's caps apply)."""

    name: str
    sz_decimals: int
    max_leverage: int
    start_price: Decimal
    margin_mode: Literal["noCross", "strictIsolated"] | None = None
    oi_cap: Decimal | None = None

    def __post_init__(self) -> None:
        self.market("dex")  # the same checks as a main-dex perp
        if self.margin_mode is not None and self.margin_mode not in MARGIN_MODES:
            raise ValueError(f"{self.name}: margin_mode must be one of {MARGIN_MODES} or absent")
        if self.oi_cap is not None and (not self.oi_cap.is_finite() or not 0 < self.oi_cap <= _MAX_CAP):
            raise ValueError(f"{self.name}: oi_cap must be in (0, {_MAX_CAP}]")

    @property
    def isolated_only(self) -> bool:
        """Whether the perp trades isolated only (either margin mode)."""
        return self.margin_mode is not None

    def market(self, dex: str) -> MarketConfig:
        """The perp as a market config (its plain name; the engine names the coin ``dex:NAME``)."""
        return MarketConfig(
            name=self.name, sz_decimals=self.sz_decimals, max_leverage=self.max_leverage,
            start_price=self.start_price,
        )  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class PerpDexConfig:
    """One builder-deployed perp dex. Addresses default to hashes of the name (the local exchange's
    own deployer); ``collateral_token`` is a spot token index (0 = USDC)."""

    name: str
    full_name: str
    perps: tuple[DexPerpConfig, ...]
    deployer: str = ""
    oracle_updater: str | None = None
    fee_recipient: str | None = None
    collateral_token: int = 0
    deployer_fee_scale: Decimal = Decimal("1.0")
    total_oi_cap: Decimal = Decimal(1_000_000_000)
    oi_sz_cap_per_perp: Decimal = Decimal(1_000_000_000)
    max_transfer_ntl: Decimal = Decimal(100_000_000)
    funding_multiplier: Decimal = Decimal("1.0")

    def __post_init__(self) -> None:
        if not _DEX_NAME.match(self.name):
            raise ValueError(f"invalid perp dex name {self.name!r} (1-6 lowercase letters or digits)")
        if not self.perps:
            raise ValueError(f"perp dex {self.name}: at least one perp is required")
        if len(self.perps) > DEX_ASSET_STRIDE:
            raise ValueError(f"perp dex {self.name}: at most {DEX_ASSET_STRIDE} perps")
        names = [p.name for p in self.perps]
        if len(set(names)) != len(names):
            raise ValueError(f"perp dex {self.name}: duplicate perp names in {names}")
        if not self.deployer:
            object.__setattr__(self, "deployer", _address(f"perp-dex-deployer:{self.name}"))
        for label in ("deployer", "oracle_updater", "fee_recipient"):
            value = getattr(self, label)
            if value is not None and not _ADDRESS.match(value):
                raise ValueError(f"perp dex {self.name}: {label} must be a lowercase 0x address")
        if not 0 <= self.deployer_fee_scale <= 3:
            raise ValueError(f"perp dex {self.name}: deployer_fee_scale must be in [0, 3]")
        for label in ("total_oi_cap", "oi_sz_cap_per_perp", "max_transfer_ntl", "funding_multiplier"):
            value = getattr(self, label)
            if not value.is_finite() or not 0 < value <= _MAX_CAP:
                raise ValueError(f"perp dex {self.name}: {label} must be in (0, {_MAX_CAP}]")

    @property
    def fee_multiplier(self) -> Decimal:
        """What the dex's perps charge over the base fee rates: ``1 + deployer_fee_scale`` below
        a scale of 1, else ``2 * deployer_fee_scale`` (the docs' fee formula, ``scaleIfHip3``)."""
        scale = self.deployer_fee_scale
        return scale + 1 if scale < 1 else scale * 2

    def coin(self, perp: DexPerpConfig) -> str:
        """The coin name of one of its perps (``"xyz:XYZ100"``)."""
        return f"{self.name}:{perp.name}"


DEFAULT_PERP_DEXES: tuple[PerpDexConfig, ...] = (
    PerpDexConfig(
        name="xyz",
        full_name="XYZ",
        perps=(
            DexPerpConfig(
                name="XYZ100",
                sz_decimals=4,
                max_leverage=20,
                start_price=Decimal("25000"),
                margin_mode="noCross",
                oi_cap=Decimal(100_000_000),  # as the recorded perpDexs of mainnet xyz (ccxt docs)
            ),
            DexPerpConfig(
                name="GOLD",
                sz_decimals=4,
                max_leverage=20,
                start_price=Decimal("4000"),
                margin_mode="strictIsolated",
                oi_cap=Decimal(25_000_000),
            ),
        ),
        oracle_updater=_address("perp-dex-oracle:xyz"),
        fee_recipient=_address("perp-dex-fees:xyz"),
    ),
)
"""The builder dexes the local exchange ships: ``xyz`` with ``xyz:XYZ100`` and ``xyz:GOLD``."""


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{where}: not a decimal: {value!r}") from None


def _perp(item: Mapping[str, Any], dex: str) -> DexPerpConfig:
    if not isinstance(item, Mapping):
        raise ValueError(f"perp dex {dex}: each perp must be a table")
    try:
        name = str(item["name"])
        sz, lev, px = item["sz_decimals"], item["max_leverage"], item["start_price"]
    except KeyError:
        raise ValueError(
            f"perp dex {dex}: a perp needs name, sz_decimals, max_leverage, start_price"
        ) from None
    if not isinstance(sz, int) or not isinstance(lev, int):
        raise ValueError(f"{dex}:{name}: sz_decimals and max_leverage must be ints")
    mode = item.get("margin_mode")
    if mode is not None and mode not in MARGIN_MODES:
        raise ValueError(f"{dex}:{name}: margin_mode must be one of {MARGIN_MODES}")
    cap = item.get("oi_cap")
    return DexPerpConfig(
        name=name, sz_decimals=sz, max_leverage=lev, start_price=_decimal(px, f"{dex}:{name}"),
        margin_mode=mode, oi_cap=None if cap is None else _decimal(cap, f"{dex}:{name} oi_cap"),
    )  # fmt: skip


def perp_dexes_from_dicts(items: Sequence[Mapping[str, Any]]) -> tuple[PerpDexConfig, ...]:
    """Build builder dexes from dicts with keys ``name``, ``full_name``, ``perp`` (a list of perp
    dicts: ``name``, ``sz_decimals``, ``max_leverage``, ``start_price``, optional ``margin_mode``
    and ``oi_cap``) and the optional :class:`PerpDexConfig` fields."""
    out: list[PerpDexConfig] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or "name" not in item:
            raise ValueError(f"perp dex #{i}: needs a name")
        name = str(item["name"])
        perps = item.get("perp")
        if not isinstance(perps, list):
            raise ValueError(f"perp dex {name}: expected a [[perp_dex.perp]] array")
        extra: dict[str, Any] = {}
        for key in ("deployer", "oracle_updater", "fee_recipient"):
            if key in item:
                extra[key] = str(item[key]).lower()
        if "collateral_token" in item:
            extra["collateral_token"] = int(item["collateral_token"])
        for key in ("deployer_fee_scale", "total_oi_cap", "oi_sz_cap_per_perp", "max_transfer_ntl",
                    "funding_multiplier"):  # fmt: skip
            if key in item:
                extra[key] = _decimal(item[key], f"perp dex {name} {key}")
        out.append(
            PerpDexConfig(
                name=name,
                full_name=str(item.get("full_name", name)),
                perps=tuple(_perp(p, name) for p in perps),
                **extra,
            )
        )
    names = [d.name for d in out]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate perp dex names in {names}")
    return tuple(out)


def load_perp_dexes(path: str | Path) -> tuple[PerpDexConfig, ...] | None:
    """The builder dexes of a markets TOML file (its ``[[perp_dex]]`` tables), or None when it has
    none."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    items = data.get("perp_dex")
    if items is None:
        return None
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a [[perp_dex]] array of tables")
    return perp_dexes_from_dicts(items)
