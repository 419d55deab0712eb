"""The venue half of the local exchange: engine, books, accounts, matching, risk, liquidity; no I/O.

Everything here is plain computation on venue time, so the backtest drives it directly."""
