"""Spot paper trading: ``wingbeat sim`` in its own process, funded with spot tokens from the command
line, and a user's script on the official SDK trading PURR/USDC against the built-in liquidity."""

from __future__ import annotations

import json
from pathlib import Path

from tests.journeys.conftest import assert_error_line, new_trader, python, sim_process, wingbeat

# a user's script: buy PURR at market, rest a sell, cancel it, print what the venue says
SCRIPT = """
import json, sys

import eth_account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

url, key = sys.argv[1], sys.argv[2]
wallet = eth_account.Account.from_key(key)
exchange = Exchange(wallet, url)
info = Info(url, skip_ws=True)
out = {"before": info.spot_user_state(wallet.address)["balances"]}
out["buy"] = exchange.market_open("PURR/USDC", True, 200)["response"]["data"]["statuses"][0]
mid = float(info.all_mids()["PURR/USDC"])
sell = exchange.order("PURR/USDC", False, 100, round(mid * 1.5, 5), {"limit": {"tif": "Gtc"}})
out["sell"] = sell["response"]["data"]["statuses"][0]
out["while_resting"] = info.spot_user_state(wallet.address)["balances"]
out["cancel"] = exchange.cancel("PURR/USDC", out["sell"]["resting"]["oid"])["response"]["data"]["statuses"]
out["after"] = info.spot_user_state(wallet.address)["balances"]
out["fills"] = info.user_fills(wallet.address)
out["too_big"] = exchange.order("PURR/USDC", True, 10**7, round(mid, 5), {"limit": {"tif": "Gtc"}})
print(json.dumps(out))
"""


def _by_coin(balances: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {b["coin"]: b for b in balances}


async def test_a_script_on_the_official_sdk_trades_purr_on_a_spot_funded_sim(tmp_path: Path) -> None:
    account = new_trader()
    script = tmp_path / "spot_trade.py"
    script.write_text(SCRIPT)
    async with sim_process("--fund", f"{account.address}=100,USDC=500,PURR=1000") as sim:
        run = await python(str(script), sim.url, account.key, cwd=tmp_path, deadline=60)
    assert run.code == 0, run
    assert sim.exit_code == 0, "".join(sim.err)
    out = json.loads(run.out.strip().splitlines()[-1])
    before = _by_coin(out["before"])
    assert (before["USDC"]["total"], before["PURR"]["total"]) == ("500.0", "1000.0")
    assert out["buy"]["filled"]["totalSz"] == "200.0"
    assert "resting" in out["sell"]
    resting = _by_coin(out["while_resting"])
    assert resting["PURR"]["hold"] == "100.0"
    assert out["cancel"] == ["success"]
    after = _by_coin(out["after"])
    assert after["PURR"]["hold"] == "0.0"
    assert after["PURR"]["total"] == "1199.86"  # 200 bought less the 0.07% taker fee, paid in PURR
    assert float(after["USDC"]["total"]) < 500
    [fill, *_] = out["fills"]
    assert (fill["coin"], fill["dir"], fill["feeToken"]) == ("PURR/USDC", "Buy", "PURR")
    too_big = out["too_big"]["response"]["data"]["statuses"][0]
    assert too_big == {"error": "Insufficient spot balance asset=10000"}


async def test_an_unknown_spot_token_in_fund_is_one_error_line() -> None:
    account = new_trader()
    run = await wingbeat("sim", "--port", "0", "--fund", f"{account.address}=100,NOPE=5", deadline=60)
    assert_error_line(run, 1, "unknown spot token 'NOPE'")
    run = await wingbeat("sim", "--port", "0", "--fund", f"{account.address},PURR", deadline=30)
    assert_error_line(run, 2, "is not TOKEN=AMOUNT")
