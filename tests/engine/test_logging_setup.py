"""Structured logging: one line per event, JSON on request, our handler only."""

import io
import json
import logging
from collections.abc import Iterator
from decimal import Decimal

import pytest
from rich.console import Console
from rich.live import Live

from wingbeat.core.enums import OrderType, TradeType
from wingbeat.core.events import (
    OrderFailedEvent,
    OrderModifiedEvent,
    OrderModifyFailedEvent,
    TwapFailedEvent,
    TwapFinishedEvent,
    TwapSliceFilledEvent,
    TwapStartedEvent,
)
from wingbeat.engine.logging_setup import EventLogger, logs_above, setup_logging


@pytest.fixture(autouse=True)
def _restore_wingbeat_logger() -> Iterator[None]:
    """setup_logging detaches the wingbeat tree from the root logger: undo it for the tests that follow."""
    logger = logging.getLogger("wingbeat")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


def _failed() -> OrderFailedEvent:
    return OrderFailedEvent(
        timestamp=5.0,
        client_order_id="0xabc",
        exchange_order_id=None,
        trading_pair="BTC-USD",
        order_type=OrderType.LIMIT,
        reason="Insufficient margin",
    )


def test_json_logging_writes_one_object_per_event_with_fields() -> None:
    out = io.StringIO()
    setup_logging("INFO", json=True, stream=out)
    try:
        EventLogger().on_order_failed(_failed())
        lines = out.getvalue().splitlines()
        assert len(lines) == 1
        record = json.loads(lines[0])
        assert record["level"] == "WARNING" and record["logger"] == "wingbeat.engine.events"
        assert record["event"]["type"] == "OrderFailedEvent"
        assert record["event"]["order_type"] == "LIMIT"
        assert record["event"]["reason"] == "Insufficient margin"
    finally:
        logging.getLogger("wingbeat").handlers.clear()


def test_setup_twice_does_not_duplicate_lines_and_text_is_one_line() -> None:
    out = io.StringIO()
    setup_logging("INFO", stream=out)
    setup_logging("INFO", stream=out)
    try:
        logging.getLogger("wingbeat.engine.test").info("hello %s", Decimal("1.5"))
        lines = out.getvalue().splitlines()
        assert len(lines) == 1 and lines[0].endswith("wingbeat.engine.test hello 1.5")
    finally:
        logging.getLogger("wingbeat").handlers.clear()


class _TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_while_a_live_view_is_up_log_lines_print_through_its_console_above_the_frame() -> None:
    stderr = _TerminalStream()
    setup_logging("INFO", stream=stderr)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=80, color_system=None)
    log = logging.getLogger("wingbeat.engine.test")
    with logs_above(console), Live("FRAME", console=console, auto_refresh=False) as live:
        live.refresh()
        log.info("while the view is up")
    log.info("after the view")
    printed = screen.getvalue()
    assert "while the view is up" in printed and "while the view is up" not in stderr.getvalue()
    # printed above the frame: the frame is redrawn after the line
    assert printed.index("while the view is up") < printed.rindex("FRAME")
    assert "after the view" in stderr.getvalue() and "after the view" not in printed


def test_logs_to_a_file_stay_in_the_file_during_a_live_view() -> None:
    stderr = io.StringIO()  # not a terminal: nothing to tear
    setup_logging("INFO", stream=stderr)
    console = Console(file=io.StringIO(), force_terminal=True)
    with logs_above(console):
        logging.getLogger("wingbeat.engine.test").info("to the file")
    assert "to the file" in stderr.getvalue()


def test_modify_events_are_logged_one_line_each() -> None:
    out = io.StringIO()
    setup_logging("INFO", json=True, stream=out)
    try:
        EventLogger().on_order_modified(OrderModifiedEvent(
            timestamp=5.0, client_order_id="0xabc", exchange_order_id="12", previous_exchange_order_id="11",
            trading_pair="BTC-USD", trade_type=TradeType.BUY, price=Decimal(59000), amount=Decimal("0.02"),
            previous_price=Decimal(59100), previous_amount=Decimal("0.01"), executed_amount_base=Decimal(0)))
        EventLogger().on_order_modify_failed(OrderModifyFailedEvent(
            timestamp=6.0, client_order_id="0xabc", exchange_order_id="12", trading_pair="BTC-USD",
            price=Decimal(58000), amount=Decimal("0.02"), reason="Cannot modify canceled or filled order."))
        modified, failed = (json.loads(line) for line in out.getvalue().splitlines())
        assert modified["level"] == "INFO" and "0.01 @ 59100 -> 0.02 @ 59000 (oid 12)" in modified["msg"]
        assert modified["event"]["previous_exchange_order_id"] == "11"
        assert failed["level"] == "WARNING" and failed["msg"].endswith("Cannot modify canceled or filled order.")
    finally:
        logging.getLogger("wingbeat").handlers.clear()


def test_twap_events_are_logged_one_line_each_a_venue_error_as_a_warning() -> None:
    out = io.StringIO()
    setup_logging("INFO", json=True, stream=out)
    try:
        log, pair, buy = EventLogger(), "BTC-USD", TradeType.BUY
        log.on_twap_started(TwapStartedEvent(timestamp=1.0, twap_id=7, trading_pair=pair, trade_type=buy,
                                             amount=Decimal("0.05"), minutes=5, reduce_only=False, randomize=False))
        log.on_twap_slice_filled(TwapSliceFilledEvent(
            timestamp=2.0, twap_id=7, trading_pair=pair, trade_type=buy, trade_id="9", price=Decimal(60000),
            amount=Decimal("0.005"), quote_amount=Decimal(300), fee_asset="USDC", fee_amount=Decimal("0.135"),
            executed_amount_base=Decimal("0.005"), executed_amount_quote=Decimal(300)))
        log.on_twap_finished(TwapFinishedEvent(timestamp=3.0, twap_id=7, trading_pair=pair, trade_type=buy,
                                               status="error", executed_amount_base=Decimal("0.005"),
                                               executed_amount_quote=Decimal(300),
                                               reason="Insufficient margin to place order."))
        log.on_twap_failed(TwapFailedEvent(timestamp=4.0, trading_pair=pair, trade_type=buy, amount=Decimal("0.001"),
                                           minutes=5, reason="TWAP order value too small. Min is $100."))
        started, sliced, ended, failed = (json.loads(line) for line in out.getvalue().splitlines())
        assert started["msg"] == "TWAP 7 started: BUY 0.05 BTC-USD over 5 min" and started["level"] == "INFO"
        assert sliced["msg"] == "TWAP 7 slice filled 0.005 BTC-USD @ 60000 (0.005 done)"
        assert ended["level"] == "WARNING" and ended["msg"].endswith(": Insufficient margin to place order.")
        assert failed["level"] == "WARNING" and failed["event"]["reason"].startswith("TWAP order value too small")
    finally:
        logging.getLogger("wingbeat").handlers.clear()
