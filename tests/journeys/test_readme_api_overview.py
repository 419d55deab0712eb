"""The README's API overview names every option and public method it covers, so it cannot fall behind the
code: a new connector option, Strategy method or LocalExchange argument must be documented there."""

from __future__ import annotations

import dataclasses
import inspect
import re

from tests.journeys.conftest import REPO_ROOT
from wingbeat.core.connector_base import ConnectorBase
from wingbeat.core.events import EventListener
from wingbeat.engine import Strategy
from wingbeat.hyperliquid.connector import HyperliquidConfig, HyperliquidPerpetualConnector
from wingbeat.sim import LocalExchange


def overview(heading: str) -> str:
    """The README's ``### `HEADING...`` subsection of "API overview"."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## API overview", 1)[1].split("\n## ", 1)[0]
    [_, rest] = section.split(f"### `{heading}", 1)
    return f"`{heading}" + rest.split("\n### ", 1)[0]


def _undocumented(names: set[str], text: str) -> set[str]:
    """The ``names`` that no code span (`...`) of ``text`` mentions as a word."""
    spans = " ".join(re.findall(r"`([^`]+)`", text))
    return {name for name in names if not re.search(rf"\b{re.escape(name)}\b", spans)}


def test_every_connector_option_is_in_the_overview() -> None:
    text = overview("HyperliquidPerpetualConnector(")
    options = set(inspect.signature(HyperliquidPerpetualConnector.__init__).parameters) - {
        "self",
        "base_options",
    }
    options |= set(inspect.signature(ConnectorBase.__init__).parameters) - {"self", "trading_pairs"}
    options |= {f.name for f in dataclasses.fields(HyperliquidConfig)}
    assert len(options) > 15
    assert _undocumented(options, text) == set()


def test_every_public_strategy_method_is_in_the_overview() -> None:
    text = overview("Strategy(")
    public = {name for name in vars(Strategy) if not name.startswith("_") and name not in vars(EventListener)}
    assert {"buy", "on_tick", "kill"} <= public
    assert _undocumented(public, text) == set()


def test_every_local_exchange_argument_and_method_is_in_the_overview() -> None:
    text = overview("LocalExchange(")
    names = set(inspect.signature(LocalExchange).parameters)
    names |= {name for name in vars(LocalExchange) if not name.startswith("_")}
    assert {"fund", "base_url", "liquidity"} <= names
    assert _undocumented(names, text) == set()


def test_every_account_action_is_in_the_overview() -> None:
    from wingbeat.hyperliquid.account_actions import AccountActions

    text = overview("AccountActions(")
    names = set(inspect.signature(AccountActions).parameters)
    names |= {name for name in vars(AccountActions) if not name.startswith("_")}
    assert {"usd_send", "send_asset", "approve_builder_fee", "rest"} <= names
    assert _undocumented(names, text) == set()


def test_every_spot_connector_addition_is_in_the_overview() -> None:
    from wingbeat.hyperliquid.base_connector import HyperliquidConnectorBase
    from wingbeat.hyperliquid.spot_connector import HyperliquidSpotConnector
    from wingbeat.hyperliquid.spot_markets import SpotMarkets

    text = overview("HyperliquidSpotConnector(")
    names = {n for n in vars(HyperliquidSpotConnector) if not n.startswith("_")} - set(vars(HyperliquidConnectorBase))
    names |= {n for n in vars(SpotMarkets) if not n.startswith("_")}
    names -= {"name", "max_builder_fee"}  # class attributes every connector has
    assert {"spot_markets", "refresh_balances", "market", "by_coin", "token"} <= names
    assert _undocumented(names, text) == set()
