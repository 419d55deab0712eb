"""The options the ``wingbeat`` account commands share (network, key, keystore, agent account, ``--json``,
``--mainnet``), defined once so every command module spells and documents them the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["AccountOpt", "JsonOpt", "KeyEnvOpt", "KeystoreOpt", "MainnetOpt", "NetworkOpt"]

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
