"""``wingbeat run CONFIG.toml`` trades on a URL, journals its orders and leaves none open."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tests.engine.cli_helpers import run_cli_async
from tests.engine.venue import exchange_open_orders, make_book

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange


async def test_run_market_maker_from_config_then_read_its_journal(local_exchange: LocalExchange, trader: Trader,
                                                                  tmp_path: Path) -> None:
    await make_book(local_exchange)
    journal = tmp_path / "orders.db"
    config = tmp_path / "mm.toml"
    config.write_text(f"""
[exchange]
network = "{local_exchange.base_url}"
trading_pairs = ["BTC-USD"]
journal_path = "{journal}"

[engine]
tick_interval = 0.2
duration = 2
log_json = true

[risk]
max_open_orders = 2

[strategy]
kind = "market_maker"
trading_pair = "BTC-USD"
order_amount = "0.001"
order_levels = 2
""")
    result = await run_cli_async("run", str(config), env={"HL_PRIVATE_KEY": trader.key}, limit=60)
    assert result.code == 0, result.err[-3000:]
    assert "MarketMakerStrategy on BTC-USD" in result.out and "duration elapsed" in result.out
    # two levels a side = 4 quotes, but max_open_orders = 2: two are refused and logged as JSON lines
    assert '"msg":"order refused' in result.err and "max_open_orders" in result.err
    assert await exchange_open_orders(local_exchange, trader.address) == []

    shown = await run_cli_async("journal", str(journal))
    assert shown.code == 0, shown.err
    assert "(2, latest 2)" in shown.out and "CANCELED" in shown.out


async def test_run_twap_from_config_finishes_by_itself(local_exchange: LocalExchange, trader: Trader,
                                                       tmp_path: Path) -> None:
    await make_book(local_exchange, ask="60010")
    config = tmp_path / "twap.toml"
    config.write_text(f"""
[exchange]
network = "{local_exchange.base_url}"
journal_path = ""

[engine]
tick_interval = 0.1

[strategy]
kind = "twap"
trading_pair = "BTC-USD"
side = "buy"
total_amount = "0.002"
duration = 0.6
slices = 2
price_limit = "60020"
""")
    result = await run_cli_async("run", str(config), env={"HL_PRIVATE_KEY": trader.key}, limit=60)
    assert result.code == 0, result.err[-3000:]
    assert "TwapExecutor on BTC-USD" in result.out and "strategy finished" in result.out
    assert "0.002 of 0.002" in result.out and "60010" in result.out
    assert await exchange_open_orders(local_exchange, trader.address) == []
