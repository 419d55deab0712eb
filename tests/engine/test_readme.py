"""The README's quick start runs as written, pointed at the local exchange instead of testnet."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tests.engine.cli_helpers import CLI, cli_env
from tests.engine.venue import exchange_open_orders, make_book

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_starts_with_the_two_commands_and_links_the_architecture() -> None:
    text = README.read_text()
    block = text.split("```")[1]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make run", "make test"]
    assert "(docs/ARCHITECTURE.md)" in text


async def test_quick_start_code_runs_against_the_local_exchange(local_exchange: LocalExchange, trader: Trader,
                                                                tmp_path: Path) -> None:
    import asyncio

    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0]
    assert len([line for line in code.splitlines() if line.strip()]) <= 15  # the issue asks for 15 lines
    code = code.replace('network="testnet"', f'network="{local_exchange.base_url}"')
    code = code.replace('journal_path="orders.db"', f'journal_path="{tmp_path / "orders.db"}"')
    await make_book(local_exchange)
    proc = await asyncio.create_subprocess_exec(CLI[0], "-c", code, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE,
                                                env=cli_env({"HL_PRIVATE_KEY": trader.key}))
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()[-3000:]
    assert out.decode().strip() == "OrderState.OPEN"
    assert await exchange_open_orders(local_exchange, trader.address) == []


async def test_strategy_snippet_runs_and_places_its_order(local_exchange: LocalExchange, trader: Trader) -> None:
    import textwrap
    from decimal import Decimal

    from tests.engine.venue import Pulse, connector_for, wait_until

    snippet = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[1]
    source = "async def snippet(conn):\n" + textwrap.indent(snippet, "    ") + "    return strategy, clock\n"
    namespace: dict[str, object] = {"Decimal": Decimal}
    exec(compile(source, "README.md", "exec"), namespace)
    await make_book(local_exchange)
    async with connector_for(local_exchange, trader) as conn:
        pulse = Pulse()
        conn.add_listener(pulse)
        strategy, clock = await namespace["snippet"](conn)  # type: ignore[operator]
        try:
            await wait_until(lambda: any(o.exchange_order_id for o in strategy.active_orders("BTC-USD")), pulse)
            [order] = strategy.active_orders("BTC-USD")
            assert order.price == Decimal(59700)  # mid 60000 * 0.995
        finally:
            await clock.stop()
            await strategy.stop()
    assert await exchange_open_orders(local_exchange, trader.address) == []
