"""Markets of the local exchange: name, size decimals, max leverage, start price.

Loaded from a dict or a small TOML file::

    [[market]]
    name = "BTC"
    sz_decimals = 5
    max_leverage = 50
    start_price = "60000"
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation, getcontext, setcontext
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

__all__ = [
    "DEFAULT_MARKETS",
    "FMT_CACHE",
    "MarketConfig",
    "fmt",
    "fmt_new",
    "load_markets",
    "markets_from_dicts",
    "venue_context",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")
# the venue's arithmetic must not depend on whatever Decimal context the embedding program set
_PREC = 28
_VENUE_CONTEXT = Context(prec=_PREC)


def venue_context(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``func`` under the venue's own Decimal context (28 digits, default rounding).

    The context object is installed as is, not copied (a copy per engine call costs more than
    many matches): venue code never changes it, and the engine runs its event subscribers, the
    only foreign code called from inside, under a copy of their own (see ``EventQueue``).
    """

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        previous = getcontext()
        if previous is _VENUE_CONTEXT:  # nested venue call
            return func(*args, **kwargs)
        setcontext(_VENUE_CONTEXT)
        try:
            return func(*args, **kwargs)
        finally:
            setcontext(previous)

    return wrapper


_MAX_PRICE = Decimal(10) ** 12


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketConfig:
    """One perpetual market: asset index is its position in the configured sequence.

    ``sz_decimals`` is the lot precision (prices then allow ``6 - sz_decimals`` decimals and five
    significant figures), ``max_leverage`` the cap for ``updateLeverage``, ``start_price`` the
    initial mid/mark/oracle price.
    """

    name: str
    sz_decimals: int
    max_leverage: int
    start_price: Decimal

    def __post_init__(self) -> None:
        if not self.name or not self.name.isascii() or ":" in self.name:
            raise ValueError(f"invalid market name {self.name!r}")
        if not 0 <= self.sz_decimals <= 6:
            raise ValueError(f"{self.name}: sz_decimals must be in 0..6, got {self.sz_decimals}")
        if not 1 <= self.max_leverage <= 200:
            raise ValueError(f"{self.name}: max_leverage must be in 1..200, got {self.max_leverage}")
        if not self.start_price.is_finite() or not 0 < self.start_price <= _MAX_PRICE:
            raise ValueError(f"{self.name}: start_price must be in (0, {_MAX_PRICE}], got {self.start_price}")


DEFAULT_MARKETS: tuple[MarketConfig, ...] = (
    MarketConfig(name="BTC", sz_decimals=5, max_leverage=50, start_price=Decimal("60000")),
    MarketConfig(name="ETH", sz_decimals=4, max_leverage=50, start_price=Decimal("3000")),
    MarketConfig(name="SOL", sz_decimals=2, max_leverage=20, start_price=Decimal("150")),
    # appended (asset 3) so the ids above never move; mainnet meta: szDecimals 2, maxLeverage 10;
    # starts at the HYPE/USDC spot pair's start price, so a spot-perp basis starts at zero
    MarketConfig(name="HYPE", sz_decimals=2, max_leverage=10, start_price=Decimal("40")),
)
"""BTC, ETH, SOL and HYPE perps (assets 0-3). HYPE is last: new markets are appended."""


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, float):
        value = repr(value)  # shortest repr, never the binary expansion
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{where}: not a decimal: {value!r}") from None


def markets_from_dicts(items: Sequence[Mapping[str, Any]]) -> tuple[MarketConfig, ...]:
    """Build markets from dicts with keys ``name``, ``sz_decimals`` (or ``szDecimals``),
    ``max_leverage`` (or ``maxLeverage``) and ``start_price`` (or ``startPrice``)."""
    out: list[MarketConfig] = []
    for i, item in enumerate(items):
        try:
            name = str(item["name"])
            sz = item.get("sz_decimals", item.get("szDecimals"))
            lev = item.get("max_leverage", item.get("maxLeverage"))
            px = item.get("start_price", item.get("startPrice"))
        except (KeyError, AttributeError):
            raise ValueError(f"market #{i}: needs name, sz_decimals, max_leverage, start_price") from None
        if not isinstance(sz, int) or not isinstance(lev, int) or px is None:
            raise ValueError(f"market {name}: sz_decimals and max_leverage must be ints, start_price set")
        if "/" in name or name.startswith("@"):
            raise ValueError(
                f"market {name}: a perp name cannot contain '/' or start with '@' (spot pair names)"
            )
        out.append(MarketConfig(name=name, sz_decimals=sz, max_leverage=lev, start_price=_decimal(px, name)))
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate market names in {names}")
    if not out:
        raise ValueError("at least one market is required")
    return tuple(out)


def load_markets(path: str | Path) -> tuple[MarketConfig, ...]:
    """Load markets from a TOML file holding a ``[[market]]`` array of tables."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    items = data.get("market")
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a [[market]] array")
    return markets_from_dicts(items)


FMT_CACHE: dict[Decimal, str] = {}
"""Texts :func:`fmt` rendered recently, by value (read-only outside this module)."""
_FMT_CACHE_MAX = 100_000
_QUANTA: dict[int, Decimal] = {}  # places -> Decimal("1e-places")


def fmt(value: Decimal, places: int | None = None) -> str:
    """Render a Decimal as Hyperliquid answers do: no exponent, no trailing zeros, but integers
    keep one decimal (``"1159.0"``, ``"0.0"``) as the exchange's float formatting shows them.

    ``places`` rounds first (half-even), for derived values such as entry prices and PnL. The
    venue's context is used whatever the caller's is (events are rendered when first read).
    """
    if places is not None:
        quantum = _QUANTA.get(places)
        if quantum is None:
            quantum = _QUANTA[places] = Decimal(1).scaleb(-places)
        value = value.quantize(quantum, context=_VENUE_CONTEXT)  # as round(value, places) does
        return fmt_new(value)  # a value made just now: rendered without the cache
    text = FMT_CACHE.get(value)
    if text is None:
        # equal Decimals ("1.50" and "1.5") render the same, so the cache may key on value
        text = fmt_new(value)
        if len(FMT_CACHE) >= _FMT_CACHE_MAX:
            FMT_CACHE.clear()
        FMT_CACHE[value] = text
    return text


def fmt_new(value: Decimal) -> str:
    """:func:`fmt` without its cache, for a value computed just now (a fee, a position): the
    first hash of a fractional Decimal, which a cache lookup needs, costs as much as rendering it."""
    if not value:
        return "0.0"  # -0 too
    text = str(value)  # about 4x cheaper than format(value, "f"), and the same text unless it has an exponent
    if "E" in text or len(text) > _PREC:  # an exponent, or more digits than normalize keeps
        value = value.normalize(_VENUE_CONTEXT)
        text = str(value)
        if "E" in text:
            text = f"{value:f}"
        return text if "." in text else text + ".0"
    if "." not in text:
        return text + ".0"
    # the trailing zeros normalize would drop, without its call (which costs more than the strip)
    text = text.rstrip("0")
    return text + "0" if text[-1] == "." else text
