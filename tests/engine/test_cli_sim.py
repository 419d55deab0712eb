"""``wingbeat sim`` serves the local exchange on the requested port until it is told to stop."""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import aiohttp

from tests.engine.cli_helpers import CLI, assert_user_error, cli_env, run_cli


async def test_sim_serves_info_and_stops_on_sigint(tmp_path: Path) -> None:
    funded = "0x" + "cd" * 20
    markets = tmp_path / "markets.toml"
    markets.write_text('[[market]]\nname = "BTC"\nsz_decimals = 5\nmax_leverage = 40\nstart_price = "60000"\n\n'
                       '[[market]]\nname = "DOGE"\nsz_decimals = 0\nmax_leverage = 10\nstart_price = "0.2"\n')
    proc = await asyncio.create_subprocess_exec(
        *CLI, "sim", "--port", "0", "--seed", "3", "--fund", f"{funded}=2500", "--markets", str(markets),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=cli_env())
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line
        url = match.group(0)
        async with aiohttp.ClientSession() as s:
            async with s.post(f"{url}/info", json={"type": "meta"}) as resp:
                meta = await resp.json()
            async with s.post(f"{url}/info", json={"type": "clearinghouseState", "user": funded}) as resp:
                state = await resp.json()
        assert [a["name"] for a in meta["universe"]] == ["BTC", "DOGE"]
        assert float(state["marginSummary"]["accountValue"]) == 2500
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_sim_with_a_bad_markets_file_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "markets.toml"
    bad.write_text('[[market]]\nname = "BTC"\n')
    assert_user_error(run_cli("sim", "--port", "0", "--markets", str(bad)), 2, "--markets")
