"""``wingbeat run`` as the README describes it: its TWAP configuration as given, ``--metrics-port`` scraped
while it runs, then ``journal`` and ``positions`` showing what it did; and ``wingbeat --version``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

from tests.journeys.conftest import REPO_ROOT, WINGBEAT, account_env, user_env, wingbeat

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange


def readme_twap_config() -> str:
    """The README's TWAP configuration block, exactly as a reader copies it."""
    blocks = re.findall(r"```toml\n(.*?)```", (REPO_ROOT / "README.md").read_text(), re.S)
    [block] = [b for b in blocks if 'kind = "twap"' in b]
    return block


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_version_flag_prints_the_package_version() -> None:
    from wingbeat import __version__

    run = await wingbeat("--version")
    assert run.code == 0 and run.out.strip() == __version__, run
    assert (await wingbeat("version")).out == run.out


async def test_the_readmes_twap_runs_as_given_serves_metrics_and_journals_what_it_executed(
    live_exchange: LocalExchange, funded_account: Trader, tmp_path: Path
) -> None:
    twap = readme_twap_config()
    assert "trading_pairs" not in twap  # the point: the README's file names no exchange.trading_pairs
    journal = tmp_path / "orders.db"
    config = tmp_path / "twap.toml"
    # pointed at the local exchange instead of testnet; everything else is the README's
    config.write_text(
        f'[exchange]\nnetwork = "{live_exchange.base_url}"\njournal_path = "{journal}"\n\n{twap}'
    )
    port = _free_port()
    env = user_env(account_env(funded_account))
    proc = await asyncio.create_subprocess_exec(
        *WINGBEAT,
        "run",
        str(config),
        "--metrics-port",
        str(port),
        "--duration",
        "7",  # status lines come every 5 s: one while running (after the first slice's fill), then the final one
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stderr is not None
    stderr = asyncio.ensure_future(proc.stderr.read())
    out: list[str] = []

    async def line_matching(pattern: str) -> str:
        async with asyncio.timeout(45):
            while True:
                line = (await proc.stdout.readline()).decode()  # type: ignore[union-attr]
                assert line, (
                    f"wingbeat run ended before {pattern!r}:\n{''.join(out)}\n{(await stderr).decode()}"
                )
                out.append(line)
                if re.search(pattern, line):
                    return line

    try:
        await line_matching(rf"metrics on http://127\.0\.0\.1:{port}/metrics")
        await line_matching(r"^\[\d+/7s\] ETH-USD .*\| fills [1-9]")  # a status line after the first fill
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as resp:
            assert resp.status == 200
            scraped = await resp.text()
        fills = re.search(r'^wingbeat_fills_total\{[^}]*pair="ETH-USD"[^}]*\} (\S+)$', scraped, re.M)
        assert fills and float(fills.group(1)) >= 1, scraped
        async with asyncio.timeout(60):
            rest = (await proc.stdout.read()).decode()
            code = await proc.wait()
        out.append(rest)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(stderr, 5)
    printed = "".join(out)
    assert code == 0, f"{printed}\n{(await stderr).decode()}"
    assert "TwapExecutor on ETH-USD" in printed and "duration elapsed" in printed

    document = json.loads((await wingbeat("journal", str(journal), "--json")).out)
    assert document["orders"] and document["fills"]
    keys = {"client_order_id", "trading_pair", "side", "amount", "price", "executed_amount", "state"}
    assert all(keys <= set(order) for order in document["orders"])
    filled_by: dict[str, Decimal] = {}
    for fill in document["fills"]:
        filled_by[fill["client_order_id"]] = filled_by.get(fill["client_order_id"], Decimal(0)) + Decimal(
            fill["amount"]
        )
    for order in document["orders"]:
        assert (order["trading_pair"], order["side"]) == ("ETH-USD", "buy")
        assert Decimal(order["executed_amount"]) == filled_by.get(order["client_order_id"], Decimal(0)), order
        if order["state"] == "FILLED":
            assert Decimal(order["executed_amount"]) == Decimal(order["amount"])
    executed = sum(filled_by.values(), Decimal(0))
    assert executed > 0

    table = await wingbeat("journal", str(journal))
    assert table.code == 0, table
    first = document["orders"][0]
    row = next(
        line for line in table.out.splitlines() if first["client_order_id"] in line
    )  # orders come first
    cells = [cell.strip() for cell in row.split("│")]
    amount_at = cells.index(first["amount"])  # amount, price, executed: the table's column order
    assert Decimal(cells[amount_at + 2]) == Decimal(first["executed_amount"]) > 0, row

    positions = json.loads(
        (
            await wingbeat(
                "positions", "--json", "--network", live_exchange.base_url, env=account_env(funded_account)
            )
        ).out
    )
    [eth] = [p for p in positions["positions"] if p["coin"] == "ETH"]
    assert Decimal(eth["szi"]) == executed  # what the journal says it bought is what the venue holds
