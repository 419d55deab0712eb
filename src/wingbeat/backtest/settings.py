"""Configuration of ``wingbeat backtest``: ``wingbeat run``'s TOML file plus an optional ``[backtest]`` table.

``[strategy]``, ``[risk]``, ``[engine] tick_interval`` and ``[exchange] trading_pairs`` are read exactly as
``wingbeat run`` reads them (the same parser; keys, network and journal are ignored). The extra table::

    [backtest]
    seed = 0                        # the venue engine's seed (order and trade ids)
    initial_balance = "100000"      # USDC
    order_latency_ms = 50           # each way: order / cancel to the venue, and its answer back
    market_data_latency_ms = 20     # venue -> strategy: books, trades, fills, order updates
    # funding_rate = "0.0000125"    # hourly rate; default: the recorded rate (activeAssetCtx), else this
    maker_fee = "0.00015"           # Hyperliquid's base tier
    taker_fee = "0.00045"
    sample_interval = 1.0           # seconds between equity samples (chart, drawdown, Sharpe)

``--sweep strategy.bid_spread=0.0001,0.0002`` overrides go into the raw document before validation, each
value read as a TOML value (``0.0001`` stays the exact decimal, ``true`` a boolean, ``"x"`` a string).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from wingbeat.engine.config import ConfigError, RunConfig, config_decimal, parse_config
from wingbeat.hyperliquid.constants import is_spot_trading_pair

__all__ = [
    "BacktestConfig",
    "BacktestSettings",
    "apply_override",
    "load_backtest_config",
    "parse_backtest_config",
    "parse_value",
    "read_toml",
]

_KEYS = {
    "seed",
    "initial_balance",
    "order_latency_ms",
    "market_data_latency_ms",
    "funding_rate",
    "maker_fee",
    "taker_fee",
    "sample_interval",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestSettings:
    """The ``[backtest]`` table (see the module docstring)."""

    seed: int = 0
    initial_balance: Decimal = Decimal(100_000)
    order_latency_ms: float = 50.0
    market_data_latency_ms: float = 20.0
    funding_rate: Decimal | None = None
    maker_fee: Decimal = Decimal("0.00015")
    taker_fee: Decimal = Decimal("0.00045")
    sample_interval: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestConfig:
    """``wingbeat run``'s configuration and the backtest's own settings."""

    run: RunConfig
    settings: BacktestSettings = field(default_factory=BacktestSettings)

    @property
    def strategy_pair(self) -> str:
        """The pair the strategy trades."""
        if self.run.market_maker is not None:
            return self.run.market_maker.trading_pair
        assert self.run.twap is not None
        return self.run.twap.trading_pair

    @property
    def trading_pairs(self) -> list[str]:
        """Every pair replayed: the exchange's pairs and the strategy's."""
        pairs = list(self.run.exchange.trading_pairs)
        if self.strategy_pair not in pairs:
            pairs.append(self.strategy_pair)
        return pairs


def read_toml(path: str | Path) -> dict[str, Any]:
    """The TOML document at ``path``; `ConfigError` with a one-line reason."""
    p = Path(path)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {p}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {p}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p} is not valid TOML: {exc}") from None


def parse_value(text: str) -> Any:
    """A sweep value as TOML reads it (a bare word that is not TOML is taken as a string)."""
    try:
        return tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def apply_override(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set ``section.key`` (e.g. ``strategy.bid_spread``) in the raw document."""
    section, _, name = key.partition(".")
    if not section or not name or "." in name:
        raise ConfigError(f"an override names section.key, got {key!r}")
    table = raw.setdefault(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"[{section}] must be a table")
    table[name] = value


def _number(table: Mapping[str, Any], key: str, default: float, *, positive: bool = False) -> float:
    value = table.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not value >= 0
        or value == float("inf")
    ):
        raise ConfigError(f"backtest.{key} must be a non-negative number")
    if positive and not value > 0:
        raise ConfigError(f"backtest.{key} must be positive")
    return float(value)


def parse_backtest_config(raw: Mapping[str, Any]) -> BacktestConfig:
    """Validate a parsed document: ``[backtest]`` here, the rest by ``wingbeat run``'s parser."""
    rest = {k: v for k, v in raw.items() if k != "backtest"}
    table = raw.get("backtest", {})
    if not isinstance(table, Mapping):
        raise ConfigError("[backtest] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"unknown key backtest.{unknown[0]} (allowed: {', '.join(sorted(_KEYS))})")
    seed = table.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError("backtest.seed must be a non-negative integer")
    balance = config_decimal(table, "backtest.", "initial_balance", Decimal(100_000), signed=True)
    maker = config_decimal(table, "backtest.", "maker_fee", Decimal("0.00015"), signed=True)
    taker = config_decimal(table, "backtest.", "taker_fee", Decimal("0.00045"), signed=True)
    if not 0 < balance <= Decimal(10) ** 12:
        raise ConfigError("backtest.initial_balance must be positive (at most 1e12)")
    if not (-1 < maker < 1 and -1 < taker < 1):
        raise ConfigError("backtest fees must be fractions between -1 and 1")
    funding = (
        config_decimal(table, "backtest.", "funding_rate", signed=True) if "funding_rate" in table else None
    )
    if funding is not None and abs(funding) > Decimal("0.04"):
        raise ConfigError("backtest.funding_rate must be within +-0.04 per hour")
    settings = BacktestSettings(
        seed=seed,
        initial_balance=balance,
        maker_fee=maker,
        taker_fee=taker,
        funding_rate=funding,
        order_latency_ms=_number(table, "order_latency_ms", 50.0),
        market_data_latency_ms=_number(table, "market_data_latency_ms", 20.0),
        sample_interval=_number(table, "sample_interval", 1.0, positive=True),
    )
    if settings.order_latency_ms >= 60_000 or settings.market_data_latency_ms >= 60_000:
        raise ConfigError("backtest latencies must be below 60000 ms")
    run = parse_config(rest)
    if run.basis is not None:
        raise ConfigError(
            'strategy.kind "basis" cannot be backtested: it trades spot, and a backtest replays perpetuals only'
        )
    spot = [pair for pair in run.exchange.trading_pairs if is_spot_trading_pair(pair)]
    if spot:
        raise ConfigError(
            f"{', '.join(spot)} cannot be backtested: a spot pair (BASE-QUOTE); a backtest replays perpetuals only"
        )
    return BacktestConfig(run=run, settings=settings)


def load_backtest_config(path: str | Path, overrides: Sequence[tuple[str, Any]] = ()) -> BacktestConfig:
    """Read, override and validate a backtest configuration file."""
    raw = read_toml(path)
    for key, value in overrides:
        apply_override(raw, key, value)
    return parse_backtest_config(raw)
