"""A trader runs the market maker on a HIP-3 builder-dex pair with ``wingbeat run``: the README's market maker
configuration with ``trading_pair = "xyz:XYZ100-USD"``, against the local exchange (its makers quote the dex),
for a few seconds; the journal shows the quotes on that pair and nothing is left resting on the dex."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.journeys.conftest import account_env, wingbeat
from wingbeat.hyperliquid.rest import HyperliquidRestClient

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange

CONFIG = """[exchange]
network = "{url}"
journal_path = "{journal}"

[strategy]
kind = "market_maker"
trading_pair = "xyz:XYZ100-USD"
order_amount = "0.001"
bid_spread = "0.0005"
ask_spread = "0.0005"
order_refresh_time = 10.0
"""


async def _info(url: str, body: dict[str, Any]) -> Any:
    async with HyperliquidRestClient(url, timeout=5.0) as rest:
        return await rest.info(body)


async def test_wingbeat_run_quotes_a_builder_dex_pair(
    live_exchange: LocalExchange, funded_account: Trader, tmp_path: Path
) -> None:
    await live_exchange.fund(funded_account.address, 1, dexes={"xyz": 10_000})  # the dex's own margin
    journal = tmp_path / "orders.db"
    config = tmp_path / "mm.toml"
    config.write_text(CONFIG.format(url=live_exchange.base_url, journal=journal))
    run = await wingbeat("run", str(config), "--duration", "3", "--plain", env=account_env(funded_account))
    assert run.code == 0, run

    shown = await wingbeat("journal", str(journal), "--json")
    assert shown.code == 0, shown
    orders = json.loads(shown.out)["orders"]
    assert orders and {o["trading_pair"] for o in orders} == {"xyz:XYZ100-USD"}, shown
    assert {o["side"] for o in orders} == {"buy", "sell"}
    assert {o["state"] for o in orders} <= {"CANCELED", "FILLED"}, shown
    on_dex = {"type": "openOrders", "user": funded_account.address, "dex": "xyz"}
    assert await _info(live_exchange.base_url, on_dex) == []  # stopping cancelled the quotes
