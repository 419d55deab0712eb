"""A key pasted in the wrong place (``--network``, ``--key-env``, ``key_env``, ``network``) is refused,
and the error says what was wrong without repeating it; a loose keystore is warned about."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from eth_account import Account

from tests.conftest import new_trader
from tests.journeys.conftest import assert_error_line, wingbeat

ADDRESS = "0x" + "ab" * 20


def _assert_not_echoed(out: str, key: str) -> None:
    text = out.lower()
    assert key.lower() not in text and key[2:].lower() not in text
    assert key[2:22].lower() not in text  # not even a truncated echo


async def test_a_key_given_as_the_network_is_not_echoed() -> None:
    key = new_trader().key
    for args in (["orders", "--network", key, "--address", ADDRESS], ["positions", "--network", key[2:]]):
        run = await wingbeat(*args, env={"HL_PRIVATE_KEY": new_trader().key})
        assert_error_line(run, 2, "looks like a private key (not shown)")
        _assert_not_echoed(run.out + run.err, key)


async def test_a_key_given_as_the_key_variable_is_not_echoed(tmp_path: Path) -> None:
    key = new_trader().key
    run = await wingbeat("orders", "--network", "http://127.0.0.1:9", "--key-env", key)
    assert_error_line(run, 2, "must be given by NAME")
    _assert_not_echoed(run.out + run.err, key)

    for line in (f'key_env = "{key}"', f'key_env = "{key[2:]}"', f'network = "{key}"'):
        config = tmp_path / "mm.toml"
        config.write_text(
            f'[exchange]\n{line}\n[strategy]\nkind = "market_maker"\ntrading_pair = "BTC-USD"\n'
            'order_amount = "0.001"\n'
        )
        run = await wingbeat("run", str(config))
        assert_error_line(run, 2, "exchange.")
        assert "key" in run.err_lines[0] and "not shown" in run.err_lines[0]
        _assert_not_echoed(run.out + run.err, key)


@pytest.mark.skipif(os.name != "posix", reason="mode bits are POSIX")
async def test_a_keystore_others_can_read_is_warned_about_even_without_verbose(tmp_path: Path) -> None:
    account = new_trader()
    keystore = tmp_path / "wallet.json"
    keystore.write_text(json.dumps(Account.encrypt(bytes.fromhex(account.key[2:]), "pw", iterations=2)))
    keystore.chmod(0o644)
    run = await wingbeat(
        "orders",
        "--network",
        "http://127.0.0.1:9",
        "--keystore",
        str(keystore),
        env={"WINGBEAT_KEYSTORE_PASSWORD": "pw"},
    )
    warning = [line for line in run.err_lines if "chmod 600" in line]
    assert warning and str(keystore) in warning[0], run
    _assert_not_echoed(run.out + run.err, account.key)


async def test_a_key_given_to_sim_fund_is_not_echoed() -> None:
    key = new_trader().key
    run = await wingbeat("sim", "--port", "0", "--fund", key)
    assert_error_line(run, 2, "--fund a value that looks like a private key (not shown)")
    _assert_not_echoed(run.out + run.err, key)
