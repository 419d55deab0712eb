"""``LocalExchange.pay_funding`` and the ``/admin payFunding`` command: one funding period at a chosen rate,
paid to the holders, shown as the market's funding, kept by the state file; bad input refused."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from tests.conftest import limit_order_action, new_trader, signed_body
from tests.engine.venue import post
from tests.sim.test_state_file import _crash_image
from wingbeat.sim import LocalExchange
from wingbeat.sim.protocol.info import handle_info

D = Decimal
HYPE = 3  # asset id of the HYPE perp


def _funding_of(ex: LocalExchange, coin: str) -> str:
    meta, ctxs = handle_info(ex.engine, {"type": "metaAndAssetCtxs"})
    names = [u["name"] for u in meta["universe"]]
    return str(ctxs[names.index(coin)]["funding"])


async def test_a_chosen_rate_is_paid_to_the_holders_and_becomes_the_markets_funding(
    local_exchange: LocalExchange,
) -> None:
    ex = local_exchange
    long, short = new_trader(), new_trader()
    for who in (long, short):
        await ex.fund(who.address, 10_000)
    for who, is_buy in ((short, False), (long, True)):  # the short rests, the long takes it: 2 HYPE at 40
        action = limit_order_action(HYPE, is_buy=is_buy, price="40", size="2")
        reply = await post(ex, "/exchange", signed_body(who.key, action))
        assert reply["status"] == "ok", reply

    await ex.pay_funding("HYPE", "0.0001")
    assert _funding_of(ex, "HYPE") == "0.0001"
    for who, sign in ((long, -1), (short, 1)):  # longs pay shorts when positive: 2 x 40 x 0.0001
        [entry] = await post(ex, "/info", {"type": "userFunding", "user": who.address, "startTime": 0})
        assert D(entry["delta"]["usdc"]) == sign * D("0.008") and entry["delta"]["fundingRate"] == "0.0001"

    url = ex.base_url + "/admin"
    token = {"Authorization": f"Bearer {ex.admin_token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=orjson.dumps({"type": "payFunding", "coin": "HYPE", "rate": "-0.0002"}),
                             headers=token) as resp:
            assert resp.status == 200, await resp.text()
        assert _funding_of(ex, "HYPE") == "-0.0002"
        for bad, needle in (
            ({"coin": "PURR/USDC", "rate": "0.0001"}, "Unknown coin PURR/USDC."),  # spot pays no funding
            ({"coin": "DOGE", "rate": "0.0001"}, "Unknown coin DOGE."),
            ({"coin": "HYPE", "rate": "1"}, "Funding rate must be within"),
            ({"coin": "HYPE", "rate": "x"}, "not a number"),
        ):
            async with http.post(url, data=orjson.dumps({"type": "payFunding", **bad}), headers=token) as resp:
                assert resp.status == 400 and needle in await resp.text(), (bad, await resp.text())
    assert _funding_of(ex, "HYPE") == "-0.0002"  # nothing changed by the refusals


@pytest.mark.parametrize("rate", [0.0001, "Infinity", "NaN", "0.05"])  # a float is not exact money
async def test_bad_rates_raise_value_error(local_exchange: LocalExchange, rate: Any) -> None:
    with pytest.raises(ValueError):
        await local_exchange.pay_funding("HYPE", rate)


async def test_a_funding_payment_survives_a_crash(tmp_path: Path) -> None:
    state = tmp_path / "venue.sqlite"
    async with LocalExchange(state=state, liquidity=False) as ex:
        await ex.pay_funding("ETH", "0.00005")
        image = _crash_image(state, tmp_path)  # the database and its log as the disk holds them now
    async with LocalExchange(state=image, liquidity=False) as restored:
        assert restored.durable is not None and restored.durable.replayed >= 1
        assert _funding_of(restored, "ETH") == "0.00005"
