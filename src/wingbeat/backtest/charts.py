"""The report's chart of equity, position and price over time: a PNG (matplotlib, Agg backend) and a
self-contained HTML page (plotly, its JavaScript inlined, no network needed to open it). Fills are
marked on the price panel (buys up, sells down)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from wingbeat.backtest.replay import BacktestResult
from wingbeat.core.enums import TradeType

__all__ = ["write_html_chart", "write_png_chart"]


def _times(values: list[float]) -> list[datetime]:
    return [datetime.fromtimestamp(t, UTC) for t in values]


def write_png_chart(result: BacktestResult, path: Path, *, title: str) -> None:
    """Three stacked panels sharing the time axis, written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    times = _times([p.t for p in result.equity])
    fig, (ax_eq, ax_pos, ax_px) = plt.subplots(3, 1, sharex=True, figsize=(11, 8), constrained_layout=True)
    try:
        ax_eq.plot(times, [float(p.equity) for p in result.equity], color="tab:blue", linewidth=1)
        ax_eq.set_ylabel("equity (USDC)")
        ax_eq.set_title(title)
        ax_pos.step(
            times, [float(p.position) for p in result.equity], where="post", color="tab:purple", linewidth=1
        )
        ax_pos.axhline(0, color="grey", linewidth=0.5)
        ax_pos.set_ylabel("position")
        ax_px.plot(times, [float(p.price) for p in result.equity], color="black", linewidth=0.8, label="mid")
        for side, marker, color in ((TradeType.BUY, "^", "tab:green"), (TradeType.SELL, "v", "tab:red")):
            fills = [f for f in result.fills if f.trade_type is side]
            if fills:
                ax_px.scatter(
                    _times([f.timestamp for f in fills]),
                    [float(f.price) for f in fills],
                    marker=marker,
                    color=color,
                    s=14,
                    label=f"{side.name.lower()} fills",
                    zorder=3,
                )
        ax_px.set_ylabel("price")
        ax_px.legend(loc="upper left", fontsize="small")
        fig.savefig(path, dpi=100, metadata={"Software": None})
    finally:
        plt.close(fig)


def write_html_chart(result: BacktestResult, path: Path, *, title: str) -> None:
    """The same chart as an interactive, self-contained HTML page."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    times = _times([p.t for p in result.equity])
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.04,
        subplot_titles=("equity (USDC)", "position", "price"),
    )
    fig.add_trace(
        go.Scatter(x=times, y=[float(p.equity) for p in result.equity], name="equity", line={"width": 1}),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=times,
            y=[float(p.position) for p in result.equity],
            name="position",
            line={"shape": "hv", "width": 1},
        ),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=times,
            y=[float(p.price) for p in result.equity],
            name="mid",
            line={"color": "black", "width": 1},
        ),
        row=3,
        col=1,
    )
    for side, symbol, color in (
        (TradeType.BUY, "triangle-up", "green"),
        (TradeType.SELL, "triangle-down", "red"),
    ):
        fills = [f for f in result.fills if f.trade_type is side]
        if fills:
            fig.add_trace(
                go.Scatter(
                    x=_times([f.timestamp for f in fills]),
                    y=[float(f.price) for f in fills],
                    mode="markers",
                    name=f"{side.name.lower()} fills",
                    marker={"symbol": symbol, "color": color, "size": 7},
                ),
                row=3,
                col=1,
            )
    fig.update_layout(title=title, height=800, template="plotly_white")
    path.write_text(
        fig.to_html(include_plotlyjs=True, full_html=True, div_id="wingbeat-backtest"), encoding="utf-8"
    )
