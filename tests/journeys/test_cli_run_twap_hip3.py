"""``wingbeat run`` of a TWAP on a HIP-3 builder-dex pair: the README's TWAP configuration with
``trading_pair = "xyz:XYZ100-USD"`` (an isolated-only perp) against ``wingbeat sim`` in its own process, the
account's collateral put on the dex ``xyz`` from the command line; the run buys its total, and the official
SDK sees exactly that position in the dex's clearinghouse and none on the main dex."""

from __future__ import annotations

import asyncio
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from hyperliquid.info import Info

from tests.journeys.conftest import account_env, new_trader, sim_process, wingbeat

PAIR = "xyz:XYZ100-USD"
TWAP = """
[engine]
tick_interval = 0.2

[strategy]
kind = "twap"
trading_pair = "xyz:XYZ100-USD"
side = "buy"
total_amount = "0.003"
duration = 3
slices = 3
price_limit = "40000"
"""


def _clearinghouses(url: str, address: str) -> dict[str, Any]:
    """The account's state on the main dex and on ``xyz``, as a user's script on the official SDK reads it."""
    info = Info(url, skip_ws=True, perp_dexs=["", "xyz"])
    return {"main": info.user_state(address), "xyz": info.user_state(address, "xyz")}


async def test_a_twap_on_a_builder_dex_pair_buys_its_total_on_wingbeat_sim(tmp_path: Path) -> None:
    account = new_trader()
    journal = tmp_path / "orders.db"
    config = tmp_path / "xyz_twap.toml"
    async with sim_process("--fund", f"{account.address}=100,xyz:USDC=1000") as sim:
        config.write_text(f'[exchange]\nnetwork = "{sim.url}"\njournal_path = "{journal}"\n{TWAP}')
        run = await wingbeat("run", str(config), "--plain", "--duration", "30", env=account_env(account),
                             cwd=tmp_path, deadline=90)
        states = await asyncio.to_thread(_clearinghouses, sim.url, account.address)
    assert run.code == 0, run
    printed = run.out + run.err
    assert f"TwapExecutor on {PAIR}" in printed, run
    assert re.search(r"TWAP executed\W+0\.003(0*)? of 0\.003", printed), run
    assert "diverged" not in printed, run  # the connector's position followed the venue's (each dex's own time)
    document = json.loads((await wingbeat("journal", str(journal), "--json")).out)
    assert document["orders"] and {o["trading_pair"] for o in document["orders"]} == {PAIR}
    assert {o["side"] for o in document["orders"]} == {"buy"}
    bought = sum((Decimal(f["amount"]) for f in document["fills"]), Decimal(0))
    assert bought == Decimal("0.003")
    positions = {p["position"]["coin"]: p["position"] for p in states["xyz"]["assetPositions"]}
    assert list(positions) == ["xyz:XYZ100"], positions
    assert Decimal(positions["xyz:XYZ100"]["szi"]) == bought  # the venue holds what the run executed
    assert positions["xyz:XYZ100"]["leverage"]["type"] == "isolated"  # the only margin xyz:XYZ100 allows
    assert states["main"]["assetPositions"] == []  # nothing on the main dex
    assert states["main"]["marginSummary"]["accountValue"] == "100.0"  # its margin untouched
