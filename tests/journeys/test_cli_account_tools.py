"""A trader checks an account from a shell: ``orders`` piped into grep, ``--json`` for scripts, errors.

Every command runs as a subprocess in a fresh-shell environment (no COLUMNS: piped output as a script
sees it) against a local exchange over real sockets.
"""

from __future__ import annotations

import json
import shlex
import socket
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import limit_order_action, signed_body
from tests.engine.venue import make_book, place, post
from tests.journeys.conftest import WINGBEAT, account_env, assert_error_line, run_process, wingbeat

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange

CLOID = "0x" + "0123456789abcdef" * 2


async def _rest_with_cloid(ex: LocalExchange, who: Trader, cloid: str, price: str) -> None:
    reply = await post(ex, "/exchange", signed_body(who.key, limit_order_action(0, price=price, cloid=cloid)))
    assert reply["status"] == "ok" and "resting" in reply["response"]["data"]["statuses"][0], reply


async def test_orders_piped_into_grep_finds_the_whole_cloid(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    await _rest_with_cloid(local_exchange, trader, CLOID, "59000")
    command = (
        f"{shlex.join(WINGBEAT)} orders --network {local_exchange.base_url} --address {trader.address}"
        f" | grep {CLOID}"
    )
    run = await run_process("sh", "-c", command)
    assert run.code == 0, run  # grep found the full 34-character id on one line
    [line] = run.out.splitlines()
    assert "59000" in line and "buy" in line


async def test_orders_json_lists_the_open_orders_with_exact_strings(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    await _rest_with_cloid(local_exchange, trader, CLOID, "59001")
    await place(local_exchange, trader, is_buy=False, price="61000", size="0.003")
    run = await wingbeat("orders", "--json", env=account_env(trader, local_exchange.base_url))
    assert run.code == 0, run
    document = json.loads(run.out)
    assert document["account"] == trader.address
    # strings: exact decimals, never floats
    assert all(isinstance(o["limit_px"], str) and isinstance(o["sz"], str) for o in document["orders"])
    by_price = {Decimal(o["limit_px"]): o for o in document["orders"]}
    assert set(by_price) == {Decimal(59001), Decimal(61000)}
    bid = by_price[Decimal(59001)]
    assert (bid["coin"], bid["side"], Decimal(bid["sz"]), bid["cloid"]) == (
        "BTC",
        "B",
        Decimal("0.001"),
        CLOID,
    )
    assert isinstance(bid["oid"], int) and isinstance(bid["timestamp_ms"], int)


async def test_positions_json_shows_the_position_and_margin(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    await make_book(local_exchange)
    # long 0.01 at 60010
    await place(local_exchange, trader, is_buy=True, price="60010", size="0.01", tif="Ioc")
    run = await wingbeat("positions", "--json", "--network", local_exchange.base_url, env=account_env(trader))
    assert run.code == 0, run
    document = json.loads(run.out)
    [position] = document["positions"]
    assert (position["coin"], Decimal(position["szi"]), Decimal(position["entry_px"])) == (
        "BTC",
        Decimal("0.01"),
        Decimal("60010"),
    )
    assert Decimal(document["margin_summary"]["account_value"]) > 0
    assert isinstance(document["withdrawable"], str)


async def test_errors_are_one_unwrapped_line_on_stderr(
    local_exchange: LocalExchange, trader: Trader, tmp_path: Path
) -> None:
    bad_key = tmp_path / "bad.toml"
    bad_key.write_text('[exchange]\nnetwrk = "testnet"\n[strategy]\nkind = "twap"\n')
    run = await wingbeat("run", str(bad_key))
    assert_error_line(run, 2, "unknown key exchange.netwrk")
    assert len(run.err_lines[0]) > 80  # long, and still not folded

    with socket.socket() as s:  # a port nobody listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = await wingbeat("orders", "--network", f"http://127.0.0.1:{port}", "--address", trader.address)
    assert_error_line(run, 1, "error:")

    run = await wingbeat("positions", "--network", local_exchange.base_url, env={"HL_PRIVATE_KEY": "0x1234"})
    assert_error_line(run, 2, "environment variable HL_PRIVATE_KEY: private key must be 32 bytes")

    run = await wingbeat("orders", "--network", local_exchange.base_url, "--adress", trader.address)
    assert_error_line(run, 2, "No such option: --adress")
