"""AccountActions against the local exchange over real sockets: every action moves what it says, posts the
bytes the official SDK would post (signatures compared with the SDK's own sign_* functions), refuses bad
input before anything is sent, and raises the venue's refusal as ExchangeRejection with its text."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any

import eth_account
import pytest
from hyperliquid.utils import signing as sdk

from tests.conftest import TRADER_FUNDS, Trader, new_trader
from wingbeat.core.errors import AuthenticationError, ExchangeRejection, InvalidOrderError
from wingbeat.hyperliquid.account_actions import AccountActions, builder_fee_percent, check_amount
from wingbeat.hyperliquid.rest import HyperliquidRestClient
from wingbeat.hyperliquid.signer import Signer
from wingbeat.sim import LocalExchange

# USDC as the local exchange's spotMeta lists it (mainnet's tokenId; testnet's is 0xeb62eee3...)
USDC_WIRE = "USDC:0x6d1e7cde53ba9467b783cb7c530ce054"


class RecordingRest(HyperliquidRestClient):
    """The real client, keeping a copy of every /exchange envelope it posts (to compare with the SDK's)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url, timeout=5.0)
        self.posted: list[dict[str, Any]] = []

    async def exchange(self, payload: Mapping[str, Any], *, weight: int = 1) -> Any:
        self.posted.append(dict(payload))
        return await super().exchange(payload, weight=weight)


@pytest.fixture
async def rest(local_exchange: LocalExchange) -> AsyncIterator[RecordingRest]:
    client = RecordingRest(local_exchange.base_url)
    yield client
    await client.close()


def actions_for(trader: Trader, rest: RecordingRest, **signer_options: Any) -> AccountActions:
    return AccountActions(Signer(trader.key, **signer_options), rest.base_url, rest=rest)


def sdk_wallet(trader: Trader) -> Any:
    return eth_account.Account.from_key(trader.key)


def balance(ex: LocalExchange, user: str) -> Decimal:
    return ex.engine.accounts[user].balance


async def test_usd_send_moves_perp_usdc_with_the_sdks_signature(
    local_exchange: LocalExchange, trader: Trader, rest: RecordingRest
) -> None:
    dest = new_trader().address
    sent = await actions_for(trader, rest).usd_send(dest.upper().replace("0X", "0x"), Decimal("125.50"))
    assert balance(local_exchange, dest) == Decimal("125.5")
    assert balance(local_exchange, trader.address) == TRADER_FUNDS - Decimal("125.5")
    [posted] = rest.posted
    # the SDK's usd_transfer: {"destination", "amount": str(amount), "time", "type"}, then sign_usd_transfer_action
    expected = {"destination": dest, "amount": "125.5", "time": sent.nonce, "type": "usdSend"}
    signature = sdk.sign_usd_transfer_action(sdk_wallet(trader), expected, False)
    assert posted == {"action": expected, "nonce": sent.nonce, "signature": signature, "vaultAddress": None,
                      "expiresAfter": None}  # fmt: skip
    assert sent.type == "usdSend" and sent.response == {"type": "default"}


async def test_withdraw_pays_the_fee_and_an_amount_at_the_fee_is_refused_locally(
    local_exchange: LocalExchange, trader: Trader, rest: RecordingRest
) -> None:
    actions = actions_for(trader, rest)
    sent = await actions.withdraw(trader.address, Decimal(50))
    assert balance(local_exchange, trader.address) == TRADER_FUNDS - 50
    expected = {"destination": trader.address, "amount": "50", "time": sent.nonce, "type": "withdraw3"}
    assert rest.posted[0]["signature"] == sdk.sign_withdraw_from_bridge_action(
        sdk_wallet(trader), expected, False
    )
    with pytest.raises(InvalidOrderError, match="1 USDC fee"):
        await actions.withdraw(trader.address, Decimal(1))
    assert len(rest.posted) == 1  # nothing sent


async def test_class_transfer_to_spot_and_back(
    local_exchange: LocalExchange, trader: Trader, rest: RecordingRest
) -> None:
    actions = actions_for(trader, rest)
    to_spot = await actions.usd_class_transfer(Decimal("300"), to_perp=False)
    assert local_exchange.engine.accounts[trader.address].spot["USDC"] == 300
    await actions.usd_class_transfer(Decimal("100.25"), to_perp=True)
    assert balance(local_exchange, trader.address) == TRADER_FUNDS - Decimal("199.75")
    expected = {"type": "usdClassTransfer", "amount": "300", "toPerp": False, "nonce": to_spot.nonce}
    assert rest.posted[0]["signature"] == sdk.sign_usd_class_transfer_action(
        sdk_wallet(trader), expected, False
    )
    assert rest.posted[0]["action"] == expected


async def test_spot_send_and_send_asset(
    local_exchange: LocalExchange, trader: Trader, rest: RecordingRest
) -> None:
    actions = actions_for(trader, rest)
    friend = new_trader().address
    await actions.usd_class_transfer(Decimal(100), to_perp=False)
    spot = await actions.spot_send(friend, USDC_WIRE, Decimal("40"))
    assert local_exchange.engine.accounts[friend].spot["USDC"] == 40
    expected = {
        "destination": friend,
        "amount": "40",
        "token": USDC_WIRE,
        "time": spot.nonce,
        "type": "spotSend",
    }
    assert rest.posted[1]["signature"] == sdk.sign_spot_transfer_action(sdk_wallet(trader), expected, False)

    sent = await actions.send_asset(friend, USDC_WIRE, Decimal("2.5"), source_dex="", destination_dex="spot")
    assert local_exchange.engine.accounts[friend].spot["USDC"] == Decimal("42.5")
    expected = {"type": "sendAsset", "destination": friend, "sourceDex": "", "destinationDex": "spot",
                "token": USDC_WIRE, "amount": "2.5", "fromSubAccount": "", "nonce": sent.nonce}  # fmt: skip
    assert rest.posted[2]["signature"] == sdk.sign_send_asset_action(sdk_wallet(trader), expected, False)
    assert rest.posted[2]["action"] == expected


async def test_approve_agent_lets_the_agent_trade_and_an_unnamed_one_is_posted_without_its_name(
    local_exchange: LocalExchange, trader: Trader, rest: RecordingRest
) -> None:
    agent = new_trader()
    sent = await actions_for(trader, rest).approve_agent(agent.address)
    assert local_exchange.engine.account_for_signer(agent.address) == trader.address
    # the SDK signs agentName "" and then drops it from what it posts
    signed = {"type": "approveAgent", "agentAddress": agent.address, "agentName": "", "nonce": sent.nonce}
    assert rest.posted[0]["signature"] == sdk.sign_agent(sdk_wallet(trader), signed, False)
    assert "agentName" not in rest.posted[0]["action"]
    named = await actions_for(trader, rest).approve_agent(new_trader().address, "bot")
    assert named.action["agentName"] == "bot"


async def test_builder_fee_approval_is_read_back_in_tenths_of_a_basis_point(
    local_exchange: LocalExchange, trader: Trader, rest: RecordingRest
) -> None:
    actions = actions_for(trader, rest)
    builder = new_trader().address
    assert await actions.max_builder_fee(builder) == 0
    sent = await actions.approve_builder_fee(builder, 25)
    assert await actions.max_builder_fee(builder) == 25
    expected = {"maxFeeRate": "0.025%", "builder": builder, "nonce": sent.nonce, "type": "approveBuilderFee"}
    assert rest.posted[0]["signature"] == sdk.sign_approve_builder_fee(sdk_wallet(trader), expected, False)
    assert [builder_fee_percent(n) for n in (0, 1, 10, 100, 1000)] == ["0%", "0.001%", "0.01%", "0.1%", "1%"]
    with pytest.raises(InvalidOrderError, match="0 to 1000"):
        await actions.approve_builder_fee(builder, 1001)


async def test_sub_account_created_funded_and_emptied(
    local_exchange: LocalExchange, trader: Trader, rest: RecordingRest
) -> None:
    actions = actions_for(trader, rest)
    sub = await actions.create_sub_account("bot-1")
    assert local_exchange.engine.accounts[sub].master == trader.address
    sent = await actions.sub_account_transfer(sub, Decimal("1.5"), is_deposit=True)
    assert balance(local_exchange, sub) == Decimal("1.5")
    # the SDK's sub_account_transfer: an L1 action with usd as micro-USDC, signed with no vault address
    expected = {"type": "subAccountTransfer", "subAccountUser": sub, "isDeposit": True, "usd": 1_500_000}
    assert sent.action == expected
    assert rest.posted[1]["signature"] == sdk.sign_l1_action(sdk_wallet(trader), expected, None, sent.nonce, None,
                                                             False)  # fmt: skip
    await actions.sub_account_transfer(sub, Decimal("1.5"), is_deposit=False)
    assert balance(local_exchange, sub) == 0
    with pytest.raises(ExchangeRejection, match="Invalid sub-account"):
        await actions.sub_account_transfer(new_trader().address, Decimal(1), is_deposit=True)


async def test_vault_deposit_and_withdrawal(
    local_exchange: LocalExchange, trader: Trader, rest: RecordingRest
) -> None:
    vault, leader = new_trader().address, new_trader().address
    await local_exchange.fund(vault, 100)
    local_exchange.register_vault(vault, leader)
    actions = actions_for(trader, rest)
    sent = await actions.vault_transfer(vault, Decimal(40), is_deposit=True)
    assert balance(local_exchange, vault) == 140
    expected = {"type": "vaultTransfer", "vaultAddress": vault, "isDeposit": True, "usd": 40_000_000}
    assert rest.posted[0]["signature"] == sdk.sign_l1_action(sdk_wallet(trader), expected, None, sent.nonce, None,
                                                             False)  # fmt: skip
    await actions.vault_transfer(vault, Decimal(10), is_deposit=False)
    assert balance(local_exchange, vault) == 130


async def test_the_venues_refusal_is_raised_with_its_text_and_moves_nothing(
    local_exchange: LocalExchange, trader: Trader, rest: RecordingRest
) -> None:
    with pytest.raises(ExchangeRejection, match="Insufficient balance"):
        await actions_for(trader, rest).usd_send(new_trader().address, TRADER_FUNDS + 1)
    assert balance(local_exchange, trader.address) == TRADER_FUNDS


async def test_an_unfunded_account_is_told_so(local_exchange: LocalExchange, rest: RecordingRest) -> None:
    with pytest.raises(ExchangeRejection, match="never been funded") as info:
        await actions_for(new_trader(), rest).usd_send(new_trader().address, Decimal(1))
    assert info.value.code == "unknown_signer"


async def test_an_agent_key_is_refused_locally_for_user_signed_actions(
    local_exchange: LocalExchange, trader: Trader, rest: RecordingRest
) -> None:
    agent = new_trader()
    await actions_for(trader, rest).approve_agent(agent.address, "bot")
    as_agent = actions_for(agent, rest, account_address=trader.address)
    for send in (
        as_agent.usd_send(new_trader().address, Decimal(1)),
        as_agent.usd_class_transfer(Decimal(1), to_perp=False),
        as_agent.approve_builder_fee(new_trader().address, 10),
    ):
        with pytest.raises(AuthenticationError, match="API wallet \\(agent\\) of " + trader.address):
            await send
    assert len(rest.posted) == 1  # only the approval
    # the same key without account_address: the venue does not know it, and we say whose agent it is
    with pytest.raises(ExchangeRejection, match=f"is an API wallet \\(agent\\) of {trader.address}"):
        await actions_for(agent, rest).usd_send(new_trader().address, Decimal(1))


async def test_bad_input_is_refused_before_anything_is_sent(trader: Trader, rest: RecordingRest) -> None:
    actions = actions_for(trader, rest)
    friend = new_trader()
    cases: list[tuple[Any, str]] = [
        (actions.usd_send(friend.address, 1.5), "must be a Decimal"),  # type: ignore[arg-type]
        (actions.usd_send(friend.address, Decimal("0.0000001")), "more than 6 decimals"),
        (actions.usd_send(friend.address, Decimal(0)), "positive"),
        (actions.usd_send(friend.address, Decimal("NaN")), "positive"),
        (actions.usd_send(friend.address, Decimal(-3)), "positive"),
        (actions.usd_send("0x123", Decimal(1)), "40 hex digits"),
        (actions.usd_send(friend.key, Decimal(1)), "looks like a private key"),
        (actions.usd_send(friend.key[2:], Decimal(1)), "looks like a private key"),
        (actions.spot_send(friend.address, "NOPE", Decimal(1)), "no spot token .NOPE."),  # PURR is listed
        (actions.spot_send(friend.address, "PURR:0x12", Decimal(1)), "NAME:0xTOKENID"),
        (
            actions.send_asset(
                friend.address, USDC_WIRE, Decimal(1), source_dex="Bad Dex", destination_dex=""
            ),
            "builder dex name",
        ),
        (
            actions.send_asset(friend.address, USDC_WIRE, Decimal(1), source_dex="", destination_dex="nodex"),
            "no perp dex 'nodex'",
        ),
        (actions.create_sub_account(""), "1 to 16 characters"),
        (actions.sub_account_transfer(friend.address, Decimal("0.0000001"), is_deposit=True), "6 decimals"),
    ]
    for coro, needle in cases:
        with pytest.raises(InvalidOrderError, match=needle) as info:
            await coro
        assert friend.key[2:] not in str(info.value)
    assert rest.posted == []


def test_amounts_are_written_without_exponent_or_trailing_zeros() -> None:
    assert check_amount(Decimal("1E+2"), "amount", 6) == "100"
    assert check_amount(Decimal("0.100000"), "amount", 6) == "0.1"
    assert check_amount(7, "amount", 6) == "7"
    with pytest.raises(InvalidOrderError):
        check_amount(True, "amount", 6)


async def test_spot_token_is_looked_up_in_spot_meta(trader: Trader, rest: RecordingRest) -> None:
    actions = actions_for(trader, rest)
    with pytest.raises(InvalidOrderError, match="no spot token 'NOPE'"):
        await actions.spot_token("NOPE")


async def test_sub_account_spot_transfer(
    local_exchange: LocalExchange, trader: Trader, rest: RecordingRest
) -> None:
    actions = actions_for(trader, rest)
    sub = await actions.create_sub_account("spot")
    await actions.usd_class_transfer(Decimal(5), to_perp=False)
    sent = await actions.sub_account_spot_transfer(sub, USDC_WIRE, Decimal("1.25"), is_deposit=True)
    assert local_exchange.engine.accounts[sub].spot["USDC"] == Decimal("1.25")
    # the SDK's sub_account_spot_transfer: keys type, subAccountUser, isDeposit, token, amount (an L1 action)
    expected = {"type": "subAccountSpotTransfer", "subAccountUser": sub, "isDeposit": True, "token": USDC_WIRE,
                "amount": "1.25"}  # fmt: skip
    assert sent.action == expected
    assert rest.posted[-1]["signature"] == sdk.sign_l1_action(sdk_wallet(trader), expected, None, sent.nonce, None,
                                                              False)  # fmt: skip
