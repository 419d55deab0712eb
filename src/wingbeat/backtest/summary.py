"""The numbers of a backtest: `summarize` turns a `BacktestResult` into ``summary.json``'s mapping.

Money is Decimal, written as exact strings rounded to USDC's six decimals; ratios are floats rounded to
a fixed number of places, so the same result always renders to the same bytes. ``wall_seconds`` (and the
events per second it gives) is the one number that differs between runs: it is kept out of the summary
and reported beside it (``timing.json``, the CLI's table).

- ``pnl``: final equity minus the initial balance (fees and funding included);
- ``max_drawdown``: the largest fall of sampled equity from its running peak (USDC);
- ``sharpe``: mean over standard deviation of per-sample equity changes (relative to the initial
  balance), annualised by the mean sample spacing; 0 when equity never moved.
"""

from __future__ import annotations

import itertools
import math
import statistics
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from wingbeat.backtest.replay import BacktestResult
from wingbeat.core.enums import TradeType

__all__ = ["money", "summarize", "utc"]

_USDC = Decimal("0.000001")
_YEAR_S = 365 * 24 * 3600


def money(value: Decimal) -> str:
    """A USDC amount as an exact string with six decimals."""
    return f"{value.quantize(_USDC):f}"


def utc(t: float) -> str:
    """ISO time (UTC, milliseconds) of ``t`` seconds since the epoch."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _max_drawdown(result: BacktestResult) -> Decimal:
    peak: Decimal | None = None
    worst = Decimal(0)
    for point in result.equity:
        if peak is None or point.equity > peak:
            peak = point.equity
        worst = max(worst, peak - point.equity)
    return worst


def _sharpe(result: BacktestResult) -> float:
    points = result.equity
    if len(points) < 3:
        return 0.0
    base = result.initial_balance
    returns = [float((b.equity - a.equity) / base) for a, b in itertools.pairwise(points)]
    spread = statistics.pstdev(returns)
    if spread == 0:
        return 0.0
    spacing = (points[-1].t - points[0].t) / (len(points) - 1)
    per_year = _YEAR_S / spacing if spacing > 0 else 0.0
    return round(statistics.fmean(returns) / spread * math.sqrt(per_year), 4)


def summarize(
    result: BacktestResult, *, seed: int, order_latency_ms: float, market_data_latency_ms: float
) -> dict[str, Any]:
    """The deterministic summary (see the module docstring for the definitions)."""
    fills = result.fills
    fees = sum((f.fee_amount for f in fills), Decimal(0))
    volume = sum((f.price * f.amount for f in fills), Decimal(0))
    funding = sum((f.amount for f in result.funding), Decimal(0))
    position = result.equity[-1].position if result.equity else Decimal(0)
    bought = sum((f.amount for f in fills if f.trade_type is TradeType.BUY), Decimal(0))
    sold = sum((f.amount for f in fills if f.trade_type is TradeType.SELL), Decimal(0))
    return {
        "strategy": result.strategy,
        "trading_pair": result.trading_pair,
        "start": utc(result.start),
        "end": utc(result.end),
        "simulated_seconds": round(result.end - result.start, 3),
        "events": result.events,
        "orders": len(result.orders),
        "fills": len(fills),
        "maker_fills": sum(1 for f in fills if not f.is_taker),
        "taker_fills": sum(1 for f in fills if f.is_taker),
        "bought": f"{bought:f}",
        "sold": f"{sold:f}",
        "position": f"{position:f}",
        "volume": money(volume),
        "fees": money(fees),
        "funding": money(funding),
        "pnl": money(result.final_equity - result.initial_balance),
        "initial_balance": money(result.initial_balance),
        "final_equity": money(result.final_equity),
        "max_drawdown": money(_max_drawdown(result)),
        "sharpe": _sharpe(result),
        "refused_orders": result.refused,
        "data_gaps": result.gaps,
        "stop_reason": result.stop_reason,
        "seed": seed,
        "order_latency_ms": order_latency_ms,
        "market_data_latency_ms": market_data_latency_ms,
    }
