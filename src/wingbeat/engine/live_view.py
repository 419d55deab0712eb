"""What a running strategy looks like: plain snapshots and their rich / plain-text rendering.

Rendering depends only on the plain dataclasses here (`ViewState`, `RunSummary`), never on a live
connector, so it is cheap to test and the same snapshot drives the live terminal view, the periodic
plain lines used when stdout is not a terminal, and the final summary table: the summary of a run is
`RunSummary.from_view` of the very snapshot its last frame shows, so their figures cannot differ.

`live_display` draws the frames: a rich ``Live`` on the console, wingbeat's log records printed through
that same console (above the frame, never into it: see `logging_setup.logs_above`), and the terminal's
echo off meanwhile (an echoed ``^C`` or keystroke moves the cursor, and the next frame would be drawn a
line lower, leaving the top of the old one on screen).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRow:
    """One of our open orders."""

    client_order_id: str
    is_buy: bool
    price: Decimal
    amount: Decimal
    executed: Decimal
    state: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionRow:
    """A position of the account in a pair the strategy does not trade (another program's): shown only."""

    trading_pair: str
    amount: Decimal
    mark: Decimal | None

    def value(self) -> str:
        """``0.5 @ 3012.4`` (``@ ?`` without a mark)."""
        return f"{self.amount} @ {self.mark if self.mark is not None else '?'}"

    def text(self) -> str:
        """``ETH-USD 0.5 @ 3012.4``."""
        return f"{self.trading_pair} {self.value()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FillRow:
    """One of our fills."""

    timestamp: float
    is_buy: bool
    price: Decimal
    amount: Decimal
    fee: Decimal
    is_taker: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewState:
    """Everything the live view shows at one instant, and every figure of the run's summary."""

    title: str
    trading_pair: str
    elapsed: float
    duration: float | None
    bids: Sequence[tuple[Decimal, Decimal]] = ()
    asks: Sequence[tuple[Decimal, Decimal]] = ()
    orders: Sequence[OrderRow] = ()
    recent_fills: Sequence[FillRow] = ()
    fill_count: int = 0
    position: Decimal = _ZERO
    entry_price: Decimal = _ZERO
    realized: Decimal = _ZERO
    unrealized: Decimal = _ZERO
    fees: Decimal = _ZERO
    open_p50_ms: float | None = None
    open_p99_ms: float | None = None
    fill_p50_ms: float | None = None
    fill_p99_ms: float | None = None
    refused: int = 0
    orders_placed: int = 0
    buy_volume: Decimal = _ZERO
    sell_volume: Decimal = _ZERO
    quote_volume: Decimal = _ZERO
    other_positions: Sequence[PositionRow] = ()
    status: str = "running"

    @property
    def net_pnl(self) -> Decimal:
        """Realised + unrealised − fees."""
        return self.realized + self.unrealized - self.fees


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSummary:
    """The outcome of a strategy run, shown as the final table and returned to callers."""

    strategy: str
    trading_pair: str
    network: str
    duration: float
    orders_placed: int
    fills: int
    buy_volume: Decimal
    sell_volume: Decimal
    quote_volume: Decimal
    position: Decimal
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    refused: int
    open_p50_ms: float | None = None
    open_p99_ms: float | None = None
    fill_p50_ms: float | None = None
    fill_p99_ms: float | None = None
    stop_reason: str = "duration elapsed"
    extra: Sequence[tuple[str, str]] = field(default_factory=tuple)

    @property
    def net_pnl(self) -> Decimal:
        """Realised + unrealised − fees."""
        return self.realized + self.unrealized - self.fees

    @classmethod
    def from_view(
        cls,
        state: ViewState,
        *,
        strategy: str,
        network: str,
        stop_reason: str,
        extra: Sequence[tuple[str, str]] = (),
    ) -> RunSummary:
        """The summary of a run whose last frame showed ``state``: the same figures, by construction."""
        return cls(
            strategy=strategy,
            trading_pair=state.trading_pair,
            network=network,
            duration=state.elapsed,
            orders_placed=state.orders_placed,
            fills=state.fill_count,
            buy_volume=state.buy_volume,
            sell_volume=state.sell_volume,
            quote_volume=state.quote_volume,
            position=state.position,
            realized=state.realized,
            unrealized=state.unrealized,
            fees=state.fees,
            refused=state.refused,
            open_p50_ms=state.open_p50_ms,
            open_p99_ms=state.open_p99_ms,
            fill_p50_ms=state.fill_p50_ms,
            fill_p99_ms=state.fill_p99_ms,
            stop_reason=stop_reason,
            extra=tuple(extra),
        )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def _money(value: Decimal) -> str:
    return f"{value:,.4f}"


def _elapsed(state: ViewState) -> str:
    if state.duration is None:
        return f"{state.elapsed:.0f}s"
    return f"{state.elapsed:.0f}/{state.duration:.0f}s"


def render_view(state: ViewState, depth: int = 5) -> RenderableType:
    """The live terminal view: book, our orders, recent fills, position / PnL / latency."""
    book = Table(title=f"{state.trading_pair} book", expand=True, show_edge=False)
    book.add_column("bid size", justify="right", style="green")
    book.add_column("bid", justify="right", style="bold green")
    book.add_column("ask", justify="left", style="bold red")
    book.add_column("ask size", justify="left", style="red")
    ours = {(o.is_buy, o.price) for o in state.orders}
    bids, asks = list(state.bids[:depth]), list(state.asks[:depth])
    for i in range(max(len(bids), len(asks))):
        bid = bids[i] if i < len(bids) else None
        ask = asks[i] if i < len(asks) else None
        book.add_row(
            f"{bid[1]}" if bid else "",
            Text(f"{bid[0]}{' *' if (True, bid[0]) in ours else ''}") if bid else "",
            Text(f"{ask[0]}{' *' if (False, ask[0]) in ours else ''}") if ask else "",
            f"{ask[1]}" if ask else "",
        )

    orders = Table(title=f"our orders ({len(state.orders)})", expand=True, show_edge=False)
    for col in ("side", "price", "amount", "filled", "state"):
        orders.add_column(col, justify="left" if col in ("side", "state") else "right")
    for o in state.orders[:8]:
        orders.add_row(
            Text("buy", style="green") if o.is_buy else Text("sell", style="red"),
            f"{o.price}",
            f"{o.amount}",
            f"{o.executed}",
            o.state.lower(),
        )

    fills = Table(title=f"fills ({state.fill_count})", expand=True, show_edge=False)
    for col in ("time", "side", "price", "amount", "fee", "liq"):
        fills.add_column(col, justify="left" if col in ("time", "side", "liq") else "right")
    for f in list(state.recent_fills)[-5:]:
        fills.add_row(
            datetime.fromtimestamp(f.timestamp, UTC).strftime("%H:%M:%S"),
            Text("buy", style="green") if f.is_buy else Text("sell", style="red"),
            f"{f.price}",
            f"{f.amount}",
            f"{f.fee:.6f}",
            "taker" if f.is_taker else "maker",
        )

    stats = Table.grid(padding=(0, 2))
    stats.add_row(
        "position", f"{state.position}", "entry", f"{state.entry_price:.2f}" if state.position else "-"
    )
    pnl_style = "green" if state.net_pnl >= 0 else "red"
    stats.add_row("realised", _money(state.realized), "unrealised", _money(state.unrealized))
    stats.add_row("fees", _money(state.fees), "net PnL", Text(_money(state.net_pnl), style=pnl_style))
    stats.add_row("place→open p50", _ms(state.open_p50_ms), "p99", _ms(state.open_p99_ms))
    stats.add_row("place→fill p50", _ms(state.fill_p50_ms), "refused", str(state.refused))
    if state.other_positions:
        stats.add_row("not traded", ", ".join(p.text() for p in state.other_positions), "", "")
    header = Text(f"{state.title}  ·  {_elapsed(state)}  ·  {state.status}", style="bold")
    return Panel(Group(header, book, orders, fills, stats), title="wingbeat", border_style="cyan")


def plain_line(state: ViewState) -> str:
    """One status line for logs and pipes (used when stdout is not a terminal)."""
    bid = state.bids[0][0] if state.bids else "-"
    ask = state.asks[0][0] if state.asks else "-"
    return (
        f"[{_elapsed(state)}] {state.trading_pair} bid {bid} ask {ask} | orders {len(state.orders)} "
        f"| fills {state.fill_count} | pos {state.position} | pnl {state.net_pnl:.4f} "
        f"| open p50 {_ms(state.open_p50_ms)} | "
        + "".join(f"not traded {p.text()} | " for p in state.other_positions)
        + state.status
    )


@contextlib.contextmanager
def live_display(console: Console) -> Iterator[Live]:
    """A rich ``Live`` on ``console`` for the caller to ``update(..., refresh=True)``; logs print above it.

    No refresh thread: a frame is drawn when the caller updates it or a log line is printed, so the
    last frame drawn is the last one given. On exit the last frame stays on screen, drawn once.
    """
    from wingbeat.engine.logging_setup import logs_above

    with _terminal_echo_off(), logs_above(console), Live(console=console, auto_refresh=False) as live:
        yield live


@contextlib.contextmanager
def _terminal_echo_off() -> Iterator[None]:
    try:
        import termios

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
    except Exception:  # no termios (Windows), stdin closed, redirected or not a terminal: nothing to do
        yield
        return
    quiet = list(saved)
    quiet[3] &= ~(termios.ECHO | termios.ECHOCTL)  # lflag: neither keys nor ^C are echoed
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)


def summary_table(summary: RunSummary) -> Table:
    """The final table of a run."""
    title = f"{summary.strategy} on {summary.trading_pair} ({summary.network})"
    table = Table(title=title, show_header=False, min_width=len(title))  # the title on one line
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        ("duration", f"{summary.duration:.1f} s"),
        ("stopped because", summary.stop_reason),
        ("orders placed", str(summary.orders_placed)),
        ("orders refused by risk", str(summary.refused)),
        ("fills", str(summary.fills)),
        ("bought / sold (base)", f"{summary.buy_volume} / {summary.sell_volume}"),
        ("volume (quote)", _money(summary.quote_volume)),
        ("final position", f"{summary.position}"),
        ("realised PnL", _money(summary.realized)),
        ("unrealised PnL", _money(summary.unrealized)),
        ("fees", _money(summary.fees)),
        ("net PnL", _money(summary.net_pnl)),
        ("place→open p50 / p99", f"{_ms(summary.open_p50_ms)} / {_ms(summary.open_p99_ms)}"),
        ("place→fill p50 / p99", f"{_ms(summary.fill_p50_ms)} / {_ms(summary.fill_p99_ms)}"),
        *summary.extra,
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table
