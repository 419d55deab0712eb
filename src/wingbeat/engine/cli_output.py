"""What the ``wingbeat`` command line prints: consoles that never cut a piped line, error lines, JSON.

On a terminal rich wraps to the window; piped (``wingbeat orders | grep 0x...``) a console is given no
width limit, so an id or an error message is never cut or wrapped at rich's default 80 columns. An
error is always exactly one line on stderr. ``--json`` documents are built here from the venue's and the
journal's typed records: Decimals are exact strings, timestamps numbers, enums their names.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

import orjson
from rich.console import Console

if TYPE_CHECKING:
    from wingbeat.core.in_flight_order import InFlightOrder
    from wingbeat.core.order_updates import TradeUpdate

_UNLIMITED_WIDTH = 1_000_000
"""Width of a console that is not a terminal: wide enough that no table cell or line is ever folded."""


def make_console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr) that wraps to the terminal, and never when piped."""
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:
        console.width = _UNLIMITED_WIDTH
    return console


def one_line(text: str) -> str:
    """``text`` with its line breaks folded into ``; `` (an error message must stay one line)."""
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def print_error(message: str) -> None:
    """Write ``error: MESSAGE`` as exactly one line on stderr (plain text: no markup, no wrapping)."""
    sys.stderr.write(f"error: {one_line(message) or 'failed'}\n")
    sys.stderr.flush()


def jsonable(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses as objects, Decimals as exact strings, enums by name."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.name
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def json_document(value: Any) -> str:
    """One indented JSON document of ``value`` (see `jsonable`)."""
    return orjson.dumps(jsonable(value), option=orjson.OPT_INDENT_2).decode()


def print_json(value: Any) -> None:
    """Write `json_document` of ``value`` on stdout as is, not through rich: exact text, no colours, one document."""
    sys.stdout.write(json_document(value) + "\n")
    sys.stdout.flush()


def executed_amounts(orders: Iterable[InFlightOrder], fills: Iterable[TradeUpdate]) -> dict[str, Decimal]:
    """How much of each order executed: its journaled fills, or what the venue reported if more.

    A journal row holds the order as it was created plus its last state, not the running executed
    amount, so the amount is rebuilt here: the sum of the order's fills, or the venue's filled amount
    when fills are still missing (a FILLED order reads back with its whole amount as the venue's).
    """
    filled: dict[str, Decimal] = {}
    for fill in fills:
        filled[fill.client_order_id] = filled.get(fill.client_order_id, Decimal(0)) + fill.fill_base_amount
    executed: dict[str, Decimal] = {}
    for order in orders:
        executed[order.client_order_id] = max(
            filled.get(order.client_order_id, Decimal(0)), order.venue_filled_amount
        )
    return executed


def journal_document(
    orders: Sequence[InFlightOrder], fills: Sequence[TradeUpdate], executed: Mapping[str, Decimal]
) -> dict[str, Any]:
    """``wingbeat journal --json``: ``{"orders": [...], "fills": [...]}`` (Decimals as strings)."""
    return {
        "orders": [
            {
                "client_order_id": o.client_order_id,
                "exchange_order_id": o.exchange_order_id,
                "trading_pair": o.trading_pair,
                "side": o.trade_type.name.lower(),
                "order_type": o.order_type.name,
                "amount": str(o.amount),
                "price": str(o.price),
                "executed_amount": str(executed[o.client_order_id]),
                "state": o.current_state.name,
                "reason": o.reason,
                "position_action": o.position_action.name,
                "reduce_only": o.reduce_only,
                "created": o.creation_timestamp,
                "updated": o.last_update_timestamp,
            }
            for o in orders
        ],
        "fills": [
            {
                "trade_id": f.trade_id,
                "client_order_id": f.client_order_id,
                "exchange_order_id": f.exchange_order_id,
                "trading_pair": f.trading_pair,
                "price": str(f.fill_price),
                "amount": str(f.fill_base_amount),
                "quote_amount": str(f.fill_quote_amount),
                "fee": str(f.fee_amount),
                "fee_asset": f.fee_asset,
                "is_taker": f.is_taker,
                "timestamp": f.fill_timestamp,
            }
            for f in fills
        ],
    }
