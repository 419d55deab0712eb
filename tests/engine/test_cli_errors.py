"""User errors are one short line and a non-zero status, never a traceback."""

import socket
from pathlib import Path

from tests.engine.cli_helpers import assert_user_error, run_cli

ADDRESS = "0x" + "ab" * 20


def test_help_lists_every_command() -> None:
    result = run_cli("--help")
    assert result.code == 0
    for command in ("demo", "run", "sim", "orders", "positions", "cancel-all", "journal"):
        assert command in result.out


def test_version() -> None:
    result = run_cli("version")
    assert result.code == 0 and result.out.strip().count(".") == 2


def test_run_with_missing_config_file(tmp_path: Path) -> None:
    assert_user_error(run_cli("run", str(tmp_path / "missing.toml")), 2, "configuration file not found")


def test_run_with_invalid_config_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[strategy]\nkind = "market_maker"\ntrading_pair = "BTC-USD"\n')
    assert_user_error(run_cli("run", str(path)), 2, "strategy.order_amount is required")


def test_run_refuses_mainnet_without_the_flag(tmp_path: Path) -> None:
    path = tmp_path / "main.toml"
    path.write_text('[exchange]\nnetwork = "mainnet"\n[strategy]\nkind = "market_maker"\n'
                    'trading_pair = "BTC-USD"\norder_amount = "0.001"\n')
    assert_user_error(run_cli("run", str(path), env={"HL_PRIVATE_KEY": "11" * 32}), 2, "--mainnet")


def test_run_without_key_says_which_variable(tmp_path: Path) -> None:
    path = tmp_path / "mm.toml"
    path.write_text('[exchange]\nnetwork = "testnet"\n[strategy]\nkind = "market_maker"\n'
                    'trading_pair = "BTC-USD"\norder_amount = "0.001"\n')
    assert_user_error(run_cli("run", str(path)), 2, "HL_PRIVATE_KEY")


def test_malformed_key_never_echoes_the_key(tmp_path: Path) -> None:
    secret = "zz" + "12" * 31
    result = run_cli("cancel-all", "--network", "http://127.0.0.1:9", env={"HL_PRIVATE_KEY": secret})
    assert_user_error(result, 2, "HL_PRIVATE_KEY")
    assert secret not in result.err + result.out


def test_bad_network_and_address_are_usage_errors() -> None:
    assert_user_error(run_cli("orders", "--network", "ftp://x", "--address", ADDRESS), 2, "network")
    assert_user_error(run_cli("positions", "--address", "0x12"), 2, "--address")


def test_unreachable_exchange_is_a_one_line_error() -> None:
    with socket.socket() as s:  # a port nobody listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_cli("orders", "--network", f"http://127.0.0.1:{port}", "--address", ADDRESS)
    assert_user_error(result, 1, "error:")


def test_journal_that_does_not_exist(tmp_path: Path) -> None:
    assert_user_error(run_cli("journal", str(tmp_path / "none.db")), 2, "does not exist")


def test_sim_rejects_a_bad_fund_argument() -> None:
    assert_user_error(run_cli("sim", "--port", "0", "--fund", "0x123=5"), 2, "--fund")
