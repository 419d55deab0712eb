"""``wingbeat orders``, ``positions`` and ``cancel-all`` against the local exchange, as a user runs them."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import limit_order_action, new_trader, signed_body
from tests.engine.cli_helpers import assert_user_error, run_cli_async
from tests.engine.venue import BTC, exchange_open_orders, make_book, place, post

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange


async def test_orders_positions_and_cancel_all(local_exchange: LocalExchange, trader: Trader) -> None:
    ex = local_exchange
    await make_book(ex)
    await place(ex, trader, is_buy=True, price="60010", size="0.01", tif="Ioc")  # long 0.01
    await place(ex, trader, is_buy=True, price="59000", size="0.002")
    await place(ex, trader, is_buy=False, price="61000", size="0.003")

    listed = await run_cli_async("orders", "--network", ex.base_url, "--address", trader.address)
    assert listed.code == 0, listed.err
    assert "open orders of" in listed.out and "(2)" in listed.out
    assert "59000" in listed.out and "61000" in listed.out and "buy" in listed.out and "sell" in listed.out

    pos = await run_cli_async("positions", "--network", ex.base_url, env={"HL_PRIVATE_KEY": trader.key})
    assert pos.code == 0, pos.err
    assert "BTC" in pos.out and "0.01" in pos.out and "withdrawable" in pos.out

    cancelled = await run_cli_async("cancel-all", "--network", ex.base_url, env={"HL_PRIVATE_KEY": trader.key})
    assert cancelled.code == 0, cancelled.err
    assert "2 of 2 open orders cancelled" in cancelled.out
    assert await exchange_open_orders(ex, trader.address) == []

    again = await run_cli_async("cancel-all", "--network", ex.base_url, env={"HL_PRIVATE_KEY": trader.key})
    assert again.code == 0 and "0 of 0" in again.out


async def test_cancel_all_with_an_unknown_key_is_the_exchanges_error(local_exchange: LocalExchange,
                                                                     trader: Trader) -> None:
    await place(local_exchange, trader, is_buy=True, price="59000", size="0.002")
    stranger = "0x" + "42" * 32  # never funded: the exchange does not know this signer
    result = await run_cli_async("cancel-all", "--network", local_exchange.base_url, "--account", trader.address,
                                 env={"HL_PRIVATE_KEY": stranger})
    assert_user_error(result, 1, "does not exist")
    assert len(await exchange_open_orders(local_exchange, trader.address)) == 1


async def test_api_wallet_cancels_the_main_accounts_orders(local_exchange: LocalExchange, trader: Trader) -> None:
    agent = new_trader()  # the API wallet: its own key, never funded
    local_exchange.engine.approve_agent(trader.address, agent.address, "bot")
    await place(local_exchange, trader, is_buy=True, price="59000", size="0.002")
    result = await run_cli_async("cancel-all", "--network", local_exchange.base_url, "--account", trader.address,
                                 env={"HL_PRIVATE_KEY": agent.key})
    assert result.code == 0, result.err
    assert "1 of 1 open orders cancelled" in result.out
    assert await exchange_open_orders(local_exchange, trader.address) == []


async def test_keystore_key_with_password_from_the_environment(local_exchange: LocalExchange, trader: Trader,
                                                               tmp_path: Path) -> None:
    from eth_account import Account

    keystore = tmp_path / "wallet.json"
    keystore.write_text(json.dumps(Account.encrypt(trader.key, "s3cret", iterations=2)))
    await place(local_exchange, trader, is_buy=False, price="61000", size="0.002")
    result = await run_cli_async("orders", "--network", local_exchange.base_url, "--keystore", str(keystore),
                                 env={"WINGBEAT_KEYSTORE_PASSWORD": "s3cret"})
    assert result.code == 0, result.err
    assert trader.address in result.out and "61000" in result.out
    wrong = await run_cli_async("orders", "--network", local_exchange.base_url, "--keystore", str(keystore),
                                env={"WINGBEAT_KEYSTORE_PASSWORD": "nope"})
    assert_user_error(wrong, 2, "wrong password")


async def test_cancel_all_cancels_on_the_builder_dex_and_spot_too(local_exchange: LocalExchange, trader: Trader) -> None:
    from tests.conftest import limit_order_action, signed_body
    from tests.engine.venue import post
    ex = local_exchange
    await ex.fund(trader.address, 0, spot={"USDC": 100}, dexes={"xyz": 5000})  # for a spot bid, xyz margin
    await place(ex, trader, is_buy=True, price="59000", size="0.002")  # BTC, main dex
    for asset, price, size in ((110_000, "24000", "0.01"), (10_000, "0.1", "200")):  # xyz:XYZ100, PURR/USDC
        reply = await post(ex, "/exchange", signed_body(trader.key, limit_order_action(
            asset, is_buy=True, price=price, size=size)))  # fmt: skip
        assert "resting" in reply["response"]["data"]["statuses"][0], reply
    seller = new_trader()
    await ex.fund(seller.address, 1000, dexes={"xyz": 10_000})
    await post(ex, "/exchange", signed_body(seller.key, limit_order_action(110_001, is_buy=False, price="4010",
                                                                           size="0.01")))  # fmt: skip
    filled = await post(ex, "/exchange", signed_body(trader.key, limit_order_action(
        110_001, is_buy=True, price="4100", size="0.01", tif="Ioc")))  # fmt: skip
    assert "filled" in filled["response"]["data"]["statuses"][0], filled
    pos = await run_cli_async("positions", "--network", ex.base_url, "--address", trader.address, "--json")
    assert pos.code == 0, pos.err
    document = json.loads(pos.out)
    assert document["positions"] == [] and list(document["builder_dexes"]) == ["xyz"]
    [gold] = document["builder_dexes"]["xyz"]["positions"]
    assert (gold["coin"], gold["szi"], gold["leverage"]["kind"]) == ("xyz:GOLD", "0.01", "isolated")
    pos = await run_cli_async("positions", "--network", ex.base_url, "--address", trader.address)
    assert "xyz:GOLD" in pos.out and "account value on dex xyz" in pos.out, pos.out
    on_xyz = {"type": "openOrders", "user": trader.address, "dex": "xyz"}
    assert len(await post(ex, "/info", on_xyz)) == 1

    listed = await run_cli_async("orders", "--network", ex.base_url, "--address", trader.address, "--json")
    assert listed.code == 0, listed.err
    assert sorted(o["coin"] for o in json.loads(listed.out)["orders"]) == ["BTC", "PURR/USDC", "xyz:XYZ100"]

    cancelled = await run_cli_async("cancel-all", "--network", ex.base_url, env={"HL_PRIVATE_KEY": trader.key})
    assert cancelled.code == 0, cancelled.err
    assert "3 of 3 open orders cancelled" in cancelled.out
    assert await exchange_open_orders(ex, trader.address) == [] and await post(ex, "/info", on_xyz) == []


async def test_cancel_all_for_a_sub_account_cancels_its_orders_and_leaves_the_masters(
    local_exchange: LocalExchange, trader: Trader
) -> None:
    from wingbeat.hyperliquid import AccountActions, Signer

    ex = local_exchange
    master = Signer(trader.key)  # one nonce source for every action this test signs with the master's key
    async with AccountActions(master, network=ex.base_url) as actions:
        sub = await actions.create_sub_account("bot")
        await actions.sub_account_transfer(sub, Decimal(10_000), is_deposit=True)
    # the master's own order, then the sub-account's, signed by the master for it
    for price, vault in (("59000", None), ("58000", sub), ("58100", sub)):
        action = limit_order_action(BTC, is_buy=True, price=price, size="0.002")
        body = signed_body(trader.key, action, nonce=master.next_nonce(), vault_address=vault)
        reply = await post(ex, "/exchange", body)
        assert "resting" in reply["response"]["data"]["statuses"][0], reply

    result = await run_cli_async("cancel-all", "--network", ex.base_url, "--vault", sub.upper().replace("0X", "0x"),
                                 env={"HL_PRIVATE_KEY": trader.key})
    assert result.code == 0, result.err
    assert "2 of 2 open orders cancelled" in result.out
    assert await exchange_open_orders(ex, sub) == []
    assert len(await exchange_open_orders(ex, trader.address)) == 1  # the master's order stays

    key = new_trader().key
    wrong = await run_cli_async("cancel-all", "--network", ex.base_url, "--vault", key,
                                env={"HL_PRIVATE_KEY": trader.key})
    assert_user_error(wrong, 2, "--vault looks like a private key")
    assert key[2:22] not in wrong.out + wrong.err
