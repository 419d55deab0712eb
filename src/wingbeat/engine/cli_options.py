"""What the ``wingbeat`` command modules share: the account options (network, key, keystore, agent account,
``--json``, ``--mainnet``), defined once so every command spells and documents them the same way; the app's
helpers (`CliHelpers`), lent by ``wingbeat.engine.cli`` so a command module never imports it back; and the
usage-error exit (`fail_usage`, `network_rest_url`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from wingbeat.engine.cli_output import print_error

if TYPE_CHECKING:
    from wingbeat.hyperliquid.signer import Signer

__all__ = [
    "AccountOpt",
    "CliHelpers",
    "JsonOpt",
    "KeyEnvOpt",
    "KeystoreOpt",
    "MainnetOpt",
    "NetworkOpt",
    "cli_helpers",
    "fail_usage",
    "lend_cli_helpers",
    "network_rest_url",
]

NetworkOpt = Annotated[
    str,
    typer.Option(
        "--network",
        "-n",
        envvar="WINGBEAT_NETWORK",
        help='"testnet", "mainnet" or a URL such as http://127.0.0.1:8080.',
    ),
]
KeyEnvOpt = Annotated[str, typer.Option("--key-env", help="Environment variable holding the private key.")]
KeystoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--keystore",
        help="Encrypted Ethereum keystore file (password from WINGBEAT_KEYSTORE_PASSWORD or a prompt).",
    ),
]
AccountOpt = Annotated[
    str | None, typer.Option("--account", help="Main account address when the key is an API (agent) wallet.")
]
JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json",
        help="One JSON document on stdout instead of tables (prices and sizes as exact decimal strings).",
    ),
]
MainnetOpt = Annotated[bool, typer.Option("--mainnet", help="Allow acting on mainnet.")]


@dataclass(frozen=True, slots=True, kw_only=True)
class CliHelpers:
    """The ``wingbeat`` app's helpers a command module uses: ``run`` runs a coroutine with the CLI's one-line
    errors and exit codes, ``signer`` loads the account's key from (key env, keystore, account) or exits 2,
    ``install_stop_signals`` makes Ctrl-C and SIGTERM set an event, ``setup_logs`` sets (level, JSON lines)."""

    run: Callable[[Coroutine[Any, Any, Any]], Any]
    signer: Callable[[str, Path | None, str | None], Signer]
    install_stop_signals: Callable[[asyncio.Event], None]
    setup_logs: Callable[[str, bool], None]


_lent: list[CliHelpers] = []


def lend_cli_helpers(helpers: CliHelpers) -> None:
    """Hand the app's helpers to the command modules (``wingbeat.engine.cli`` does, before registering them)."""
    _lent[:] = [helpers]


def cli_helpers() -> CliHelpers:
    """The helpers the app lent; ``RuntimeError`` when a command runs before ``wingbeat.engine.cli`` lent them."""
    if not _lent:
        raise RuntimeError("a wingbeat command ran before wingbeat.engine.cli lent its helpers")
    return _lent[0]


def fail_usage(message: str) -> NoReturn:
    """Print ``message`` as the one error line and exit 2 (a usage error: nothing was sent)."""
    print_error(message)
    raise typer.Exit(2)


def network_rest_url(network: str) -> tuple[str, bool]:
    """The REST URL of ``--network`` and whether it is mainnet; a malformed value is a usage error (exit 2)."""
    from wingbeat.hyperliquid.constants import resolve_network

    try:
        rest_url, _ws, is_mainnet = resolve_network(network)
    except ValueError as exc:
        fail_usage(str(exc))
    return rest_url, is_mainnet
