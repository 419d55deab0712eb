"""Configuration files: a complete one loads, each mistake is named in one line."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from wingbeat.engine.config import ConfigError, load_config, parse_config

FULL = """
[exchange]
network = "http://127.0.0.1:9999"
trading_pairs = ["BTC-USD", "ETH-USD"]
key_env = "MY_KEY"
account_address = "0x0000000000000000000000000000000000000001"
journal_path = ""

[connector]
vault_address = "0x00000000000000000000000000000000000000AB"
dead_man_switch = false
request_timeout = 5
market_slippage = 0.02
perp_dexs = ["xyz"]
priority_fee = 1000
actions_over_websocket = false

[engine]
tick_interval = 0.5
duration = 60
metrics_port = 9109
log_json = true

[risk]
max_order_size = "0.1"
max_position = 0.5
max_open_orders = 4
max_notional = 10000
daily_loss_limit = "25.5"

[strategy]
kind = "market_maker"
trading_pair = "ETH-USD"
order_amount = "0.01"
bid_spread = 0.001
order_levels = 2
requote_with_modify = true
"""


def test_full_file_loads_into_typed_objects(tmp_path: Path) -> None:
    path = tmp_path / "mm.toml"
    path.write_text(FULL)
    cfg = load_config(path)
    assert cfg.exchange.trading_pairs == ("BTC-USD", "ETH-USD")
    assert cfg.exchange.journal_path is None  # "" = memory only
    assert cfg.exchange.key_env == "MY_KEY"
    assert cfg.engine.metrics_port == 9109 and cfg.engine.log_json and cfg.engine.duration == 60.0
    assert cfg.risk.max_position == Decimal("0.5")  # TOML float through its text, exact
    assert cfg.risk.max_open_orders == 4 and cfg.risk.daily_loss_limit == Decimal("25.5")
    assert cfg.market_maker is not None and cfg.market_maker.bid_spread == Decimal("0.001")
    assert cfg.market_maker.order_levels == 2 and cfg.market_maker.requote_with_modify
    assert not cfg.is_mainnet
    c = cfg.connector
    assert c.vault_address == "0x00000000000000000000000000000000000000AB" and c.dead_man_switch is None
    assert c.request_timeout == 5.0 and c.market_slippage == Decimal("0.02")  # exact, through its text
    assert c.perp_dexs == ("xyz",) and c.priority_fee == 1000 and not c.actions_over_websocket
    assert c.account_refresh_interval == 10.0  # what the table leaves out keeps its default


def test_without_a_connector_table_the_connector_keeps_its_defaults() -> None:
    from wingbeat.hyperliquid import HyperliquidConfig

    cfg = parse_config({"strategy": {"kind": "market_maker", "trading_pair": "BTC-USD", "order_amount": "1"}})
    assert cfg.connector == HyperliquidConfig() and cfg.connector.dead_man_switch == 60.0


def test_twap_section() -> None:
    cfg = parse_config({"exchange": {"network": "mainnet"}, "strategy": {
        "kind": "twap", "trading_pair": "BTC-USD", "side": "sell", "total_amount": "1", "duration": 600,
        "slices": 20, "price_limit": "50000", "position_action": "close"}})
    assert cfg.twap is not None and not cfg.twap.is_buy and cfg.twap.close_position
    assert cfg.is_mainnet


@pytest.mark.parametrize(("raw", "needle"), [
    ({"strategy": {"kind": "grid"}}, "strategy.kind"),
    ({"strategy": {"kind": "market_maker", "trading_pair": "BTC-USD"}}, "strategy.order_amount is required"),
    ({"strategy": {"kind": "market_maker", "trading_pair": "BTC-USD", "order_amount": "x"}}, "order_amount"),
    ({"risk": {"max_open_orders": 0}, "strategy": {"kind": "twap"}}, "risk.max_open_orders"),
    ({"risk": {"max_notional": "-5"}, "strategy": {"kind": "twap"}}, "risk.max_notional"),
    ({"exchange": {"trading_pairs": []}, "strategy": {"kind": "twap"}}, "exchange.trading_pairs"),
    ({"exchange": {"netwrok": "testnet"}}, "unknown key exchange.netwrok"),
    ({"engine": {"metrics_port": 70000}}, "engine.metrics_port"),
    ({"strategy": {"kind": "market_maker", "trading_pair": "BTC-USD", "order_amount": "0.1",
                   "bid_spread": "1.5"}}, "bid_spread"),
    ({"strategy": {"kind": "market_maker", "trading_pair": "BTC-USD", "order_amount": "0.1",
                   "requote_with_modify": "yes"}}, "requote_with_modify"),
    ({"connector": {"vault": "0x01"}}, "unknown key connector.vault (allowed: account_refresh_interval"),
    ({"connector": {"dead_man_switch": 5}}, "connector.dead_man_switch must be >= 10 s"),
    ({"connector": {"request_timeout": float("inf")}}, "connector.request_timeout must be a finite number"),
    ({"connector": {"request_timeout": True}}, "connector.request_timeout must be a finite number"),
    ({"connector": {"order_validity": "5"}}, "connector.order_validity must be a finite number of seconds (or false"),
    ({"connector": {"priority_fee": 1.5}}, "connector.priority_fee must be an integer"),
    ({"connector": {"builder_fee": 10}}, "connector.builder_fee needs builder_address"),
    ({"connector": {"perp_dexs": "xyz"}}, "connector.perp_dexs must be a list"),
    ({"connector": {"perp_dexs": ["XYZ!"]}}, "connector.perp_dexs must be a tuple of builder dex names"),
    ({"connector": {"market_slippage": "1.5"}}, "connector.market_slippage must be in"),
    ({"connector": {"actions_over_websocket": 1}}, "connector.actions_over_websocket must be true or false"),
    ({"connector": {"vault_address": "0x12"}}, "connector.vault_address must be '0x' followed by 40 hex digits"),
    ({"connector": []}, "[connector] must be a table"),
])
def test_each_mistake_is_a_config_error_naming_the_key(raw: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(needle)):
        parse_config(raw)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[exchange\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_basis_section_trades_both_pairs_of_the_token() -> None:
    cfg = parse_config({"risk": {"max_notional": "2500"}, "strategy": {
        "kind": "basis", "token": "HYPE", "target_notional": "1000", "min_entry_funding_apr": "0.2",
        "exit_funding_apr": -0.01, "max_entry_basis": "0.002", "hedge_attempts": 2, "naked_timeout": 15}})
    assert cfg.strategy_kind == "basis" and cfg.basis is not None
    assert cfg.exchange.trading_pairs == ("HYPE-USDC", "HYPE-USD")  # defaulted to both legs
    assert cfg.basis.exit_funding_apr == Decimal("-0.01") and cfg.basis.hedge_attempts == 2
    assert cfg.basis.naked_timeout == 15.0 and cfg.basis.max_slippage == Decimal("0.005")


@pytest.mark.parametrize(("strategy", "exchange", "needle"), [
    ({"target_notional": "1000", "min_entry_funding_apr": "0.2"}, {}, "strategy.token is required"),
    ({"token": "HYPE", "min_entry_funding_apr": "0.2"}, {}, "strategy.target_notional is required"),
    ({"token": "HYPE", "target_notional": "1000", "min_entry_funding_apr": "0.1", "exit_funding_apr": "0.2"},
     {}, "exit_funding_apr must not be above"),
    ({"token": "HYPE", "target_notional": "1000", "min_entry_funding_apr": "0.2", "hedge_attempts": 0}, {},
     "strategy.hedge_attempts"),
    ({"token": "HYPE", "target_notional": "1000", "min_entry_funding_apr": "0.2", "leverage": 3}, {},
     "unknown key strategy.leverage"),
    ({"token": "HYPE", "target_notional": "1000", "min_entry_funding_apr": "0.2"},
     {"trading_pairs": ["HYPE-USD"]}, "HYPE-USDC is not in exchange.trading_pairs"),
])
def test_basis_mistakes_are_named(strategy: dict[str, object], exchange: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
        parse_config({"exchange": exchange, "strategy": {"kind": "basis", **strategy}})


def test_a_basis_configuration_is_not_backtested() -> None:
    from wingbeat.backtest.settings import parse_backtest_config

    with pytest.raises(ConfigError, match="cannot be backtested: it trades spot"):
        parse_backtest_config({"strategy": {"kind": "basis", "token": "HYPE", "target_notional": "1000",
                                            "min_entry_funding_apr": "0.2"}})


def test_the_pair_names_choose_the_market() -> None:
    spot = parse_config({"strategy": {"kind": "market_maker", "trading_pair": "PURR-USDC", "order_amount": "100"}})
    assert spot.exchange.trading_pairs == ("PURR-USDC",)
    close = {"strategy": {"kind": "twap", "trading_pair": "HYPE-USDC", "side": "sell", "total_amount": "1",
                          "price_limit": "30", "position_action": "close"}}
    with pytest.raises(ConfigError, match='position_action "close" is for perpetuals'):
        parse_config(close)


def test_a_spot_pair_is_not_backtested() -> None:
    from wingbeat.backtest.settings import parse_backtest_config

    with pytest.raises(ConfigError, match="PURR-USDC cannot be backtested: a spot pair"):
        parse_backtest_config({"strategy": {"kind": "market_maker", "trading_pair": "PURR-USDC", "order_amount": "100"}})
