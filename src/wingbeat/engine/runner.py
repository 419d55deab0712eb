"""Run one strategy to its end: clock, live view or plain status lines, metrics, summary.

`run_strategy` is what ``wingbeat demo`` and ``wingbeat run`` share. The caller owns and has started
the connector; this function starts the strategy and the clock, shows progress until the duration
elapses, the strategy finishes (a TWAP is done, the kill switch fired) or ``stop`` is set (Ctrl-C),
then stops the strategy (cancelling its orders) and returns a `RunSummary` made from the same snapshot
as the last frame drawn.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from rich.console import Console

from wingbeat.engine.clock import Clock
from wingbeat.engine.live_view import (
    FillRow,
    OrderRow,
    PositionRow,
    RunSummary,
    ViewState,
    live_display,
    plain_line,
    render_view,
)
from wingbeat.engine.metrics import Metrics, percentile
from wingbeat.engine.strategy import Strategy

_ZERO = Decimal(0)


def view_state(
    strategy: Strategy,
    trading_pair: str,
    *,
    title: str,
    started: float,
    duration: float | None,
    status: str = "running",
) -> ViewState:
    """A snapshot of ``strategy`` on ``trading_pair``: what the live view shows and the summary reports."""
    book = strategy.order_book(trading_pair)
    bids, asks = book.depth(10)
    pnl = strategy.pnl.pair(trading_pair)
    metrics = strategy.metrics
    opens = list(metrics.open_samples) if metrics else []
    fill_samples = list(metrics.fill_samples) if metrics else []
    orders = [
        OrderRow(
            client_order_id=o.client_order_id,
            is_buy=o.trade_type.name == "BUY",
            price=o.price,
            amount=o.amount,
            executed=o.executed_amount_base,
            state=o.current_state.name,
        )
        for o in strategy.active_orders(trading_pair)
    ]
    orders.sort(key=lambda o: -o.price)
    fills = [
        FillRow(
            timestamp=f.timestamp,
            is_buy=f.trade_type.name == "BUY",
            price=f.price,
            amount=f.amount,
            fee=f.fee_amount,
            is_taker=f.is_taker,
        )
        for f in strategy.recent_fills
    ]
    return ViewState(
        title=title,
        trading_pair=trading_pair,
        elapsed=time.monotonic() - started,
        duration=duration,
        bids=bids,
        asks=asks,
        orders=orders,
        recent_fills=fills,
        fill_count=pnl.fills,
        position=pnl.position,
        entry_price=pnl.entry_price,
        realized=pnl.realized,
        unrealized=pnl.unrealized(strategy.mid_price(trading_pair)),
        fees=pnl.fees,
        open_p50_ms=_ms(percentile(opens, 0.5)),
        open_p99_ms=_ms(percentile(opens, 0.99)),
        fill_p50_ms=_ms(percentile(fill_samples, 0.5)),
        fill_p99_ms=_ms(percentile(fill_samples, 0.99)),
        refused=strategy.refused_count,
        orders_placed=strategy.orders_placed,
        buy_volume=pnl.bought,
        sell_volume=pnl.sold,
        quote_volume=pnl.volume_quote,
        other_positions=[
            PositionRow(trading_pair=pair, amount=p.amount, mark=strategy.mark_price(pair))
            for pair, p in sorted(strategy.untracked_positions().items())
        ],
        status=status,
    )


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


async def run_strategy(
    strategy: Strategy,
    trading_pair: str,
    *,
    duration: float | None,
    tick_interval: float,
    console: Console,
    live: bool,
    title: str,
    network: str,
    stop: asyncio.Event | None = None,
    status_interval: float = 5.0,
) -> RunSummary:
    """Run ``strategy`` until the duration, its own end, or ``stop``; returns the summary.

    The strategy is stopped (its orders cancelled) while the view still shows "stopping"; then one last
    snapshot is taken, drawn as the final frame (or printed as the last status line) and summarised, so
    the summary's figures are the final frame's.
    """
    stop = stop or asyncio.Event()
    clock = Clock(tick_interval)
    clock.add(strategy)
    started = time.monotonic()
    deadline = None if duration is None else started + duration
    reason = "duration elapsed"
    stopped = False
    await strategy.start()
    clock.start()
    waiters = [asyncio.ensure_future(strategy.done.wait()), asyncio.ensure_future(stop.wait())]
    try:
        refresh = 0.25 if live else status_interval
        with contextlib.ExitStack() as stack:
            view = stack.enter_context(live_display(console)) if live else None

            def show(status: str) -> ViewState:
                state = view_state(
                    strategy, trading_pair, title=title, started=started, duration=duration, status=status
                )
                if strategy.metrics is not None:
                    update_metrics(strategy, strategy.metrics)
                if view is not None:
                    view.update(render_view(state), refresh=True)
                else:
                    console.print(plain_line(state), soft_wrap=True, highlight=False)
                return state

            show("running")
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                timeout = refresh if remaining is None else min(refresh, remaining)
                done, _pending = await asyncio.wait(
                    waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if waiters[0] in done:
                    reason = (
                        f"kill switch: {strategy.kill_reason}"
                        if strategy.kill_reason
                        else "strategy finished"
                    )
                    break
                if waiters[1] in done:
                    reason = "stopped by user"
                    break
                if deadline is None or time.monotonic() < deadline:  # at the deadline the final line says it
                    show("running")
            if view is not None:
                show(f"stopping: {reason}")
            stopped = True
            await _stop(clock, strategy, waiters)
            final = show(f"stopped: {reason}")
    finally:
        if not stopped:  # an error (or cancellation) on the way: still cancel the strategy's orders
            await _stop(clock, strategy, waiters)
    return RunSummary.from_view(
        final,
        strategy=type(strategy).__name__,
        network=network,
        stop_reason=reason,
        extra=(
            *strategy.summary_rows(),
            *((f"not traded {p.trading_pair}", p.value()) for p in final.other_positions),
        ),
    )


async def _stop(clock: Clock, strategy: Strategy, waiters: Sequence[asyncio.Future[Any]]) -> None:
    for w in waiters:
        w.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    await clock.stop()
    await strategy.stop()


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
    for pair, position in strategy.untracked_positions().items():
        positions[pair] = position.amount
    pnl = {
        pair: (p.realized, p.unrealized(strategy.mark_price(pair)), p.fees)
        for pair, p in strategy.pnl.pairs.items()
    }
    # optional connector counters: a connector that exposes them gets them charted
    conns = list(strategy.connectors.values())
    reconnects = [r for c in conns if isinstance(r := getattr(c, "ws_reconnects", None), int)]
    budgets = [b for c in conns if isinstance(b := getattr(c, "rate_limit_remaining", None), int | float)]
    metrics.set_account(
        open_orders=open_orders,
        positions=positions,
        pnl=pnl,
        ws_reconnects=sum(reconnects) if reconnects else None,
        rate_limit_remaining=min(budgets) if budgets else None,
    )
