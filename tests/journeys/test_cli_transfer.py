"""A trader moves money from a shell with ``wingbeat transfer`` (and approves a builder fee) against
``wingbeat sim`` running as its own process: perp -> spot and back, USDC to a friend, a JSON confirmation
for scripts, and the awkward states: an unfunded account, more than the balance, an agent key, a malformed
address, a private key pasted where the address goes, a mainnet network without --mainnet."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tests.journeys.conftest import account_env, assert_error_line, new_trader, sim_process, wingbeat
from wingbeat.hyperliquid.account_actions import AccountActions
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.signer import Signer

FUNDS = 1000


async def _info(url: str, body: dict[str, Any]) -> Any:
    async with HyperliquidRestClient(url, timeout=5.0) as rest:
        return await rest.info(body)


async def _perp(url: str, user: str) -> Decimal:
    state = await _info(url, {"type": "clearinghouseState", "user": user})
    return Decimal(state["withdrawable"])


async def _spot_usdc(url: str, user: str) -> Decimal:
    state = await _info(url, {"type": "spotClearinghouseState", "user": user})
    return sum((Decimal(b["total"]) for b in state["balances"] if b["coin"] == "USDC"), Decimal(0))


async def test_perp_to_spot_and_back_and_usdc_to_a_friend() -> None:
    me, friend = new_trader(), new_trader()
    async with sim_process("--fund", f"{me.address}={FUNDS}", "--no-liquidity") as sim:
        env = account_env(me, sim.url)
        run = await wingbeat("transfer", "100", "--to", "spot", env=env)
        assert run.code == 0, run
        assert run.out.strip() == f"moved 100 USDC from perp to spot on {me.address}"
        assert (await _perp(sim.url, me.address), await _spot_usdc(sim.url, me.address)) == (900, 100)

        run = await wingbeat("transfer", "40.5", "--to", "perp", "--json", env=env)
        assert run.code == 0, run
        document = json.loads(run.out)
        assert document["account"] == me.address and document["action"] == "usdClassTransfer"
        assert document["posted"] == {"type": "usdClassTransfer", "amount": "40.5", "toPerp": True,
                                      "nonce": document["nonce"]}  # fmt: skip
        assert await _spot_usdc(sim.url, me.address) == Decimal("59.5")

        run = await wingbeat("transfer", "25", "--to", friend.address.upper().replace("0X", "0x"), env=env)
        assert run.code == 0, run
        assert run.out.strip() == f"sent 25 USDC from the perp balance of {me.address} to {friend.address}"
        assert await _perp(sim.url, friend.address) == 25
        assert me.key[2:] not in run.out + run.err


async def test_awkward_states_are_one_error_line_and_move_nothing() -> None:
    me, agent, stranger = new_trader(), new_trader(), new_trader()
    async with sim_process("--fund", f"{me.address}={FUNDS}", "--no-liquidity") as sim:
        async with AccountActions(Signer(me.key), sim.url) as actions:
            await actions.approve_agent(agent.address, "bot")
        env = account_env(me, sim.url)

        run = await wingbeat("transfer", "5000", "--to", "spot", env=env)
        assert_error_line(run, 1, "Insufficient balance")

        run = await wingbeat("transfer", "5", "--to", stranger.address, env=account_env(stranger, sim.url))
        assert_error_line(run, 1, f"account {stranger.address} has never been funded")

        run = await wingbeat("transfer", "5", "--to", "spot", "--account", me.address,
                             env=account_env(agent, sim.url))  # fmt: skip
        assert_error_line(run, 1, f"{agent.address} is an API wallet (agent) of {me.address}")
        run = await wingbeat("transfer", "5", "--to", "spot", env=account_env(agent, sim.url))
        assert_error_line(run, 1, f"is an API wallet (agent) of {me.address}")

        run = await wingbeat("transfer", "5", "--to", "0x1234", env=env)
        assert_error_line(run, 1, "destination must be '0x' followed by 40 hex digits")

        for pasted in (stranger.key, stranger.key[2:]):
            run = await wingbeat("transfer", "5", "--to", pasted, env=env)
            assert_error_line(run, 1, "looks like a private key")
            assert stranger.key[2:] not in run.out + run.err

        run = await wingbeat("transfer", "0.0000001", "--to", "spot", env=env)
        assert_error_line(run, 1, "more than 6 decimals")
        run = await wingbeat("transfer", stranger.key, "--to", "spot", env=env)
        assert_error_line(run, 2, "AMOUNT must be a number")
        assert stranger.key[2:] not in run.out + run.err

        assert (await _perp(sim.url, me.address), await _spot_usdc(sim.url, me.address)) == (FUNDS, 0)


async def test_usage_errors_and_the_mainnet_guard_send_nothing() -> None:
    me = new_trader()
    env = account_env(me)  # no network at all: nothing may be sent
    for args, needle in (
        (["5"], "say where to"),
        (["5", "--to", "spot", "--to-dex", "xyz"], "between dexes say --from-dex and --to-dex"),
        (["5", "--from-dex", "spot", "--to-dex", "spot"], "nothing would move"),
        (["5", "--to", "perp", "--token", "PURR"], "moves USDC only"),
        (["0", "--to", "spot"], "AMOUNT must be positive"),
        (["--to", "spot", "--", "-3"], "AMOUNT must be positive"),
        (["5", "--to", "spot", "--network", "mainnet"], "add --mainnet"),
    ):
        run = await wingbeat("transfer", *args, env=env)
        assert run.code == 2, run
        assert needle in run.err, run


async def test_approve_builder_fee_then_read_back() -> None:
    me, builder = new_trader(), new_trader()
    async with sim_process("--fund", f"{me.address}={FUNDS}", "--no-liquidity") as sim:
        env = account_env(me, sim.url)
        run = await wingbeat("approve-builder-fee", builder.address, "10", env=env)
        assert run.code == 0, run
        assert f"builder {builder.address} may now add up to 10 tenths of a basis point (0.01%)" in run.out
        query = {"type": "maxBuilderFee", "user": me.address, "builder": builder.address}
        assert await _info(sim.url, query) == 10
        run = await wingbeat("approve-builder-fee", builder.address, "0", "--json", env=env)
        assert run.code == 0, run
        assert json.loads(run.out)["max_builder_fee"] == 0
        run = await wingbeat("approve-builder-fee", builder.address, "1001", env=env)
        assert_error_line(run, 1, "0 to 1000 tenths of a basis point")
        run = await wingbeat("approve-builder-fee", builder.address, me.key, env=env)
        assert_error_line(run, 2, "MAX_FEE must be a whole number")
        assert me.key[2:] not in run.out + run.err
