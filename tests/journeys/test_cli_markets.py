"""A trader looks up what a venue offers with ``wingbeat markets`` against ``wingbeat sim`` running as its own
process, without any key: every pair of the main perp dex, of the builder (HIP-3) dex xyz and of spot with the
rules the venue's own ``meta`` / ``meta(dex)`` / ``spotMeta`` give (size step from szDecimals, the price rule,
max leverage, margin modes, asset ids as the SDK computes them, token names and ``@N`` coins), as tables and
as JSON, narrowed with ``--dex`` / ``--spot``; an unknown dex and bad usage are one error line."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tests.journeys.conftest import assert_error_line, sim_process, wingbeat
from wingbeat.hyperliquid.rest import HyperliquidRestClient


async def _info(url: str, body: dict[str, Any]) -> Any:
    async with HyperliquidRestClient(url, timeout=5.0) as rest:
        return await rest.info(body)


async def test_markets_lists_every_pair_with_the_rules_the_venue_gives() -> None:
    async with sim_process("--no-liquidity") as sim:
        meta = await _info(sim.url, {"type": "meta"})
        spot_meta = await _info(sim.url, {"type": "spotMeta"})

        run = await wingbeat("markets", "--network", sim.url, "--json")  # no key in the environment
        assert run.code == 0, run
        document = json.loads(run.out)
        assert document["network"] == sim.url
        listed = {m["trading_pair"]: m for m in document["markets"]}

        perps = [m for m in document["markets"] if m["kind"] == "perp" and m["dex"] == ""]
        assert [m["coin"] for m in perps] == [a["name"] for a in meta["universe"]]
        for index, asset in enumerate(meta["universe"]):
            market = listed[f"{asset['name']}-USD"]
            sz = asset["szDecimals"]
            assert market["asset"] == index and market["dex"] == "" and market["collateral"] == "USDC"
            assert (
                Decimal(market["size_increment"])
                == Decimal(1).scaleb(-sz)
                == Decimal(market["min_order_size"])
            )
            assert (market["price_significant_figures"], market["price_max_decimals"]) == (5, 6 - sz)
            assert market["max_leverage"] == asset["maxLeverage"] and market["margin_mode"] == "cross"
            assert market["min_notional"] == "10"

        dexes = [d["name"] for d in await _info(sim.url, {"type": "perpDexs"}) if d is not None]
        assert dexes, "the local exchange ships a builder dex"
        for position, dex in enumerate(dexes, start=1):  # asset ids as the official SDK computes them
            dex_meta = await _info(sim.url, {"type": "meta", "dex": dex})
            on_dex = [m for m in document["markets"] if m["dex"] == dex]
            assert [m["coin"] for m in on_dex] == [a["name"] for a in dex_meta["universe"]]
            for index, asset in enumerate(dex_meta["universe"]):
                market = on_dex[index]
                assert market["trading_pair"] == f"{asset['name']}-USD" and market["kind"] == "perp"
                assert market["asset"] == 100000 + position * 10000 + index
                assert market["max_leverage"] == asset["maxLeverage"]
                mode = {"noCross": "isolated-only", "strictIsolated": "strict-isolated"}
                assert market["margin_mode"] == mode.get(asset.get("marginMode"), "cross")
        xyz = {m["trading_pair"]: m for m in document["markets"] if m["dex"] == "xyz"}
        assert (
            xyz["xyz:XYZ100-USD"]["asset"] == 110000
            and xyz["xyz:XYZ100-USD"]["margin_mode"] == "isolated-only"
        )
        assert xyz["xyz:GOLD-USD"]["margin_mode"] == "strict-isolated"

        tokens = {t["index"]: t for t in spot_meta["tokens"]}
        spot = [m for m in document["markets"] if m["kind"] == "spot"]
        assert len(spot) == len(spot_meta["universe"]) >= 2
        for pair in spot_meta["universe"]:
            base, quote = tokens[pair["tokens"][0]], tokens[pair["tokens"][1]]
            market = listed[f"{base['name']}-{quote['name']}"]
            assert (market["coin"], market["asset"]) == (pair["name"], 10000 + pair["index"])
            assert (market["base"], market["quote"], market["dex"]) == (base["name"], quote["name"], None)
            assert market["price_max_decimals"] == 8 - base["szDecimals"]
            assert market["max_leverage"] is None and market["margin_mode"] is None
        assert listed["PURR-USDC"]["coin"] == "PURR/USDC" and listed["HYPE-USDC"]["coin"].startswith("@")

        run = await wingbeat("markets", "--network", sim.url)
        assert run.code == 0, run
        perp_count, spot_count = len(meta["universe"]), len(spot_meta["universe"])
        assert f"main perp dex ({perp_count} pairs, collateral USDC)" in run.out, run
        assert f"spot ({spot_count} pairs)" in run.out, run
        btc_row = next(line for line in run.out.splitlines() if "BTC-USD" in line)
        assert "50x" in btc_row and "cross" in btc_row and "<= 1 decimals" in btc_row, run
        assert "perp dex xyz (2 pairs, collateral USDC)" in run.out, run
        gold_row = next(line for line in run.out.splitlines() if "xyz:GOLD-USD" in line)
        assert "110001" in gold_row and "strict-isolated" in gold_row, run
        purr_row = next(line for line in run.out.splitlines() if "PURR-USDC" in line)
        assert "PURR/USDC" in purr_row and "10000" in purr_row and "10 USDC" in purr_row, run

        run = await wingbeat("markets", "--network", sim.url, "--spot", "--json")
        assert run.code == 0, run
        assert {m["kind"] for m in json.loads(run.out)["markets"]} == {"spot"}
        run = await wingbeat("markets", "--network", sim.url, "--dex", "", "--json")
        assert run.code == 0, run
        main_pairs = [f"{a['name']}-USD" for a in meta["universe"]]
        assert [m["trading_pair"] for m in json.loads(run.out)["markets"]] == main_pairs

        run = await wingbeat("markets", "--network", sim.url, "--dex", "xyz", "--spot", "--json")
        assert run.code == 0, run
        kinds = [(m["kind"], m["dex"]) for m in json.loads(run.out)["markets"]]
        assert set(kinds) == {("perp", "xyz"), ("spot", None)}, run

        run = await wingbeat("markets", "--network", sim.url, "--dex", "nope")
        assert_error_line(run, 1, "the venue lists no perp dex 'nope' (builder dexes: 'xyz'")


async def test_bad_usage_is_one_line_and_asks_nothing() -> None:
    run = await wingbeat("markets", "--network", "nowhere")
    assert run.code == 2 and len(run.err_lines) == 1, run
    run = await wingbeat("markets", "--network", "http://127.0.0.1:9", "--dex", "a b")
    assert_error_line(run, 2, "--dex must be")
    run = await wingbeat("markets", "--network", "http://127.0.0.1:9")  # nothing listens there
    assert run.code == 1 and len(run.err_lines) == 1 and "Traceback" not in run.err, run
