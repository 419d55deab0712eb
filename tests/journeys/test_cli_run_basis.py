"""``wingbeat run`` with the README's basis configuration: a spot and a perp connector on one account, the
strategy enters while the local exchange's HYPE funding pays shorts, and the run ends with both legs on and
balanced, as the venue reports them."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from tests.engine.venue import post
from tests.journeys.conftest import REPO_ROOT, account_env, wingbeat

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange


def readme_basis_config() -> str:
    """The README's basis configuration block, exactly as a reader copies it."""
    blocks = re.findall(r"```toml\n(.*?)```", (REPO_ROOT / "README.md").read_text(), re.S)
    [block] = [b for b in blocks if 'kind = "basis"' in b]
    return block


async def test_the_readmes_basis_enters_while_funding_pays_and_stops_hedged(
    live_exchange: LocalExchange, funded_account: Trader, tmp_path: Path
) -> None:
    ex = live_exchange
    await ex.fund(funded_account.address, 0, spot={"USDC": 2000})
    await ex.pay_funding("HYPE", "0.0001")  # 87.6 %/yr paid to shorts: above the README's 20 % entry
    config = tmp_path / "basis.toml"
    config.write_text(f'[exchange]\nnetwork = "{ex.base_url}"\n\n{readme_basis_config()}')
    run = await wingbeat("run", str(config), "--duration", "8", env=account_env(funded_account), cwd=tmp_path,
                         deadline=90)
    assert run.code == 0, run
    assert "BasisStrategy" in run.out and "duration elapsed" in run.out, run
    rows = dict(re.findall(r"^\W*(basis [a-z /]+?)\s*│\s*(.+?)\s*│$", run.out, re.M))  # summary table
    assert rows.get("basis phase") == "stopped" and rows.get("basis entries / exits") == "1 / 0", run
    placed = re.search(r"^\W*orders placed\s*│\s*(\d+)\s*│$", run.out, re.M)
    assert placed and placed.group(1) == "2", run  # one spot buy, one perp short: no churn after the hedge
    short = Decimal(rows["basis perp short"].split()[0])
    held = Decimal(rows["basis spot held"].split()[0])
    assert Decimal(24) <= short <= Decimal(26) and Decimal(0) <= held - short < Decimal("0.01"), run

    spot = await post(ex, "/info", {"type": "spotClearinghouseState", "user": funded_account.address})
    perp = await post(ex, "/info", {"type": "clearinghouseState", "user": funded_account.address})
    assert {b["coin"]: Decimal(b["total"]) for b in spot["balances"]}["HYPE"] == held
    positions = {p["position"]["coin"]: Decimal(p["position"]["szi"]) for p in perp["assetPositions"]}
    assert positions == {"HYPE": -short}  # stopped hedged: the legs stay on, balanced
    assert (tmp_path / "orders.db").exists() and (tmp_path / "orders-spot.db").exists()  # one journal each


async def test_the_readmes_basis_says_why_it_waits_while_funding_is_too_low(
    live_exchange: LocalExchange, funded_account: Trader, tmp_path: Path
) -> None:
    ex = live_exchange
    await ex.fund(funded_account.address, 0, spot={"USDC": 2000})
    await ex.pay_funding("HYPE", "0.00001")  # 8.76 %/yr: below the README's 20 % entry
    config = tmp_path / "basis.toml"
    config.write_text(f'[exchange]\nnetwork = "{ex.base_url}"\n\n{readme_basis_config()}')
    run = await wingbeat("run", str(config), "--plain", "--duration", "3", env=account_env(funded_account),
                         cwd=tmp_path, deadline=90)
    assert run.code == 0, run
    printed = run.out + run.err
    waits = re.findall(r"waiting to enter: funding [\d.]+%/yr below entry 20\.00%/yr", printed)
    assert len(waits) == 1, run  # said once, not every tick
