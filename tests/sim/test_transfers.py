"""Account actions through the official SDK: sends, withdrawals, class transfers, spot sends,
sub-accounts, vaults, builder fees and referrers, with their ledger updates and info answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

from tests.conftest import TRADER_FUNDS, Trader, new_trader
from wingbeat.sim import LocalExchange

T = TypeVar("T")
OK = {"status": "ok", "response": {"type": "default"}}
# the token as spotSend names it, with the tokenId the local exchange's spotMeta lists (mainnet's)
USDC_WIRE = "USDC:0x6d1e7cde53ba9467b783cb7c530ce054"


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking SDK call in a worker thread."""
    return await asyncio.to_thread(fn, *args, **kwargs)


@dataclass
class Sdk:
    ex: LocalExchange
    trader: Trader
    info: Info
    exchange: Exchange
    meta: Any

    def balance(self, user: str) -> Decimal:
        return self.ex.engine.accounts[user].balance

    async def ledger(self, user: str) -> list[dict[str, Any]]:
        updates: list[dict[str, Any]] = await call(self.info.user_non_funding_ledger_updates, user, 0)
        return updates

    async def exchange_for(self, trader: Trader, **kwargs: Any) -> Exchange:
        wallet = eth_account.Account.from_key(trader.key)
        return await call(Exchange, wallet, self.ex.base_url, meta=self.meta, spot_meta=SPOT_META, **kwargs)


SPOT_META: Any = {"universe": [], "tokens": []}


@pytest.fixture
async def sdk(local_exchange: LocalExchange, trader: Trader) -> AsyncIterator[Sdk]:
    info = await call(Info, local_exchange.base_url, True)
    meta = await call(info.meta)
    wallet = eth_account.Account.from_key(trader.key)
    exchange = await call(Exchange, wallet, local_exchange.base_url, meta=meta, spot_meta=SPOT_META)
    yield Sdk(local_exchange, trader, info, exchange, meta)


async def test_funding_is_a_deposit_in_the_ledger(sdk: Sdk) -> None:
    [deposit] = await sdk.ledger(sdk.trader.address)
    assert deposit["delta"] == {"type": "deposit", "usdc": "1000000.0"}
    assert deposit["hash"].startswith("0x") and len(deposit["hash"]) == 66
    assert await call(sdk.info.user_non_funding_ledger_updates, sdk.trader.address, deposit["time"] + 1) == []


async def test_usd_send_moves_perp_usdc_and_books_both_sides(sdk: Sdk) -> None:
    dest = new_trader().address
    assert await call(sdk.exchange.usd_transfer, 125.5, dest) == OK
    assert sdk.balance(dest) == Decimal("125.5")
    assert sdk.balance(sdk.trader.address) == TRADER_FUNDS - Decimal("125.5")
    delta = {
        "type": "internalTransfer",
        "usdc": "125.5",
        "user": sdk.trader.address,
        "destination": dest,
        "fee": "0.0",
    }
    assert (await sdk.ledger(sdk.trader.address))[-1]["delta"] == delta
    assert [u["delta"] for u in await sdk.ledger(dest)] == [delta]
    state = await call(sdk.info.user_state, dest)
    assert state["marginSummary"]["accountValue"] == "125.5"
    too_much = await call(sdk.exchange.usd_transfer, 2_000_000.0, dest)
    assert too_much == {"status": "err", "response": "Insufficient balance for withdrawal"}
    assert sdk.balance(dest) == Decimal("125.5")


async def test_withdrawal_leaves_the_exchange_with_its_fee_in_the_ledger(sdk: Sdk) -> None:
    before = await sdk.ledger(sdk.trader.address)
    assert await call(sdk.exchange.withdraw_from_bridge, 50.0, sdk.trader.address) == OK
    assert sdk.balance(sdk.trader.address) == TRADER_FUNDS - 50
    [withdrawal] = (await sdk.ledger(sdk.trader.address))[len(before) :]
    delta = withdrawal["delta"]
    assert delta["type"] == "withdraw" and delta["usdc"] == "50.0" and delta["fee"] == "1.0"
    assert isinstance(delta["nonce"], int) and delta["nonce"] > 0
    refused = await call(sdk.exchange.withdraw_from_bridge, 5_000_000.0, sdk.trader.address)
    assert refused == {"status": "err", "response": "Insufficient balance for withdrawal"}


async def test_class_transfer_spot_send_and_send_asset(sdk: Sdk) -> None:
    me = sdk.trader.address
    assert await call(sdk.exchange.usd_class_transfer, 300.0, False) == OK  # perp -> spot
    spot = await call(sdk.info.spot_user_state, me)
    assert spot == {
        "balances": [{"coin": "USDC", "token": 0, "total": "300.0", "hold": "0.0", "entryNtl": "0.0"}]
    }
    assert sdk.balance(me) == TRADER_FUNDS - 300
    assert await call(sdk.exchange.usd_class_transfer, 100.0, True) == OK  # spot -> perp
    assert sdk.balance(me) == TRADER_FUNDS - 200
    class_deltas = [u["delta"] for u in await sdk.ledger(me) if u["delta"]["type"] == "accountClassTransfer"]
    assert class_deltas == [
        {"type": "accountClassTransfer", "usdc": "300.0", "toPerp": False},
        {"type": "accountClassTransfer", "usdc": "100.0", "toPerp": True},
    ]

    friend = new_trader().address
    assert await call(sdk.exchange.spot_transfer, 50.0, friend, USDC_WIRE) == OK
    assert (await call(sdk.info.spot_user_state, friend))["balances"][0]["total"] == "50.0"
    [received] = await sdk.ledger(friend)
    assert received["delta"]["type"] == "spotTransfer" and received["delta"]["token"] == "USDC"
    assert received["delta"]["user"] == me and received["delta"]["destination"] == friend
    refused = await call(sdk.exchange.spot_transfer, 1000.0, friend, USDC_WIRE)
    assert refused == {"status": "err", "response": "Insufficient balance for token transfer"}

    assert await call(sdk.exchange.send_asset, friend, "", "spot", "USDC", 25.0) == OK  # my perp -> its spot
    assert sdk.ex.engine.accounts[friend].spot["USDC"] == 75
    sent = (await sdk.ledger(friend))[-1]["delta"]
    assert (sent["type"], sent["sourceDex"], sent["destinationDex"], sent["amount"]) == (
        "send",
        "",
        "spot",
        "25.0",
    )


async def test_sub_account_is_created_funded_and_listed(sdk: Sdk) -> None:
    me = sdk.trader.address
    created = await call(sdk.exchange.create_sub_account, "bot-1")
    assert created["status"] == "ok" and created["response"]["type"] == "createSubAccount"
    sub = created["response"]["data"]
    assert sub.startswith("0x") and len(sub) == 42
    assert await call(sdk.exchange.sub_account_transfer, sub, True, 1_500_000) == OK  # 1.5 USDC
    assert sdk.balance(sub) == Decimal("1.5")
    [listed] = await call(sdk.info.query_sub_accounts, me)
    assert (listed["name"], listed["subAccountUser"], listed["master"]) == ("bot-1", sub, me)
    assert listed["clearinghouseState"]["marginSummary"]["accountValue"] == "1.5"
    assert await call(sdk.info.user_role, sub) == {"role": "subAccount", "data": {"master": me}}
    delta = {"type": "subAccountTransfer", "usdc": "1.5", "user": me, "destination": sub}
    assert [u["delta"] for u in await sdk.ledger(sub)] == [delta]
    # the master moves the sub-account's USDC to its spot balance, as the SDK does with vault_address
    as_sub = await sdk.exchange_for(sdk.trader, vault_address=sub)
    assert await call(as_sub.usd_class_transfer, 1.0, False) == OK
    assert sdk.ex.engine.accounts[sub].spot["USDC"] == 1
    assert await call(sdk.exchange.sub_account_transfer, sub, False, 500_000) == OK  # back to the master
    assert sdk.balance(sub) == 0
    assert await call(sdk.info.query_sub_accounts, new_trader().address) is None


async def test_vault_deposit_equity_and_withdrawal(sdk: Sdk) -> None:
    leader, vault = new_trader(), new_trader()
    await sdk.ex.fund(leader.address, 1000)
    await sdk.ex.fund(vault.address, 1000)
    sdk.ex.register_vault(vault.address, leader.address)
    assert await call(sdk.exchange.vault_usd_transfer, vault.address, True, 500_000_000) == OK  # 500 USDC
    assert sdk.balance(vault.address) == 1500
    [equity] = await call(sdk.info.user_vault_equities, sdk.trader.address)
    assert equity["vaultAddress"] == vault.address and equity["equity"] == "500.0"
    assert equity["lockedUntilTimestamp"] > 0
    details = await call(
        sdk.info.post,
        "/info",
        {"type": "vaultDetails", "vaultAddress": vault.address, "user": sdk.trader.address},
    )
    assert details["leader"] == leader.address and details["followerState"]["vaultEquity"] == "500.0"
    assert {f["user"] for f in details["followers"]} == {"Leader", sdk.trader.address}
    assert await call(sdk.exchange.vault_usd_transfer, vault.address, False, 200_000_000) == OK
    assert sdk.balance(vault.address) == 1300
    kinds = [u["delta"]["type"] for u in await sdk.ledger(sdk.trader.address)]
    assert kinds[-2:] == ["vaultDeposit", "vaultWithdraw"]
    refused = await call(sdk.exchange.vault_usd_transfer, vault.address, False, 400_000_000)
    assert refused["status"] == "err"
    not_a_vault = await call(sdk.exchange.vault_usd_transfer, leader.address, True, 1_000_000)
    assert not_a_vault == {"status": "err", "response": f"Vault not registered: {leader.address}"}


async def test_builder_fee_approval_and_referrer(sdk: Sdk) -> None:
    builder = new_trader().address
    query = {"type": "maxBuilderFee", "user": sdk.trader.address, "builder": builder}
    assert await call(sdk.info.post, "/info", query) == 0
    assert await call(sdk.exchange.approve_builder_fee, builder, "0.01%") == OK
    assert await call(sdk.info.post, "/info", query) == 10  # tenths of a basis point
    assert (await call(sdk.info.query_referral_state, sdk.trader.address))["referredBy"] is None
    assert await call(sdk.exchange.set_referrer, "FRIEND") == OK
    referral = await call(sdk.info.query_referral_state, sdk.trader.address)
    assert referral["referredBy"]["code"] == "FRIEND"
    assert (await call(sdk.exchange.set_referrer, "OTHER"))["status"] == "err"


async def test_ccxt_transfer_withdraw_ledger_and_fees(sdk: Sdk) -> None:
    import ccxt

    trader, base_url = sdk.trader, sdk.ex.base_url

    def run() -> tuple[Any, ...]:  # ccxt's sync client, in a worker thread
        client = ccxt.hyperliquid({"walletAddress": trader.address, "privateKey": trader.key})
        client.set_sandbox_mode(True)
        client.urls["api"] = {"public": base_url, "private": base_url}
        client.load_markets()
        client.transfer("USDC", 100, "swap", "spot")
        spot = client.fetch_balance({"type": "spot"})
        client.withdraw("USDC", 10, trader.address)
        ledger = client.fetch_ledger("USDC")
        withdrawals = client.fetch_withdrawals("USDC")
        fee = client.fetch_trading_fee("BTC/USDC:USDC")
        return spot, ledger, withdrawals, fee

    spot, ledger, withdrawals, fee = await call(run)
    assert spot["USDC"]["total"] == 100
    assert sdk.balance(trader.address) == TRADER_FUNDS - 110
    assert [entry["info"]["delta"]["type"] for entry in ledger] == [
        "deposit",
        "accountClassTransfer",
        "withdraw",
    ]
    [withdrawal] = withdrawals
    assert withdrawal["amount"] == 10 and withdrawal["fee"]["cost"] == 1
    assert (fee["taker"], fee["maker"]) == (0.00045, 0.00015)


async def test_master_trades_for_its_sub_account_and_a_vault_registered_before_funding_works(
    sdk: Sdk,
) -> None:
    created = await call(sdk.exchange.create_sub_account, "trading")
    sub = created["response"]["data"]
    assert await call(sdk.exchange.sub_account_transfer, sub, True, 1_000_000_000) == OK
    as_sub = await sdk.exchange_for(sdk.trader, vault_address=sub)
    placed = await call(as_sub.order, "BTC", True, 0.01, 40000.0, {"limit": {"tif": "Gtc"}})
    oid = placed["response"]["data"]["statuses"][0]["resting"]["oid"]
    assert [o["oid"] for o in await call(sdk.info.open_orders, sub)] == [oid]
    assert await call(sdk.info.open_orders, sdk.trader.address) == []

    vault = new_trader().address
    sdk.ex.register_vault(vault, sdk.trader.address)
    await sdk.ex.fund(vault, 100)
    depositor = new_trader()
    await sdk.ex.fund(depositor.address, 100)
    exchange = await sdk.exchange_for(depositor)
    assert await call(exchange.vault_usd_transfer, vault, True, 40_000_000) == OK
    assert await call(sdk.info.user_role, vault) == {"role": "vault"}


async def test_sub_account_spot_transfer_moves_spot_tokens_both_ways(sdk: Sdk) -> None:
    me = sdk.trader.address
    sub = (await call(sdk.exchange.create_sub_account, "spot-bot"))["response"]["data"]
    assert await call(sdk.exchange.usd_class_transfer, 20.0, False) == OK
    assert await call(sdk.exchange.sub_account_spot_transfer, sub, True, USDC_WIRE, 12.5) == OK
    accounts = sdk.ex.engine.accounts
    assert (accounts[me].spot["USDC"], accounts[sub].spot["USDC"]) == (Decimal("7.5"), Decimal("12.5"))
    [entry] = await sdk.ledger(sub)
    assert entry["delta"]["type"] == "spotTransfer"
    assert (entry["delta"]["user"], entry["delta"]["destination"], entry["delta"]["amount"]) == (
        me,
        sub,
        "12.5",
    )
    assert await call(sdk.exchange.sub_account_spot_transfer, sub, False, USDC_WIRE, 2.5) == OK
    assert accounts[sub].spot["USDC"] == 10
    too_much = await call(sdk.exchange.sub_account_spot_transfer, sub, False, USDC_WIRE, 11.0)
    assert too_much == {"status": "err", "response": "Insufficient balance for token transfer"}
    not_mine = await call(
        sdk.exchange.sub_account_spot_transfer, new_trader().address, True, USDC_WIRE, 1.0
    )
    assert not_mine["status"] == "err"
