"""HIP-3 paper trading: ``wingbeat sim --fund ADDRESS=USDC,xyz:USDC=AMOUNT`` puts collateral on the
builder dex ``xyz`` from the command line, and a user's script on the official SDK sees it in the
dex's clearinghouse and trades ``xyz:XYZ100`` with it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.journeys.conftest import assert_error_line, new_trader, python, sim_process, wingbeat

# a user's script: both clearinghouses, then a resting buy on the builder dex and its cancel
SCRIPT = """
import json, sys

import eth_account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

url, key = sys.argv[1], sys.argv[2]
wallet = eth_account.Account.from_key(key)
dexes = ["", "xyz"]
exchange = Exchange(wallet, url, perp_dexs=dexes)
info = Info(url, skip_ws=True, perp_dexs=dexes)
out = {
    "main": info.user_state(wallet.address)["marginSummary"],
    "xyz": info.user_state(wallet.address, "xyz")["marginSummary"],
}
mid = float(info.all_mids("xyz")["xyz:XYZ100"])
buy = exchange.order("xyz:XYZ100", True, 0.01, round(mid * 0.9), {"limit": {"tif": "Gtc"}})
out["buy"] = buy["response"]["data"]["statuses"][0]
out["cancel"] = exchange.cancel("xyz:XYZ100", out["buy"]["resting"]["oid"])["response"]["data"]["statuses"]
print(json.dumps(out))
"""


async def test_fund_puts_collateral_on_a_builder_dex_for_a_script_on_the_official_sdk(
    tmp_path: Path,
) -> None:
    account = new_trader()
    script = tmp_path / "dex_trade.py"
    script.write_text(SCRIPT)
    async with sim_process("--fund", f"{account.address}=100,PURR=5,xyz:USDC=500") as sim:
        run = await python(str(script), sim.url, account.key, cwd=tmp_path, deadline=60)
    assert run.code == 0, run
    assert sim.exit_code == 0, "".join(sim.err)
    out = json.loads(run.out.strip().splitlines()[-1])
    assert out["main"]["accountValue"] == "100.0"  # the dex's collateral is not taken from perp USDC
    assert out["xyz"]["accountValue"] == "500.0"
    assert "resting" in out["buy"], out["buy"]
    assert out["cancel"] == ["success"]


async def test_builder_dex_funding_mistakes_are_one_error_line() -> None:
    account = new_trader()
    run = await wingbeat("sim", "--port", "0", "--fund", f"{account.address},nope:USDC=5", deadline=60)
    assert_error_line(run, 1, "unknown builder dex 'nope'")
    run = await wingbeat("sim", "--port", "0", "--fund", f"{account.address},xyz:PURR=5", deadline=60)
    assert_error_line(run, 1, "the collateral of builder dex 'xyz' is USDC")
    run = await wingbeat("sim", "--port", "0", "--fund", f"{account.address},xyz:=5", deadline=30)
    assert_error_line(run, 2, "is not TOKEN=AMOUNT or DEX:TOKEN=AMOUNT")
