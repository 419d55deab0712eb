"""The ``wingbeat`` command line (typer + rich).

Commands: ``demo`` (the market maker against the embedded local exchange), ``run CONFIG.toml`` (a
strategy on testnet, mainnet or a URL), ``sim`` (the local exchange alone), ``orders``, ``positions``,
``cancel-all`` (quick account tools), ``transfer`` and ``approve-builder-fee`` (account actions, in
`transfer_cli`), ``markets`` (every pair with its rules, in `markets_cli`), ``twap`` / ``cancel-twap`` (one native
TWAP, in `twap_cli`), ``journal`` (what an order journal holds) and ``version``
(also ``wingbeat --version``). ``orders``, ``positions`` and ``journal`` take ``--json`` for scripts.

User errors (bad configuration, missing key, unreachable exchange, refused action, bad usage) are exactly
one line on stderr and exit status 1 (2 for usage errors); ``wingbeat --debug ...`` shows the traceback
instead. Piped output is never wrapped or cut (see `cli_output`). A private key is never echoed: a value
that looks like one, given where a network or a variable name belongs, is reported without the value.
Exchange and connector modules are imported inside the commands, so ``wingbeat --help`` always works.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.table import Table

from wingbeat.engine.cli_options import (
    AccountOpt,
    CliHelpers,
    JsonOpt,
    KeyEnvOpt,
    KeystoreOpt,
    MainnetOpt,
    NetworkOpt,
    lend_cli_helpers,
    network_rest_url,
)
from wingbeat.engine.cli_output import jsonable, make_console, print_error, print_json

if TYPE_CHECKING:
    from wingbeat.engine.live_view import RunSummary
    from wingbeat.hyperliquid.rest import HyperliquidRestClient
    from wingbeat.hyperliquid.signer import Signer

_T = TypeVar("_T")

app = typer.Typer(
    help="wingbeat: fast, crash-safe exchange connectors, a local Hyperliquid-compatible exchange "
    "and a strategy engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
out = make_console()
err = make_console(stderr=True)
_state = {"debug": False, "verbose": False}
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _fail(message: str, code: int = 1) -> NoReturn:
    print_error(message)
    raise typer.Exit(code)


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro``; our errors become one line on stderr and exit status 1 (unless --debug)."""
    import aiohttp

    from wingbeat.core.errors import WingbeatError

    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        print_error("interrupted")
        raise typer.Exit(130) from None
    except (WingbeatError, aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
        if _state["debug"]:
            raise
        text = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError) and not str(exc):
            text = "timed out waiting for the exchange"
        _fail(text)
    except Exception as exc:  # a bug, not a user error: still one line, the traceback on request
        if _state["debug"]:
            raise
        _fail(f"unexpected {type(exc).__name__}: {exc} (run wingbeat --debug ... for the traceback)")


def _install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # not on the main thread / not supported: Ctrl-C then interrupts instead of stopping cleanly
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


def _show_version(value: bool) -> None:
    if value:
        from wingbeat import __version__

        out.print(__version__)
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the wingbeat version and exit."
        ),
    ] = False,
) -> None:
    _state["debug"], _state["verbose"] = debug, verbose
    # quiet by default: retries and reconnects are the library's business, the error line says the rest
    _setup_logs("DEBUG" if debug else "INFO" if verbose else "ERROR", False)


@app.command()
def version() -> None:
    """Print the wingbeat version."""
    from wingbeat import __version__

    out.print(__version__)


# -- demo and run -------------------------------------------------------------------------------------


@app.command()
def demo(
    duration: Annotated[float, typer.Option(help="Seconds to run.", min=1)] = 30.0,
    pair: Annotated[str, typer.Option(help="Trading pair (BTC-USD, ETH-USD, SOL-USD, HYPE-USD, builder dex xyz:XYZ100-USD, xyz:GOLD-USD, or spot PURR-USDC, HYPE-USDC).")] = "BTC-USD",
    seed: Annotated[int | None, typer.Option(help="Seed of the local exchange (random by default).")] = None,
    tick: Annotated[float, typer.Option(help="Strategy tick interval in seconds.", min=0.05)] = 0.5,
    plain: Annotated[bool, typer.Option(help="Plain status lines even on a terminal.")] = False,
    metrics_port: Annotated[int | None, typer.Option(help="Serve Prometheus metrics on this port.")] = None,
    log_level: Annotated[
        str | None,
        typer.Option(help="Log level of the wingbeat loggers on stderr (WARNING, or INFO with -v)."),
    ] = None,
    json_logs: Annotated[bool, typer.Option("--json-logs", help="Log as JSON lines.")] = False,
) -> None:
    """Run the market maker against the embedded local exchange: no configuration, no network."""
    from wingbeat.engine.demo import run_demo

    _setup_logs(log_level or ("INFO" if _state["verbose"] else "WARNING"), json_logs)
    live = out.is_terminal and not plain

    async def main() -> RunSummary:
        stop = asyncio.Event()
        _install_stop_signals(stop)
        return await run_demo(
            duration=duration,
            seed=seed,
            trading_pair=pair,
            tick_interval=tick,
            console=out,
            live=live,
            metrics_port=metrics_port,
            stop=stop,
        )

    _print_summary(_run(main()))


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="Strategy configuration (TOML).")],
    mainnet: Annotated[bool, typer.Option("--mainnet", help="Allow trading real money on mainnet.")] = False,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.", min=1)] = None,
    plain: Annotated[bool, typer.Option(help="Plain status lines even on a terminal.")] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Serve Prometheus metrics on this port (overrides engine.metrics_port; 0 = any free port).",
            min=0,
            max=65535,
        ),
    ] = None,
) -> None:
    """Run a strategy from CONFIG on testnet, mainnet or a URL (see the README for the file format)."""
    from wingbeat.engine.config import ConfigError, load_config

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        _fail(str(exc), 2)
    if cfg.is_mainnet and not mainnet:
        _fail("the configuration points at mainnet: add --mainnet to trade real money", 2)
    _setup_logs(cfg.engine.log_level, cfg.engine.log_json)
    signer = _signer(cfg.exchange.key_env, cfg.exchange.keystore, cfg.exchange.account_address)
    live = out.is_terminal and not plain

    async def main() -> RunSummary:
        from wingbeat.engine.live_run import run_configured

        stop = asyncio.Event()
        _install_stop_signals(stop)
        return await run_configured(
            cfg, signer, console=out, live=live, duration=duration, stop=stop, metrics_port=metrics_port
        )

    _print_summary(_run(main()))


def _setup_logs(level: str, json_logs: bool) -> None:
    from wingbeat.engine.logging_setup import setup_logging

    try:
        setup_logging(level, json=json_logs)
    except ValueError as exc:
        _fail(str(exc), 2)
    # key custody warnings (a keystore others can read) are shown however quiet the rest is
    signer_log = logging.getLogger("wingbeat.hyperliquid.signer")
    signer_log.setLevel(
        logging.WARNING if logging.getLogger("wingbeat").level > logging.WARNING else logging.NOTSET
    )


def _print_summary(summary: RunSummary) -> None:
    from wingbeat.engine.live_view import summary_table

    out.print(summary_table(summary))


# -- the local exchange -------------------------------------------------------------------------------


@app.command()
def sim(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0 = any free port).", min=0, max=65535)] = 8080,
    fund: Annotated[
        list[str] | None,
        typer.Option(
            help="ADDRESS[=USDC][,TOKEN=AMOUNT...][,DEX:TOKEN=AMOUNT...] to fund at start "
            "(repeatable): perp USDC (1,000,000 by default), then spot balances, then collateral "
            "on a HIP-3 builder dex (its collateral token), e.g. "
            "0xabc...=5000,PURR=1000,USDC=500,xyz:USDC=2000."
        ),
    ] = None,
    chain: Annotated[
        str, typer.Option(help='"testnet" (how the SDK signs for any URL) or "mainnet".')
    ] = "testnet",
    admin: Annotated[
        bool, typer.Option(help="Enable POST /admin (loopback, JSON, the token printed at start).")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of prices and liquidity.")] = 0,
    liquidity: Annotated[bool, typer.Option(help="Run the built-in market makers.")] = True,
    markets: Annotated[
        Path | None,
        typer.Option(
            help="TOML file of [[market]] tables (name, sz_decimals, "
            "max_leverage, start_price) and optional [[spot_token]] / [[spot_pair]] / [[perp_dex]] "
            "tables; default BTC, ETH, SOL, HYPE perps, PURR/USDC, HYPE/USDC spot and the HIP-3 dex xyz."
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            help="SQLite state file: accounts, orders, fills and nonces survive a restart "
            "(even a kill); created if missing. Default: [sim] state of --config."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML file whose [sim] table gives defaults (state).")
    ] = None,
) -> None:
    """Run the local Hyperliquid-compatible exchange until Ctrl-C."""
    if chain not in ("testnet", "mainnet"):
        _fail('--chain must be "testnet" or "mainnet"', 2)
    requested = [_parse_fund(item) for item in fund or []]
    if config is not None and state is None:
        from wingbeat.engine.config import ConfigError
        from wingbeat.engine.sim_config import load_sim_settings

        try:
            state = load_sim_settings(config).state
        except ConfigError as exc:
            _fail(f"--config {config}: {exc}", 2)

    from wingbeat.sim.protocol.server import DEFAULT_FUND_AMOUNT, run_local_exchange
    from wingbeat.sim.venue.markets import load_markets
    from wingbeat.sim.venue.perp_dexes import load_perp_dexes
    from wingbeat.sim.venue.spot_markets import load_spot

    try:
        loaded = load_markets(markets) if markets is not None else None
        spot = load_spot(markets) if markets is not None else None
        perp_dexes = load_perp_dexes(markets) if markets is not None else None
    except (OSError, ValueError) as exc:
        _fail(f"--markets {markets}: {exc}", 2)
    funded = [
        (address, DEFAULT_FUND_AMOUNT if amount is None else amount, spot, dexes)
        for address, amount, spot, dexes in requested
    ]
    _run(  # a state file in use or of another venue: StateFileError, one error line
        run_local_exchange(
            host,
            port,
            funded,
            "mainnet" if chain == "mainnet" else "testnet",
            admin,
            seed,
            markets=loaded,
            spot=spot,
            liquidity=liquidity,
            state=state,
            perp_dexes=perp_dexes,
        )
    )


def _parse_fund(
    item: str,
) -> tuple[str, Decimal | None, dict[str, Decimal], dict[str, tuple[str, Decimal]]]:
    """``ADDRESS[=USDC][,TOKEN=AMOUNT...][,DEX:TOKEN=AMOUNT...]``: the perp USDC (None: the
    default), spot balances, and builder dex collateral (dex -> (token, amount))."""
    from wingbeat.hyperliquid.constants import shown  # a key pasted here is not echoed either

    head, *entries = item.split(",")
    address, _, amount = head.partition("=")
    if not _ADDRESS.fullmatch(address):
        _fail(
            f"--fund {shown(item)}: expected 0x followed by 40 hex digits, optionally =AMOUNT, "
            ",TOKEN=AMOUNT spot balances and ,DEX:TOKEN=AMOUNT builder dex collateral",
            2,
        )
    value = _fund_amount(item, amount) if amount else None
    spot: dict[str, Decimal] = {}
    dexes: dict[str, tuple[str, Decimal]] = {}
    for entry in entries:
        token, _, token_amount = entry.partition("=")
        dex, colon, dex_token = token.rpartition(":")
        if not token or not token_amount or (colon and not (dex and dex_token)):
            _fail(f"--fund {shown(item)}: {shown(entry)} is not TOKEN=AMOUNT or DEX:TOKEN=AMOUNT", 2)
        if colon:
            dexes[dex] = (dex_token, _fund_amount(item, token_amount))
        else:
            spot[token] = _fund_amount(item, token_amount)
    return address.lower(), value, spot, dexes


def _fund_amount(item: str, amount: str) -> Decimal:
    from wingbeat.hyperliquid.constants import shown

    try:
        value = Decimal(amount)
    except InvalidOperation:
        _fail(f"--fund {shown(item)}: {shown(amount)} is not a number", 2)
    if not value.is_finite() or value <= 0:
        _fail(f"--fund {shown(item)}: the amount must be positive", 2)
    return value


# -- account tools ------------------------------------------------------------------------------------


def _signer(key_env: str, keystore: Path | None, account: str | None) -> Signer:
    from wingbeat.hyperliquid.signer import Signer
    from wingbeat.hyperliquid.signing import SignatureError

    try:
        if keystore is not None:
            return Signer.from_keystore(keystore, account_address=account)
        return Signer.from_env(key_env, account_address=account)
    except SignatureError as exc:
        _fail(str(exc), 2)


def _account(address: str | None, key_env: str, keystore: Path | None, account: str | None) -> str:
    if address is not None:
        if not _ADDRESS.fullmatch(address):
            _fail("--address must be 0x followed by 40 hex digits", 2)
        return address.lower()
    return _signer(key_env, keystore, account).account_address


AddressOpt = Annotated[str | None, typer.Option("--address", help="Account to show (instead of the key's).")]


async def _note_agent_key(rest: HyperliquidRestClient, user: str) -> None:
    """Nothing to show for ``user``: when it is an API wallet, say on stderr whose account it trades (an
    agent holds nothing itself; its orders and positions are the master's)."""
    from wingbeat.hyperliquid.account_check import fetch_user_role

    role = await fetch_user_role(rest, user)
    if role.role == "agent" and role.master:
        sys.stderr.write(
            f"note: {user} is an API wallet (agent) of {role.master} and holds nothing itself: add "
            f"--account {role.master} to see that account\n"
        )


@app.command()
def orders(
    network: NetworkOpt = "testnet",
    address: AddressOpt = None,
    key_env: KeyEnvOpt = "HL_PRIVATE_KEY",
    keystore: KeystoreOpt = None,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the account's open orders: main perp dex, spot and every builder (HIP-3) dex.

    --json prints {"account", "orders": [...]}, each order with the venue's fields (coin, side "B"/"A",
    limit_px, sz, orig_sz, oid, cloid, timestamp_ms, ...); prices and sizes are decimal strings.
    """
    from wingbeat.hyperliquid.rest import HyperliquidRestClient

    user = _account(address, key_env, keystore, account)
    url, _ = network_rest_url(network)

    async def main() -> Any:
        async with HyperliquidRestClient(url) as rest:
            rows = list(await rest.frontend_open_orders(user))
            for dex in await rest.perp_dexs():  # a builder (HIP-3) dex lists only its own orders
                rows += await rest.frontend_open_orders(user, dex.name)
            if address is None and not rows:
                await _note_agent_key(rest, user)
            return rows

    rows = _run(main())
    if as_json:
        print_json({"account": user, "orders": rows})
        return
    table = Table(title=f"open orders of {user} ({len(rows)})")
    for col in ("coin", "side", "price", "size", "orig size", "type", "oid", "cloid", "placed (UTC)"):
        table.add_column(col, justify="right" if col in ("price", "size", "orig size", "oid") else "left")
    for o in rows:
        table.add_row(
            o.coin,
            "buy" if o.side == "B" else "sell",
            f"{o.limit_px}",
            f"{o.sz}",
            f"{o.orig_sz if o.orig_sz is not None else ''}",
            o.order_type or "",
            str(o.oid),
            o.cloid or "",
            _utc(o.timestamp_ms / 1000),
        )
    out.print(table)


@app.command()
def positions(
    network: NetworkOpt = "testnet",
    address: AddressOpt = None,
    key_env: KeyEnvOpt = "HL_PRIVATE_KEY",
    keystore: KeystoreOpt = None,
    account: AccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the account's positions, margin and withdrawable balance, on the main perp dex and on every
    builder (HIP-3) dex where the account holds margin or positions (each dex's margin is its own).

    --json prints {"account", "positions": [...], "margin_summary", "cross_margin_summary", "withdrawable",
    ..., "builder_dexes": {"xyz": {same fields}, ...}}: the venue's clearinghouse state of the main dex (and
    of each builder dex that is not empty), each position with coin, szi (signed size), entry_px,
    position_value, unrealized_pnl, leverage, liquidation_px, ...; amounts are decimal strings.
    """
    from wingbeat.hyperliquid.rest import HyperliquidRestClient

    user = _account(address, key_env, keystore, account)
    url, _ = network_rest_url(network)

    async def main() -> Any:
        async with HyperliquidRestClient(url) as rest:
            main_state = await rest.clearinghouse_state(user)
            dexes = {}
            for dex in await rest.perp_dexs():
                state = await rest.clearinghouse_state(user, dex.name)
                if state.positions or state.margin_summary.account_value:
                    dexes[dex.name] = state
            if address is None and not (dexes or main_state.positions or main_state.margin_summary.account_value):
                await _note_agent_key(rest, user)
            return main_state, dexes

    state, dexes = _run(main())
    if as_json:
        print_json({"account": user, **jsonable(state), "builder_dexes": jsonable(dexes)})
        return
    every = [*state.positions, *(p for d in dexes.values() for p in d.positions)]
    table = Table(title=f"positions of {user} ({len(every)})")
    for col in ("coin", "size", "entry", "value", "unrealised PnL", "leverage", "liquidation"):
        table.add_column(col, justify="left" if col == "coin" else "right")
    for p in every:
        table.add_row(
            p.coin,
            f"{p.szi}",
            f"{p.entry_px or ''}",
            f"{p.position_value}",
            f"{p.unrealized_pnl}",
            f"{p.leverage.value}x {p.leverage.kind}",
            f"{p.liquidation_px or '-'}",
        )
    out.print(table)
    for where, each in (("", state), *dexes.items()):
        on = f" on dex {where}" if where else ""
        out.print(
            f"account value{on} {each.margin_summary.account_value} USDC · margin used "
            f"{each.margin_summary.total_margin_used} · withdrawable {each.withdrawable}"
        )


@app.command("cancel-all")
def cancel_all(
    network: NetworkOpt = "testnet",
    key_env: KeyEnvOpt = "HL_PRIVATE_KEY",
    keystore: KeystoreOpt = None,
    account: AccountOpt = None,
    mainnet: MainnetOpt = False,
    vault: Annotated[
        str | None,
        typer.Option(
            "--vault",
            help="Cancel those of this sub-account or vault instead (the key is its master's or leader's; "
            "a run's [connector] vault_address).",
        ),
    ] = None,
) -> None:
    """Cancel every open order of the account: main perp dex, spot and every builder dex (one signed batch)."""
    from wingbeat.core.errors import InvalidOrderError
    from wingbeat.engine.account_tools import cancel_all_open_orders
    from wingbeat.hyperliquid.account_actions import check_address
    from wingbeat.hyperliquid.rest import HyperliquidRestClient

    url, is_mainnet = network_rest_url(network)
    if is_mainnet and not mainnet:
        _fail("this acts on mainnet: add --mainnet", 2)
    try:
        vault = check_address(vault, "--vault") if vault is not None else None
    except InvalidOrderError as exc:
        _fail(str(exc), 2)
    signer = _signer(key_env, keystore, account)

    async def main() -> Any:
        async with HyperliquidRestClient(url) as rest:
            with err.status(f"cancelling the open orders of {vault or signer.account_address}..."):
                return await cancel_all_open_orders(rest, signer, is_mainnet=is_mainnet, vault=vault)

    report = _run(main())
    out.print(f"{report.cancelled} of {report.open_orders} open orders cancelled")
    if report.errors:
        _fail(f"{len(report.errors)} refused: {'; '.join(report.errors)}")


@app.command()
def journal(
    path: Annotated[Path, typer.Argument(help="Order journal file (the connector's journal_path).")],
    limit: Annotated[int, typer.Option(help="Show the latest N orders and fills.", min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Show what an order journal holds: orders (with their state and executed amount) and fills.

    --json prints {"orders": [{"client_order_id", "exchange_order_id", "trading_pair", "side", "order_type",
    "amount", "price", "executed_amount", "state", "reason", ...}], "fills": [{"trade_id", "client_order_id",
    "trading_pair", "price", "amount", "fee", "fee_asset", "is_taker", "timestamp", ...}]} (the latest
    --limit of each); amounts and prices are decimal strings, timestamps Unix seconds.
    """
    import sqlite3

    from wingbeat.core.errors import JournalError
    from wingbeat.core.journal import OrderJournal
    from wingbeat.engine.cli_output import executed_amounts, journal_document

    if not path.exists():
        _fail(f"order journal {path} does not exist", 2)
    j = OrderJournal(path)
    try:
        all_orders = list(j.iter_orders())
        all_fills = list(j.iter_fills())
    except JournalError as exc:
        _fail(str(exc))
    except sqlite3.Error as exc:  # the journal's reader lets query errors through as they are
        _fail(f"cannot read order journal {path}: {exc}")
    executed = executed_amounts(all_orders, all_fills)
    if as_json:
        print_json(journal_document(all_orders[-limit:], all_fills[-limit:], executed))
        return
    orders_table = Table(title=f"orders in {path} ({len(all_orders)}, latest {min(limit, len(all_orders))})")
    for col in (
        "created (UTC)",
        "client order id",
        "pair",
        "side",
        "type",
        "amount",
        "price",
        "executed",
        "state",
        "reason",
    ):
        orders_table.add_column(col, justify="right" if col in ("amount", "price", "executed") else "left")
    for o in all_orders[-limit:]:
        orders_table.add_row(
            _utc(o.creation_timestamp),
            o.client_order_id,
            o.trading_pair,
            o.trade_type.name.lower(),
            o.order_type.name,
            f"{o.amount}",
            f"{o.price}",
            f"{executed[o.client_order_id]}",
            o.current_state.name,
            o.reason or "",
        )
    out.print(orders_table)
    fills_table = Table(title=f"fills ({len(all_fills)}, latest {min(limit, len(all_fills))})")
    for col in ("time (UTC)", "trade id", "client order id", "pair", "price", "amount", "fee", "liquidity"):
        fills_table.add_column(col, justify="right" if col in ("price", "amount", "fee") else "left")
    for f in all_fills[-limit:]:
        fills_table.add_row(
            _utc(f.fill_timestamp),
            f.trade_id,
            f.client_order_id,
            f.trading_pair,
            f"{f.fill_price}",
            f"{f.fill_base_amount}",
            f"{f.fee_amount} {f.fee_asset}",
            "taker" if f.is_taker else "maker",
        )
    out.print(fills_table)


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


lend_cli_helpers(
    CliHelpers(run=_run, signer=_signer, install_stop_signals=_install_stop_signals, setup_logs=_setup_logs)
)

from wingbeat.engine.backtest_cli import register as register_backtest_commands  # noqa: E402 - after app
from wingbeat.engine.markets_cli import register as register_markets_command  # noqa: E402 - after app
from wingbeat.engine.transfer_cli import register as register_transfer_commands  # noqa: E402 - after app
from wingbeat.engine.twap_cli import register as register_twap_command  # noqa: E402 - after app

register_backtest_commands(app)
register_transfer_commands(app)
register_markets_command(app)
register_twap_command(app)


def main() -> None:
    """Entry point of the ``wingbeat`` script: usage errors are one line too (with a pointer to --help)."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # typer's parsing errors (bad option, missing argument, ...)
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:  # bare ``wingbeat``: the help
            out.print(ctx.get_help(), markup=False)
            sys.exit(0)
        hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
        print_error(f"{exc.format_message()}{hint}")
        sys.exit(exc.exit_code)
    except typer.Abort:
        print_error("aborted")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
