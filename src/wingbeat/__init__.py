"""wingbeat: fast, crash-safe, event-driven exchange connectors.

Layers, one package each:

- ``wingbeat.core``: exchange-agnostic orders, events, order books, journal and networking.
- ``wingbeat.hyperliquid``: Hyperliquid wire formats, signing, clients and the perpetual and spot connectors.
- ``wingbeat.sim``: a local exchange speaking Hyperliquid's protocol, for tests, demo and paper trading.
- ``wingbeat.engine``: strategies, risk limits, metrics and the ``wingbeat`` command line.
"""

__version__ = "0.1.0"
