"""README "Paper trading": ``wingbeat sim --fund ADDRESS=...`` in one terminal, ``wingbeat run`` with the
README's configuration pointed at it in another; Ctrl-C / the duration leaves no order behind."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp

from tests.journeys.conftest import REPO_ROOT, account_env, new_trader, sim_process, wingbeat

README = REPO_ROOT / "README.md"


def readme_market_maker_config(network: str, journal: Path) -> str:
    """The README's first TOML block (the market maker), with its network and journal replaced."""
    [config, *_] = re.findall(r"^```toml\n(.*?)^```", README.read_text(), re.S | re.M)
    assert 'kind = "market_maker"' in config
    for old, new in (
        ('network = "testnet"', f'network = "{network}"'),
        ('journal_path = "orders.db"', f'journal_path = "{journal}"'),
    ):
        assert old in config, old
        config = config.replace(old, new)
    return config


async def _info(url: str, body: dict[str, Any]) -> Any:
    async with aiohttp.ClientSession() as session, session.post(f"{url}/info", json=body) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def test_the_readme_config_paper_trades_on_wingbeat_sim(tmp_path: Path) -> None:
    account = new_trader()
    async with sim_process("--fund", f"{account.address}=100000") as sim:
        config = tmp_path / "mm.toml"
        config.write_text(readme_market_maker_config(sim.url, tmp_path / "orders.db"))
        run = await wingbeat("run", str(config), "--duration", "3", env=account_env(account), deadline=60)
        assert run.code == 0, run
        placed = re.search(r"orders placed\D+(\d+)", run.out)
        assert placed and int(placed.group(1)) >= 2, run  # a bid and an ask at least
        assert await _info(sim.url, {"type": "frontendOpenOrders", "user": account.address}) == []
        history = await _info(sim.url, {"type": "historicalOrders", "user": account.address})
        # every order the run placed reached the venue and was closed by the end of the run
        assert len(history) >= int(placed.group(1)), history
        assert {h["status"] for h in history} <= {"canceled", "filled"}, history
    assert sim.exit_code == 0
