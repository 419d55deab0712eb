"""``wingbeat run`` on a builder-dex (HIP-3) pair with an account whose USDC is all on the main dex: one
warning at start says the dex keeps its own margin and how to move some there; after the transfer the run
is not warned and quotes rest on the dex."""

from __future__ import annotations

from pathlib import Path

from tests.journeys.conftest import account_env, new_trader, sim_process, wingbeat

CONFIG = """
[engine]
tick_interval = 0.2

[strategy]
kind = "market_maker"
trading_pair = "xyz:XYZ100-USD"
order_amount = "0.01"
bid_spread = "0.002"
ask_spread = "0.002"
order_refresh_time = 5.0
"""


async def test_a_run_on_a_builder_dex_without_margin_there_says_how_to_move_some(tmp_path: Path) -> None:
    account = new_trader()
    hint = 'move some there with `wingbeat transfer AMOUNT --from-dex "" --to-dex xyz`'
    async with sim_process("--fund", f"{account.address}=5000") as sim:  # main-dex USDC only
        config = tmp_path / "dex-mm.toml"
        config.write_text(f'[exchange]\nnetwork = "{sim.url}"\njournal_path = ""\n{CONFIG}')
        env = account_env(account)
        before = await wingbeat("run", str(config), "--plain", "--duration", "2", env=env, cwd=tmp_path, deadline=90)
        moved = await wingbeat(
            "transfer", "500", "--from-dex", "", "--to-dex", "xyz", "--network", sim.url, env=env, deadline=60
        )
        after = await wingbeat("run", str(config), "--plain", "--duration", "2", env=env, cwd=tmp_path, deadline=90)
    assert before.code == 0, before
    printed = before.out + before.err
    assert "has no USDC margin on the builder dex xyz, so every xyz:XYZ100-USD order will be refused" in printed
    assert hint in printed, before
    assert moved.code == 0, moved
    assert after.code == 0, after
    assert hint not in after.out + after.err, after
    assert "perpMarginRejected" not in after.out + after.err, after
