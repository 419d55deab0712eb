"""The account check at ``start()``, against the local exchange: a missing, empty or wrongly keyed account
refuses to start with one clear AuthenticationError; a funded one (own key, agent, vault leader) starts.
And no connector is ever on mainnet unless asked."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from decimal import Decimal
from pathlib import Path

import pytest

from tests.connector.harness import LocalExchangeHarness
from wingbeat.core.errors import AuthenticationError
from wingbeat.hyperliquid.account_check import parse_user_role
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.hyperliquid.constants import MAINNET_API_URL, TESTNET_API_URL
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim.protocol.server import LocalExchange
from wingbeat.sim.venue.types import OrderRequest

_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hyperliquid" / "payloads"
_NO_SWITCH = HyperliquidConfig(dead_man_switch=None)


def _key() -> str:
    return "0x" + secrets.token_hex(32)


async def _start_refused(conn: HyperliquidPerpetualConnector) -> str:
    with pytest.raises(AuthenticationError) as info:
        await conn.start()
    assert not conn.ready
    await conn.stop()  # stop() after a failed start returns
    return str(info.value)


def test_a_connector_built_without_network_is_on_testnet_not_mainnet() -> None:
    conn = HyperliquidPerpetualConnector(Signer(_key()), ["BTC-USD"])
    assert TESTNET_API_URL in repr(conn) and MAINNET_API_URL not in repr(conn)


async def test_an_account_that_never_deposited_is_refused_naming_the_address_and_network(
    local_exchange: LocalExchange,
) -> None:
    key = _key()
    signer = Signer(key)
    conn = HyperliquidPerpetualConnector(signer, ["BTC-USD"], local_exchange.base_url, config=_NO_SWITCH)
    text = await _start_refused(conn)
    assert text == (
        f"account {signer.address} does not exist on {local_exchange.base_url}: fund it or check "
        "the key / account_address"
    )
    assert key[2:] not in text


async def test_an_agent_key_without_account_address_is_told_to_name_its_master(
    harness: LocalExchangeHarness,
) -> None:
    agent = Signer(_key())
    harness.exchange.engine.approve_agent(harness.user, agent.address, "bot")
    conn = HyperliquidPerpetualConnector(agent, ["BTC-USD"], harness.exchange.base_url, config=_NO_SWITCH)
    text = await _start_refused(conn)
    assert f"{agent.address} is an API wallet (agent) of {harness.user}" in text
    assert f"set account_address to {harness.user}" in text


async def test_a_key_that_is_no_agent_of_the_account_it_names_is_refused(
    harness: LocalExchangeHarness,
) -> None:
    stranger = Signer(_key(), account_address=harness.user)  # never approved
    conn = HyperliquidPerpetualConnector(stranger, ["BTC-USD"], harness.exchange.base_url, config=_NO_SWITCH)
    text = await _start_refused(conn)
    assert f"key {stranger.address} is not an API wallet of account {harness.user}" in text


async def test_a_vault_that_does_not_exist_is_refused(harness: LocalExchangeHarness) -> None:
    vault = Signer(_key()).address
    harness.exchange.register_vault(vault, harness.user)  # registered, never funded
    conn = HyperliquidPerpetualConnector(
        harness.signer,
        ["BTC-USD"],
        harness.exchange.base_url,
        config=HyperliquidConfig(dead_man_switch=None, vault_address=vault),
    )
    text = await _start_refused(conn)
    assert text.startswith(f"account {vault} does not exist on ")


async def test_a_funded_account_starts(harness: LocalExchangeHarness) -> None:
    conn = HyperliquidPerpetualConnector(
        harness.signer, ["BTC-USD"], harness.exchange.base_url, config=_NO_SWITCH
    )
    await conn.start()
    try:
        assert conn.ready and conn.get_balance("USDC") > 0
    finally:
        await conn.stop()


async def test_the_local_exchange_answers_user_role_as_hyperliquid_does(
    harness: LocalExchangeHarness,
) -> None:
    agent = Signer(_key()).address
    harness.exchange.engine.approve_agent(harness.user, agent, "")
    nobody = Signer(_key()).address
    async with HyperliquidRestClient(harness.exchange.base_url) as rest:
        roles = {
            who: await rest.info({"type": "userRole", "user": who}) for who in (harness.user, agent, nobody)
        }
        empty = await rest.clearinghouse_state(nobody)
        spot = await rest.info({"type": "spotClearinghouseState", "user": nobody})
    assert roles == {
        harness.user: {"role": "user"},
        agent: {"role": "agent", "data": {"user": harness.user}},
        nobody: {"role": "missing"},
    }
    assert empty.margin_summary.account_value == 0 and not empty.positions and empty.withdrawable == 0
    assert spot == {"balances": []}


def test_user_role_answers_decode_as_recorded_and_documented() -> None:
    recorded = json.loads((_FIXTURES / "info_userRole.json").read_text())["response"]
    assert parse_user_role(recorded).role == "vault"
    master = "0x" + "ab" * 20
    agent = parse_user_role({"role": "agent", "data": {"user": master.upper().replace("0X", "0x")}})
    assert (agent.role, agent.master) == ("agent", master)
    sub = parse_user_role({"role": "subAccount", "data": {"master": master}})
    assert (sub.role, sub.master) == ("subAccount", master)
    assert parse_user_role({"role": "missing"}).master is None


async def test_an_account_emptied_after_funding_is_refused_as_holding_nothing(
    local_exchange: LocalExchange,
) -> None:
    signer = Signer(_key())
    await local_exchange.fund(signer.address, Decimal(100))
    local_exchange.engine.accounts[signer.address].balance = Decimal(0)  # as after withdrawing everything
    conn = HyperliquidPerpetualConnector(signer, ["BTC-USD"], local_exchange.base_url, config=_NO_SWITCH)
    text = await _start_refused(conn)
    assert text.startswith(f"account {signer.address} holds no funds on ")


class _Warned(logging.Handler):
    def __init__(self, needle: str) -> None:
        super().__init__(logging.WARNING)
        self.needle, self.lines, self.seen = needle, list[str](), asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.lines.append(record.getMessage())
            self.seen.set()


async def test_foreign_open_orders_are_warned_about_when_the_account_wide_switch_is_armed(
    harness: LocalExchangeHarness,
) -> None:
    engine = harness.exchange.engine
    asset = engine.asset_index("BTC")
    assert asset is not None
    low = (harness.reference_price / 2).quantize(Decimal(1))
    [status] = engine.place_orders(
        harness.user,
        [
            OrderRequest(  # another program's order on our account
                asset=asset, is_buy=True, price=low, size=Decimal("0.001"), reduce_only=False, tif="Gtc"
            )
        ],
    )
    assert "resting" in status, status
    gold = engine.market("xyz:GOLD")  # and one on a builder dex this connector neither trades nor follows
    assert gold is not None
    engine.fund_dex(harness.user, "xyz", Decimal(1000))
    [status] = engine.place_orders(
        harness.user,
        [
            OrderRequest(
                asset=gold.index, is_buy=True, price=(gold.mark / 2).quantize(Decimal(1)), size=Decimal("0.01"),
                reduce_only=False, tif="Gtc",
            )
        ],
    )  # fmt: skip
    assert "resting" in status, status
    warned = _Warned("open order(s) this connector did not place")
    logging.getLogger("wingbeat.hyperliquid.connector").addHandler(warned)
    conn = HyperliquidPerpetualConnector(harness.signer, ["BTC-USD"], harness.exchange.base_url)
    try:
        await conn.start()
        await asyncio.wait_for(warned.seen.wait(), 10)
        assert warned.lines[0].startswith("the account has 2 open order(s)")  # the switch cancels both
    finally:
        logging.getLogger("wingbeat.hyperliquid.connector").removeHandler(warned)
        await conn.stop()
    assert await harness.open_order_count() == 1  # still there after a clean stop (the main dex's count)
