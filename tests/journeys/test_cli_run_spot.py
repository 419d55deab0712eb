"""``wingbeat run`` on a spot pair: a TWAP buying PURR-USDC on ``wingbeat sim`` (its own process, funded with
spot tokens on the command line, built-in liquidity), the journal showing what it did and the venue holding
the PURR bought, less the fee it took in PURR; a spot configuration asking for reduce-only orders is one error
line."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import aiohttp

from tests.journeys.conftest import (
    REPO_ROOT,
    account_env,
    assert_error_line,
    new_trader,
    sim_process,
    wingbeat,
)

TWAP = """
[engine]
tick_interval = 0.2

[strategy]
kind = "twap"
trading_pair = "PURR-USDC"
side = "buy"
total_amount = "300"
duration = 3
slices = 3
price_limit = "0.3"
"""


async def _spot_balances(url: str, address: str) -> dict[str, Decimal]:
    body = {"type": "spotClearinghouseState", "user": address}
    async with aiohttp.ClientSession() as http, http.post(f"{url}/info", json=body) as resp:
        state = await resp.json()
    return {b["coin"]: Decimal(b["total"]) for b in state["balances"]}


async def test_a_twap_on_a_spot_pair_buys_its_tokens_on_wingbeat_sim(tmp_path: Path) -> None:
    account = new_trader()
    journal = tmp_path / "orders.db"
    config = tmp_path / "spot_twap.toml"
    async with sim_process("--fund", f"{account.address}=100,USDC=1000,PURR=2000") as sim:
        config.write_text(f'[exchange]\nnetwork = "{sim.url}"\njournal_path = "{journal}"\n{TWAP}')
        run = await wingbeat("run", str(config), "--plain", "--duration", "30", env=account_env(account),
                             cwd=tmp_path, deadline=90)
        balances = await _spot_balances(sim.url, account.address)
    assert run.code == 0, run
    printed = run.out + run.err
    assert "TwapExecutor on PURR-USDC" in printed and re.search(r"TWAP executed\W+300(\.0*)? of 300", printed), run
    document = json.loads((await wingbeat("journal", str(journal), "--json")).out)
    assert document["orders"] and {o["trading_pair"] for o in document["orders"]} == {"PURR-USDC"}
    fills = document["fills"]
    bought = sum((Decimal(f["amount"]) for f in fills), Decimal(0))
    assert bought == 300
    fees = sum((Decimal(f["fee"]) for f in fills), Decimal(0))
    assert {f["fee_asset"] for f in fills} == {"PURR"} and fees > 0
    assert balances["PURR"] == Decimal(2000) + bought - fees  # the fee is taken in the token received
    assert balances["USDC"] < 1000


async def test_reduce_only_orders_on_a_spot_pair_are_one_config_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(TWAP + 'position_action = "close"\n')
    run = await wingbeat("run", str(config), env=account_env(new_trader()), cwd=tmp_path)
    assert_error_line(run, 2, 'position_action "close" is for perpetuals')


def readme_spot_config() -> str:
    """The README's spot market maker configuration, exactly as a reader copies it."""
    blocks = re.findall(r"```toml\n(.*?)```", (REPO_ROOT / "README.md").read_text(), re.S)
    [block] = [b for b in blocks if 'trading_pair = "PURR-USDC"' in b]
    return block


async def test_the_readmes_spot_market_maker_quotes_purr_on_wingbeat_sim(tmp_path: Path) -> None:
    account = new_trader()
    block = readme_spot_config()
    assert 'network = "testnet"' in block and 'journal_path = "spot-orders.db"' in block
    async with sim_process("--fund", f"{account.address}=100,USDC=1000,PURR=2000") as sim:
        config = tmp_path / "spot-mm.toml"
        config.write_text(block.replace('network = "testnet"', f'network = "{sim.url}"'))  # the rest as given
        run = await wingbeat("run", str(config), "--plain", "--duration", "6", env=account_env(account),
                             cwd=tmp_path, deadline=90)
        left_open = await _open_orders(sim.url, account.address)
    assert run.code == 0, run
    assert "MarketMakerStrategy on PURR-USDC" in run.out + run.err, run
    document = json.loads((await wingbeat("journal", str(tmp_path / "spot-orders.db"), "--json")).out)
    sides = {(o["trading_pair"], o["side"]) for o in document["orders"]}
    assert sides == {("PURR-USDC", "buy"), ("PURR-USDC", "sell")}, document["orders"]  # both sides quoted
    assert left_open == []  # stopping cancelled its quotes


async def _open_orders(url: str, address: str) -> list[object]:
    async with aiohttp.ClientSession() as http, http.post(
        f"{url}/info", json={"type": "openOrders", "user": address}
    ) as resp:
        orders: list[object] = await resp.json()
    return orders


async def test_a_spot_run_on_perp_usdc_only_says_to_transfer_it_to_spot_first(tmp_path: Path) -> None:
    account = new_trader()
    block = readme_spot_config()
    hint = "move some to spot with `wingbeat transfer AMOUNT --to spot`"
    async with sim_process("--fund", f"{account.address}=5000") as sim:  # a deposit: perp USDC only
        config = tmp_path / "spot-mm.toml"
        config.write_text(block.replace('network = "testnet"', f'network = "{sim.url}"'))
        env = account_env(account)
        before = await wingbeat("run", str(config), "--plain", "--duration", "2", env=env, cwd=tmp_path, deadline=90)
        moved = await wingbeat("transfer", "500", "--to", "spot", "--network", sim.url, env=env, deadline=60)
        after = await wingbeat("run", str(config), "--plain", "--duration", "2", env=env, cwd=tmp_path, deadline=90)
    assert before.code == 0, before
    assert "holds no USDC or PURR, so every PURR-USDC order will be refused" in before.out + before.err, before
    assert hint in before.out + before.err, before
    assert moved.code == 0, moved
    assert after.code == 0, after
    assert hint not in after.out + after.err, after
