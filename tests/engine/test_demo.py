"""``wingbeat demo`` (what ``make run`` runs) ends by itself with fills and a summary."""

from __future__ import annotations

import asyncio
import re
import signal

import aiohttp

from tests.engine.cli_helpers import CLI, cli_env, run_cli_async


async def test_demo_trades_against_the_built_in_liquidity_and_prints_a_summary() -> None:
    result = await run_cli_async("demo", "--duration", "5", "--seed", "7", limit=90)
    assert result.code == 0, result.err[-3000:]
    assert "local exchange on http://127.0.0.1:" in result.out
    assert re.search(r"\[\d+/5s\] BTC-USD bid \d+", result.out), result.out  # plain lines: not a terminal
    assert "MarketMakerStrategy on BTC-USD" in result.out
    fills = re.search(r"fills\W+(\d+)", result.out.split("MarketMakerStrategy on BTC-USD")[1])
    assert fills and int(fills.group(1)) > 0, result.out
    placed = re.search(r"orders placed\W+(\d+)", result.out)
    assert placed and int(placed.group(1)) >= 2
    assert "Traceback" not in result.err


async def test_the_demo_market_makes_a_spot_pair_with_tokens_it_was_given() -> None:
    result = await run_cli_async("demo", "--pair", "PURR-USDC", "--duration", "4", "--seed", "7", limit=90)
    assert result.code == 0, result.err[-3000:]
    assert re.search(r"funded with 100,000 USDC and [\d,]+ PURR", result.out), result.out
    assert "MarketMakerStrategy on PURR-USDC" in result.out
    fills = re.search(r"fills\W+(\d+)", result.out.split("MarketMakerStrategy on PURR-USDC")[1])
    assert fills and int(fills.group(1)) > 0, result.out
    assert "Traceback" not in result.err
    unknown = await run_cli_async("demo", "--pair", "DOGE-USDC", "--duration", "1", limit=60)
    assert unknown.code != 0 and "PURR-USDC, HYPE-USDC" in unknown.err, unknown.err


async def test_the_demo_market_makes_a_builder_dex_pair_with_margin_on_that_dex() -> None:
    result = await run_cli_async("demo", "--pair", "xyz:XYZ100-USD", "--duration", "4", "--seed", "7", limit=90)
    assert result.code == 0, result.err[-3000:]
    assert "funded with 100,000 USDC and 100,000 USDC on xyz" in result.out, result.out
    assert "MarketMakerStrategy on xyz:XYZ100-USD" in result.out
    fills = re.search(r"fills\W+(\d+)", result.out.split("MarketMakerStrategy on xyz:XYZ100-USD")[1])
    assert fills and int(fills.group(1)) > 0, result.out
    assert "Traceback" not in result.err


async def test_metrics_are_served_while_running_and_ctrl_c_stops_cleanly() -> None:
    proc = await asyncio.create_subprocess_exec(*CLI, "demo", "--duration", "120", "--seed", "5", "--metrics-port",
                                                "0", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                env=cli_env())
    try:
        assert proc.stdout is not None
        url = None
        async with asyncio.timeout(60):
            while True:
                line = (await proc.stdout.readline()).decode()
                found = re.search(r"metrics on (http://\S+/metrics)", line)
                url = found.group(1) if found else url
                if "running" in line:  # the first status line: the strategy runs
                    break
        assert url is not None
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(30):
                while True:  # scrape until the first quote was acknowledged (the demo quotes on its first tick)
                    async with session.get(url) as resp:
                        text = await resp.text()
                    if "wingbeat_place_to_open_seconds_count 0.0" not in text:
                        break
                    await proc.stdout.readline()  # next status line: time has moved on
        assert 'wingbeat_orders_total{pair="BTC-USD",state="created"}' in text
        proc.send_signal(signal.SIGINT)
        rest, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert "stopped by user" in rest.decode()
