"""Decoding Hyperliquid's TWAP answers and channels: the documented shapes (the nktkas SDK's types; a history
entry as data providers show mainnet's), optional fields, and malformed payloads refused with the field named."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from wingbeat.hyperliquid.schemas_exchange import ErrorStatus, TwapRunningStatus, parse_exchange_reply
from wingbeat.hyperliquid.schemas_fields import MalformedMessageError
from wingbeat.hyperliquid.schemas_twap import (
    parse_twap_history,
    parse_twap_history_message,
    parse_twap_slice_fills_message,
)

USER = "0x9d6a5ab97a8eed617bde9968d9ab6fcf72fde1b8"
STATE = {
    "coin": "HYPE", "user": USER, "side": "A", "sz": "108.36", "executedSz": "0.0", "executedNtl": "0.0",
    "minutes": 10, "reduceOnly": False, "randomize": False, "timestamp": 1764867622417,
}  # fmt: skip
FILL = {
    "coin": "HYPE", "px": "30.1", "sz": "3.61", "side": "A", "time": 1764867622417, "startPosition": "0.0",
    "dir": "Open Short", "closedPnl": "0.0", "hash": "0x" + "0" * 64, "oid": 42, "crossed": True,
    "fee": "0.05", "tid": 7, "feeToken": "USDC", "twapId": 1430699,
}  # fmt: skip


def test_a_history_entry_with_and_without_its_optional_fields() -> None:
    raw: list[Any] = [
        {"time": 1764867622, "state": STATE, "status": {"status": "activated"}, "twapId": 1430699},
        {"time": 1764868222, "state": {**STATE, "executedSz": "108.36", "executedNtl": "3261.6"},
         "status": {"status": "error", "description": "Insufficient margin"}},
    ]  # fmt: skip
    started, ended = parse_twap_history(raw)
    assert (started.twap_id, started.status, started.description) == (1430699, "activated", None)
    assert started.state.size == Decimal("108.36") and not started.state.is_buy and started.state.minutes == 10
    assert (ended.twap_id, ended.status, ended.description) == (None, "error", "Insufficient margin")
    assert ended.state.executed_notional == Decimal("3261.6")


def test_channel_payloads_carry_the_user_and_the_snapshot_flag() -> None:
    history = parse_twap_history_message({"user": USER.upper().replace("0X", "0x"), "history": [], "isSnapshot": True})
    assert history.user == USER and history.is_snapshot and history.history == ()
    fills = parse_twap_slice_fills_message({"user": USER, "twapSliceFills": [{"fill": FILL, "twapId": 1430699}]})
    [item] = fills.fills
    assert not fills.is_snapshot and item.twap_id == 1430699 and item.fill.trade_id == "7"
    assert item.fill.twap_id == 1430699 and item.fill.sz == Decimal("3.61")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([{"time": 1, "state": {**STATE, "sz": 1}, "status": {"status": "activated"}}], "twapHistory[0].state.sz"),
        ([{"time": 1, "state": STATE, "status": "activated"}], "twapHistory[0].status"),
        ([{"state": STATE, "status": {"status": "activated"}}], "'time'"),
    ],
)
def test_malformed_history_is_refused_naming_the_field(raw: Any, field: str) -> None:
    with pytest.raises(MalformedMessageError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_twap_history(raw)


def test_twap_action_replies_decode_their_single_status() -> None:
    running = {"status": "ok", "response": {"type": "twapOrder", "data": {"status": {"running": {"twapId": 5}}}}}
    assert parse_exchange_reply(running).status == TwapRunningStatus(twap_id=5)
    refused = {"status": "ok", "response": {"type": "twapOrder",
               "data": {"status": {"error": "TWAP order value too small. Min is $100."}}}}  # fmt: skip
    assert parse_exchange_reply(refused).status == ErrorStatus(message="TWAP order value too small. Min is $100.")
    cancelled = parse_exchange_reply({"status": "ok", "response": {"type": "twapCancel", "data": {"status": "success"}}})
    assert cancelled.status is not None and getattr(cancelled.status, "is_success", False)
    with pytest.raises(MalformedMessageError, match="running"):
        parse_exchange_reply({"status": "ok", "response": {"type": "twapOrder", "data": {"status": {"running": 5}}}})
