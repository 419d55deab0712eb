"""A trader starts a native TWAP from a shell with ``wingbeat twap`` against ``wingbeat sim`` running as its own
process: followed to its end with ``--wait`` (the test moves the venue's clock through its admin endpoint, so
30-second slices need no waiting), a JSON confirmation for scripts, ``wingbeat cancel-twap`` stopping it, and the awkward states: an unfunded
account, a TWAP under $100, a reduce-only TWAP without a position, usage errors and the mainnet guard sent
nowhere."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import aiohttp

from tests.journeys.conftest import (
    WINGBEAT,
    SimProcess,
    account_env,
    assert_error_line,
    new_trader,
    sim_process,
    user_env,
    wingbeat,
)
from wingbeat.hyperliquid.rest import HyperliquidRestClient

FUNDS = 100_000
SLICE_MS = 30_000
_STARTED = re.compile(r"^TWAP (\d+) started: ")


async def _info(url: str, body: dict[str, Any]) -> Any:
    async with HyperliquidRestClient(url, timeout=5.0) as rest:
        return await rest.info(body)


def _admin_token(sim: SimProcess) -> str:
    for line in sim.out:
        if line.startswith("admin token: "):
            return line.split()[2]
    raise AssertionError(f"wingbeat sim --admin printed no token: {sim.out}")


async def _advance(sim: SimProcess, now_ms: int) -> None:
    headers = {"Authorization": f"Bearer {_admin_token(sim)}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sim.url}/admin", json={"type": "advance", "nowMs": now_ms}, headers=headers) as reply,
    ):
        assert reply.status == 200, await reply.text()


@asynccontextmanager
async def _running(*args: str, env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    """``wingbeat ARGS`` started, its stdout readable line by line while it runs."""
    proc = await asyncio.create_subprocess_exec(
        *WINGBEAT, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=user_env(env),
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    raw = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert raw, f"wingbeat twap ended early: {(await proc.stderr.read()).decode() if proc.stderr else ''}"
    return raw.decode().rstrip("\n")


async def test_a_twap_from_the_shell_followed_to_its_end() -> None:
    me = new_trader()
    async with sim_process("--fund", f"{me.address}={FUNDS}", "--admin") as sim:
        env = account_env(me, sim.url)
        args = ("twap", "BTC-USD", "buy", "0.01", "--minutes", "5", "--wait")
        async with _running(*args, env=env) as proc:
            first = await _line(proc)
            match = _STARTED.match(first)
            assert match, first
            twap_id = int(match.group(1))
            assert f"buy 0.01 BTC-USD over 5 minutes on {me.address} (a slice every 30 s, until " in first
            [started] = await _info(sim.url, {"type": "twapHistory", "user": me.address})
            assert started["twapId"] == twap_id and started["status"] == {"status": "activated"}
            start_ms = started["state"]["timestamp"]
            for k in range(1, 10):  # the venue's clock through the other nine slice times
                await _advance(sim, start_ms + k * SLICE_MS)
            lines = [first]
            while not lines[-1].startswith(f"TWAP {twap_id} finished"):
                lines.append(await _line(proc))
            code = await asyncio.wait_for(proc.wait(), 30)
            assert proc.stderr is not None
            err = (await proc.stderr.read()).decode()
        assert code == 0 and err == "", (code, err, lines)
        slices = [line for line in lines if line.startswith("slice: bought ")]
        assert 1 <= len(slices) <= 10, lines
        fills = await _info(sim.url, {"type": "userTwapSliceFills", "user": me.address})
        executed = sum((Decimal(f["fill"]["sz"]) for f in fills), Decimal(0))
        assert len(fills) == len(slices) and executed > 0
        assert f"({executed} of 0.01 done)" in slices[-1]
        assert lines[-1].startswith(f"TWAP {twap_id} finished: bought {executed} BTC-USD at an average of ")
        state = await _info(sim.url, {"type": "clearinghouseState", "user": me.address})
        assert Decimal(state["assetPositions"][0]["position"]["szi"]) == executed  # the venue moved the position
        assert me.key[2:] not in "".join(lines) + err


async def test_a_json_confirmation_the_twap_keeps_running_on_the_venue_until_cancelled() -> None:
    me = new_trader()
    async with sim_process("--fund", f"{me.address}={FUNDS}") as sim:
        run = await wingbeat(
            "twap", "BTC-USD", "sell", "0.02", "--minutes", "30", "--randomize", "--json",
            env=account_env(me, sim.url),
        )  # fmt: skip
        assert run.code == 0 and run.err == "", run
        document = json.loads(run.out)
        assert document["account"] == me.address and document["trading_pair"] == "BTC-USD"
        assert (document["side"], document["amount"], document["minutes"]) == ("sell", "0.02", 30)
        assert (document["randomize"], document["reduce_only"], document["status"]) == (True, False, "running")
        assert "slices" not in document
        [entry] = await _info(sim.url, {"type": "twapHistory", "user": me.address})
        assert entry["twapId"] == document["twap_id"] and entry["status"] == {"status": "activated"}
        assert entry["state"]["sz"] == "0.02" and entry["state"]["side"] == "A"

        twap_id = str(document["twap_id"])
        run = await wingbeat("cancel-twap", "ETH-USD", twap_id, env=account_env(me, sim.url))  # the wrong pair
        assert_error_line(run, 1, f"TWAP {twap_id} trades BTC-USD, not ETH-USD: wingbeat cancel-twap BTC-USD {twap_id}")
        run = await wingbeat("cancel-twap", "BTC-USD", twap_id, env=account_env(me, sim.url))
        assert run.code == 0 and run.err == "", run
        assert re.fullmatch(rf"TWAP {twap_id} terminated: sold [0-9.]+ of 0\.02 BTC-USD\n", run.out), run
        history = await _info(sim.url, {"type": "twapHistory", "user": me.address})
        assert [h["status"]["status"] for h in history] == ["activated", "terminated"]
        run = await wingbeat("cancel-twap", "BTC-USD", twap_id, env=account_env(me, sim.url))
        assert_error_line(run, 1, f"no running TWAP {twap_id} of {me.address} on perp pairs: it has ended")
        run = await wingbeat("cancel-twap", "BTC-USD", "soon", env=account_env(me, sim.url))
        assert run.code == 2, run


async def test_awkward_states_are_one_error_line_and_start_nothing() -> None:
    me, stranger = new_trader(), new_trader()
    async with sim_process("--fund", f"{me.address}={FUNDS}", "--no-liquidity") as sim:
        env = account_env(me, sim.url)
        run = await wingbeat("twap", "BTC-USD", "buy", "0.01", "-m", "10", env=account_env(stranger, sim.url))
        assert_error_line(run, 1, f"account {stranger.address} ")
        run = await wingbeat("twap", "BTC-USD", "buy", "0.0001", "-m", "10", env=env)
        assert_error_line(run, 1, "is below Hyperliquid's minimum of $100")
        run = await wingbeat("twap", "BTC-USD", "sell", "0.01", "-m", "10", "--reduce-only", env=env)
        assert_error_line(run, 1, "a reduce-only sell TWAP would increase the BTC-USD position (0)")
        run = await wingbeat("twap", "NOPE-USD", "buy", "1", "-m", "10", env=env)
        assert_error_line(run, 1, "NOPE")
        assert await _info(sim.url, {"type": "twapHistory", "user": me.address}) == []


async def test_usage_errors_and_the_mainnet_guard_send_nothing() -> None:
    me = new_trader()
    env = account_env(me)  # no network at all: nothing may be sent
    for args, needle in (
        (["BTC-USD", "hold", "1", "-m", "10"], "SIDE must be buy or sell"),
        (["BTC-USD", "buy", "lots", "-m", "10"], "AMOUNT must be a number"),
        (["BTC-USD", "buy", "0", "-m", "10"], "AMOUNT must be positive"),
        (["BTC-USD", "buy", "1", "-m", "4"], "--minutes must be 5 to 1440 (24 hours), got 4"),
        (["BTC-USD", "buy", "1", "-m", "1441"], "--minutes must be 5 to 1440 (24 hours), got 1441"),
        (["BTCUSD", "buy", "1", "-m", "10"], "not a Hyperliquid perpetual trading pair"),
        (["BTC-USD", "buy", "1", "-m", "10", "--network", "mainnet"], "add --mainnet"),
        (["BTC-USD", "buy", "1"], "--minutes"),
    ):
        run = await wingbeat("twap", *args, env=env)
        assert run.code == 2, run
        assert needle in run.err, run
        assert len(run.err_lines) == 1, run
    run = await wingbeat("twap", "BTC-USD", "buy", me.key, "-m", "10", env=env)
    assert run.code == 2 and "looks like a private key" in run.err, run
    assert me.key[2:] not in run.out + run.err


async def test_a_spot_twap_from_the_shell() -> None:
    me = new_trader()
    async with sim_process("--fund", f"{me.address}=100,USDC=1000") as sim:
        run = await wingbeat("twap", "PURR-USDC", "buy", "1000", "-m", "5", "--json", env=account_env(me, sim.url))
        assert run.code == 0 and run.err == "", run
        document = json.loads(run.out)
        assert (document["trading_pair"], document["side"], Decimal(document["amount"])) == ("PURR-USDC", "buy", 1000)
        [entry] = await _info(sim.url, {"type": "twapHistory", "user": me.address})
        assert entry["twapId"] == document["twap_id"] and entry["state"]["coin"] == "PURR/USDC"
        run = await wingbeat("twap", "PURR-USDC", "sell", "1000", "-m", "5", "--reduce-only", env=account_env(me, sim.url))
        assert_error_line(run, 1, "reduce-only is for perpetual positions")


async def test_ctrl_c_stops_following_and_the_twap_keeps_running() -> None:
    me = new_trader()
    async with sim_process("--fund", f"{me.address}={FUNDS}", "--no-liquidity") as sim:
        env = account_env(me, sim.url)
        async with _running("twap", "BTC-USD", "buy", "0.01", "-m", "30", "--wait", env=env) as proc:
            match = _STARTED.match(await _line(proc))
            assert match, match
            proc.send_signal(signal.SIGINT)
            code = await asyncio.wait_for(proc.wait(), 30)
            assert proc.stdout is not None and proc.stderr is not None
            rest = (await proc.stdout.read()).decode()
            err = (await proc.stderr.read()).decode()
        twap_id = match.group(1)
        assert code == 130 and err == "", (code, rest, err)
        assert rest == (
            f"stopped following TWAP {twap_id} (0 of 0.01 BTC-USD done): it keeps running on the venue; "
            f"wingbeat cancel-twap BTC-USD {twap_id} stops it\n"
        )
        [entry] = await _info(sim.url, {"type": "twapHistory", "user": me.address})
        assert entry["status"] == {"status": "activated"}  # still running


async def test_an_api_wallet_places_a_twap_for_its_account() -> None:
    from wingbeat.hyperliquid.account_actions import AccountActions
    from wingbeat.hyperliquid.signer import Signer

    me, agent = new_trader(), new_trader()
    async with sim_process("--fund", f"{me.address}={FUNDS}", "--no-liquidity") as sim:
        async with AccountActions(Signer(me.key), sim.url) as actions:
            await actions.approve_agent(agent.address, "bot")
        run = await wingbeat("twap", "BTC-USD", "buy", "0.01", "-m", "10", "--account", me.address,
                             env=account_env(agent, sim.url))  # fmt: skip
        assert run.code == 0 and f"over 10 minutes on {me.address} " in run.out, run
        assert agent.key[2:] not in run.out + run.err
        [entry] = await _info(sim.url, {"type": "twapHistory", "user": me.address})
        assert entry["state"]["user"] == me.address


async def test_a_twap_the_account_cannot_pay_for_is_refused_with_the_transfer_that_fixes_it() -> None:
    me = new_trader()
    async with sim_process("--fund", f"{me.address}=5000") as sim:  # a deposit: main-dex perp USDC only
        env = account_env(me, sim.url)
        spot_buy = await wingbeat("twap", "PURR-USDC", "buy", "1000", "-m", "5", env=env)
        spot_sell = await wingbeat("twap", "PURR-USDC", "sell", "1000", "-m", "5", env=env)
        dex_buy = await wingbeat("twap", "xyz:XYZ100-USD", "buy", "0.01", "-m", "5", env=env)
        history = await _info(sim.url, {"type": "twapHistory", "user": me.address})
        moved = await wingbeat("transfer", "500", "--to", "spot", env=env)
        after = await wingbeat("twap", "PURR-USDC", "buy", "1000", "-m", "5", env=env)
    # the venue would accept each and stop it at its first slice; nothing is sent
    assert_error_line(spot_buy, 1, "has no USDC free to buy with (move some to spot with `wingbeat transfer AMOUNT --to spot`)")
    assert_error_line(spot_sell, 1, "has no PURR free to sell")
    assert_error_line(dex_buy, 1, 'move some there with `wingbeat transfer AMOUNT --from-dex "" --to-dex xyz`')
    assert history == []
    assert moved.code == 0, moved
    assert after.code == 0 and _STARTED.match(after.out), after
