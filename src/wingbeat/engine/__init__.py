"""wingbeat.engine: strategies on top of connectors, risk limits, metrics, logging and the command line.

- `Strategy`: base class (``on_start``, ``on_tick``, event callbacks, risk-gated ``buy`` / ``sell``,
  ``kill``) over one connector or several; `MarketMakerStrategy`, `TwapExecutor` and `BasisStrategy`
  (spot-perp funding carry) are the built-in strategies.
- `Clock`: ticks strategies at a fixed interval; `run_strategy` runs one to its end with a live view.
- `RiskLimits`: pre-trade limits checked before any order exists.
- `Metrics`: Prometheus metrics in a registry of their own; `setup_logging` / `EventLogger`:
  one line per record and per event, text or JSON.
- ``wingbeat.engine.cli``: the ``wingbeat`` command.

Nothing here imports the Hyperliquid connector or the local exchange at import time; the commands
that need them import them when they run.
"""

from wingbeat.engine.basis import BasisConfig, BasisStrategy
from wingbeat.engine.clock import Clock
from wingbeat.engine.config import ConfigError, RunConfig, load_config
from wingbeat.engine.live_view import RunSummary
from wingbeat.engine.logging_setup import EventLogger, setup_logging
from wingbeat.engine.market_maker import MarketMakerConfig, MarketMakerStrategy
from wingbeat.engine.metrics import Metrics
from wingbeat.engine.pnl import PnLTracker
from wingbeat.engine.risk import Exposure, OrderIntent, OrderRefusedEvent, RiskLimits
from wingbeat.engine.runner import run_strategy
from wingbeat.engine.strategy import PositionConnector, Strategy, TradingConnector
from wingbeat.engine.twap import TwapConfig, TwapExecutor

__all__ = [
    "BasisConfig",
    "BasisStrategy",
    "Clock",
    "ConfigError",
    "EventLogger",
    "Exposure",
    "MarketMakerConfig",
    "MarketMakerStrategy",
    "Metrics",
    "OrderIntent",
    "OrderRefusedEvent",
    "PnLTracker",
    "PositionConnector",
    "RiskLimits",
    "RunConfig",
    "RunSummary",
    "Strategy",
    "TradingConnector",
    "TwapConfig",
    "TwapExecutor",
    "load_config",
    "run_strategy",
    "setup_logging",
]
