"""`LocalExchange` in-process, as its docstring and the README tell a newcomer to use it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from tests.journeys.conftest import new_trader
from wingbeat.sim import LiquidityConfig, LocalExchange


async def _info(url: str, body: dict[str, Any]) -> Any:
    async with aiohttp.ClientSession() as session, session.post(f"{url}/info", json=body) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def test_the_default_exchange_quotes_a_book_as_wingbeat_sim_does() -> None:
    async with LocalExchange(port=0) as ex:
        assert ex.base_url == f"http://127.0.0.1:{ex.port}"
        book = await _info(ex.base_url, {"type": "l2Book", "coin": "BTC"})
        bids, asks = book["levels"]
        assert bids and asks  # the built-in makers quote from the first request
        assert Decimal(bids[0]["px"]) < Decimal(asks[0]["px"])


async def test_liquidity_off_leaves_the_book_empty_and_a_config_tunes_it() -> None:
    async with LocalExchange(port=0, liquidity=False) as quiet:
        assert (await _info(quiet.base_url, {"type": "l2Book", "coin": "BTC"}))["levels"] == [[], []]
    async with LocalExchange(port=0, liquidity=LiquidityConfig(levels=2)) as tuned:
        bids, asks = (await _info(tuned.base_url, {"type": "l2Book", "coin": "BTC"}))["levels"]
        assert (len(bids), len(asks)) == (2, 2)


async def test_fund_creates_the_account_with_exactly_that_many_usdc() -> None:
    account = new_trader()
    async with LocalExchange(port=0, liquidity=False) as ex:
        before = await _info(ex.base_url, {"type": "clearinghouseState", "user": account.address})
        assert Decimal(before["marginSummary"]["accountValue"]) == 0
        await ex.fund(account.address.upper().replace("0X", "0x"), "1234.5")  # any case, exact string
        await ex.fund(account.address, 10)
        state = await _info(ex.base_url, {"type": "clearinghouseState", "user": account.address})
        assert Decimal(state["marginSummary"]["accountValue"]) == Decimal("1244.5")
        assert Decimal(state["withdrawable"]) == Decimal("1244.5")


@pytest.mark.parametrize(
    ("address", "usdc", "needle"),
    [
        ("0x1234", 100, "40 hex digits"),
        ("not an address", 100, "40 hex digits"),
        ("0x" + "ab" * 20, 0.1, "float"),
        ("0x" + "ab" * 20, "lots", "number"),
        ("0x" + "ab" * 20, -5, "funding amount"),
        ("0x" + "ab" * 20, True, "bool"),
    ],
)
async def test_fund_refuses_bad_input_and_creates_nothing(address: str, usdc: Any, needle: str) -> None:
    async with LocalExchange(port=0, liquidity=False) as ex:
        accounts = set(ex.engine.accounts)
        with pytest.raises(ValueError, match=needle):
            await ex.fund(address, usdc)
        assert set(ex.engine.accounts) == accounts


async def test_base_url_needs_a_started_exchange_and_the_port_is_released_on_exit() -> None:
    ex = LocalExchange(port=0, liquidity=False)
    with pytest.raises(RuntimeError, match="not started"):
        _ = ex.base_url
    with pytest.raises(ZeroDivisionError):
        async with ex:
            url = ex.base_url
            assert (await _info(url, {"type": "meta"}))["universe"]
            _ = 1 / 0  # an error in the block still stops the exchange
    with pytest.raises(aiohttp.ClientConnectionError):
        await asyncio.wait_for(_info(url, {"type": "meta"}), 5)
