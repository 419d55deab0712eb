"""``wingbeat run`` with a ``[connector]`` table: the master key trades a sub-account it created
(``vault_address``) with the dead man's switch off (``dead_man_switch = false``), against the local exchange;
a mistake in the table is one error line that never repeats a key typed there."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from tests.journeys.conftest import account_env, assert_error_line, new_trader, wingbeat
from wingbeat.hyperliquid import AccountActions, Signer

if TYPE_CHECKING:
    from tests.conftest import Trader
    from wingbeat.sim import LocalExchange
    from wingbeat.sim.venue.types import EngineEvent

TWAP = """
[engine]
tick_interval = 0.2

[strategy]
kind = "twap"
trading_pair = "ETH-USD"
side = "buy"
total_amount = "0.3"
duration = 2
slices = 2
price_limit = "3100"
"""


async def test_the_master_key_trades_its_sub_account_with_the_switch_off(
    live_exchange: LocalExchange, funded_account: Trader, tmp_path: Path
) -> None:
    async with AccountActions(Signer(funded_account.key), network=live_exchange.base_url) as actions:
        sub = await actions.create_sub_account("twap-bot")
        await actions.sub_account_transfer(sub, Decimal(5_000), is_deposit=True)
    engine = live_exchange.engine
    armed: list[int | None] = []  # the switch of both accounts, seen at each of the sub-account's actions

    def seen(event: EngineEvent) -> None:
        armed.extend((engine.accounts[sub].scheduled_cancel, engine.accounts[funded_account.address].scheduled_cancel))

    engine.subscribe(seen, users={sub})
    journal = tmp_path / "orders.db"
    config = tmp_path / "sub.toml"
    config.write_text(
        f'[exchange]\nnetwork = "{live_exchange.base_url}"\njournal_path = "{journal}"\n\n'
        f'[connector]\nvault_address = "{sub}"\ndead_man_switch = false\n{TWAP}'
    )
    run = await wingbeat(
        "run", str(config), "--plain", "--duration", "30", env=account_env(funded_account), cwd=tmp_path, deadline=90
    )
    assert run.code == 0, run
    assert re.search(r"TWAP executed\W+0\.3(0*)? of 0\.3", run.out + run.err), run

    sub_state = await _clearinghouse(live_exchange, sub)
    master_state = await _clearinghouse(live_exchange, funded_account.address)
    assert _szi(sub_state, "ETH") == Decimal("0.3")  # bought for the sub-account...
    assert _szi(master_state, "ETH") == 0  # ...and nothing on the master's own
    assert armed and all(t is None for t in armed), armed  # never armed: default is 60 s, armed at start


async def test_a_key_typed_as_the_vault_address_is_one_error_line_and_not_echoed(tmp_path: Path) -> None:
    key = new_trader().key
    config = tmp_path / "bad.toml"
    config.write_text(f'[connector]\nvault_address = "{key}"\n{TWAP}')
    run = await wingbeat("run", str(config), env=account_env(new_trader()), cwd=tmp_path)
    assert_error_line(run, 2, "connector.vault_address must be '0x' followed by 40 hex digits")
    assert "not shown" in run.err_lines[0]
    assert key[2:22].lower() not in (run.out + run.err).lower()


async def _clearinghouse(ex: LocalExchange, user: str) -> dict[str, object]:
    from tests.engine.venue import post

    state = await post(ex, "/info", {"type": "clearinghouseState", "user": user})
    assert isinstance(state, dict)
    return state


def _szi(state: dict[str, object], coin: str) -> Decimal:
    positions = state["assetPositions"]
    assert isinstance(positions, list)
    return sum((Decimal(p["position"]["szi"]) for p in positions if p["position"]["coin"] == coin), Decimal(0))
