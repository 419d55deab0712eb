"""Durable paper trading: ``wingbeat sim --state FILE`` keeps the venue across a SIGKILL and a restart.

The official SDK trades on a ``wingbeat sim`` process (built-in liquidity on); the process is killed
with SIGKILL right after an acknowledged action and restarted on the same file (later through
``[sim] state`` of a configuration file); ``/info`` must show the same open orders (oids, cloids),
fills, positions and deposits, and the last nonce must be refused again.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.utils.types import Cloid

from tests.conftest import Trader, limit_order_action, new_trader, signed_body
from tests.journeys.conftest import assert_error_line, sim_process, wingbeat

_CLOID = "0x" + "5e" * 16


async def _post(url: str, body: Any) -> Any:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        http.post(url, data=orjson.dumps(body), headers={"Content-Type": "application/json"}) as resp,
    ):
        assert resp.status == 200, await resp.text()
        return orjson.loads(await resp.read())


async def _account_view(url: str, user: str) -> dict[str, Any]:
    """What must survive: open orders, fills, positions (size, entry), deposits."""
    orders = await _post(url + "/info", {"type": "frontendOpenOrders", "user": user})
    fills = await _post(url + "/info", {"type": "userFills", "user": user})
    state = await _post(url + "/info", {"type": "clearinghouseState", "user": user})
    ledger = await _post(url + "/info", {"type": "userNonFundingLedgerUpdates", "user": user, "startTime": 0})
    positions = [
        (p["position"]["coin"], p["position"]["szi"], p["position"]["entryPx"])
        for p in state["assetPositions"]
    ]
    return {
        "orders": [(o["oid"], o.get("cloid"), o["limitPx"], o["sz"]) for o in orders],
        "fills": fills,
        "positions": positions,
        "ledger": ledger,
    }


def _trade_with_the_sdk(url: str, trader: Trader) -> None:
    sdk = Exchange(Account.from_key(trader.key), url)
    rest = sdk.order("BTC", True, 0.01, 50_000, {"limit": {"tif": "Gtc"}}, cloid=Cloid.from_str(_CLOID))
    assert "resting" in rest["response"]["data"]["statuses"][0], rest
    opened = sdk.market_open("ETH", True, 0.1)
    assert "filled" in opened["response"]["data"]["statuses"][0], opened


async def test_the_state_file_survives_a_sigkill_and_a_graceful_restart(tmp_path: Path) -> None:
    trader = new_trader()
    state = str(tmp_path / "paper.sqlite")
    async with sim_process("--state", state, "--fund", f"{trader.address}=20000") as sim:
        await asyncio.to_thread(_trade_with_the_sdk, sim.url, trader)
        last = signed_body(trader.key, limit_order_action(price="40000", size="0.002"))
        placed = await _post(sim.url + "/exchange", last)
        last_oid = placed["response"]["data"]["statuses"][0]["resting"]["oid"]
        before = await _account_view(sim.url, trader.address)
        os.kill(sim.proc.pid, signal.SIGKILL)  # right after the acknowledged order
        await sim.proc.wait()
    assert sim.exit_code == -signal.SIGKILL
    assert last_oid in [oid for oid, *_ in before["orders"]] and len(before["fills"]) >= 1

    async with sim_process("--state", state) as restarted:  # no --fund: the account is in the file
        restored = re.search(r"restored, (\d+) logged inputs replayed", "".join(restarted.out))
        assert restored is not None and int(restored.group(1)) > 0  # the actions came from the log
        assert await _account_view(restarted.url, trader.address) == before
        replayed = await _post(restarted.url + "/exchange", last)
        assert replayed == {"status": "err", "response": f"Invalid nonce: duplicate nonce {last['nonce']}"}
        # a new action after the restart is applied and survives the next (graceful) stop
        newer = await _post(
            restarted.url + "/exchange",
            signed_body(trader.key, limit_order_action(price="41000", size="0.002")),
        )
        newer_oid = newer["response"]["data"]["statuses"][0]["resting"]["oid"]
        assert newer_oid not in [oid for oid, *_ in before["orders"]]  # ids continue, never reused
        after_restart = await _account_view(restarted.url, trader.address)
    assert restarted.exit_code == 0, "".join(restarted.err)

    config = tmp_path / "sim.toml"
    config.write_text('[sim]\nstate = "paper.sqlite"\n')  # relative to the configuration file
    async with sim_process("--config", str(config)) as third:  # [sim] state is the default --state
        assert f"state file: {state} (restored" in "".join(third.out)
        # a second process on the same file is refused, and the running one keeps it
        second = await wingbeat("sim", "--port", "0", "--state", state)
        assert_error_line(second, 1, "is another wingbeat sim using it")
        assert await _account_view(third.url, trader.address) == after_restart
    assert third.exit_code == 0
