"""The ``wingbeat record`` and ``wingbeat backtest`` commands, added to the app by ``wingbeat.engine.cli``
through `register`; they use the helpers the app lends through `cli_options.cli_helpers` (running a coroutine
with one-line errors, Ctrl-C handling, log setup), so this module never imports ``cli`` back.

Both import ``wingbeat.backtest`` inside the command, so the engine layer does not depend on the
backtest layer at import time and ``wingbeat --help`` stays fast.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from wingbeat.engine.cli_options import cli_helpers

if TYPE_CHECKING:
    from wingbeat.backtest.recorder import RecorderStats

__all__ = ["backtest_command", "record_command", "register"]

_out = Console(highlight=False)
_err = Console(stderr=True, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``record`` and ``backtest`` to ``app`` (they run through the helpers the app lent, `cli_helpers`)."""
    app.command("record")(record_command)
    app.command("backtest")(backtest_command)


def _time_ns(text: str | None, option: str) -> int | None:
    from wingbeat.backtest.market_data import parse_time

    if text is None:
        return None
    try:
        return int(float(text) * 1e9) if text.replace(".", "", 1).isdigit() else parse_time(text)
    except ValueError:
        _err.print(f"error: {option} takes an ISO time (2025-03-11T09:00:00) or epoch seconds, got {text!r}")
        raise typer.Exit(2) from None


def record_command(
    pairs: Annotated[str, typer.Option("--pairs", help="Comma-separated pairs, e.g. BTC-USD,ETH-USD.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder of the recording (created; resumed if present).")
    ],
    network: Annotated[
        str, typer.Option("--network", "-n", help='"testnet", "mainnet" or a URL.')
    ] = "testnet",
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: Ctrl-C).", min=0.1)
    ] = None,
) -> None:
    """Record l2Book, trades, bbo and activeAssetCtx of PAIRS into hourly LZ4 files (see the README)."""
    from wingbeat.backtest.recorder import record

    helpers = cli_helpers()

    pair_list = [p.strip() for p in pairs.split(",") if p.strip()]
    if not pair_list:
        _err.print("error: --pairs names no pair")
        raise typer.Exit(2)
    live = _out.is_terminal

    def progress(stats: RecorderStats) -> None:
        if live:
            _out.print(stats.line(), end="\r", soft_wrap=True)
        elif int(stats.elapsed) % 10 == 0:
            _out.print(stats.line(), soft_wrap=True)

    async def main() -> RecorderStats:
        stop = asyncio.Event()
        helpers.install_stop_signals(stop)
        return await record(network, pair_list, out, duration=duration, stop=stop, on_progress=progress)

    stats: RecorderStats = helpers.run(main())
    _out.print(stats.line(), soft_wrap=True)
    _out.print(f"recorded into {out}")


def _summary_table(summary: dict[str, Any], timing: dict[str, Any]) -> Table:
    table = Table(title="backtest summary", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", justify="right")
    for key, value in {**summary, **timing}.items():
        table.add_row(key, str(value))
    return table


def backtest_command(
    config: Annotated[Path, typer.Argument(help="wingbeat run's configuration (TOML), with [backtest].")],
    data: Annotated[
        Path, typer.Option("--data", help="A recording folder or an archive root (holding market_data/).")
    ],
    start: Annotated[str | None, typer.Option("--start", help="First time replayed (ISO, UTC).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Replay until this time (ISO, UTC).")] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write summary.json, fills.csv, orders.csv and charts here."),
    ] = None,
    sweep: Annotated[
        list[str] | None,
        typer.Option(
            "--sweep",
            help="section.key=v1,v2,... (repeatable): run the grid in parallel and write one table.",
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Processes of a sweep (default: all cores).", min=1)
    ] = None,
    charts: Annotated[bool, typer.Option(help="Draw the PNG and HTML charts.")] = True,
) -> None:
    """Replay recorded data through CONFIG's strategy on the venue engine, in virtual time."""
    from wingbeat.engine.config import ConfigError

    if not data.is_dir():
        _err.print(f"error: --data {data} is not a folder")
        raise typer.Exit(2)
    start_ns, end_ns = _time_ns(start, "--start"), _time_ns(end, "--end")
    try:
        if sweep:
            _sweep(config, data, sweep, start_ns, end_ns, report, workers)
        else:
            _single(config, data, start_ns, end_ns, report, charts)
    except ConfigError as exc:
        _err.print(f"error: {exc}")
        raise typer.Exit(2) from None
    except (ValueError, OSError) as exc:
        _err.print(f"error: {exc}")
        raise typer.Exit(1) from None


def _single(
    config: Path, data: Path, start_ns: int | None, end_ns: int | None, report: Path | None, charts: bool
) -> None:
    from wingbeat.backtest.replay import run_backtest
    from wingbeat.backtest.report import timing, write_report
    from wingbeat.backtest.settings import load_backtest_config
    from wingbeat.backtest.summary import summarize

    cfg = load_backtest_config(config)
    cli_helpers().setup_logs("WARNING", False)
    with Progress(
        TextColumn("backtest"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[events]} events"),
        TimeElapsedColumn(),
        console=_err,
        transient=True,
    ) as bar:
        task = bar.add_task("replay", total=1.0, events=0)
        result = run_backtest(
            cfg,
            data,
            start_ns=start_ns,
            end_ns=end_ns,
            progress=lambda done, n: bar.update(task, completed=done, events=n),
        )
    s = cfg.settings
    summary = summarize(
        result,
        seed=s.seed,
        order_latency_ms=s.order_latency_ms,
        market_data_latency_ms=s.market_data_latency_ms,
    )
    _out.print(_summary_table(summary, timing(result)))
    if report is not None:
        paths = write_report(result, summary, report, charts=charts)
        _out.print(f"report: {', '.join(str(p) for p in paths)}", soft_wrap=True)


def _sweep(
    config: Path,
    data: Path,
    items: list[str],
    start_ns: int | None,
    end_ns: int | None,
    report: Path | None,
    workers: int | None,
) -> None:
    from wingbeat.backtest.sweep import SWEEP_COLUMNS, parse_sweep, run_sweep, write_sweep_table

    points = parse_sweep(items)
    with Progress(
        TextColumn("sweep"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=_err,
        transient=True,
    ) as bar:
        task = bar.add_task("sweep", total=len(points))
        results = run_sweep(
            config,
            data,
            points,
            start_ns=start_ns,
            end_ns=end_ns,
            workers=workers,
            on_done=lambda n: bar.update(task, completed=n),
        )
    table = Table(title=f"sweep: {len(points)} runs")
    keys = [k for k, _ in points[0].values]
    for key in (*keys, *SWEEP_COLUMNS):
        table.add_column(key, justify="right")
    for point, result in zip(points, results, strict=True):
        table.add_row(*(v for _, v in point.values), *(str(result[c]) for c in SWEEP_COLUMNS))
    _out.print(table)
    target = (report or Path(".")) / "sweep.csv"
    write_sweep_table(points, results, target)
    _out.print(f"table: {target}")
