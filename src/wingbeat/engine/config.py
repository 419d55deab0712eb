"""Configuration of ``wingbeat run``: a TOML file decoded once into frozen, validated objects.

A complete file (every key but ``strategy.kind`` and the strategy's own required keys has a default)::

    [exchange]
    network = "testnet"              # "testnet", "mainnet" or a URL such as "http://127.0.0.1:8080"
    trading_pairs = ["BTC-USD"]      # default: the strategy's pair; spot pairs are BASE-QUOTE ("PURR-USDC")
    key_env = "HL_PRIVATE_KEY"       # environment variable holding the private key (hex)
    # keystore = "wallet.json"       # or an encrypted Ethereum keystore (password: WINGBEAT_KEYSTORE_PASSWORD)
    # account_address = "0x..."      # the main account when the key is an API (agent) wallet
    journal_path = "orders.db"       # "" for a memory-only journal

    [connector]                      # any HyperliquidConfig field by name; false turns off one that may be None
    dead_man_switch = 60             # seconds of scheduleCancel kept armed; false: none
    # vault_address = "0x..."        # trade for this sub-account or vault

    [engine]
    tick_interval = 1.0              # seconds between strategy ticks
    # duration = 3600                # stop by itself after this many seconds
    # metrics_port = 9100            # Prometheus metrics over HTTP
    log_json = false
    log_level = "INFO"

    [risk]                           # every limit is optional
    max_order_size = "0.1"           # base units per order
    max_position = "0.5"             # absolute base position per pair
    max_open_orders = 10
    max_notional = "50000"           # gross exposure in USDC: positions + open orders + the new order
    daily_loss_limit = "200"         # USDC lost since the start of the UTC day: refuse orders, then kill

    [strategy]
    kind = "market_maker"            # or "twap"
    trading_pair = "BTC-USD"
    order_amount = "0.01"
    bid_spread = "0.0005"            # fraction of the mid price
    ask_spread = "0.0005"
    order_refresh_time = 10.0        # seconds before resting quotes are replaced
    order_refresh_tolerance = "0"    # keep quotes still within this fraction of the new proposal
    inventory_skew = true
    max_inventory = "0.1"            # position at which the skew is at its strongest

The spot-perp basis (funding carry) strategy trades two pairs, ``TOKEN-USDC`` on spot and ``TOKEN-USD`` on
perps (``exchange.trading_pairs`` defaults to both; spot pairs go to a spot connector, the rest to the perp
one)::

    [strategy]
    kind = "basis"
    token = "HYPE"
    target_notional = "1000"         # USDC per leg
    min_entry_funding_apr = "0.20"   # enter when hourly funding x 24 x 365 is at least 20 %/yr
    exit_funding_apr = "0.05"        # exit below 5 %/yr
    max_entry_basis = "0.002"        # enter only while the perp is at most 0.2 % above spot
    max_slippage = "0.005"           # IOC prices at most 0.5 % beyond the touch
    hedge_tolerance = "0.02"         # legs may differ by 2 % of the target size (at least one lot)
    hedge_attempts = 3
    naked_timeout = 30.0             # seconds a leg may stay unhedged before the kill switch
    order_timeout = 10.0             # seconds to wait for one order's end
    retry_interval = 30.0            # seconds between entries that did not fill

Decimal values may be written as strings (exact) or TOML numbers (converted through their text).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from wingbeat.core.errors import WingbeatError
from wingbeat.engine.basis import BasisConfig
from wingbeat.engine.market_maker import MarketMakerConfig
from wingbeat.engine.risk import RiskLimits
from wingbeat.engine.twap import TwapConfig
from wingbeat.hyperliquid.base_connector import HyperliquidConfig
from wingbeat.hyperliquid.constants import is_spot_trading_pair, resolve_network
from wingbeat.hyperliquid.signer import is_variable_name


class ConfigError(WingbeatError, ValueError):
    """The configuration file is missing, unreadable or holds an invalid value (the message says which)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeConfig:
    """Where to trade and with which key.

    ``network`` is "testnet", "mainnet" or the URL of a Hyperliquid-compatible server; the private key
    comes from the environment variable ``key_env`` unless ``keystore`` names a keystore file;
    ``account_address`` is set when the key is an API wallet trading for that main account.
    ``trading_pairs`` defaults to the strategy's pair (`parse_config` fills it in). The pairs' names say the
    market: ``COIN-USD`` pairs trade perpetuals, ``BASE-QUOTE`` pairs (``PURR-USDC``) spot.
    """

    network: str = "testnet"
    trading_pairs: tuple[str, ...] = ("BTC-USD",)
    key_env: str = "HL_PRIVATE_KEY"
    keystore: Path | None = None
    account_address: str | None = None
    journal_path: Path | None = Path("orders.db")


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineSettings:
    """How the engine runs: tick interval, optional duration, metrics port and logging."""

    tick_interval: float = 1.0
    duration: float | None = None
    metrics_port: int | None = None
    log_json: bool = False
    log_level: str = "INFO"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunConfig:
    """The whole of a ``wingbeat run`` configuration file (``connector``: its ``[connector]`` table, the tuning
    every connector of the run gets)."""

    exchange: ExchangeConfig = field(default_factory=ExchangeConfig)
    connector: HyperliquidConfig = field(default_factory=HyperliquidConfig)
    engine: EngineSettings = field(default_factory=EngineSettings)
    risk: RiskLimits = field(default_factory=RiskLimits)
    strategy_kind: Literal["market_maker", "twap", "basis"] = "market_maker"
    market_maker: MarketMakerConfig | None = None
    twap: TwapConfig | None = None
    basis: BasisConfig | None = None

    @property
    def is_mainnet(self) -> bool:
        """True when the configuration points at Hyperliquid's mainnet."""
        return self.exchange.network.strip().lower() == "mainnet"


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a TOML configuration file; raises `ConfigError` with a one-line reason."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {p}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {p}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p} is not valid TOML: {exc}") from None
    return parse_config(raw)


def parse_config(raw: Mapping[str, Any]) -> RunConfig:
    """Validate an already parsed mapping (the TOML document) into a `RunConfig`."""
    _only(raw, "", {"exchange", "connector", "engine", "risk", "strategy"})
    ex = _section(raw, "exchange")
    _only(
        ex,
        "exchange.",
        {"network", "trading_pairs", "key_env", "keystore", "account_address", "journal_path"},
    )
    pairs = ex.get("trading_pairs")  # None: the strategy's pair, known once [strategy] is read
    if pairs is not None and (
        not isinstance(pairs, list) or not pairs or not all(isinstance(x, str) and x for x in pairs)
    ):
        raise ConfigError('exchange.trading_pairs must be a non-empty list of pair names like "BTC-USD"')
    journal = _str(ex, "exchange.", "journal_path", "orders.db")
    keystore = ex.get("keystore")
    network = _str(ex, "exchange.", "network", "testnet")
    try:
        resolve_network(network)
    except ValueError as exc:  # the message never repeats a value that looks like a private key
        raise ConfigError(f"exchange.{exc}") from None
    key_env = _str(ex, "exchange.", "key_env", "HL_PRIVATE_KEY")
    if not is_variable_name(key_env):
        raise ConfigError(
            "exchange.key_env must be the NAME of an environment variable (such as "
            "HL_PRIVATE_KEY) that holds the key, never the key itself; the value is not shown"
        )
    exchange = ExchangeConfig(
        network=network,
        trading_pairs=tuple(pairs) if pairs is not None else ("BTC-USD",),
        key_env=key_env,
        keystore=Path(_str(ex, "exchange.", "keystore", "")) if keystore is not None else None,
        account_address=_str(ex, "exchange.", "account_address", "") or None,
        journal_path=Path(journal) if journal else None,
    )

    connector = _connector(_section(raw, "connector"))

    en = _section(raw, "engine")
    _only(en, "engine.", {"tick_interval", "duration", "metrics_port", "log_json", "log_level"})
    port = en.get("metrics_port")
    if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
        raise ConfigError("engine.metrics_port must be an integer between 1 and 65535")
    duration = en.get("duration")
    engine = EngineSettings(
        tick_interval=_positive_float(en, "engine.", "tick_interval", 1.0),
        duration=_positive_float(en, "engine.", "duration", 1.0) if duration is not None else None,
        metrics_port=port,
        log_json=_bool(en, "engine.", "log_json", False),
        log_level=_str(en, "engine.", "log_level", "INFO").upper(),
    )

    rk = _section(raw, "risk")
    _only(
        rk, "risk.", {"max_order_size", "max_position", "max_open_orders", "max_notional", "daily_loss_limit"}
    )
    max_open = rk.get("max_open_orders")
    if max_open is not None and (not isinstance(max_open, int) or isinstance(max_open, bool) or max_open < 1):
        raise ConfigError("risk.max_open_orders must be a positive integer")
    risk = RiskLimits(
        max_order_size=_opt_decimal(rk, "risk.", "max_order_size"),
        max_position=_opt_decimal(rk, "risk.", "max_position"),
        max_open_orders=max_open,
        max_notional=_opt_decimal(rk, "risk.", "max_notional"),
        daily_loss_limit=_opt_decimal(rk, "risk.", "daily_loss_limit"),
    )

    st = _section(raw, "strategy")
    kind = st.get("kind")
    if kind == "market_maker":
        mm = _market_maker(st)
        return RunConfig(
            exchange=_with_pair(exchange, mm.trading_pair, pairs is None),
            connector=connector,
            engine=engine,
            risk=risk,
            strategy_kind="market_maker",
            market_maker=mm,
        )
    if kind == "twap":
        twap = _twap(st)
        return RunConfig(
            exchange=_with_pair(exchange, twap.trading_pair, pairs is None),
            connector=connector,
            engine=engine,
            risk=risk,
            strategy_kind="twap",
            twap=twap,
        )
    if kind == "basis":
        basis = _basis(st)
        return RunConfig(
            exchange=_with_pairs(exchange, (basis.spot_pair, basis.perp_pair), pairs is None),
            connector=connector,
            engine=engine,
            risk=risk,
            strategy_kind="basis",
            basis=basis,
        )
    raise ConfigError('strategy.kind must be "market_maker", "twap" or "basis"')


def _connector(table: Mapping[str, Any]) -> HyperliquidConfig:
    """``[connector]``: any field of `HyperliquidConfig` by its name, read as the field's type says; ``false``
    turns off a setting that may be None (``dead_man_switch = false``: no ``scheduleCancel``)."""
    hints = typing.get_type_hints(HyperliquidConfig)
    _only(table, "connector.", {f.name for f in dataclasses.fields(HyperliquidConfig)})
    values = {key: _connector_value(key, value, hints[key]) for key, value in table.items()}
    try:
        return HyperliquidConfig(**values)
    except ValueError as exc:  # its messages name the field and never repeat a key-like value
        raise ConfigError(f"connector.{exc}") from None


def _connector_value(key: str, value: Any, hint: Any) -> Any:
    args = typing.get_args(hint)
    optional = type(None) in args
    kind = next(a for a in args if a is not type(None)) if optional else hint
    where = f"connector.{key}"
    off = " (or false: none)" if optional else ""
    if optional and value is False:
        return None
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false")
        return value
    if kind is Decimal:
        return config_decimal({key: value}, "connector.", key)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ConfigError(f"{where} must be a finite number of seconds{off}")
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer{off}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string{off}")
        return value
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f'{where} must be a list of names such as ["xyz"]{off}')
        return tuple(value)
    raise TypeError(f"{where}: no TOML reading for {hint}")  # a new kind of HyperliquidConfig field


def _with_pair(exchange: ExchangeConfig, pair: str, defaulted: bool) -> ExchangeConfig:
    return _with_pairs(exchange, (pair,), defaulted)


def _with_pairs(exchange: ExchangeConfig, wanted: tuple[str, ...], defaulted: bool) -> ExchangeConfig:
    if defaulted:
        return dataclasses.replace(exchange, trading_pairs=wanted)
    for pair in wanted:
        if pair not in exchange.trading_pairs:
            raise ConfigError(
                f"the strategy's pair {pair} is not in exchange.trading_pairs "
                f"({', '.join(exchange.trading_pairs)}); leave trading_pairs out to trade just "
                f"{' and '.join(wanted)}"
            )
    return exchange


def _market_maker(st: Mapping[str, Any]) -> MarketMakerConfig:
    p = "strategy."
    _only(
        st,
        p,
        {
            "kind",
            "trading_pair",
            "order_amount",
            "bid_spread",
            "ask_spread",
            "order_refresh_time",
            "order_levels",
            "level_spread",
            "inventory_skew",
            "max_inventory",
            "post_only",
            "order_refresh_tolerance",
            "requote_with_modify",
        },
    )
    levels = st.get("order_levels", 1)
    if not isinstance(levels, int) or isinstance(levels, bool) or not 1 <= levels <= 20:
        raise ConfigError("strategy.order_levels must be an integer from 1 to 20")
    try:
        return MarketMakerConfig(
            trading_pair=_required_str(st, p, "trading_pair"),
            order_amount=config_decimal(st, p, "order_amount"),
            bid_spread=config_decimal(st, p, "bid_spread", Decimal("0.001")),
            ask_spread=config_decimal(st, p, "ask_spread", Decimal("0.001")),
            order_refresh_time=_positive_float(st, p, "order_refresh_time", 10.0),
            order_levels=levels,
            level_spread=config_decimal(st, p, "level_spread", Decimal("0.0005")),
            inventory_skew=_bool(st, p, "inventory_skew", True),
            max_inventory=_opt_decimal(st, p, "max_inventory"),
            post_only=_bool(st, p, "post_only", False),
            order_refresh_tolerance=config_decimal(st, p, "order_refresh_tolerance", Decimal(0)),
            requote_with_modify=_bool(st, p, "requote_with_modify", False),
        )
    except ValueError as exc:
        raise ConfigError(f"strategy: {exc}") from None


def _twap(st: Mapping[str, Any]) -> TwapConfig:
    p = "strategy."
    _only(
        st,
        p,
        {
            "kind",
            "trading_pair",
            "side",
            "total_amount",
            "duration",
            "slices",
            "price_limit",
            "position_action",
        },
    )
    slices = _positive_int(st, p, "slices", 10)
    side = _required_str(st, p, "side").lower()
    if side not in ("buy", "sell"):
        raise ConfigError('strategy.side must be "buy" or "sell"')
    action = _str(st, p, "position_action", "open").lower()
    if action not in ("open", "close"):
        raise ConfigError('strategy.position_action must be "open" or "close"')
    if action == "close" and is_spot_trading_pair(str(st.get("trading_pair", ""))):
        raise ConfigError(
            'strategy.position_action "close" is for perpetuals (reduce-only orders): a spot pair has no '
            "position, a sell spends tokens held; leave it out"
        )
    try:
        return TwapConfig(
            trading_pair=_required_str(st, p, "trading_pair"),
            is_buy=side == "buy",
            total_amount=config_decimal(st, p, "total_amount"),
            duration=_positive_float(st, p, "duration", 60.0),
            slices=slices,
            price_limit=config_decimal(st, p, "price_limit"),
            close_position=action == "close",
        )
    except ValueError as exc:
        raise ConfigError(f"strategy: {exc}") from None


def _basis(st: Mapping[str, Any]) -> BasisConfig:
    p = "strategy."
    _only(
        st,
        p,
        {
            "kind",
            "token",
            "target_notional",
            "min_entry_funding_apr",
            "exit_funding_apr",
            "max_entry_basis",
            "max_slippage",
            "hedge_tolerance",
            "hedge_attempts",
            "naked_timeout",
            "order_timeout",
            "retry_interval",
            "spot_quote",
        },
    )
    attempts = _positive_int(st, p, "hedge_attempts", 3)
    try:
        return BasisConfig(
            token=_required_str(st, p, "token"),
            target_notional=config_decimal(st, p, "target_notional"),
            min_entry_funding_apr=config_decimal(st, p, "min_entry_funding_apr", signed=True),
            exit_funding_apr=config_decimal(st, p, "exit_funding_apr", Decimal(0), signed=True),
            max_entry_basis=config_decimal(st, p, "max_entry_basis", Decimal("0.005"), signed=True),
            max_slippage=config_decimal(st, p, "max_slippage", Decimal("0.005")),
            hedge_tolerance=config_decimal(st, p, "hedge_tolerance", Decimal("0.02")),
            hedge_attempts=attempts,
            naked_timeout=_positive_float(st, p, "naked_timeout", 30.0),
            order_timeout=_positive_float(st, p, "order_timeout", 10.0),
            retry_interval=_positive_float(st, p, "retry_interval", 30.0),
            spot_quote=_str(st, p, "spot_quote", "USDC"),
        )
    except ValueError as exc:
        raise ConfigError(f"strategy: {exc}") from None


# -- small typed readers: every message names the key -------------------------------------------------


def _section(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _only(table: Mapping[str, Any], prefix: str, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"unknown key {prefix}{unknown[0]} (allowed: {', '.join(sorted(allowed))})")


def _str(table: Mapping[str, Any], prefix: str, key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{prefix}{key} must be a string")
    return value


def _required_str(table: Mapping[str, Any], prefix: str, key: str) -> str:
    if key not in table:
        raise ConfigError(f"{prefix}{key} is required")
    value = _str(table, prefix, key, "")
    if not value:
        raise ConfigError(f"{prefix}{key} must not be empty")
    return value


def _bool(table: Mapping[str, Any], prefix: str, key: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{prefix}{key} must be true or false")
    return value


def _positive_int(table: Mapping[str, Any], prefix: str, key: str, default: int) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{prefix}{key} must be a positive integer")
    return value


def _positive_float(table: Mapping[str, Any], prefix: str, key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise ConfigError(f"{prefix}{key} must be a positive number of seconds")
    return float(value)


def config_decimal(
    table: Mapping[str, Any], prefix: str, key: str, default: Decimal | None = None, *, signed: bool = False
) -> Decimal:
    """``table[key]`` as an exact Decimal (a string, or a TOML number through its shortest text form).

    A missing key gives ``default`` (required when None); anything that is not a finite number (or is
    negative unless ``signed``) is a `ConfigError` naming ``prefix + key``. Shared by every config table.
    """
    if key not in table:
        if default is None:
            raise ConfigError(f"{prefix}{key} is required")
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(f'{prefix}{key} must be a decimal number (a string like "0.01" is exact)')
    try:
        # a TOML float goes through its shortest text form, never through binary arithmetic
        d = Decimal(value if isinstance(value, str) else repr(value))
    except InvalidOperation:
        raise ConfigError(f"{prefix}{key} is not a decimal number: {value!r}") from None
    if not d.is_finite() or (d < 0 and not signed):
        raise ConfigError(f"{prefix}{key} must be a finite{'' if signed else ', non-negative'} number")
    return d


def _opt_decimal(table: Mapping[str, Any], prefix: str, key: str) -> Decimal | None:
    return config_decimal(table, prefix, key) if key in table else None
