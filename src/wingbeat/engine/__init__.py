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

Names are exported lazily (PEP 562), as in the other layers: a command that needs none of them
(``wingbeat --help``, ``wingbeat sim``) does not import every strategy and the metrics stack. To export a new
name, add one line to ``_EXPORTS`` and the matching import under ``TYPE_CHECKING``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wingbeat._exports import resolve_export

if TYPE_CHECKING:
    from wingbeat.engine.basis import BasisConfig as BasisConfig
    from wingbeat.engine.basis import BasisStrategy as BasisStrategy
    from wingbeat.engine.clock import Clock as Clock
    from wingbeat.engine.config import ConfigError as ConfigError
    from wingbeat.engine.config import RunConfig as RunConfig
    from wingbeat.engine.config import load_config as load_config
    from wingbeat.engine.live_view import RunSummary as RunSummary
    from wingbeat.engine.logging_setup import EventLogger as EventLogger
    from wingbeat.engine.logging_setup import setup_logging as setup_logging
    from wingbeat.engine.market_maker import MarketMakerConfig as MarketMakerConfig
    from wingbeat.engine.market_maker import MarketMakerStrategy as MarketMakerStrategy
    from wingbeat.engine.metrics import Metrics as Metrics
    from wingbeat.engine.pnl import PnLTracker as PnLTracker
    from wingbeat.engine.risk import Exposure as Exposure
    from wingbeat.engine.risk import OrderIntent as OrderIntent
    from wingbeat.engine.risk import OrderRefusedEvent as OrderRefusedEvent
    from wingbeat.engine.risk import RiskLimits as RiskLimits
    from wingbeat.engine.runner import run_strategy as run_strategy
    from wingbeat.engine.strategy import PositionConnector as PositionConnector
    from wingbeat.engine.strategy import Strategy as Strategy
    from wingbeat.engine.strategy import TradingConnector as TradingConnector
    from wingbeat.engine.twap import TwapConfig as TwapConfig
    from wingbeat.engine.twap import TwapExecutor as TwapExecutor

_EXPORTS: dict[str, str] = {
    "BasisConfig": "wingbeat.engine.basis",
    "BasisStrategy": "wingbeat.engine.basis",
    "Clock": "wingbeat.engine.clock",
    "ConfigError": "wingbeat.engine.config",
    "EventLogger": "wingbeat.engine.logging_setup",
    "Exposure": "wingbeat.engine.risk",
    "MarketMakerConfig": "wingbeat.engine.market_maker",
    "MarketMakerStrategy": "wingbeat.engine.market_maker",
    "Metrics": "wingbeat.engine.metrics",
    "OrderIntent": "wingbeat.engine.risk",
    "OrderRefusedEvent": "wingbeat.engine.risk",
    "PnLTracker": "wingbeat.engine.pnl",
    "PositionConnector": "wingbeat.engine.strategy",
    "RiskLimits": "wingbeat.engine.risk",
    "RunConfig": "wingbeat.engine.config",
    "RunSummary": "wingbeat.engine.live_view",
    "Strategy": "wingbeat.engine.strategy",
    "TradingConnector": "wingbeat.engine.strategy",
    "TwapConfig": "wingbeat.engine.twap",
    "TwapExecutor": "wingbeat.engine.twap",
    "load_config": "wingbeat.engine.config",
    "run_strategy": "wingbeat.engine.runner",
    "setup_logging": "wingbeat.engine.logging_setup",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    return resolve_export(__name__, _EXPORTS, globals(), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
