"""wingbeat.backtest: record Hyperliquid's public feeds, replay them through the venue engine, report.

- ``recorder`` / ``recording_writer``: ``wingbeat record``, hourly LZ4 JSON-lines files per pair.
- ``market_data``: the line format, the recording and public-archive layouts, the merged event stream.

The layer sits above ``engine``: it may import ``core``, ``hyperliquid``, ``sim`` (the venue engine)
and ``engine``; nothing below imports it.
"""
