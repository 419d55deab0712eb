"""Run one strategy to its end: clock, live view or plain status lines, metrics, summary.

`run_strategy` is what ``wingbeat demo`` and ``wingbeat run`` share. The caller owns and has started
the connector; this function starts the strategy and the clock, shows progress until the duration
elapses, the strategy finishes (a TWAP is done, the kill switch fired) or ``stop`` is set (Ctrl-C),
then stops the strategy (cancelling its orders) and returns a `RunSummary`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from decimal import Decimal

from rich.console import Console
from rich.live import Live

from wingbeat.engine.clock import Clock
from wingbeat.engine.live_view import FillRow, OrderRow, RunSummary, ViewState, plain_line, render_view
from wingbeat.engine.metrics import Metrics, percentile
from wingbeat.engine.strategy import Strategy

_ZERO = Decimal(0)


def view_state(strategy: Strategy, trading_pair: str, *, title: str, started: float,
               duration: float | None, status: str = "running") -> ViewState:
    """A snapshot of ``strategy`` on ``trading_pair`` for the live view."""
    book = strategy.order_book(trading_pair)
    bids, asks = book.depth(10)
    pnl = strategy.pnl.pair(trading_pair)
    mark = book.mid_price
    metrics = strategy.metrics
    orders = [OrderRow(client_order_id=o.client_order_id, is_buy=o.trade_type.name == "BUY", price=o.price,
                       amount=o.amount, executed=o.executed_amount_base, state=o.current_state.name)
              for o in strategy.active_orders(trading_pair)]
    orders.sort(key=lambda o: -o.price)
    fills = [FillRow(timestamp=f.timestamp, is_buy=f.trade_type.name == "BUY", price=f.price, amount=f.amount,
                     fee=f.fee_amount, is_taker=f.is_taker) for f in strategy.recent_fills]
    return ViewState(
        title=title, trading_pair=trading_pair, elapsed=time.monotonic() - started, duration=duration,
        bids=bids, asks=asks, orders=orders, recent_fills=fills, fill_count=pnl.fills,
        position=strategy.position(trading_pair), entry_price=pnl.entry_price, realized=pnl.realized,
        unrealized=pnl.unrealized(mark), fees=pnl.fees,
        open_p50_ms=_ms(percentile(metrics.open_samples, 0.5)) if metrics else None,
        open_p99_ms=_ms(percentile(metrics.open_samples, 0.99)) if metrics else None,
        fill_p50_ms=_ms(percentile(metrics.fill_samples, 0.5)) if metrics else None,
        refused=strategy.refused_count, status=status,
    )


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


async def run_strategy(strategy: Strategy, trading_pair: str, *, duration: float | None, tick_interval: float,
                       console: Console, live: bool, title: str, network: str,
                       stop: asyncio.Event | None = None, status_interval: float = 5.0) -> RunSummary:
    """Run ``strategy`` until the duration, its own end, or ``stop``; returns the summary."""
    stop = stop or asyncio.Event()
    clock = Clock(tick_interval)
    clock.add(strategy)
    started = time.monotonic()
    deadline = None if duration is None else started + duration
    reason = "duration elapsed"
    await strategy.start()
    clock.start()
    waiters = [asyncio.ensure_future(strategy.done.wait()), asyncio.ensure_future(stop.wait())]
    try:
        refresh = 0.25 if live else status_interval
        with contextlib.ExitStack() as stack:
            view = stack.enter_context(Live(console=console, refresh_per_second=4)) if live else None

            def show(status: str) -> None:
                state = view_state(strategy, trading_pair, title=title, started=started, duration=duration,
                                   status=status)
                if strategy.metrics is not None:
                    update_metrics(strategy, strategy.metrics)
                if view is not None:
                    view.update(render_view(state))
                else:
                    console.print(plain_line(state), soft_wrap=True, highlight=False)

            show("running")
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                timeout = refresh if remaining is None else min(refresh, remaining)
                done, _pending = await asyncio.wait(waiters, timeout=timeout,
                                                    return_when=asyncio.FIRST_COMPLETED)
                if waiters[0] in done:
                    reason = (f"kill switch: {strategy.kill_reason}" if strategy.kill_reason
                              else "strategy finished")
                    break
                if waiters[1] in done:
                    reason = "stopped by user"
                    break
                show("running")
            show(f"stopping: {reason}")
    finally:
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        await clock.stop()
        await strategy.stop()
    return summarize(strategy, trading_pair, network=network, duration=time.monotonic() - started,
                     reason=reason)


def update_metrics(strategy: Strategy, metrics: Metrics) -> None:
    """Refresh the account gauges of ``metrics`` from ``strategy`` and its connectors."""
    open_orders: dict[tuple[str, str], int] = {}
    positions: dict[str, Decimal] = {}
    for conn in strategy.connectors.values():
        for order in conn.open_orders:
            key = (order.trading_pair, order.current_state.name)
            open_orders[key] = open_orders.get(key, 0) + 1
        for pair in conn.trading_pairs:
            positions[pair] = strategy.position(pair)
    pnl = {pair: (p.realized, p.unrealized(strategy.mid_price(pair)), p.fees)
           for pair, p in strategy.pnl.pairs.items()}
    # optional connector counters: a connector that exposes them gets them charted
    conns = list(strategy.connectors.values())
    reconnects = [r for c in conns if isinstance(r := getattr(c, "ws_reconnects", None), int)]
    budgets = [b for c in conns if isinstance(b := getattr(c, "rate_limit_remaining", None), int | float)]
    metrics.set_account(open_orders=open_orders, positions=positions, pnl=pnl,
                        ws_reconnects=sum(reconnects) if reconnects else None,
                        rate_limit_remaining=min(budgets) if budgets else None)


def summarize(strategy: Strategy, trading_pair: str, *, network: str, duration: float,
              reason: str) -> RunSummary:
    """The `RunSummary` of a finished strategy."""
    pnl = strategy.pnl.pair(trading_pair)
    metrics: Metrics | None = strategy.metrics
    opens = list(metrics.open_samples) if metrics else []
    fills = list(metrics.fill_samples) if metrics else []
    return RunSummary(
        strategy=type(strategy).__name__, trading_pair=trading_pair, network=network, duration=duration,
        orders_placed=strategy.orders_placed, fills=pnl.fills, buy_volume=pnl.bought, sell_volume=pnl.sold,
        quote_volume=pnl.volume_quote, position=pnl.position, realized=pnl.realized,
        unrealized=pnl.unrealized(strategy.mid_price(trading_pair)), fees=pnl.fees,
        refused=strategy.refused_count,
        open_p50_ms=_ms(percentile(opens, 0.5)), open_p99_ms=_ms(percentile(opens, 0.99)),
        fill_p50_ms=_ms(percentile(fills, 0.5)), fill_p99_ms=_ms(percentile(fills, 0.99)),
        stop_reason=reason, extra=tuple(strategy.summary_rows()),
    )
