"""A key whose account does not exist: ``wingbeat run`` says so in one line and fails; nothing is traded."""

from __future__ import annotations

from pathlib import Path

from tests.journeys.conftest import account_env, assert_error_line, new_trader, wingbeat
from wingbeat.sim import LocalExchange


def _market_maker_config(path: Path, network: str) -> Path:
    path.write_text(f"""
[exchange]
network = "{network}"
trading_pairs = ["BTC-USD"]

[engine]
tick_interval = 0.2
duration = 5

[strategy]
kind = "market_maker"
trading_pair = "BTC-USD"
order_amount = "0.001"
""")
    return path


async def test_run_with_an_unfunded_key_prints_one_line_and_exits_non_zero(
    live_exchange: LocalExchange, tmp_path: Path
) -> None:
    account = new_trader()  # never funded: the venue does not know it
    config = _market_maker_config(tmp_path / "mm.toml", live_exchange.base_url)
    run = await wingbeat("run", str(config), env=account_env(account))
    assert_error_line(
        run,
        1,
        f"account {account.address} does not exist on {live_exchange.base_url}: fund it or check the key",
    )
    assert account.key[2:] not in run.out + run.err
    assert not live_exchange.engine.has_account(account.address)


async def test_an_agent_key_without_its_account_is_told_the_command_line_option(
    live_exchange: LocalExchange,
) -> None:
    master, agent = new_trader(), new_trader()
    await live_exchange.fund(master.address, 1_000)
    live_exchange.engine.approve_agent(master.address, agent.address, "bot")
    env = account_env(agent, live_exchange.base_url)
    run = await wingbeat("twap", "BTC-USD", "buy", "0.01", "-m", "5", env=env)
    assert_error_line(run, 1, f"not an account: set account_address to {master.address} (on the command line: "
                              f"--account {master.address})")  # fmt: skip
    run = await wingbeat("twap", "BTC-USD", "buy", "0.01", "-m", "5", "--account", master.address, env=env)
    assert run.code == 0 and f"on {master.address}" in run.out, run
    # the read-only views show the key's own (empty) account, and say whose account the agent trades
    note = f"is an API wallet (agent) of {master.address} and holds nothing itself: add --account {master.address}"
    for command in ("positions", "orders"):
        run = await wingbeat(command, env=env)
        assert run.code == 0 and note in run.err and "Traceback" not in run.err, run
        run = await wingbeat(command, "--account", master.address, env=env)
        assert run.code == 0 and run.err == "", run
