"""Structured logging: one line per record (text or JSON) and one line per connector event.

`setup_logging` configures the ``wingbeat`` logger tree only (never the root logger of an embedding
application). While a live view is drawn, `logs_above` sends its records through the view's console,
which prints them above the frame instead of into it. `EventLogger` is a listener that writes every connector event as one line on
``wingbeat.engine.events`` with its fields as structured data (``extra={"event": {...}}``), which the
JSON formatter emits as an object.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO

import orjson
from rich.console import Console

from wingbeat.core.events import (
    Event,
    EventListener,
    FundingPaymentEvent,
    OrderCancelledEvent,
    OrderCompletedEvent,
    OrderCreatedEvent,
    OrderExpiredEvent,
    OrderFailedEvent,
    OrderFilledEvent,
    OrderModifiedEvent,
    OrderModifyFailedEvent,
    OrderPartiallyFilledEvent,
    PositionLiquidatedEvent,
    TwapFailedEvent,
    TwapFinishedEvent,
    TwapSliceFilledEvent,
    TwapStartedEvent,
)

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def event_fields(event: Event) -> dict[str, Any]:
    """The fields of an event as JSON-ready values (Decimals as exact strings, enums by name)."""
    fields = {f.name: _plain(getattr(event, f.name)) for f in dataclasses.fields(event)}
    fields["type"] = type(event).__name__
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, structured extras, exception text."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one JSON line."""
        out: dict[str, Any] = {
            "ts": round(record.created, 6),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                out[key] = _plain(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


class TextFormatter(logging.Formatter):
    """``time level logger message`` on one line (tracebacks indented below)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s %(message)s", "%H:%M:%S")
        self.converter = time.gmtime


class _WingbeatHandler(logging.StreamHandler[TextIO]):
    """The handler `setup_logging` installs: its stream, or a rich console while `logs_above` holds one."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.console: Console | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record`` as one line to the stream, or print it through the live view's console."""
        console = self.console
        if console is None:
            super().emit(record)
            return
        try:
            console.print(self.format(record), markup=False, highlight=False, emoji=False, soft_wrap=True)
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def logs_above(console: Console) -> Iterator[None]:
    """While active, the wingbeat log lines bound for the same terminal print through ``console``.

    A rich ``Live`` on ``console`` then prints each one above its frame and redraws the frame below;
    written straight to the terminal they would tear it. Logs going to a file or a pipe are left alone.
    """
    handlers = [
        h
        for h in logging.getLogger("wingbeat").handlers
        if isinstance(h, _WingbeatHandler) and h.console is None and _is_terminal(h.stream)
    ]
    if not console.is_terminal:
        handlers = []
    for handler in handlers:
        handler.console = console
    try:
        yield
    finally:
        for handler in handlers:
            handler.console = None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def setup_logging(
    level: str | int = "INFO", *, json: bool = False, stream: TextIO | None = None
) -> logging.Handler:
    """Send the ``wingbeat`` loggers to ``stream`` (stderr by default) in text or JSON; returns the handler.

    Replaces a handler installed by an earlier call, so calling it twice does not double the lines.
    """
    logger = logging.getLogger("wingbeat")
    if isinstance(level, str):
        resolved = logging.getLevelName(level.upper())
        if not isinstance(resolved, int):
            raise ValueError(f"unknown log level {level!r}")
        level = resolved
    for old in [h for h in logger.handlers if isinstance(h, _WingbeatHandler)]:
        logger.removeHandler(old)
    handler = _WingbeatHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handler


class EventLogger(EventListener):
    """Logs every connector event as one line; fills and creations at INFO, failures at WARNING."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("wingbeat.engine.events")

    def _log(self, level: int, event: Event, text: str) -> None:
        if self._logger.isEnabledFor(level):
            self._logger.log(level, text, extra={"event": event_fields(event)})

    def on_order_created(self, event: OrderCreatedEvent) -> None:
        """Log an accepted order."""
        self._log(
            logging.INFO,
            event,
            f"created {event.client_order_id} {event.trade_type.name} {event.amount} "
            f"{event.trading_pair} @ {event.price}",
        )

    def on_order_filled(self, event: OrderFilledEvent) -> None:
        """Log a fill."""
        self._log(
            logging.INFO,
            event,
            f"filled {event.client_order_id} {event.trade_type.name} {event.amount} "
            f"{event.trading_pair} @ {event.price} fee {event.fee_amount} "
            f"{event.fee_asset} ({'taker' if event.is_taker else 'maker'})",
        )

    def on_order_partially_filled(self, event: OrderPartiallyFilledEvent) -> None:
        """Log a partial fill."""
        self._log(
            logging.DEBUG,
            event,
            f"partially filled {event.client_order_id}: "
            f"{event.executed_amount_base} done, {event.remaining_amount} left",
        )

    def on_order_completed(self, event: OrderCompletedEvent) -> None:
        """Log a completed order."""
        self._log(
            logging.INFO,
            event,
            f"completed {event.client_order_id} {event.executed_amount_base} "
            f"{event.trading_pair} avg {event.average_price}",
        )

    def on_order_cancelled(self, event: OrderCancelledEvent) -> None:
        """Log a cancellation."""
        reason = f" ({event.reason})" if event.reason else ""
        self._log(logging.INFO, event, f"cancelled {event.client_order_id}{reason}")

    def on_order_failed(self, event: OrderFailedEvent) -> None:
        """Log a failure with its reason."""
        self._log(logging.WARNING, event, f"failed {event.client_order_id}: {event.reason}")

    def on_order_expired(self, event: OrderExpiredEvent) -> None:
        """Log an expired IOC remainder."""
        self._log(logging.INFO, event, f"expired {event.client_order_id} after {event.executed_amount_base}")

    def on_order_modified(self, event: OrderModifiedEvent) -> None:
        """Log an applied modify: the new price and amount, and the venue's new exchange id."""
        self._log(
            logging.INFO,
            event,
            f"modified {event.client_order_id} {event.previous_amount} @ {event.previous_price} -> "
            f"{event.amount} @ {event.price} (oid {event.exchange_order_id})",
        )

    def on_order_modify_failed(self, event: OrderModifyFailedEvent) -> None:
        """Log a modify the venue refused (or never applied) with its reason."""
        self._log(logging.WARNING, event, f"modify of {event.client_order_id} failed: {event.reason}")

    def on_funding_payment(self, event: FundingPaymentEvent) -> None:
        """Log a funding payment."""
        self._log(
            logging.INFO, event, f"funding {event.amount} on {event.trading_pair} rate {event.funding_rate}"
        )

    def on_position_liquidated(self, event: PositionLiquidatedEvent) -> None:
        """Log a liquidation."""
        self._log(logging.ERROR, event, f"LIQUIDATED {event.trading_pair or ''} {event.amount or ''}")

    def on_twap_started(self, event: TwapStartedEvent) -> None:
        """Log a running TWAP."""
        self._log(
            logging.INFO,
            event,
            f"TWAP {event.twap_id} started: {event.trade_type.name} {event.amount} {event.trading_pair} "
            f"over {event.minutes} min",
        )

    def on_twap_slice_filled(self, event: TwapSliceFilledEvent) -> None:
        """Log a TWAP slice's fill."""
        self._log(
            logging.INFO,
            event,
            f"TWAP {event.twap_id} slice filled {event.amount} {event.trading_pair} @ {event.price} "
            f"({event.executed_amount_base} done)",
        )

    def on_twap_finished(self, event: TwapFinishedEvent) -> None:
        """Log the end of a TWAP (a venue error at WARNING)."""
        reason = f": {event.reason}" if event.reason else ""
        level = logging.WARNING if event.status == "error" else logging.INFO
        self._log(level, event, f"TWAP {event.twap_id} {event.status} after {event.executed_amount_base}{reason}")

    def on_twap_failed(self, event: TwapFailedEvent) -> None:
        """Log a refused TWAP with the venue's text."""
        self._log(logging.WARNING, event, f"TWAP {event.trading_pair} refused: {event.reason}")
