"""The live view, status line and summary render from plain snapshots."""

from decimal import Decimal

from rich.console import Console

from wingbeat.engine.live_view import (
    FillRow,
    OrderRow,
    RunSummary,
    ViewState,
    plain_line,
    render_view,
    summary_table,
)

D = Decimal


def _state() -> ViewState:
    return ViewState(
        title="demo",
        trading_pair="BTC-USD",
        elapsed=12.0,
        duration=30.0,
        bids=[(D("99.5"), D("1.2")), (D("99"), D(3))],
        asks=[(D("100.5"), D("0.7"))],
        orders=[
            OrderRow(
                client_order_id="0x1",
                is_buy=True,
                price=D("99.5"),
                amount=D("0.1"),
                executed=D(0),
                state="OPEN",
            )
        ],
        recent_fills=[
            FillRow(
                timestamp=0.0, is_buy=False, price=D("100.5"), amount=D("0.1"), fee=D("0.001"), is_taker=False
            )
        ],
        fill_count=1,
        position=D("-0.1"),
        entry_price=D("100.5"),
        realized=D(0),
        unrealized=D("0.05"),
        fees=D("0.001"),
        open_p50_ms=1.234,
        open_p99_ms=3.0,
    )


def test_live_view_shows_book_orders_fills_and_pnl() -> None:
    console = Console(record=True, width=120)
    console.print(render_view(_state()))
    text = console.export_text()
    for needle in (
        "BTC-USD book",
        "99.5 *",
        "100.5",
        "our orders (1)",
        "fills (1)",
        "-0.1",
        "1.23 ms",
        "12/30s",
    ):
        assert needle in text


def test_plain_line_is_one_line_with_the_essentials() -> None:
    line = plain_line(_state())
    assert "\n" not in line
    assert "bid 99.5 ask 100.5" in line and "fills 1" in line and "pnl 0.0490" in line


def test_summary_table_lists_fills_and_pnl() -> None:
    summary = RunSummary(
        strategy="MarketMakerStrategy",
        trading_pair="BTC-USD",
        network="local",
        duration=30.0,
        orders_placed=10,
        fills=4,
        buy_volume=D("0.2"),
        sell_volume=D("0.1"),
        quote_volume=D(30),
        position=D("0.1"),
        realized=D(1),
        unrealized=D(0),
        fees=D("0.5"),
        refused=2,
    )
    console = Console(record=True, width=100)
    console.print(summary_table(summary))
    text = console.export_text()
    assert "fills" in text and "0.5000" in text and "MarketMakerStrategy on BTC-USD" in text
    assert summary.net_pnl == D("0.5")


def test_the_summary_of_a_run_has_the_figures_of_its_last_frame() -> None:
    state = _state()
    summary = RunSummary.from_view(state, strategy="MarketMakerStrategy", network="local", stop_reason="done")
    assert (summary.fills, summary.position, summary.realized, summary.unrealized, summary.fees) == (
        state.fill_count,
        state.position,
        state.realized,
        state.unrealized,
        state.fees,
    )
    assert summary.net_pnl == state.net_pnl and summary.duration == state.elapsed
    frame, table = Console(record=True, width=120), Console(record=True, width=120)
    frame.print(render_view(state))
    table.print(summary_table(summary))
    net = f"{state.net_pnl:,.4f}"
    assert net in frame.export_text() and net in table.export_text()
