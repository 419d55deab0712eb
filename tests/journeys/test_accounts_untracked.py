"""An account that already trades elsewhere: ``wingbeat run`` on BTC next to another program's ETH position
and open orders (made with the official SDK, as the app or another bot would) shows them, counts them in
``max_notional``, exits 0 and leaves every one of them as it was."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import eth_account
from hyperliquid.exchange import Exchange

from tests.conftest import Trader
from tests.journeys.conftest import account_env, wingbeat
from wingbeat.sim import LocalExchange

T = TypeVar("T")
ETH_SIZE = Decimal("0.5")


async def _call(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(fn, *args)  # the SDK blocks; the in-process exchange must keep serving


def _resting_oid(answer: Any) -> int:
    assert answer["status"] == "ok", answer
    [status] = answer["response"]["data"]["statuses"]
    return int(status["resting"]["oid"])


async def _another_programs_trading(ex: LocalExchange, account: Trader) -> set[int]:
    """An ETH position and two resting orders (ETH and BTC, far from the market) made through the SDK."""
    sdk = await _call(Exchange, eth_account.Account.from_key(account.key), ex.base_url)
    opened = await _call(sdk.market_open, "ETH", True, float(ETH_SIZE))
    assert opened["status"] == "ok" and "filled" in opened["response"]["data"]["statuses"][0], opened
    eth = _resting_oid(await _call(sdk.order, "ETH", True, 0.1, 1500.0, {"limit": {"tif": "Gtc"}}))
    btc = _resting_oid(await _call(sdk.order, "BTC", True, 0.001, 30000.0, {"limit": {"tif": "Gtc"}}))
    return {eth, btc}


def _config(path: Path, network: str, max_notional: int) -> Path:
    path.write_text(f"""
[exchange]
network = "{network}"
trading_pairs = ["BTC-USD"]

[engine]
tick_interval = 0.2
duration = 3

[risk]
max_notional = "{max_notional}"

[strategy]
kind = "market_maker"
trading_pair = "BTC-USD"
order_amount = "0.001"
""")
    return path


def _row(out: str, name: str) -> str:
    """The value of the summary table's row ``name``."""
    match = re.search(rf"{re.escape(name)}\s*│\s*(.*?)\s*│", out)
    assert match is not None, out
    return match.group(1)


def _eth_position(ex: LocalExchange, account: Trader) -> Decimal:
    asset = ex.engine.asset_index("ETH")
    assert asset is not None
    return ex.engine.accounts[account.address].szi(asset)


def _open_oids(ex: LocalExchange, account: Trader) -> set[int]:
    return set(ex.engine.accounts[account.address].open_orders)


async def test_a_btc_market_maker_runs_beside_an_eth_position_and_foreign_orders_and_touches_none(
    live_exchange: LocalExchange, funded_account: Trader, tmp_path: Path
) -> None:
    foreign = await _another_programs_trading(live_exchange, funded_account)
    config = _config(tmp_path / "mm.toml", live_exchange.base_url, max_notional=50_000)
    run = await wingbeat("run", str(config), env=account_env(funded_account))
    assert run.code == 0, run
    assert "Traceback" not in run.out + run.err and "not tracked" not in run.err, run
    assert f"not traded ETH-USD {ETH_SIZE} @ " in run.out, run  # shown while running and in the summary
    assert _row(run.out, "orders refused by risk") == "0", run
    assert _row(run.out, "not traded ETH-USD").startswith(f"{ETH_SIZE} @ "), run
    assert _eth_position(live_exchange, funded_account) == ETH_SIZE
    assert _open_oids(live_exchange, funded_account) == foreign  # ours cancelled, theirs untouched


async def test_the_untracked_eth_notional_makes_max_notional_refuse_the_quotes(
    live_exchange: LocalExchange, funded_account: Trader, tmp_path: Path
) -> None:
    foreign = await _another_programs_trading(live_exchange, funded_account)
    # one BTC quote is ~60 USD: alone far below 1000, but the ETH position (~1500 at its mark) is not
    config = _config(tmp_path / "mm.toml", live_exchange.base_url, max_notional=1_000)
    run = await wingbeat("run", str(config), env=account_env(funded_account))
    assert run.code == 0, run
    assert "above max_notional 1000" in run.err, run
    assert _row(run.out, "orders placed") == "0", run
    assert _eth_position(live_exchange, funded_account) == ETH_SIZE
    assert _open_oids(live_exchange, funded_account) == foreign
