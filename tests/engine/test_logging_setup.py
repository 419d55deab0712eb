"""Structured logging: one line per event, JSON on request, our handler only."""

import io
import json
import logging
from decimal import Decimal

from wingbeat.core.enums import OrderType
from wingbeat.core.events import OrderFailedEvent
from wingbeat.engine.logging_setup import EventLogger, setup_logging


def _failed() -> OrderFailedEvent:
    return OrderFailedEvent(timestamp=5.0, client_order_id="0xabc", exchange_order_id=None, trading_pair="BTC-USD",
                            order_type=OrderType.LIMIT, reason="Insufficient margin")


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
